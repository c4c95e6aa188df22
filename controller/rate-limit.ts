/**
 * A token bucket: `burst` tokens to start with, refilled at `perSecond` tokens a second up to
 * `burst`. A request takes as many tokens as it costs (the HTTP API: one per sealed value, each an
 * RSA private-key operation) or is refused with the time until they are due. A cost above `burst`
 * is served once the bucket is full and leaves it in debt, so no request is refused forever; work
 * found to cost more than charged (extra keys tried) is charged afterwards with `charge`.
 * The clock is injectable so tests are deterministic.
 */

export interface TokenBucketOptions {
  /** Tokens added per second (may be fractional); must be > 0. */
  readonly perSecond: number;
  /** Largest number of tokens held, and the number at start; must be >= 1. */
  readonly burst: number;
  /** Milliseconds clock; `performance.now` by default (monotonic). */
  readonly now?: () => number;
}

/** What `take()` decided. */
export type TakeResult = { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number };

/** A token-bucket rate limiter (one bucket; callers keep one per thing they limit). */
export class TokenBucket {
  private readonly perMs: number;
  private readonly burst: number;
  private readonly now: () => number;
  private tokens: number;
  private last: number;

  constructor(options: TokenBucketOptions) {
    if (!(options.perSecond > 0) || !Number.isFinite(options.perSecond)) throw new RangeError('perSecond must be a positive number');
    if (!(options.burst >= 1) || !Number.isFinite(options.burst)) throw new RangeError('burst must be at least 1');
    this.perMs = options.perSecond / 1000;
    this.burst = options.burst;
    this.now = options.now ?? (() => performance.now());
    this.tokens = options.burst;
    this.last = this.now();
  }

  /**
   * Takes `cost` tokens (1 by default) if there are that many (or the bucket is full, for a cost above
   * the burst); otherwise takes nothing and says how long until there will be.
   */
  take(cost = 1): TakeResult {
    const result = this.check(cost);
    if (result.ok) this.tokens -= cost;
    return result;
  }

  /** What `take(cost)` would answer now, taking nothing. */
  check(cost = 1): TakeResult {
    this.refill();
    const needed = Math.min(cost, this.burst);
    if (this.tokens >= needed) return { ok: true };
    return { ok: false, retryAfterMs: Math.ceil((needed - this.tokens) / this.perMs) };
  }

  /** Charges `cost` tokens unconditionally (the balance may go below zero: later takes wait longer). */
  charge(cost: number): void {
    this.refill();
    if (cost > 0) this.tokens -= cost;
  }

  /** Tokens available now (fractional), for tests and diagnostics. */
  available(): number {
    this.refill();
    return this.tokens;
  }

  private refill(): void {
    const now = this.now();
    // A clock that steps back adds nothing rather than removing tokens.
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.perMs);
  }
}
