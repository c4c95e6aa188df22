/**
 * The object store: per-kind maps (namespace → name → object), one global resourceVersion counter,
 * and per-kind bounded history rings of change events (the real server's watch cache), which give
 * watch replay, 410 Expired for resourceVersions older than the kept history, and consistent
 * snapshots for paginated lists (continue tokens). Stored objects are never mutated in place.
 */
import { expired } from './errors.js';
import type { JsonObject } from './json.js';

/** Watch event types a store change produces. */
export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One committed change. */
export interface StoreEvent {
  type: EventType;
  rv: number;
  storageKey: string;
  namespace: string;
  name: string;
  /** The state after the change; for DELETED the last state carrying the deletion's resourceVersion. */
  object: JsonObject;
  /** The state before the change (undefined for ADDED). */
  prev: JsonObject | undefined;
}

/** Bounded ring of events for one kind. Every event with rv > startRv is kept. */
class HistoryRing {
  private buf: (StoreEvent | undefined)[];
  private head = 0;
  private size = 0;
  startRv: number;

  constructor(private readonly capacity: number, startRv: number) {
    this.buf = new Array<StoreEvent | undefined>(capacity);
    this.startRv = startRv;
  }

  push(e: StoreEvent): void {
    if (this.capacity === 0) { this.startRv = e.rv; return; }
    if (this.size === this.capacity) {
      const evicted = this.buf[this.head]!;
      this.startRv = evicted.rv;
      this.buf[this.head] = e;
      this.head = (this.head + 1) % this.capacity;
      return;
    }
    this.buf[(this.head + this.size) % this.capacity] = e;
    this.size++;
  }

  /** Events with rv > `rv`, oldest first; undefined when `rv` is older than the kept history. */
  since(rv: number): StoreEvent[] | undefined {
    if (rv < this.startRv) return undefined;
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.at(mid).rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    const out: StoreEvent[] = [];
    for (let i = lo; i < this.size; i++) out.push(this.at(i));
    return out;
  }

  private at(i: number): StoreEvent {
    return this.buf[(this.head + i) % this.capacity]!;
  }

  reset(rv: number): void {
    this.buf = new Array<StoreEvent | undefined>(this.capacity);
    this.head = 0;
    this.size = 0;
    this.startRv = rv;
  }
}

class KindTable {
  readonly byNs = new Map<string, Map<string, JsonObject>>();
  private readonly sortedNames = new Map<string, string[]>();
  private sortedAll: [string, string][] | undefined;
  count = 0;
  readonly ring: HistoryRing;

  constructor(capacity: number, startRv: number) {
    this.ring = new HistoryRing(capacity, startRv);
  }

  invalidate(ns: string): void {
    this.sortedNames.delete(ns);
    this.sortedAll = undefined;
  }

  /** Sorted [namespace, name] pairs (etcd key order: namespace, then name). */
  keys(ns: string | undefined): [string, string][] {
    if (ns !== undefined) return this.names(ns).map((n) => [ns, n]);
    return this.all();
  }

  /** The sorted names in namespace `ns` (cached until a create or delete there). */
  names(ns: string): string[] {
    let names = this.sortedNames.get(ns);
    if (!names) {
      names = [...(this.byNs.get(ns)?.keys() ?? [])].sort();
      this.sortedNames.set(ns, names);
    }
    return names;
  }

  /** Every [namespace, name] pair, sorted (cached until a create or delete of the kind). */
  all(): [string, string][] {
    if (!this.sortedAll) {
      const all: [string, string][] = [];
      for (const [n, m] of this.byNs) for (const name of m.keys()) all.push([n, name]);
      all.sort((a, b) => compareKeys(a[0], a[1], b[0], b[1]));
      this.sortedAll = all;
    }
    return this.sortedAll;
  }
}

/** The key etcd orders an object by: `namespace/name`, or `name` when cluster-scoped. */
function joinKey(ns: string, name: string): string {
  return ns ? `${ns}/${name}` : name;
}

/** Orders objects as etcd orders their keys (`namespace/name`, byte-wise). */
function compareKeys(ns1: string, n1: string, ns2: string, n2: string): number {
  const a = joinKey(ns1, n1);
  const b = joinKey(ns2, n2);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** First index in `0..length` whose key is >= `start` (keys ascending). */
function lowerBound(length: number, keyAt: (i: number) => string, start: string): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keyAt(mid) < start) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Walks a kind's objects as they were at some resourceVersion, in key order (see
 * `ObjectStore.snapshotFrom`): the current sorted keys, minus those the overlay (the first change of
 * each key since then) says were different, merged with the overlay's states at that version.
 */
