/**
 * A supervised informer: list, then watch from the list's resourceVersion, keeping a cache of the
 * objects and calling handlers on add, update and delete, and staying correct under every fault a
 * real API server produces:
 *
 * - any failure (network, 5xx, 429, a malformed line) restarts the watch after a capped exponential
 *   backoff with jitter, from the last resourceVersion seen; a server that keeps closing at once is
 *   backed off the same way;
 * - 410 Gone (as an HTTP answer or an ERROR event) re-lists and diffs the new list against the cache
 *   (deletes for what vanished, updates for what changed), so nothing is missed;
 * - a watchdog aborts a watch that delivered nothing (no event, no bookmark; bookmarks are requested)
 *   for longer than `idleTimeoutMs`: a half-open connection cannot hang it;
 * - the server is asked to end each watch after a randomised `timeoutSeconds`, as client-go does;
 * - every `resyncMs` the resync handler is called for every cached object (re-reconcile everything).
 *
 * Read-your-writes: after the controller writes an object it can store the answer in the cache with
 * `observeWrite`; the event of the version it replaced, if it arrives late, is then ignored, so a
 * reconcile never works from a version older than its own last write.
 */
import { Backoff, sleep, type BackoffOptions } from '../net/backoff.js';
import { KubeError, objectKey, statusOf, type KubeObject, type ListWatchTransport, type WatchEvent } from './kube-client.js';
import type { Logger } from './logger.js';

export interface InformerHandlers<T extends KubeObject> {
  add?(obj: T): void;
  update?(previous: T, obj: T): void;
  delete?(obj: T): void;
  /** Called for every cached object every `resyncMs`. */
  resync?(obj: T): void;
  /** Called after each resync pass. */
  resyncDone?(): void;
}

export interface InformerOptions<T extends KubeObject> {
  /** For logs: `sealedsecrets`, `managed-secrets`... */
  readonly name: string;
  /** REST collection path, e.g. `/api/v1/secrets` or `/apis/kseal.dev/v1alpha1/sealedsecrets`. */
  readonly path: string;
  readonly labelSelector?: string;
  readonly transport: ListWatchTransport;
  readonly handlers: InformerHandlers<T>;
  readonly logger: Logger;
  /** Resync period in ms; 0 turns it off. */
  readonly resyncMs: number;
  /** Abort a watch that delivered nothing for this long (ms). */
  readonly idleTimeoutMs: number;
  /** Server-side watch timeout range in seconds: a random value in [min, 2 × min]. */
  readonly minWatchTimeoutSeconds: number;
  readonly backoff: BackoffOptions;
  /** Page size of lists (0: no paging). */
  readonly pageSize?: number;
  /** Called with the name and a short reason on every restart (metrics, tests). */
  readonly onRestart?: (reason: string) => void;
  /** What is cached of each object as it arrives (default: the object without managedFields). */
  readonly transform?: (obj: T) => T;
  /** The stub `release` leaves of an object once nobody needs it whole (controller/compact-objects.ts). */
  readonly stub?: (obj: T) => T;
}

/** A list+watch cache with its own supervision (see the module comment). */
export class SupervisedInformer<T extends KubeObject> {
  private readonly cache = new Map<string, T>();
  /** key → resourceVersion our own write replaced; an event carrying it is stale. */
  private readonly superseded = new Map<string, string>();
  /** key → uid of an object seen deleted: the answer to a write made before must not bring it back. */
  private readonly deleted = new Map<string, string>();
  private resourceVersion = '';
  private stopped = true;
  private current: AbortController | undefined;
  private lastActivity = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private syncedFlag = false;
  private syncWaiters: Array<() => void> = [];
  private loop: Promise<void> | undefined;
  private readonly backoff: Backoff;
  private readonly stopController = new AbortController();

  constructor(private readonly options: InformerOptions<T>) {
    this.backoff = new Backoff(options.backoff);
  }

  /** Starts listing and watching in the background. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
    if (this.options.resyncMs > 0) this.scheduleResync();
    this.watchdog = setInterval(() => this.checkIdle(), Math.max(10, Math.min(1000, this.options.idleTimeoutMs / 4)));
    this.watchdog.unref();
  }

  /**
   * Stops watching; the cache is kept. Whoever waits for the first list is released too (see
   * `waitForSync`): an informer whose lists are refused would otherwise hold its waiters, and so the
   * controller's `stop()`, forever.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.releaseSyncWaiters();
    this.stopController.abort();
    this.current?.abort();
    if (this.watchdog !== undefined) clearInterval(this.watchdog);
    if (this.resyncTimer !== undefined) clearTimeout(this.resyncTimer);
    await this.loop;
  }

  /** True once the first list has been applied. */
  get synced(): boolean {
    return this.syncedFlag;
  }

