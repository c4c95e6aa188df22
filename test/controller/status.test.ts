import { describe, expect, it } from 'vitest';
import { currentStatus, nextStatus } from '../../controller/status.js';

const t0 = new Date('2025-01-01T00:00:00.123Z');
const t1 = new Date('2025-01-01T00:05:00Z');

describe('nextStatus', () => {
  it('builds a kstatus Ready condition with observedGeneration and a seconds-precision time', () => {
    expect(nextStatus({}, 'Unsealed', 'ok', 3, t0)).toEqual({
      observedGeneration: 3,
      conditions: [{ type: 'Ready', status: 'True', reason: 'Unsealed', message: 'ok', lastTransitionTime: '2025-01-01T00:00:00Z', observedGeneration: 3 }],
    });
  });

  it('returns nothing when the status already says the same (no write loops)', () => {
    const s = nextStatus({}, 'DecryptFailed', 'bad', 1, t0)!;
    expect(nextStatus(s, 'DecryptFailed', 'bad', 1, t1)).toBeUndefined();
  });

  it('keeps lastTransitionTime when only the reason or message changes, and moves it when the status changes', () => {
    const s = nextStatus({}, 'DecryptFailed', 'bad', 1, t0)!;
    const same = nextStatus(s, 'SecretConflict', 'other', 1, t1)!;
    expect(same.conditions?.[0]?.lastTransitionTime).toBe('2025-01-01T00:00:00Z');
    const flipped = nextStatus(same, 'Unsealed', 'ok', 2, t1)!;
    expect(flipped.conditions?.[0]?.lastTransitionTime).toBe('2025-01-01T00:05:00Z');
    expect(flipped.observedGeneration).toBe(2);
  });

  it('keeps conditions of other types', () => {
    const other = { type: 'Synced', status: 'True' as const, reason: 'X', message: '', lastTransitionTime: 'z' };
    expect(nextStatus({ conditions: [other] }, 'NoKeys', 'none', 1, t0)?.conditions?.map((c) => c.type)).toEqual(['Synced', 'Ready', 'Stalled']);
  });

  it('reads a malformed status as empty', () => {
    expect(currentStatus({ status: 'x' })).toEqual({});
    expect(currentStatus({ status: { conditions: [1, null, { type: 'Ready' }] } }).conditions).toHaveLength(1);
  });
});
