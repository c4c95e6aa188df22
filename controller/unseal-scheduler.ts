/**
 * Which unseal job an idle worker of the pool (unseal-pool.ts) runs next, and how many of its values.
 *
 * - Reconciles always go first: their jobs sit in the first level of a two-level queue and run whole.
 * - HTTP jobs (verify, rotate) run in chunks of a few values and go to the back of their level between
 *   chunks, so a reconcile waits for at most one chunk per worker and big requests share the workers.
 * - While reconciles are pending (queued or running in the pool, or waiting in the controller's work
 *   queue: `reconcileBacklog`), HTTP work may use at most `httpShare` of the pool's capacity, however
 *   idle a worker is at that instant. A cold sync's reconciles leave the workers free for a few ms at a
 *   time (their API writes run on the main thread); without this bound verify/rotate filled those gaps
 *   and one flood doubled the sync's private-key work. The share is a credit in RSA operations that
 *   refills with time at `httpShare` x workers / (measured ms per operation), up to one second's worth;
 *   each HTTP chunk run while reconciles are pending spends its values. With no reconcile pending, HTTP
 *   work is not bounded here (the HTTP layer's token bucket bounds it) and spends no credit; the credit
 *   never starves it, since it refills with time whatever the reconciles do.
 */
import { TwoLevelQueue } from './two-level-queue.js';

/** What the scheduler needs to know of a job. */
export interface SchedulableJob {
  readonly priority: 'reconcile' | 'http';
  /** Values in the whole job. */
  readonly total: number;
  /** Index of the next value to run. */
  readonly next: number;
}

export interface UnsealSchedulerOptions {
  /** Worker threads of the pool. */
  readonly workers: number;
  /** Values an HTTP job runs at a time. */
  readonly chunkValues: number;
  /** Share of the pool's capacity HTTP work may use while reconciles are pending, in (0, 1]; 1 bounds nothing. */
  readonly httpShare: number;
  /** True while the controller has reconciles waiting or running outside the pool. */
  readonly reconcileBacklog?: () => boolean;
  /** Milliseconds clock (performance.now by default). */
  readonly now?: () => number;
}

/** The default share of the pool verify/rotate may use while reconciles are pending (kseal-controller --http-unseal-share). */
export const DEFAULT_HTTP_UNSEAL_SHARE = 0.1;

/** RSA-4096 private-key operation on one core (anchors: 4.06 ms); replaced by what the workers measure. */
const INITIAL_MS_PER_OP = 4;

/** The job to run and how many of its values. */
export interface Dispatch<J> {
  readonly job: J;
  readonly chunk: number;
}

/** The pool's scheduling policy (module comment); holds the waiting jobs. */
export class UnsealScheduler<J extends SchedulableJob> {
  private readonly queue = new TwoLevelQueue<J>();
  private readonly now: () => number;
  private readonly share: number;
  private msPerOp = INITIAL_MS_PER_OP;
  private credit: number;
  private refilledAt: number;
  /** Reconcile jobs on a worker now. */
  private reconcilesRunning = 0;
  private held = false;

  constructor(private readonly options: UnsealSchedulerOptions) {
    this.now = options.now ?? (() => performance.now());
    this.share = Math.min(1, Math.max(0, options.httpShare));
    this.refilledAt = this.now();
    this.credit = this.cap();
  }

  /** Queues a job (again, between chunks) at the back of its level. */
  push(job: J): void {
    this.queue.push(job.priority === 'reconcile' ? 'first' : 'second', job);
  }

  /** Removes a waiting job; false when it was not waiting. */
  remove(job: J): boolean {
    return this.queue.remove(job);
  }

  /** Removes and returns every waiting job. */
  drain(): J[] {
    return this.queue.drain();
  }

  /** Jobs waiting per priority. */
  waiting(): { reconcile: number; http: number } {
    return { reconcile: this.queue.size('first'), http: this.queue.size('second') };
  }

  /** True when the last `next()` left HTTP work waiting because its share was spent. */
  get httpHeld(): boolean {
    return this.held;
  }

  /**
   * The next job for an idle worker and the values to send it; undefined when nothing waits, or only
   * HTTP work whose share is spent (call `retryInMs` for when to ask again).
   */
  next(): Dispatch<J> | undefined {
    this.held = false;
    const reconcile = this.queue.peek('first');
    if (reconcile !== undefined) {
      this.queue.shift();
      this.reconcilesRunning++;
      return { job: reconcile, chunk: reconcile.total - reconcile.next };
    }
    const http = this.queue.peek('second');
    if (http === undefined) return undefined;
    let chunk = Math.min(this.options.chunkValues, http.total - http.next);
    const bounded = this.bounded();
    if (bounded) {
      this.refill();
      const allowed = Math.floor(this.credit);
      if (allowed < 1) {
        this.held = true;
        return undefined;
      }
      chunk = Math.min(chunk, allowed);
    }
    this.queue.shift();
    if (bounded) this.credit -= chunk;
    return { job: http, chunk };
  }

  /**
   * The next reconcile job, whole, to send ahead to a busy worker (it starts when the worker answers
   * its current job); undefined when no reconcile waits. HTTP work is never sent ahead: it would wait
   * behind a whole job instead of taking the next idle worker.
   */
  nextReconcile(): Dispatch<J> | undefined {
    const reconcile = this.queue.peek('first');
    if (reconcile === undefined) return undefined;
    this.queue.shift();
    this.reconcilesRunning++;
    return { job: reconcile, chunk: reconcile.total - reconcile.next };
  }

  /**
   * A worker answered: `ops` operations in `ms`. Updates the measured cost per operation; extra
   * operations of an HTTP chunk (keys tried beyond the first) are spent from the credit too.
   */
  done(priority: 'reconcile' | 'http', chunk: number, ops: number, ms: number): void {
    if (priority === 'reconcile') this.reconcilesRunning = Math.max(0, this.reconcilesRunning - 1);
    else if (ops > chunk && this.bounded()) this.credit -= ops - chunk;
    if (ops > 0 && ms > 0) this.msPerOp = 0.8 * this.msPerOp + 0.2 * (ms / ops);
  }

  /** Milliseconds until HTTP work held back will have a credit of one operation. */
  retryInMs(): number {
    this.refill();
    const missing = Math.max(0, 1 - this.credit);
    return Math.min(1_000, Math.max(5, Math.ceil(missing / this.ratePerMs())));
  }

  /** Whether HTTP work is bounded by its share now. */
  private bounded(): boolean {
    if (this.share >= 1) return false;
    return this.reconcilesRunning > 0 || this.queue.size('first') > 0 || this.options.reconcileBacklog?.() === true;
  }

  /** Operations per ms HTTP earns: its share of every worker's capacity. */
  private ratePerMs(): number {
    return (this.share * this.options.workers) / this.msPerOp;
  }

  /** One second's worth of credit, at least one chunk. */
  private cap(): number {
    return Math.max(this.options.chunkValues, this.ratePerMs() * 1000);
  }

  private refill(): void {
    const now = this.now();
    const elapsed = Math.max(0, now - this.refilledAt);
    this.refilledAt = now;
    this.credit = Math.min(this.cap(), this.credit + elapsed * this.ratePerMs());
  }
}
