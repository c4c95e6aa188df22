/**
 * A work queue keyed by `namespace/name`, with the semantics of client-go's rate-limited queue:
 * a key waits at most once (adding it again while it waits is a no-op), a key is never processed by
 * two workers at once (adding it while it is processed marks it dirty and it runs again after),
 * failed keys come back after a per-key exponential backoff, and at most `concurrency` keys are
 * processed at a time.
 */
import { backoffDelay, type BackoffOptions } from '../net/backoff.js';

/** What the handler asks for after processing a key. */
export type Requeue =
  /** Done: forget its failures, do not requeue (a change will add it again). */
  | 'no'
  /** Failed in a way that may pass: requeue after the key's next backoff delay. */
  | 'backoff'
  /** Requeue after this many ms, forgetting past failures (e.g. a scheduled renewal). */
  | { readonly afterMs: number };

export type QueueHandler = (key: string) => Promise<Requeue>;

export interface WorkQueueOptions {
  /** Keys processed at the same time. */
  readonly concurrency: number;
  /** Per-key backoff (client-go: 5 ms to 1000 s). */
  readonly backoff: BackoffOptions;
  /** Called when the handler throws (the key is then retried with backoff). */
  readonly onError?: (key: string, error: unknown) => void;
  /** Called with the number of waiting keys whenever it changes. */
  readonly onDepth?: (depth: number) => void;
}

/** The queue; `start()` begins processing, `stop()` drains. */
export class WorkQueue {
  private readonly waiting: string[] = [];
  private head = 0;
  /** Keys waiting or waiting to be re-run after their current processing. */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private handler: QueueHandler | undefined;
  private running = 0;
  private idleWaiters: Array<() => void> = [];
  private drainWaiters: Array<{ readonly match: (key: string) => boolean; readonly resolve: () => void }> = [];
  private stopped = true;

  constructor(private readonly options: WorkQueueOptions) {}

  /** Adds `key` unless it is already waiting. */
  add(key: string): void {
    if (this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.waiting.push(key);
    this.depthChanged();
    this.pump();
  }

  /** True when `key` is waiting, or will run again after its current processing. */
  queued(key: string): boolean {
    return this.dirty.has(key);
  }

  /** Adds `key` after `ms`; an earlier pending delay for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (ms <= 0) return this.add(key);
    const at = Date.now() + ms;
    const pending = this.timers.get(key);
    if (pending !== undefined) {
      if (pending.at <= at) return;
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  /** Adds `key` after its next backoff delay. */
  addRateLimited(key: string): void {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    this.addAfter(key, backoffDelay(n, this.options.backoff));
  }

  /** Forgets the failures of `key` (its next backoff starts from the first delay). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Failures recorded for `key` since it last succeeded. */
  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Keys waiting (not counting delayed ones). */
  get length(): number {
    return this.waiting.length - this.head;
  }

  /** True while keys wait or are being processed (delayed keys not counted): reconciles are pending. */
  get busy(): boolean {
    return this.length > 0 || this.running > 0;
  }

  /** True when nothing waits, nothing is delayed and nothing is being processed. */
  get idle(): boolean {
    return this.length === 0 && this.running === 0 && this.timers.size === 0;
  }

  /** Starts processing with `handler`. */
  start(handler: QueueHandler): void {
    this.handler = handler;
    this.stopped = false;
    this.pump();
  }

  /**
   * Stops taking keys, drops waiting and delayed ones and resolves when in-flight keys are done.
   * The queue can be started again (e.g. when leadership comes back).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.waiting.length = 0;
    this.head = 0;
    for (const key of [...this.dirty]) if (!this.processing.has(key)) this.dirty.delete(key);
    this.failures.clear();
    this.depthChanged();
    if (this.running === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Drops the waiting and delayed keys that `match` selects (a shard this replica gave up) and
   * resolves once none of them is in flight any more; other keys go on as before.
   */
  async drain(match: (key: string) => boolean): Promise<void> {
    for (const [key, { timer }] of this.timers) {
      if (!match(key)) continue;
      clearTimeout(timer);
      this.timers.delete(key);
    }
    const kept = this.waiting.slice(this.head).filter((key) => !match(key));
    this.waiting.length = 0;
    this.waiting.push(...kept);
    this.head = 0;
    for (const key of [...this.dirty]) if (match(key) && !this.processing.has(key)) this.dirty.delete(key);
    for (const key of [...this.failures.keys()]) if (match(key)) this.failures.delete(key);
    this.depthChanged();
    if (![...this.processing].some(match)) return;
    await new Promise<void>((resolve) => this.drainWaiters.push({ match, resolve }));
  }

  private pump(): void {
    while (!this.stopped && this.handler !== undefined && this.running < this.options.concurrency && this.length > 0) {
      const key = this.waiting[this.head++] as string;
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting.splice(0, this.head);
        this.head = 0;
      }
      this.dirty.delete(key);
      this.processing.add(key);
      this.running++;
      this.depthChanged();
      void this.process(this.handler, key);
    }
  }

  private async process(handler: QueueHandler, key: string): Promise<void> {
    let result: Requeue;
    try {
      result = await handler(key);
    } catch (error) {
      this.options.onError?.(key, error);
      result = 'backoff';
    }
    this.processing.delete(key);
    this.running--;
    if (this.drainWaiters.length > 0) {
      const busy = [...this.processing];
      this.drainWaiters = this.drainWaiters.filter((w) => {
        if (busy.some(w.match)) return true;
        w.resolve();
        return false;
      });
    }
    if (!this.stopped) {
      if (result === 'no') this.forget(key);
      else if (result === 'backoff') this.addRateLimited(key);
      else {
        this.forget(key);
        this.addAfter(key, result.afterMs);
      }
      if (this.dirty.has(key)) {
        this.waiting.push(key);
        this.depthChanged();
      }
    } else {
      this.dirty.delete(key);
    }
    if (this.running === 0 && this.stopped) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
    this.pump();
  }

  private depthChanged(): void {
    this.options.onDepth?.(this.length);
  }
}
