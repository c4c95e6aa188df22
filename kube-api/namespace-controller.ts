/**
 * Namespace lifecycle, after pkg/controller/namespace: once a namespace is marked for deletion
 * (phase Terminating) every namespaced object in it is deleted (objects with finalizers linger
 * until their finalizers are removed), the namespace's conditions say what remains, and when it is
 * empty the `kubernetes` finalizer is removed through `/finalize`, which deletes the namespace.
 */
import { ApiError } from './errors.js';
import type { JsonObject } from './json.js';
import { deletionTimestampOf, finalizersOf, metaOf, setCondition } from './objects.js';
import type { ResourceRegistry } from './resources.js';
import type { RestStorage } from './rest.js';
import type { StoreEvent } from './store.js';
import { DelayedQueue } from './work-queue.js';

const NAMESPACES_KEY = 'core/namespaces';

/** The namespace controller. */
export class NamespaceController {
  private readonly queue: DelayedQueue;

  constructor(
    private readonly rest: RestStorage,
    private readonly registry: ResourceRegistry,
    delayMs: number,
  ) {
    this.queue = new DelayedQueue(delayMs, (ns) => this.sync(ns));
  }

  /** Queues namespaces being deleted, and re-checks them when their content changes. */
  observe(e: StoreEvent): void {
    if (e.storageKey === NAMESPACES_KEY) {
      if (e.type !== 'DELETED' && deletionTimestampOf(e.object)) this.queue.add(e.name);
      return;
    }
    if (e.namespace && e.type === 'DELETED') {
      const ns = this.rest.store.get(NAMESPACES_KEY, '', e.namespace);
      if (ns && deletionTimestampOf(ns)) this.queue.add(e.namespace);
    }
  }

  /** True when nothing is queued. */
  get idle(): boolean {
    return this.queue.idle;
  }

  /** Resolves once no namespace work is queued. */
  whenIdle(): Promise<void> {
    return this.queue.whenIdle();
  }

  /** Stops processing. */
  stop(): void {
    this.queue.stop();
  }

  private sync(name: string): void {
    const nsDef = this.registry.byStorageKey(NAMESPACES_KEY);
    const ns = this.rest.store.get(NAMESPACES_KEY, '', name);
    if (!nsDef || !ns || !deletionTimestampOf(ns)) return;
    const remaining = new Map<string, number>();
    const withFinalizers = new Map<string, number>();
    for (const storageKey of this.rest.store.storageKeys()) {
      const def = this.registry.byStorageKey(storageKey);
      if (!def || !def.namespaced) continue;
      for (const [n, objName] of [...this.rest.store.keys(storageKey, name)]) {
        const obj = this.rest.store.get(storageKey, n, objName);
        if (!obj) continue;
        if (!deletionTimestampOf(obj)) {
          try {
            this.rest.delete(def, n, objName, { propagationPolicy: 'Background' });
          } catch (e) {
            if (!(e instanceof ApiError)) throw e;
          }
        }
        const after = this.rest.store.get(storageKey, n, objName);
        if (after) {
          const label = def.group ? `${def.plural}.${def.group}` : def.plural;
          remaining.set(label, (remaining.get(label) ?? 0) + 1);
          for (const f of finalizersOf(after)) withFinalizers.set(f, (withFinalizers.get(f) ?? 0) + 1);
        }
      }
    }
    if (remaining.size > 0) {
      const content = [...remaining].map(([r, n]) => `${r} has ${n} resource instances`).join(', ');
      const fins = [...withFinalizers].map(([f, n]) => `${f} in ${n} resource instances`).join(', ');
      this.rest.writeStatus(nsDef, '', name, (status: JsonObject) => {
        let changed = setCondition(status, { type: 'NamespaceContentRemaining', status: 'True', reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${content}` });
        changed = setCondition(status, fins
          ? { type: 'NamespaceFinalizersRemaining', status: 'True', reason: 'SomeFinalizersRemain', message: `Some content in the namespace has finalizers remaining: ${fins}` }
          : { type: 'NamespaceFinalizersRemaining', status: 'False', reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers finished' }) || changed;
        return changed;
      });
      return;
    }
    // Empty: remove the `kubernetes` finalizer (namespaces/finalize); the server then deletes the namespace.
    const current = this.rest.store.get(NAMESPACES_KEY, '', name);
    if (!current) return;
    const body = structuredClone(this.rest.toVersion(nsDef, 'v1', current));
    const spec = (body['spec'] ?? {}) as JsonObject;
    const specFins = Array.isArray(spec['finalizers']) ? spec['finalizers'].filter((f) => f !== 'kubernetes') : [];
    spec['finalizers'] = specFins;
    body['spec'] = spec;
    this.rest.update(nsDef, 'v1', '', name, body, {}, 'finalize');
    const after = this.rest.store.get(NAMESPACES_KEY, '', name);
    if (after && finalizersOf(after).length === 0 && metaOf(after)['deletionTimestamp']) {
      this.rest.delete(nsDef, '', name, {});
    }
  }
}
