/**
 * The garbage collector, after pkg/controller/garbagecollector: it keeps an owner → dependents
 * index from ownerReferences and, a few milliseconds after a change, deletes dependents whose owners
 * are all gone (a dangling reference — owner missing or with another uid — counts as gone),
 * orphans dependents of an owner deleted with the `orphan` finalizer, and runs foreground deletion:
 * dependents of an owner with the `foregroundDeletion` finalizer are deleted, and the finalizer is
 * removed once no dependent with `blockOwnerDeletion: true` remains. Owners whose kind the server
 * does not serve are treated as present (the real GC cannot resolve them either and keeps retrying).
 */
import { ApiError } from './errors.js';
import { clone, isObject, text } from './json.js';
import type { JsonObject } from './json.js';
import { deletionTimestampOf, finalizersOf, metaOf, ownerRefsOf, resourceVersionOf, uidOf } from './objects.js';
import type { OwnerRef } from './objects.js';
import type { ResourceDef, ResourceRegistry } from './resources.js';
import type { RestStorage } from './rest.js';
import type { StoreEvent } from './store.js';
import { DelayedQueue } from './work-queue.js';

interface ObjRef {
  storageKey: string;
  namespace: string;
  name: string;
}

function refKey(r: ObjRef): string {
  return `${r.storageKey}|${r.namespace}|${r.name}`;
}

function parseRefKey(k: string): ObjRef {
  const [storageKey, namespace, name] = k.split('|') as [string, string, string];
  return { storageKey, namespace, name };
}

/** The garbage collector. */
export class GarbageCollector {
  /** owner uid → dependent keys */
  private readonly dependents = new Map<string, Set<string>>();
  /** dependent key → owner uids it references */
  private readonly ownersOf = new Map<string, string[]>();
  /** uid → key of every live object */
  private readonly uids = new Map<string, string>();
  private readonly queue: DelayedQueue;

  constructor(
    private readonly rest: RestStorage,
    private readonly registry: ResourceRegistry,
    delayMs: number,
    private readonly enabled: boolean,
  ) {
    this.queue = new DelayedQueue(delayMs, (k) => this.process(k));
  }

  /** Feeds a committed store change into the graph. */
  observe(e: StoreEvent): void {
    const key = refKey(e);
    const uid = uidOf(e.type === 'DELETED' ? e.object : e.object);
    const prevOwners = this.ownersOf.get(key) ?? [];
    for (const o of prevOwners) this.dependents.get(o)?.delete(key);
    if (e.type === 'DELETED') {
      this.ownersOf.delete(key);
      if (this.uids.get(uid) === key) this.uids.delete(uid);
      for (const dep of this.dependents.get(uid) ?? []) this.enqueue('attempt', dep);
      // An owner in foreground deletion may now be free of blocking dependents.
      for (const ref of ownerRefsOf(e.object)) {
        const ownerKey = this.uids.get(ref.uid);
        if (ownerKey) this.enqueue('foreground', ownerKey);
      }
      return;
    }
    this.uids.set(uid, key);
    const refs = ownerRefsOf(e.object);
    const owners = refs.map((r) => r.uid).filter(Boolean);
    if (owners.length > 0) this.ownersOf.set(key, owners);
    else this.ownersOf.delete(key);
    for (const o of owners) {
      let set = this.dependents.get(o);
      if (!set) {
        set = new Set();
        this.dependents.set(o, set);
      }
      set.add(key);
    }
    // A reference to an owner that does not exist (yet, or any more) gets checked.
    if (refs.some((r) => !this.uids.has(r.uid))) this.enqueue('attempt', key);
    // Owners whose solid/waiting state changed: re-check their dependents.
    const startedDeleting = deletionTimestampOf(e.object) && !(e.prev && deletionTimestampOf(e.prev));
    const fins = finalizersOf(e.object);
    if (deletionTimestampOf(e.object)) {
      if (fins.includes('orphan')) this.enqueue('orphan', key);
      if (fins.includes('foregroundDeletion')) {
        this.enqueue('foreground', key);
        if (startedDeleting || !(e.prev && finalizersOf(e.prev).includes('foregroundDeletion'))) {
          for (const dep of this.dependents.get(uid) ?? []) this.enqueue('attempt', dep);
        }
      }
    }
    if (e.prev && deletionTimestampOf(e.prev) && finalizersOf(e.prev).includes('foregroundDeletion') && !fins.includes('foregroundDeletion')) {
      for (const dep of this.dependents.get(uid) ?? []) this.enqueue('attempt', dep);
    }
  }

