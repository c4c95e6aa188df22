// The token bucket behind the verify/rotate rate limit, on a fake clock.
import { describe, expect, it } from 'vitest';
import { HttpLimits, TYPICAL_SEALED_VALUE_BYTES } from '../../controller/http-limits.js';
import { TokenBucket } from '../../controller/rate-limit.js';

function bucket(perSecond: number, burst: number): { bucket: TokenBucket; advance: (ms: number) => void } {
  let now = 1_000;
  return { bucket: new TokenBucket({ perSecond, burst, now: () => now }), advance: (ms) => (now += ms) };
}

describe('TokenBucket', () => {
  it('allows a full burst at once and refuses the next request', () => {
    const { bucket: b } = bucket(2, 2);
    expect([b.take().ok, b.take().ok, b.take().ok]).toEqual([true, true, false]);
  });

  it('says how long until the next token is due', () => {
    const { bucket: b, advance } = bucket(2, 2);
    b.take();
    b.take();
    advance(100);
    expect(b.take()).toEqual({ ok: false, retryAfterMs: 400 });
  });

  it('refills at the given rate', () => {
    const { bucket: b, advance } = bucket(2, 2);
    b.take();
    b.take();
    advance(500);
    expect(b.take().ok).toBe(true);
    expect(b.take().ok).toBe(false);
  });

  it('never holds more than the burst however long it waits', () => {
    const { bucket: b, advance } = bucket(2, 2);
    advance(60_000);
    expect(b.available()).toBe(2);
  });

  it('does not lose tokens when the clock steps back', () => {
    let now = 10_000;
    const b = new TokenBucket({ perSecond: 1, burst: 1, now: () => now });
    now = 5_000;
    expect(b.take().ok).toBe(true);
  });

  it('supports rates below one a second', () => {
    const { bucket: b } = bucket(0.5, 1);
    b.take();
    expect(b.take()).toEqual({ ok: false, retryAfterMs: 2_000 });
  });

  it('rejects a zero rate or a burst below one', () => {
    expect(() => new TokenBucket({ perSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new TokenBucket({ perSecond: 1, burst: 0 })).toThrow(RangeError);
  });
});

describe('HttpLimits early check', () => {
  it('asks for the values a body of the declared length likely holds, capped at --http-max-values, and takes nothing', () => {
    const limits = new HttpLimits({ valuesPerSecond: 0.001, valuesBurst: 100, maxValues: 50 }, () => 0);
    expect(limits.take(60).ok).toBe(true);
    expect(limits.admits(40 * TYPICAL_SEALED_VALUE_BYTES).ok).toBe(true);
    expect(limits.admits(41 * TYPICAL_SEALED_VALUE_BYTES).ok).toBe(false);
    expect(limits.admits(undefined).ok).toBe(false);
    expect(limits.admits(41 * 368, 368).ok).toBe(false);
    expect(limits.admits(40 * 368, 368).ok).toBe(true);
    expect(limits.take(40).ok).toBe(true);
  });
});