export class SnapshotCursor {
  private readonly length: number;
  private readonly keyAt: (i: number) => string;
  private readonly nsAt: (i: number) => string;
  private readonly nameAt: (i: number) => string;
  private i: number;
  /** The overlay's objects that existed at the version, sorted by key; and the next one's index. */
  private readonly older: Array<{ key: string; ns: string; name: string; obj: JsonObject }>;
  private j: number;
  /** Keys read from the sorted index so far (the cursor's work; tests count it). */
  keysRead = 0;

  constructor(
    private readonly table: KindTable,
    namespace: string | undefined,
    private readonly overlay: ReadonlyMap<string, { ns: string; name: string; obj: JsonObject | undefined }> | undefined,
    start: string,
  ) {
    if (namespace !== undefined) {
      const names = table.names(namespace);
      this.length = names.length;
      this.keyAt = (i) => {
        this.keysRead++;
        return names[i] as string;
      };
      this.nsAt = () => namespace;
      this.nameAt = (i) => names[i] as string;
    } else {
      const all = table.all();
      this.length = all.length;
      this.keyAt = (i) => {
        this.keysRead++;
        return joinKey(...(all[i] as [string, string]));
      };
      this.nsAt = (i) => (all[i] as [string, string])[0];
      this.nameAt = (i) => (all[i] as [string, string])[1];
    }
    this.i = lowerBound(this.length, this.keyAt, start);
    this.older = [];
    for (const [key, o] of overlay ?? []) if (o.obj !== undefined && key >= start) this.older.push({ key, ns: o.ns, name: o.name, obj: o.obj });
    this.older.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.j = 0;
  }

  /** The next object in key order, or undefined at the end. */
  next(): { key: [string, string]; obj: JsonObject } | undefined {
    // Skip current keys whose state at the version is the overlay's (changed, created or deleted since).
    while (this.i < this.length && this.overlay?.has(this.keyAt(this.i)) === true) this.i++;
    const older = this.older[this.j];
    const currentKey = this.i < this.length ? this.keyAt(this.i) : undefined;
    if (older !== undefined && (currentKey === undefined || older.key < currentKey)) {
      this.j++;
      return { key: [older.ns, older.name], obj: older.obj };
    }
    if (currentKey === undefined) return undefined;
    const ns = this.nsAt(this.i);
    const name = this.nameAt(this.i);
    this.i++;
    return { key: [ns, name], obj: this.table.byNs.get(ns)?.get(name) as JsonObject };
  }

  /** How many objects `next()` has still to return (without walking them). */
  remaining(): number {
    let n = this.length - this.i + (this.older.length - this.j);
    // Current keys ahead of the cursor that the overlay replaces are not part of the snapshot.
    for (const key of this.overlay?.keys() ?? []) {
      const pos = lowerBound(this.length, this.keyAt, key);
      if (pos >= this.i && pos < this.length && this.keyAt(pos) === key) n--;
    }
    return n;
  }
}

/** The store. */
export class ObjectStore {
  private rv: number;
  private readonly tables = new Map<string, KindTable>();
  private readonly listeners: ((e: StoreEvent) => void)[] = [];
  /** History of kinds never written is complete from here (store start or last compaction). */
  private baseRv: number;

  constructor(private readonly historySize: number, initialRv = 1) {
    this.rv = initialRv;
    this.baseRv = initialRv;
  }

  /** The current (latest committed) resourceVersion. */
  get resourceVersion(): number {
    return this.rv;
  }

  private table(storageKey: string): KindTable {
    let t = this.tables.get(storageKey);
    if (!t) {
      t = new KindTable(this.historySize, this.baseRv);
      this.tables.set(storageKey, t);
    }
    return t;
  }

  /** The stored object (do not mutate it). */
  get(storageKey: string, namespace: string, name: string): JsonObject | undefined {
    return this.tables.get(storageKey)?.byNs.get(namespace)?.get(name);
  }

  /** Number of stored objects of a kind (in one namespace when given). */
  count(storageKey: string, namespace?: string): number {
    const t = this.tables.get(storageKey);
    if (!t) return 0;
    return namespace === undefined ? t.count : (t.byNs.get(namespace)?.size ?? 0);
  }

  /** Sorted keys of a kind, in one namespace or all. */
  keys(storageKey: string, namespace?: string): [string, string][] {
    return this.tables.get(storageKey)?.keys(namespace) ?? [];
  }

  /** Storage keys that hold at least one object. */
  storageKeys(): string[] {
    return [...this.tables.entries()].filter(([, t]) => t.count > 0).map(([k]) => k);
  }