  private enqueue(kind: 'attempt' | 'orphan' | 'foreground', key: string): void {
    if (!this.enabled) return;
    this.queue.add(`${kind}#${key}`);
  }

  /** True when nothing is queued. */
  get idle(): boolean {
    return this.queue.idle;
  }

  /** Resolves once no GC work is queued. */
  whenIdle(): Promise<void> {
    return this.queue.whenIdle();
  }

  /** Forgets the graph (the store was wiped). */
  reset(): void {
    this.dependents.clear();
    this.ownersOf.clear();
    this.uids.clear();
  }

  /** Stops processing. */
  stop(): void {
    this.queue.stop();
  }

  private defFor(storageKey: string): ResourceDef | undefined {
    return this.registry.byStorageKey(storageKey);
  }

  private load(r: ObjRef): { def: ResourceDef; obj: JsonObject } | undefined {
    const def = this.defFor(r.storageKey);
    if (!def) return undefined;
    const obj = this.rest.store.get(r.storageKey, r.namespace, r.name);
    return obj ? { def, obj } : undefined;
  }

  private process(item: string): void {
    const hash = item.indexOf('#');
    const kind = item.slice(0, hash);
    const ref = parseRefKey(item.slice(hash + 1));
    try {
      if (kind === 'attempt') this.attemptToDelete(ref);
      else if (kind === 'orphan') this.orphanDependents(ref);
      else this.processDeletingDependents(ref);
    } catch (e) {
      // A conflict means the object changed under us; its change event re-queues the work.
      if (e instanceof ApiError && (e.code === 409 || e.code === 404)) {
        if (e.code === 409) this.queue.add(item);
        return;
      }
      throw e;
    }
  }

  /** Classifies an ownerReference of an object in `namespace`. */
  private ownerState(ref: OwnerRef, namespace: string): 'solid' | 'dangling' | 'waiting' {
    const def = this.registry.byApiVersionKind(ref.apiVersion, ref.kind);
    if (!def) return 'solid';
    if (def.namespaced && !namespace) return 'dangling';
    const owner = this.rest.store.get(def.storageKey, def.namespaced ? namespace : '', ref.name);
    if (!owner || uidOf(owner) !== ref.uid) return 'dangling';
    if (deletionTimestampOf(owner) && finalizersOf(owner).includes('foregroundDeletion')) return 'waiting';
    return 'solid';
  }

