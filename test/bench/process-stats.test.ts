/** bench/process-stats.ts: run-queue wait read from /proc. */
import { describe, expect, it } from 'vitest';
import { runQueueWait } from '../../bench/process-stats.js';

describe('run-queue wait', () => {
  it('sums the waits of every live thread, so the process total is at least the main thread’s, in seconds', () => {
    const w = runQueueWait(process.pid);
    expect(Number.isFinite(w.process) && Number.isFinite(w.main)).toBe(true);
    expect(w.main).toBeGreaterThanOrEqual(0);
    expect(w.process).toBeGreaterThanOrEqual(w.main);
    expect(w.process).toBeLessThan(process.uptime() * 64);
  });

  it('gives zeros for a process that is gone', () => {
    expect(runQueueWait(2 ** 22 + 7)).toEqual({ process: 0, main: 0 });
  });
});
