/**
 * The apiextensions controllers: establishing (a created CRD gets acceptedNames and the
 * NamesAccepted/Established conditions, and its resource starts being served and listed in
 * discovery) and finalizing (a deleted CRD first deletes all of its objects, then loses the
 * `customresourcecleanup.apiextensions.k8s.io` finalizer, and its resource stops being served,
 * ending open watches on it).
 */
import { ApiError } from './errors.js';
import { deepEqual, isObject } from './json.js';
import type { JsonObject } from './json.js';
import { CRD_CLEANUP_FINALIZER, CRD_STORAGE_KEY, crdStatusEstablished, defFromCrd } from './crd.js';
import { deletionTimestampOf, finalizersOf, metaOf, setCondition } from './objects.js';
import type { ResourceDef, ResourceRegistry } from './resources.js';
import type { RestStorage } from './rest.js';
import type { StoreEvent } from './store.js';
import type { WatchHub } from './watch-hub.js';
import { DelayedQueue } from './work-queue.js';

/** The CRD controllers. */
export class CrdController {
  private readonly cleanup: DelayedQueue;
  /** storageKey of a served custom resource → its CRD name. */
  private readonly served = new Map<string, string>();

  constructor(
    private readonly rest: RestStorage,
    private readonly registry: ResourceRegistry,
    private readonly hub: WatchHub,
    private readonly establishDelayMs: number,
    cleanupDelayMs: number,
  ) {
    this.cleanup = new DelayedQueue(cleanupDelayMs, (name) => this.finalize(name));
  }

  /** Called after every committed write. */
  observe(e: StoreEvent): void {
    if (e.storageKey === CRD_STORAGE_KEY) {
      if (e.type === 'DELETED') {
        this.unserve(e.object);
        return;
      }
      if (deletionTimestampOf(e.object)) {
        this.cleanup.add(e.name);
        return;
      }
      // The resource is served once the CRD is Established (apiextensions' crdHandler answers 404 before).
      if (crdStatusEstablished(e.object)) this.serve(e.object);
      else if (this.establishDelayMs <= 0) this.establish(e.name);
      else setTimeout(() => this.establish(e.name), this.establishDelayMs).unref();
      return;
    }
    const crdName = this.served.get(e.storageKey);
    if (crdName && e.type === 'DELETED') {
      const crd = this.rest.store.get(CRD_STORAGE_KEY, '', crdName);
      if (crd && deletionTimestampOf(crd)) this.cleanup.add(crdName);
    }
  }

  /** True when nothing is queued. */
  get idle(): boolean {
    return this.cleanup.idle;
  }

  /** Resolves once no cleanup work is queued. */
  whenIdle(): Promise<void> {
    return this.cleanup.whenIdle();
  }

  /** Stops processing. */
  stop(): void {
    this.cleanup.stop();
  }

  /** Serves every CRD in the store again (after a restart). */
  resync(): void {
    this.served.clear();
    for (const [, name] of this.rest.store.keys(CRD_STORAGE_KEY)) {
      const crd = this.rest.store.get(CRD_STORAGE_KEY, '', name);
      if (crd) this.serve(crd);
    }
  }

  private crdDef(): ResourceDef {
    const def = this.registry.byStorageKey(CRD_STORAGE_KEY);
    if (!def) throw new Error('customresourcedefinitions are not registered');
    return def;
  }

  private serve(crd: JsonObject): void {
    const def = defFromCrd(crd);
    if (!def) return;
    const existing = this.registry.byGroupResource(def.group, def.plural);
    if (existing && existing.crdName !== def.crdName) return;
    this.registry.register(def);
    this.served.set(def.storageKey, def.crdName ?? '');
  }

  private unserve(crd: JsonObject): void {
    const def = defFromCrd(crd);
    if (!def) return;
    const existing = this.registry.byGroupResource(def.group, def.plural);
    if (!existing || existing.crdName !== def.crdName) return;
    this.registry.unregister(def.group, def.plural);
    this.served.delete(def.storageKey);
    this.hub.endStorageKey(def.storageKey);
  }

  private establish(name: string): void {
    const crd = this.rest.store.get(CRD_STORAGE_KEY, '', name);
    if (!crd || deletionTimestampOf(crd)) return;
    try {
      this.rest.writeStatus(this.crdDef(), '', name, (status, obj) => {
        const spec = isObject(obj['spec']) ? obj['spec'] : {};
        const names = isObject(spec['names']) ? spec['names'] : {};
        let changed = false;
        if (!deepEqual(status['acceptedNames'], names)) {
          status['acceptedNames'] = names;
          changed = true;
        }
        changed = setCondition(status, { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' }) || changed;
        changed = setCondition(status, { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' }) || changed;
        return changed;
      });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    }
  }

  private finalize(name: string): void {
    const crd = this.rest.store.get(CRD_STORAGE_KEY, '', name);
    if (!crd || !deletionTimestampOf(crd)) return;
    const def = defFromCrd(crd);
    let remaining = 0;
    if (def && this.registry.byGroupResource(def.group, def.plural)?.crdName === name) {
      const crDef = this.registry.byGroupResource(def.group, def.plural)!;
      for (const [ns, objName] of [...this.rest.store.keys(crDef.storageKey)]) {
        const obj = this.rest.store.get(crDef.storageKey, ns, objName);
        if (!obj) continue;
        if (!deletionTimestampOf(obj)) {
          try {
            this.rest.delete(crDef, ns, objName, {});
          } catch (e) {
            if (!(e instanceof ApiError)) throw e;
          }
        }
        if (this.rest.store.get(crDef.storageKey, ns, objName)) remaining++;
      }
    }
    const crdDef = this.crdDef();
    if (remaining > 0) {
      this.rest.writeStatus(crdDef, '', name, (status) =>
        setCondition(status, { type: 'Terminating', status: 'True', reason: 'InstanceDeletionInProgress', message: `CustomResource deletion is in progress: ${remaining} remaining` }),
      );
      return;
    }
    const current = this.rest.store.get(CRD_STORAGE_KEY, '', name)!;
    const body = structuredClone(this.rest.toVersion(crdDef, 'v1', current));
    const fins = finalizersOf(body).filter((f) => f !== CRD_CLEANUP_FINALIZER);
    const meta = metaOf(body);
    if (fins.length > 0) meta['finalizers'] = fins;
    else delete meta['finalizers'];
    this.rest.update(crdDef, 'v1', '', name, body);
  }
}
