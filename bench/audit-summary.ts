/**
 * What the real API server's audit log says about one client's requests in a time window
 * (bench/real-cluster.ts writes the log): answers that were not 2xx by status code (429 is API
 * priority and fairness or max-in-flight throttling, 409 a conflict the client retries), and how
 * long the server itself held them (received to answered, the ResponseComplete stage). The mean
 * number of requests the server held at once tells a controller that waits on the API server
 * (close to its own concurrency) from one that waits on itself or on the CPU (close to 0).
 * Watches are left out: they stay open.
 */

/** One client's requests in a window. */
export interface AuditSummary {
  /** Completed requests (watches left out). */
  readonly requests: number;
  /** Answers with status >= 300, by status code. */
  readonly notOk: Record<string, number>;
  /** Sum of the server's time over those requests, ms. */
  readonly serverMs: number;
  /** serverMs / window: the mean number of this client's requests in the server at once. */
  readonly meanInServer: number;
}

interface AuditLine {
  stage?: string;
  verb?: string;
  user?: { username?: string };
  responseStatus?: { code?: number };
  requestReceivedTimestamp?: string;
  stageTimestamp?: string;
}

/** Summarises the audit log `text` (JSON lines) for `username`'s requests received in [fromMs, toMs]. */
export function summarizeAudit(text: string, username: string, fromMs: number, toMs: number): AuditSummary {
  let requests = 0;
  let serverMs = 0;
  const notOk: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (line === '' || !line.includes(username)) continue;
    const e = JSON.parse(line) as AuditLine;
    if (e.user?.username !== username || e.stage !== 'ResponseComplete' || e.verb === 'watch') continue;
    const received = Date.parse(e.requestReceivedTimestamp ?? '');
    if (!(received >= fromMs && received <= toMs)) continue;
    requests++;
    serverMs += Math.max(0, Date.parse(e.stageTimestamp ?? '') - received) || 0;
    const code = e.responseStatus?.code ?? 0;
    if (code >= 300 || code === 0) notOk[String(code)] = (notOk[String(code)] ?? 0) + 1;
  }
  const windowMs = Math.max(1, toMs - fromMs);
  return { requests, notOk, serverMs: Math.round(serverMs), meanInServer: Math.round((serverMs / windowMs) * 100) / 100 };
}