  /**
   * Resolves when the first list has been applied (at once if it has), or when the informer stops
   * before that: callers check `synced` or their own stop flag after it.
   */
  waitForSync(): Promise<void> {
    if (this.syncedFlag || this.stopController.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** The cached object `namespace/name` (namespace empty for cluster-scoped ones). */
  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  /** Every cached object. */
  list(): T[] {
    return [...this.cache.values()];
  }

  /** The key (`namespace/name`) of every cached object. */
  keys(): string[] {
    return [...this.cache.keys()];
  }

  /**
   * Replaces the cached object `key` by its stub (the `stub` option), when it still has the
   * resourceVersion `resourceVersion` (any, when undefined): a newer version that arrived meanwhile
   * is kept whole for the reconcile it queued.
   */
  release(key: string, resourceVersion?: string): void {
    const stub = this.options.stub;
    const obj = this.cache.get(key);
    if (stub === undefined || obj === undefined) return;
    if (resourceVersion !== undefined && obj.metadata.resourceVersion !== resourceVersion) return;
    this.cache.set(key, stub(obj));
  }

  /** Releases (see `release`) every cached object whose key matches. */
  releaseWhere(match: (key: string) => boolean): void {
    for (const key of this.cache.keys()) if (match(key)) this.release(key);
  }

  /** Number of cached objects. */
  get size(): number {
    return this.cache.size;
  }

  /**
   * Stores the answer of the controller's own write. `previousVersion` is the resourceVersion the write
   * replaced (undefined for a create); its event, if still on the way, will be ignored.
   */
  observeWrite(written: T, previousVersion: string | undefined): void {
    const key = objectKey(written);
    // Its delete arrived through the watch before this answer (another connection): it stays deleted.
    if (written.metadata.uid !== undefined && this.deleted.get(key) === written.metadata.uid) return;
    this.cache.set(key, this.transform(written));
    if (previousVersion !== undefined) this.superseded.set(key, previousVersion);
    else this.superseded.delete(key);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (this.resourceVersion === '') await this.relist();
        await this.watchOnce();
      } catch (e) {
        if (this.stopped) break;
        const status = statusOf(e);
        if (status === 410) {
          this.options.onRestart?.('expired');
          this.options.logger.info('watch expired; re-listing', { informer: this.options.name });
          this.resourceVersion = '';
          continue;
        }
        const delay = this.backoff.next();
        const reason = (e as Error).name === 'AbortError' ? 'idle' : status === undefined ? 'network' : `http-${status}`;
        this.options.onRestart?.(reason);
        this.options.logger.warn('watch failed; restarting', {
          informer: this.options.name,
          reason,
          error: (e as Error).message,
          retryInMs: delay,
          attempt: this.backoff.attempts,
        });
        await sleep(delay, this.stopController.signal);
      }
    }
  }

