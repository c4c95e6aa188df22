import { describe, expect, it } from 'vitest';
import { retry, retryAfterMs } from '../../net/backoff.js';

describe('retryAfterMs', () => {
  it('reads delta-seconds and caps them at 30 s', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs('0.5')).toBe(500);
    expect(retryAfterMs('3600')).toBe(30_000);
  });

  it('reads an HTTP date relative to now', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:03 GMT', now)).toBe(3000);
  });

  it('gives undefined for a missing or unreadable header', () => {
    expect(retryAfterMs(undefined)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});

describe('retry', () => {
  it('waits what the result asks for and stops at the first final result', async () => {
    const waits: number[] = [];
    const answers = [429, 429, 200];
    const result = await retry(
      () => Promise.resolve(answers.shift() ?? 0),
      (status) => (status === 429 ? 1500 : undefined),
      { sleep: (ms) => (waits.push(ms), Promise.resolve()) },
    );
    expect(result).toBe(200);
    expect(waits).toEqual([1500, 1500]);
  });

  it('backs off exponentially when no time is given, and returns the last result when attempts run out', async () => {
    const waits: number[] = [];
    const result = await retry(
      (n) => Promise.resolve(n),
      () => 'backoff',
      { maxAttempts: 4, backoff: { initialMs: 100, maxMs: 1000, jitter: 0 }, sleep: (ms) => (waits.push(ms), Promise.resolve()) },
    );
    expect(result).toBe(4);
    expect(waits).toEqual([100, 200, 400]);
  });
});
