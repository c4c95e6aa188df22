/**
 * One log line for many refused verify/rotate requests (429 rate limited, 503 busy or no key) instead
 * of one line each: a flood is refused hundreds of times a second, and a line per refusal cost the
 * controller's main thread about a tenth of its time under the abuse bench (and floods the log
 * pipeline). The first refusal is logged at once; the ones after it are counted and logged together
 * once per interval while they go on, and on close. Each request is still counted in the metrics
 * (kseal_http_requests_total by code) and logged at debug.
 */
import type { Logger } from './logger.js';

/** Seconds between two summaries of refused requests. */
export const REFUSAL_LOG_INTERVAL_MS = 10_000;

/** Counts refusals and logs them in summaries (module comment). */
export class RefusalLog {
  private rateLimited = 0;
  private unavailable = 0;
  private since = Date.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = REFUSAL_LOG_INTERVAL_MS,
  ) {}

  /** True for the answers this log summarises. */
  static isRefusal(status: number): boolean {
    return status === 429 || status === 503;
  }

  /** Records one refused request (its status, 429 or 503). */
  add(status: number): void {
    if (status === 429) this.rateLimited++;
    else this.unavailable++;
    if (this.timer !== undefined) return;
    this.flush();
    this.timer = setTimeout(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** Logs what was counted since the last line, if anything; stops the timer. */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flush();
  }

  private tick(): void {
    this.timer = undefined;
    if (this.rateLimited + this.unavailable === 0) return;
    this.flush();
    this.timer = setTimeout(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  private flush(): void {
    const total = this.rateLimited + this.unavailable;
    if (total === 0) return;
    const now = Date.now();
    this.logger.info('http requests refused', { refused: total, rateLimited: this.rateLimited, unavailable: this.unavailable, seconds: Math.round((now - this.since) / 100) / 10 });
    this.rateLimited = 0;
    this.unavailable = 0;
    this.since = now;
  }
}