  /**
   * Lists everything (paged) and applies it to the cache as a replace, page by page: each page is
   * applied as it arrives (adds and updates), and once the last page is in, what no page held is
   * deleted. So only one page of raw objects is alive at a time, not the whole list beside the cache
   * (at 100,000 objects that was the start-up's transient peak). A list that fails part-way (a 410 for
   * an expired continue token, a network error) is started again from the first page with a fresh
   * record of what was seen, so an object only the abandoned list held is deleted by the new one.
   */
  private async relist(): Promise<void> {
    const seen = new Set<string>();
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const controller = this.arm();
      const query: Record<string, string> = {};
      if (this.options.labelSelector !== undefined) query.labelSelector = this.options.labelSelector;
      if ((this.options.pageSize ?? 500) > 0) query.limit = String(this.options.pageSize ?? 500);
      if (continueToken !== undefined) query.continue = continueToken;
      const page = await this.options.transport.list(this.options.path, query, controller.signal);
      if (this.stopped) return;
      this.applyListed(page.items as T[], seen);
      continueToken = page.continueToken;
      resourceVersion = page.resourceVersion;
    } while (continueToken !== undefined && !this.stopped);
    if (this.stopped) return;
    this.deleteUnseen(seen);
    this.resourceVersion = resourceVersion;
    if (!this.syncedFlag) {
      this.syncedFlag = true;
      this.releaseSyncWaiters();
    }
  }

  private releaseSyncWaiters(): void {
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const w of waiters) w();
  }

  private async watchOnce(): Promise<void> {
    const controller = this.arm();
    const query: Record<string, string> = {
      resourceVersion: this.resourceVersion,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(Math.round(this.options.minWatchTimeoutSeconds * (1 + Math.random()))),
    };
    if (this.options.labelSelector !== undefined) query.labelSelector = this.options.labelSelector;
    const started = Date.now();
    let events = 0;
    let errorStatus: number | undefined;
    const onEvent = (event: WatchEvent): void => {
      if (controller.signal.aborted) return;
      events++;
      this.lastActivity = Date.now();
      if (event.type === 'ERROR') {
        const code = (event.object as { code?: unknown }).code;
        errorStatus = typeof code === 'number' ? code : 500;
        controller.abort();
        return;
      }
      this.apply(event);
    };
    try {
      await this.options.transport.watch(this.options.path, query, onEvent, controller.signal);
    } catch (e) {
      if (errorStatus === undefined) throw e;
    }
    if (errorStatus !== undefined) throw new KubeError(`watch ${this.options.path}: error event ${errorStatus}`, errorStatus, undefined);
    // A clean end. A watch that ended at once with nothing in it counts as a failure (no hot loop).
    if (events === 0 && Date.now() - started < 1000) {
      this.options.onRestart?.('closed-early');
      await sleep(this.backoff.next(), this.stopController.signal);
    } else {
      this.backoff.reset();
    }
  }

  /** A fresh AbortController for the next request; the watchdog aborts it when idle too long. */
  private arm(): AbortController {
    this.current?.abort();
    this.current = new AbortController();
    this.lastActivity = Date.now();
    return this.current;
  }

  private checkIdle(): void {
    if (this.stopped || this.current === undefined || this.current.signal.aborted) return;
    if (Date.now() - this.lastActivity > this.options.idleTimeoutMs) {
      this.options.logger.warn('watch silent for too long; aborting it', { informer: this.options.name, idleMs: Date.now() - this.lastActivity });
      this.current.abort();
    }
  }

  private apply(event: WatchEvent): void {
    const obj = event.object;
    const rv = obj.metadata?.resourceVersion;
    if (event.type === 'BOOKMARK') {
      if (rv !== undefined && rv !== '') this.resourceVersion = rv;
      return;
    }
    const key = objectKey(obj);
    if (rv !== undefined && rv !== '') this.resourceVersion = rv;
    const stale = this.superseded.get(key);
    if (stale !== undefined) {
      this.superseded.delete(key);
      if (stale === rv && event.type !== 'DELETED') return;
    }
    const value = this.transform(obj as T);
    const previous = this.cache.get(key);
    if (event.type === 'DELETED') {
      this.rememberDeleted(key, obj.metadata.uid);
      this.cache.delete(key);
      if (previous !== undefined) this.options.handlers.delete?.(previous);
      else this.options.handlers.delete?.(value);
      return;
    }
    this.deleted.delete(key);
    // The same version again (the echo of our own write, a re-list): what is cached stays, a stub too.
    if (previous !== undefined && previous.metadata.resourceVersion === value.metadata.resourceVersion) return;
    this.cache.set(key, value);
    if (previous === undefined) this.options.handlers.add?.(value);
    else this.options.handlers.update?.(previous, value);
  }

  /** Remembers a deletion (the most recent 10,000). */
  private rememberDeleted(key: string, uid: string | undefined): void {
    if (uid === undefined) return;
    this.deleted.delete(key);
    this.deleted.set(key, uid);
    if (this.deleted.size > 10_000) this.deleted.delete(this.deleted.keys().next().value as string);
  }

  /** Applies one page of a list: adds and updates, noting each key in `seen`. */
  private applyListed(items: readonly T[], seen: Set<string>): void {
    for (const item of items) {
      const value = this.transform(item);
      const key = objectKey(value);
      seen.add(key);
      this.superseded.delete(key);
      this.deleted.delete(key);
      const previous = this.cache.get(key);
      if (previous !== undefined && previous.metadata.resourceVersion === value.metadata.resourceVersion) continue;
      this.cache.set(key, value);
      if (previous === undefined) this.options.handlers.add?.(value);
      else this.options.handlers.update?.(previous, value);
    }
  }

  /** After the last page of a list: deletes every cached object no page held. */
  private deleteUnseen(seen: ReadonlySet<string>): void {
    const gone: Array<[string, T]> = [];
    for (const entry of this.cache) if (!seen.has(entry[0])) gone.push(entry);
    for (const [key, previous] of gone) {
      this.rememberDeleted(key, previous.metadata.uid);
      this.cache.delete(key);
      this.options.handlers.delete?.(previous);
    }
  }

  /** The `transform` option, by default dropping managedFields (larger than the object, never read). */
  private transform(obj: T): T {
    if (this.options.transform !== undefined) return this.options.transform(obj);
    if (obj.metadata?.managedFields === undefined) return obj;
    const { managedFields: _dropped, ...metadata } = obj.metadata;
    return { ...obj, metadata };
  }

  private scheduleResync(): void {
    const jittered = this.options.resyncMs * (0.9 + 0.2 * Math.random());
    this.resyncTimer = setTimeout(() => {
      if (this.stopped) return;
      if (this.syncedFlag) {
        for (const obj of this.cache.values()) this.options.handlers.resync?.(obj);
        this.options.handlers.resyncDone?.();
      }
      this.scheduleResync();
    }, jittered);
    this.resyncTimer.unref();
  }
}