  /** Registers a synchronous listener for committed changes (watch hub, GC, controllers). */
  onEvent(listener: (e: StoreEvent) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Commits a change. `obj` is the new state (ignored for DELETED) and is owned by the store from
   * now on; its metadata.resourceVersion is set here from the global counter.
   */
  commit(type: EventType, storageKey: string, namespace: string, name: string, obj: JsonObject | undefined, prev: JsonObject | undefined): StoreEvent {
    const t = this.table(storageKey);
    const rv = ++this.rv;
    let eventObject: JsonObject;
    if (type === 'DELETED') {
      if (!prev) throw new Error('delete of a missing object');
      const m = t.byNs.get(namespace);
      m?.delete(name);
      if (m && m.size === 0) t.byNs.delete(namespace);
      t.count--;
      t.invalidate(namespace);
      eventObject = withResourceVersion(prev, rv);
    } else {
      if (!obj) throw new Error('write without an object');
      const meta = obj['metadata'] as JsonObject;
      meta['resourceVersion'] = String(rv);
      let m = t.byNs.get(namespace);
      if (!m) {
        m = new Map();
        t.byNs.set(namespace, m);
      }
      if (!m.has(name)) {
        t.count++;
        t.invalidate(namespace);
      }
      m.set(name, obj);
      eventObject = obj;
    }
    const event: StoreEvent = { type, rv, storageKey, namespace, name, object: eventObject, prev };
    t.ring.push(event);
    for (const l of this.listeners) l(event);
    return event;
  }

  /** Events of a kind after `rv`; throws 410 Expired when `rv` predates the kept history. */
  eventsSince(storageKey: string, rv: number): StoreEvent[] {
    const t = this.table(storageKey);
    const events = t.ring.since(rv);
    if (!events) throw expired(`too old resource version: ${rv} (${t.ring.startRv})`);
    return events;
  }

  /** True when events after `rv` are still kept for the kind. */
  hasHistorySince(storageKey: string, rv: number): boolean {
    return rv >= this.table(storageKey).ring.startRv;
  }

  /**
   * The objects of a kind as they were at `rv` (sorted by key), rebuilt from the history ring.
   * Returns undefined when that state can no longer be rebuilt (compacted). The whole list: a page
   * of it is `snapshotFrom`, which does not build this.
   */
  snapshotAt(storageKey: string, namespace: string | undefined, rv: number): { key: [string, string]; obj: JsonObject }[] | undefined {
    const cursor = this.snapshotFrom(storageKey, namespace, rv, '');
    if (cursor === undefined) return undefined;
    const out: { key: [string, string]; obj: JsonObject }[] = [];
    for (let e = cursor.next(); e !== undefined; e = cursor.next()) out.push(e);
    return out;
  }

  /**
   * A cursor over the objects of a kind as they were at `rv`, in key order, from the first whose
   * list key (`namespace/name` across namespaces, `name` within one) is >= `start`: what one page of
   * a paginated list reads. It costs a binary search in the sorted keys plus the kind's changes since
   * `rv`, not a walk or copy of every object, so paging through n objects is O(n log n), not O(n²).
   * Undefined when the state at `rv` can no longer be rebuilt (compacted).
   */
  snapshotFrom(storageKey: string, namespace: string | undefined, rv: number, start: string): SnapshotCursor | undefined {
    const t = this.table(storageKey);
    let overlay: Map<string, { ns: string; name: string; obj: JsonObject | undefined }> | undefined;
    if (rv < this.rv) {
      const events = t.ring.since(rv);
      if (!events) return undefined;
      for (const e of events) {
        if (namespace !== undefined && e.namespace !== namespace) continue;
        overlay ??= new Map();
        const k = namespace !== undefined ? e.name : joinKey(e.namespace, e.name);
        // The first change after rv holds the state at rv (its `prev`; undefined: created after rv).
        if (!overlay.has(k)) overlay.set(k, { ns: e.namespace, name: e.name, obj: e.prev });
      }
    }
    return new SnapshotCursor(t, namespace, overlay, start);
  }

  /** Drops all kept history: watches and continue tokens from older resourceVersions get 410. */
  compact(): void {
    this.baseRv = this.rv;
    for (const t of this.tables.values()) t.ring.reset(this.rv);
  }

  /** Removes every object (no events; used by a restart that loses the store). */
  wipe(): void {
    this.tables.clear();
  }
}

/** A shallow copy of `obj` whose metadata carries `rv` (the DELETED event object). */
export function withResourceVersion(obj: JsonObject, rv: number): JsonObject {
  const meta = { ...(obj['metadata'] as JsonObject), resourceVersion: String(rv) };
  return { ...obj, metadata: meta };
}