  /** attemptToDeleteItem. */
  private attemptToDelete(r: ObjRef): void {
    const found = this.load(r);
    if (!found) return;
    const { def, obj } = found;
    if (deletionTimestampOf(obj) && !finalizersOf(obj).includes('foregroundDeletion')) return;
    const refs = ownerRefsOf(obj);
    if (refs.length === 0) return;
    const solid: OwnerRef[] = [];
    const dangling: OwnerRef[] = [];
    const waiting: OwnerRef[] = [];
    for (const ref of refs) {
      const st = this.ownerState(ref, r.namespace);
      (st === 'solid' ? solid : st === 'dangling' ? dangling : waiting).push(ref);
    }
    if (solid.length > 0) {
      if (dangling.length === 0 && waiting.length === 0) return;
      // Drop the references to owners that are gone or waiting for dependents to go.
      const drop = new Set([...dangling, ...waiting].map((x) => x.uid));
      this.rewrite(def, r, obj, (o) => {
        const meta = metaOf(o);
        const kept = (Array.isArray(meta['ownerReferences']) ? meta['ownerReferences'] : []).filter((x) => !(isObject(x) && drop.has(text(x['uid']))));
        if (kept.length > 0) meta['ownerReferences'] = kept;
        else delete meta['ownerReferences'];
      });
      return;
    }
    if (deletionTimestampOf(obj)) return;
    const hasDependents = (this.dependents.get(uidOf(obj))?.size ?? 0) > 0;
    let policy: string;
    if (waiting.length > 0 && hasDependents) policy = 'Foreground';
    else if (finalizersOf(obj).includes('orphan')) policy = 'Orphan';
    else if (finalizersOf(obj).includes('foregroundDeletion')) policy = 'Foreground';
    else policy = 'Background';
    this.rest.delete(def, r.namespace, r.name, {
      propagationPolicy: policy,
      preconditions: { uid: uidOf(obj), resourceVersion: resourceVersionOf(obj) },
    });
  }

  /** orphanDependents + removal of the `orphan` finalizer. */
  private orphanDependents(r: ObjRef): void {
    const found = this.load(r);
    if (!found) return;
    const { def, obj } = found;
    if (!deletionTimestampOf(obj) || !finalizersOf(obj).includes('orphan')) return;
    const uid = uidOf(obj);
    for (const depKey of [...(this.dependents.get(uid) ?? [])]) {
      const dep = this.load(parseRefKey(depKey));
      if (!dep) continue;
      this.rewrite(dep.def, parseRefKey(depKey), dep.obj, (o) => {
        const meta = metaOf(o);
        const kept = (Array.isArray(meta['ownerReferences']) ? meta['ownerReferences'] : []).filter((x) => !(isObject(x) && x['uid'] === uid));
        if (kept.length > 0) meta['ownerReferences'] = kept;
        else delete meta['ownerReferences'];
      });
    }
    this.removeFinalizer(def, r, 'orphan');
  }

  /** processDeletingDependentsItem. */
  private processDeletingDependents(r: ObjRef): void {
    const found = this.load(r);
    if (!found) return;
    const { obj } = found;
    if (!deletionTimestampOf(obj) || !finalizersOf(obj).includes('foregroundDeletion')) return;
    const uid = uidOf(obj);
    const blocking: string[] = [];
    for (const depKey of this.dependents.get(uid) ?? []) {
      const dep = this.load(parseRefKey(depKey));
      if (!dep) continue;
      if (ownerRefsOf(dep.obj).some((ref) => ref.uid === uid && ref.blockOwnerDeletion)) blocking.push(depKey);
    }
    if (blocking.length === 0) {
      this.removeFinalizer(found.def, r, 'foregroundDeletion');
      return;
    }
    for (const depKey of blocking) {
      const dep = this.load(parseRefKey(depKey));
      if (dep && !(deletionTimestampOf(dep.obj) && !finalizersOf(dep.obj).includes('foregroundDeletion'))) this.enqueue('attempt', depKey);
    }
  }

  private removeFinalizer(def: ResourceDef, r: ObjRef, finalizer: string): void {
    const obj = this.rest.store.get(r.storageKey, r.namespace, r.name);
    if (!obj) return;
    this.rewrite(def, r, obj, (o) => {
      const meta = metaOf(o);
      const fins = finalizersOf(o).filter((f) => f !== finalizer);
      if (fins.length > 0) meta['finalizers'] = fins;
      else delete meta['finalizers'];
    });
  }

  /** Updates an object through the REST layer with a resourceVersion precondition. */
  private rewrite(def: ResourceDef, r: ObjRef, stored: JsonObject, mutate: (o: JsonObject) => void): void {
    const body = clone(this.rest.toVersion(def, def.storageVersion, stored));
    mutate(body);
    this.rest.update(def, def.storageVersion, r.namespace, r.name, body);
  }
}
