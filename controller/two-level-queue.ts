/**
 * A FIFO queue with two levels: every item of the `first` level leaves before any item of the
 * `second`. The unseal pool keeps reconcile jobs in the first level and HTTP jobs in the second, so
 * HTTP work only ever uses a worker that no reconcile wants.
 */

/** The two levels, in the order they are served. */
export type QueueLevel = 'first' | 'second';

/** Two FIFO queues served strictly in order. */
export class TwoLevelQueue<T> {
  private readonly levels: Record<QueueLevel, T[]> = { first: [], second: [] };

  /** Adds an item at the back of its level. */
  push(level: QueueLevel, item: T): void {
    this.levels[level].push(item);
  }

  /** Takes the oldest first-level item, else the oldest second-level one. */
  shift(): T | undefined {
    return this.levels.first.shift() ?? this.levels.second.shift();
  }

  /** The oldest item of a level, left in place. */
  peek(level: QueueLevel): T | undefined {
    return this.levels[level][0];
  }

  /** Removes one item wherever it waits; false when it was not queued. */
  remove(item: T): boolean {
    for (const level of Object.values(this.levels)) {
      const i = level.indexOf(item);
      if (i >= 0) {
        level.splice(i, 1);
        return true;
      }
    }
    return false;
  }

  /** Items waiting at a level. */
  size(level: QueueLevel): number {
    return this.levels[level].length;
  }

  /** Removes and returns every item. */
  drain(): T[] {
    return [...this.levels.first.splice(0), ...this.levels.second.splice(0)];
  }
}
