/**
 * A token bucket: `burst` tokens to start with, refilled at `perSecond` tokens a second up to
 * `burst`. Each request takes one token or is refused with the time until the next one is due.
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

  /** Takes one token if there is one; otherwise says how long until one is available. */
  take(): TakeResult {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil((1 - this.tokens) / this.perMs) };
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
