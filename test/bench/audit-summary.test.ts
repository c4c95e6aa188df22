/** bench/audit-summary.ts: one client's requests in a window, from the real API server's audit log. */
import { describe, expect, it } from 'vitest';
import { summarizeAudit } from '../../bench/audit-summary.js';

const USER = 'system:serviceaccount:kseal-system:kseal-controller';
const line = (o: Record<string, unknown>): string => JSON.stringify({ kind: 'Event', stage: 'ResponseComplete', user: { username: USER }, verb: 'create', responseStatus: { code: 201 }, ...o });
const at = (ms: number): string => new Date(Date.UTC(2026, 11, 1, 19, 0, 0) + ms).toISOString().replace('Z', '123Z');
const T0 = Date.UTC(2026, 11, 1, 19, 0, 0);

describe('audit summary', () => {
  it("counts the client's completed requests in the window, its answers that were not 2xx by code, and the server's mean requests held at once", () => {
    const log = [
      line({ requestReceivedTimestamp: at(0), stageTimestamp: at(100) }),
      line({ requestReceivedTimestamp: at(200), stageTimestamp: at(500), responseStatus: { code: 429 } }),
      line({ requestReceivedTimestamp: at(600), stageTimestamp: at(700), verb: 'patch', responseStatus: { code: 409 } }),
      line({ requestReceivedTimestamp: at(600), stageTimestamp: at(700), stage: 'RequestReceived' }),
      line({ requestReceivedTimestamp: at(300), stageTimestamp: at(900), verb: 'watch', responseStatus: { code: 200 } }),
      line({ requestReceivedTimestamp: at(300), stageTimestamp: at(400), user: { username: 'system:admin' } }),
      line({ requestReceivedTimestamp: at(1500), stageTimestamp: at(1600) }),
      '',
    ].join('\n');
    const s = summarizeAudit(log, USER, T0, T0 + 1000);
    expect(s.requests).toBe(3);
    expect(s.notOk).toEqual({ '429': 1, '409': 1 });
    expect(s.serverMs).toBe(500);
    expect(s.meanInServer).toBe(0.5);
  });
});
