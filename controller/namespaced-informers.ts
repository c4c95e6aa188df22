/**
 * One resource watched either in every namespace (one cluster-wide informer, the default) or in a
 * fixed list of namespaces (`--watch-namespaces`): then one informer per namespace, each listing and
 * watching `/…/namespaces/NS/…`, so the controller needs only Roles in those namespaces (a field
 * selector on `metadata.namespace` cannot name several namespaces, and a cluster-wide list with any
 * selector needs cluster-wide RBAC). The set looks like one informer to the controller and the
 * reconciler: lookups by `namespace/name` go to that namespace's informer, lists are the union.
 */
import { SupervisedInformer, type InformerOptions } from './informer-supervisor.js';
import { objectKey, type KubeObject } from './kube-client.js';

/** What the controller uses of an informer (SupervisedInformer and NamespacedInformers both offer it). */
export interface WatchedResource<T extends KubeObject> {
  start(): void;
  stop(): Promise<void>;
  readonly synced: boolean;
  waitForSync(): Promise<void>;
  get(key: string): T | undefined;
  list(): T[];
  keys(): string[];
  release(key: string, resourceVersion?: string): void;
  releaseWhere(match: (key: string) => boolean): void;
  readonly size: number;
  observeWrite(written: T, previousVersion: string | undefined): void;
}

/**
 * The list/watch path of a namespaced resource in every namespace (`namespace` undefined) or in one.
 * Callers spell both paths literally, so the RBAC scan of the controller code (deploy.test.ts) sees them.
 */
export type ResourcePath = (namespace?: string) => string;

/** The informers of one resource in a fixed set of namespaces (see the module comment). */
class NamespacedInformers<T extends KubeObject> implements WatchedResource<T> {
  private readonly byNamespace = new Map<string, SupervisedInformer<T>>();

  constructor(namespaces: readonly string[], make: (namespace: string) => SupervisedInformer<T>) {
    for (const ns of namespaces) if (!this.byNamespace.has(ns)) this.byNamespace.set(ns, make(ns));
  }

  start(): void {
    for (const i of this.byNamespace.values()) i.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.byNamespace.values()].map((i) => i.stop()));
  }

  get synced(): boolean {
    return [...this.byNamespace.values()].every((i) => i.synced);
  }

  async waitForSync(): Promise<void> {
    await Promise.all([...this.byNamespace.values()].map((i) => i.waitForSync()));
  }

  /** The informer of the namespace of `key` (`namespace/name`). */
  private informerOf(key: string): SupervisedInformer<T> | undefined {
    return this.byNamespace.get(key.slice(0, Math.max(0, key.indexOf('/'))));
  }

  get(key: string): T | undefined {
    return this.informerOf(key)?.get(key);
  }

  list(): T[] {
    return [...this.byNamespace.values()].flatMap((i) => i.list());
  }

  keys(): string[] {
    return [...this.byNamespace.values()].flatMap((i) => i.keys());
  }

  release(key: string, resourceVersion?: string): void {
    this.informerOf(key)?.release(key, resourceVersion);
  }

  releaseWhere(match: (key: string) => boolean): void {
    for (const i of this.byNamespace.values()) i.releaseWhere(match);
  }

  get size(): number {
    let n = 0;
    for (const i of this.byNamespace.values()) n += i.size;
    return n;
  }

  observeWrite(written: T, previousVersion: string | undefined): void {
    this.informerOf(objectKey(written))?.observeWrite(written, previousVersion);
  }
}

/**
 * An informer on `resource` in every namespace (`namespaces` undefined) or one per namespace of
 * `namespaces`; `options` are those of SupervisedInformer without the path (the name gets `/NS`).
 */
export function watchResource<T extends KubeObject>(resource: ResourcePath, namespaces: readonly string[] | undefined, options: Omit<InformerOptions<T>, 'path'>): WatchedResource<T> {
  if (namespaces === undefined) return new SupervisedInformer<T>({ ...options, path: resource() });
  return new NamespacedInformers<T>(namespaces, (ns) => new SupervisedInformer<T>({ ...options, name: `${options.name}/${ns}`, path: resource(ns) }));
}
