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
    if (ns !== undefined) {
      let names = this.sortedNames.get(ns);
      if (!names) {
        names = [...(this.byNs.get(ns)?.keys() ?? [])].sort();
        this.sortedNames.set(ns, names);
      }
      return names.map((n) => [ns, n]);
    }
    if (!this.sortedAll) {
      const all: [string, string][] = [];
      for (const [n, m] of this.byNs) for (const name of m.keys()) all.push([n, name]);
      all.sort((a, b) => compareKeys(a[0], a[1], b[0], b[1]));
      this.sortedAll = all;
    }
    return this.sortedAll;
  }
}

/** Orders objects as etcd orders their keys (`namespace/name`, byte-wise). */
function compareKeys(ns1: string, n1: string, ns2: string, n2: string): number {
  const a = ns1 ? `${ns1}/${n1}` : n1;
  const b = ns2 ? `${ns2}/${n2}` : n2;
  return a < b ? -1 : a > b ? 1 : 0;
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
   * Returns undefined when that state can no longer be rebuilt (compacted).
   */
  snapshotAt(storageKey: string, namespace: string | undefined, rv: number): { key: [string, string]; obj: JsonObject }[] | undefined {
    const t = this.table(storageKey);
    const current = (): { key: [string, string]; obj: JsonObject }[] =>
      t.keys(namespace).map(([ns, n]) => ({ key: [ns, n], obj: t.byNs.get(ns)!.get(n)! }));
    if (rv >= this.rv) return current();
    const events = t.ring.since(rv);
    if (!events) return undefined;
    if (events.length === 0) return current();
    const overlay = new Map<string, { ns: string; name: string; obj: JsonObject | undefined }>();
    for (const e of events) {
      if (namespace !== undefined && e.namespace !== namespace) continue;
      const k = `${e.namespace}/${e.name}`;
      if (!overlay.has(k)) overlay.set(k, { ns: e.namespace, name: e.name, obj: e.prev });
    }
    const out: { key: [string, string]; obj: JsonObject }[] = [];
    for (const [ns, n] of t.keys(namespace)) {
      if (overlay.has(`${ns}/${n}`)) continue;
      out.push({ key: [ns, n], obj: t.byNs.get(ns)!.get(n)! });
    }
    for (const o of overlay.values()) if (o.obj) out.push({ key: [o.ns, o.name], obj: o.obj });
    out.sort((a, b) => compareKeys(a.key[0], a.key[1], b.key[0], b.key[1]));
    return out;
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
