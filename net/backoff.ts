/**
 * Capped exponential backoff with jitter and the one retry loop, shared by the controller (work queue,
 * informer supervisor, leader election) and the CLI (controller calls answered 429 with Retry-After).
 * Jitter spreads retries of many clients (or many
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

/** Longest wait a server's Retry-After may impose on a client. */
const MAX_RETRY_AFTER_MS = 30_000;

/**
 * The wait a Retry-After header asks for, in ms (delta-seconds or an HTTP date), capped at
 * MAX_RETRY_AFTER_MS; undefined when absent or unreadable.
 */
export function retryAfterMs(header: string | undefined, now = Date.now()): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const text = header.trim();
  const ms = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.round(ms)));
}

/** Options of `retry`. */
export interface RetryOptions {
  /** Backoff when `delayFor` asks for one without a time of its own (default 250 ms .. 10 s). */
  readonly backoff?: BackoffOptions;
  /** Attempts in all, the first included (default 60). */
  readonly maxAttempts?: number;
  readonly signal?: AbortSignal;
  /** Replaces the timer (tests). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Calls `attempt` until `delayFor` says its result is final (undefined), waiting between attempts
 * for what `delayFor` returns: a number of ms (a server's Retry-After), or `'backoff'` for the
 * capped exponential backoff with jitter. The last result is returned when attempts run out.
 */
export async function retry<T>(attempt: (n: number) => Promise<T>, delayFor: (result: T) => number | 'backoff' | undefined, options: RetryOptions = {}): Promise<T> {
  const backoff = new Backoff(options.backoff ?? { initialMs: 250, maxMs: 10_000 });
  const max = options.maxAttempts ?? 60;
  const wait = options.sleep ?? ((ms: number) => sleep(ms, options.signal));
  for (let n = 1; ; n++) {
    const result = await attempt(n);
    const delay = delayFor(result);
    if (delay === undefined || n >= max || options.signal?.aborted === true) return result;
    await wait(delay === 'backoff' ? backoff.next() : delay);
  }
}
