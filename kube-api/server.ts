/**
 * `startKubeApi()`: a small Kubernetes API server on loopback HTTP for tests, demos and benchmarks.
 * It speaks the protocol @kubernetes/client-node 1.4 and kubectl use (discovery, CRUD, patch,
 * server-side apply, list/watch with resourceVersions, the status subresource, finalizers,
 * garbage collection, namespace and CRD lifecycles) and exposes fault injection and request
 * counters. See docs/TESTING.md for what it covers and what it leaves out.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { createAdminHandler } from './admin.js';
import type { RestartOptions } from './admin.js';
import { builtinDefs } from './builtin-kinds.js';
import { crdDef } from './crd.js';
import { CrdController } from './crd-controller.js';
import { ApiError } from './errors.js';
import { Faults } from './faults.js';
import { GarbageCollector } from './gc.js';
import { createHandler } from './http.js';
import { clone, isObject } from './json.js';
import type { JsonObject } from './json.js';
import { kubeconfigYaml, writeKubeconfig } from './kubeconfig.js';
import type { KubeconfigFile } from './kubeconfig.js';
import { NamespaceController } from './namespace-controller.js';
import { metaOf, nameOf, namespaceOf, resourceVersionOf } from './objects.js';
import { ResourceRegistry, splitApiVersion } from './resources.js';
import type { ResourceDef } from './resources.js';
import { RestStorage } from './rest.js';
import type { DeleteOptions } from './rest.js';
import { RequestStats } from './stats.js';
import { ObjectStore } from './store.js';
import { WatchHub } from './watch-hub.js';

export type { RestartOptions } from './admin.js';
export type { FailSpec, LatencySpec } from './faults.js';
export type { StatsSnapshot } from './stats.js';
export type { JsonObject, JsonValue } from './json.js';
export { Faults } from './faults.js';
export { RequestStats } from './stats.js';

/** Options of `startKubeApi`. */
export interface KubeApiOptions {
  /** TCP port on 127.0.0.1 (default 0: any free port). */
  port?: number;
  /** Events kept per kind for watch replay and paginated lists (default 10000). */
  historySize?: number;
  /** Interval of periodic BOOKMARK events on watches that allow them (default 60000 ms). */
  bookmarkIntervalMs?: number;
  /** Watches without timeoutSeconds end after this × [1, 2) seconds (default 1800). */
  minRequestTimeoutSeconds?: number;
  /** Garbage collection on/off (default on) and its delay after a change (default 5 ms). */
  gc?: boolean;
  gcDelayMs?: number;
  /** Delay of the namespace and CRD cleanup controllers (default 5 ms). */
  controllerDelayMs?: number;
  /** Delay before a new CRD is Established (default 0: before the create returns). */
  crdEstablishDelayMs?: number;
  /** Namespaces to create besides default, kube-system, kube-public and kube-node-lease. */
  namespaces?: string[];
  /** Objects to create at start (in order; put CRDs first). */
  objects?: JsonObject[];
  /** Bearer token written into the kubeconfig (default "kseal-test-token"). */
  token?: string;
  /** Reject requests without that token with 401 (default false: any token, or none, is accepted). */
  requireToken?: boolean;
  /** Where to write the kubeconfig (default: a new temporary directory, removed by close()). */
  kubeconfigPath?: string;
  /** Request body limit (default 3 MiB like the real server). */
  maxBodyBytes?: number;
}

/** Direct access to the objects, through the same validation and events as the HTTP API. */
export interface StoreAccess {
  /** The current resourceVersion. */
  resourceVersion(): string;
  /** Creates an object (namespace from metadata.namespace). Returns it as stored. */
  create(obj: JsonObject): JsonObject;
  /** Creates or replaces an object (unconditional update when it exists). */
  upsert(obj: JsonObject): JsonObject;
  /** Updates an object (PUT semantics: a stale metadata.resourceVersion is a 409). */
  update(obj: JsonObject): JsonObject;
  /** Updates the status of an object through its status subresource. */
  updateStatus(obj: JsonObject): JsonObject;
  /** JSON-merge-patches an object. */
  patch(apiVersion: string, kind: string, name: string, namespace: string | undefined, patch: JsonObject): JsonObject;
  /** The object, or undefined. */
  get(apiVersion: string, kind: string, name: string, namespace?: string): JsonObject | undefined;
  /** Objects of a kind (in one namespace when given). */
  list(apiVersion: string, kind: string, namespace?: string): JsonObject[];
  /** Number of objects of a kind (cheap; for benchmarks). */
  count(apiVersion: string, kind: string, namespace?: string): number;
  /** Deletes an object; false when it did not exist. */
  delete(apiVersion: string, kind: string, name: string, namespace?: string, opts?: DeleteOptions): boolean;
  /** Bulk-creates objects, creating missing namespaces first (fast path for benchmarks). */
  load(objs: JsonObject[]): void;
}

