/**
 * A de-duplicating work queue drained on a timer, the way the real controllers (GC, namespace
 * lifecycle, CRD finalizer) run asynchronously a little after the change that triggered them.
 */

/** A keyed queue processed `delayMs` after the first add. */
export class DelayedQueue {
  private readonly keys = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly delayMs: number,
    private readonly process: (key: string) => void,
  ) {}

  /** Queues `key` (once, however often it is added before processing). */
  add(key: string): void {
    if (this.stopped) return;
    this.keys.add(key);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.running || this.keys.size === 0 || this.stopped) return;
    this.timer = setTimeout(() => this.drain(), this.delayMs);
    this.timer.unref();
  }

  private drain(): void {
    this.timer = undefined;
    this.running = true;
    const batch = [...this.keys];
    this.keys.clear();
    for (const k of batch) {
      try {
        this.process(k);
      } catch {
        // A failed item is dropped; the next change to the object queues it again.
      }
    }
    this.running = false;
    if (this.keys.size > 0) this.schedule();
    else this.notifyIdle();
  }

  private notifyIdle(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  /** True when nothing is queued or running. */
  get idle(): boolean {
    return this.keys.size === 0 && !this.running && !this.timer;
  }

  /** Resolves once the queue is idle. */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Drops queued work and stops scheduling. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.keys.clear();
    this.notifyIdle();
  }

  /** Allows scheduling again after `stop()`. */
  restart(): void {
    this.stopped = false;
  }
}
