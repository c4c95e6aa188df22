/**
 * Capped exponential backoff with jitter, shared by the work queue (per-key retries), the informer
 * supervisor (watch restarts) and leader election. Jitter spreads retries of many clients (or many
 * keys) so that a recovering API server is not hit by a synchronised wave.
 */

export interface BackoffOptions {
  /** First delay in ms. */
  readonly initialMs: number;
  /** Largest delay in ms. */
  readonly maxMs: number;
  /** Growth per failure (default 2). */
  readonly factor?: number;
  /** Fraction of the delay added at random, 0..1 (default 0.2): delay × (1 + jitter × random). */
  readonly jitter?: number;
  /** Random source in [0, 1) (tests pass a fixed one). */
  readonly random?: () => number;
}

/** The delay before retry number `failures` (1 for the first retry). */
export function backoffDelay(failures: number, options: BackoffOptions): number {
  const factor = options.factor ?? 2;
  const exponent = Math.max(0, failures - 1);
  const base = Math.min(options.maxMs, options.initialMs * factor ** Math.min(exponent, 64));
  const jitter = options.jitter ?? 0.2;
  const random = options.random ?? Math.random;
  return Math.min(options.maxMs, Math.round(base * (1 + jitter * random())));
}

/** A backoff that counts its own failures: `next()` after each failure, `reset()` after a success. */
export class Backoff {
  private failures = 0;

  constructor(private readonly options: BackoffOptions) {}

  /** Records a failure and returns how long to wait before the next attempt. */
  next(): number {
    this.failures++;
    return backoffDelay(this.failures, this.options);
  }

  /** Forgets past failures. */
  reset(): void {
    this.failures = 0;
  }

  /** Failures since the last reset. */
  get attempts(): number {
    return this.failures;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