/** A running server. */
export interface KubeApiServer {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  /** The kubeconfig YAML (cluster with insecure-skip-tls-verify, token user, context). */
  readonly kubeconfig: string;
  /** The kubeconfig written to disk. */
  readonly kubeconfigPath: string;
  /** The token the kubeconfig carries. */
  readonly token: string;
  readonly store: StoreAccess;
  readonly faults: Faults;
  readonly stats: RequestStats;
  /** Number of open watch streams. */
  readonly watchCount: number;
  /** Resolves once garbage collection and the namespace/CRD controllers have nothing queued. */
  settle(): Promise<void>;
  /** Closes every connection (watches included) and listens again on the same port. */
  restart(opts?: RestartOptions): Promise<void>;
  /** Stops the server and removes the kubeconfig it wrote. */
  close(): Promise<void>;
}

const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

/** Starts a server. */
export async function startKubeApi(options: KubeApiOptions = {}): Promise<KubeApiServer> {
  const store = new ObjectStore(options.historySize ?? 10_000);
  const registry = new ResourceRegistry();
  const registerBuiltins = (): void => {
    for (const d of builtinDefs()) registry.register(d);
    registry.register(crdDef());
  };
  registerBuiltins();
  const rest = new RestStorage(store, registry);
  const hub = new WatchHub(store, rest, {
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
    minRequestTimeoutSeconds: options.minRequestTimeoutSeconds ?? 1800,
  });
  const gc = new GarbageCollector(rest, registry, options.gcDelayMs ?? 5, options.gc ?? true);
  const nsController = new NamespaceController(rest, registry, options.controllerDelayMs ?? 5);
  const crdController = new CrdController(rest, registry, hub, options.crdEstablishDelayMs ?? 0, options.controllerDelayMs ?? 5);
  rest.onCommitted((e) => {
    gc.observe(e);
    nsController.observe(e);
    crdController.observe(e);
  });
  const faults = new Faults({
    endWatches: () => hub.endAll(),
    resetWatches: () => hub.resetAll(),
    compact: () => store.compact(),
    sendBookmarks: () => hub.sendBookmarks(),
  });
  const stats = new RequestStats();
  const token = options.token ?? 'kseal-test-token';

  const defFor = (apiVersion: string, kind: string): ResourceDef => {
    const def = registry.byApiVersionKind(apiVersion, kind);
    if (!def) throw new Error(`no resource serves ${apiVersion} ${kind}`);
    return def;
  };
  const versionOf = (apiVersion: string): string => splitApiVersion(apiVersion).version;
  const out = (def: ResourceDef, apiVersion: string, o: JsonObject): JsonObject => clone(rest.toVersion(def, versionOf(apiVersion), o));
  const kindOf = (obj: JsonObject): { apiVersion: string; kind: string } => {
    const apiVersion = obj['apiVersion'];
    const kind = obj['kind'];
    if (typeof apiVersion !== 'string' || typeof kind !== 'string') throw new Error('objects need apiVersion and kind');
    return { apiVersion, kind };
  };
  const seedNamespaces = (): void => {
    const nsDef = defFor('v1', 'Namespace');
    for (const n of [...DEFAULT_NAMESPACES, ...(options.namespaces ?? [])]) {
      if (!store.get(nsDef.storageKey, '', n)) rest.create(nsDef, 'v1', '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: n } });
    }
  };

  const access: StoreAccess = {
    resourceVersion: () => String(store.resourceVersion),
    create(obj) {
      const { apiVersion, kind } = kindOf(obj);
      const def = defFor(apiVersion, kind);
      return out(def, apiVersion, rest.create(def, versionOf(apiVersion), namespaceOf(obj), obj).object!);
    },
    upsert(obj) {
      const { apiVersion, kind } = kindOf(obj);
      const def = defFor(apiVersion, kind);
      const existing = store.get(def.storageKey, def.namespaced ? namespaceOf(obj) : '', nameOf(obj));
      if (!existing) return access.create(obj);
      const body = clone(obj);
      metaOf(body)['resourceVersion'] = resourceVersionOf(existing);
      return out(def, apiVersion, rest.update(def, versionOf(apiVersion), namespaceOf(obj), nameOf(obj), body).object!);
    },
    update(obj) {
      const { apiVersion, kind } = kindOf(obj);
      const def = defFor(apiVersion, kind);
      return out(def, apiVersion, rest.update(def, versionOf(apiVersion), namespaceOf(obj), nameOf(obj), obj).object!);
    },
    updateStatus(obj) {
      const { apiVersion, kind } = kindOf(obj);
      const def = defFor(apiVersion, kind);
      return out(def, apiVersion, rest.update(def, versionOf(apiVersion), namespaceOf(obj), nameOf(obj), obj, {}, 'status').object!);
    },
    patch(apiVersion, kind, name, namespace, patch) {
      const def = defFor(apiVersion, kind);
      return out(def, apiVersion, rest.patch(def, versionOf(apiVersion), namespace ?? '', name, 'application/merge-patch+json', patch).object!);
    },
    get(apiVersion, kind, name, namespace) {
      const def = defFor(apiVersion, kind);
      const o = store.get(def.storageKey, def.namespaced ? (namespace ?? '') : '', name);
      return o ? out(def, apiVersion, o) : undefined;
    },
    list(apiVersion, kind, namespace) {
      const def = defFor(apiVersion, kind);
      return rest.list(def, namespace, {}).items.map((o) => out(def, apiVersion, o));
    },
    count(apiVersion, kind, namespace) {
      const def = defFor(apiVersion, kind);
      return store.count(def.storageKey, def.namespaced ? namespace : undefined);
    },
    delete(apiVersion, kind, name, namespace, opts) {
      const def = defFor(apiVersion, kind);
      try {
        rest.delete(def, namespace ?? '', name, opts ?? {});
        return true;
      } catch (e) {
        if (e instanceof ApiError && e.code === 404) return false;
        throw e;
      }
    },
    load(objs) {
      const nsDef = defFor('v1', 'Namespace');
      for (const obj of objs) {
        const ns = namespaceOf(obj);
        if (ns && !store.get(nsDef.storageKey, '', ns)) rest.create(nsDef, 'v1', '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
        access.create(obj);
      }
    },
  };

  seedNamespaces();
  for (const o of options.objects ?? []) access.create(o);

  let server: Server;
  let port = 0;
  const sockets = new Set<Socket>();
  const settle = async (): Promise<void> => {
    // The controllers queue work for each other; wait until all of them are idle at the same time.
    for (let i = 0; i < 1000; i++) {
      await Promise.all([gc.whenIdle(), nsController.whenIdle(), crdController.whenIdle()]);
      await new Promise((r) => setImmediate(r));
      if (gc.idle && nsController.idle && crdController.idle) return;
    }
  };
  const info = (): JsonObject => {
    const objects: JsonObject = {};
    for (const key of store.storageKeys()) objects[key] = store.count(key);
    return { url: `http://127.0.0.1:${port}`, resourceVersion: String(store.resourceVersion), watches: hub.count, objects };
  };

  let closing = false;
  const restart = async (opts: RestartOptions = {}): Promise<void> => {
    if (opts.resetConnections) hub.resetAll();
    else hub.endAll();
    await stopListening();
    if (opts.keepStore === false) {
      store.wipe();
      rest.resetApplyOwnership();
      gc.reset();
      for (const d of registry.all()) registry.unregister(d.group, d.plural);
      registerBuiltins();
      seedNamespaces();
    }
    crdController.resync();
    if (!opts.keepHistory) store.compact();
    if (opts.downtimeMs) await new Promise((r) => setTimeout(r, opts.downtimeMs));
    if (closing) return;
    server = makeServer();
    await listen(server, port);
  };
  const admin = createAdminHandler({ faults, stats, restart, settle, info });
  const handler = createHandler({
    rest,
    registry,
    hub,
    faults,
    stats,
    requireToken: options.requireToken ? token : undefined,
    maxBodyBytes: options.maxBodyBytes ?? 3 * 1024 * 1024,
    serverAddress: () => `127.0.0.1:${port}`,
    admin,
  });
  const makeServer = (): Server => {
    const s = createServer({ keepAlive: true }, handler);
    // Like Go's http.Server, keep idle keep-alive connections open (Node's 5 s default makes
    // clients that reuse a socket just as it closes see "socket hang up").
    s.keepAliveTimeout = 120_000;
    s.headersTimeout = 121_000;
    s.on('connection', (sock: Socket) => {
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
    });
    s.on('clientError', (_err, sock: Socket) => {
      if (sock.writable) sock.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      else sock.destroy();
    });
    return s;
  };
  const stopListening = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      sockets.clear();
    });

  server = makeServer();
  port = await listen(server, options.port ?? 0);
  const url = `http://127.0.0.1:${port}`;
  const kubeconfig = kubeconfigYaml({ server: url, token });
  let file: KubeconfigFile | undefined = writeKubeconfig(kubeconfig, options.kubeconfigPath);

  return {
    url,
    port,
    kubeconfig,
    kubeconfigPath: file.path,
    token,
    store: access,
    faults,
    stats,
    get watchCount() {
      return hub.count;
    },
    settle,
    restart,
    async close() {
      if (closing) return;
      closing = true;
      gc.stop();
      nsController.stop();
      crdController.stop();
      hub.endAll();
      await stopListening();
      file?.remove();
      file = undefined;
    },
  };
}

/** True when `v` looks like a Kubernetes object (has apiVersion, kind and metadata). */
export function isKubeObject(v: unknown): v is JsonObject {
  return isObject(v) && typeof v['apiVersion'] === 'string' && typeof v['kind'] === 'string' && isObject(v['metadata']);
}
