/**
 * The Kubernetes API requests the controller makes, declared once. The RBAC in controller/deploy/
 * (ClusterRole for `cluster`, Role in the controller's namespace for `namespace`) grants exactly
 * these, and test/controller/deploy.test.ts checks that it does: no wildcard, no extra verb. Code
 * that adds a request (a new verb or resource) must add it here first, or it fails with 403 in a
 * cluster installed from these manifests.
 */
import { SEALED_SECRET_GROUP, SEALED_SECRET_PLURAL } from '../src/wire.js';

/** Kubernetes RBAC verbs the controller may use (`update` covers PUT, `patch` PATCH, `get` a read of one object). */
export type ApiVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';

/** One resource the controller calls, with the verbs it uses on it. */
export interface ApiPermission {
  /** API group; '' for the core group. */
  readonly group: string;
  /** Plural resource, with `/subresource` when it is one (e.g. `sealedsecrets/status`). */
  readonly resource: string;
  readonly verbs: readonly ApiVerb[];
  /**
   * `cluster`: in every namespace (ClusterRole), or with `--watch-namespaces` only in the watched ones
   * (a Role in each: controller/deploy/components/watch-namespaces); `namespace`: only in the
   * controller's own namespace (Role).
   */
  readonly scope: 'cluster' | 'namespace';
  /** Which calls need it, for people reading the RBAC. */
  readonly why: string;
}

/** Every API request the controller makes. Kept sorted by scope, group, resource. */
export const CONTROLLER_API_PERMISSIONS: readonly ApiPermission[] = [
  { scope: 'cluster', group: '', resource: 'events', verbs: ['create', 'patch'], why: 'Unsealed / ErrUnsealFailed / ErrUpdateFailed events on SealedSecrets; repeats are patched (count)' },
  { scope: 'cluster', group: '', resource: 'secrets', verbs: ['get', 'list', 'watch', 'create', 'update'], why: 'the Secrets it manages: informer (list/watch by label), read before write, create, replace' },
  { scope: 'cluster', group: SEALED_SECRET_GROUP, resource: SEALED_SECRET_PLURAL, verbs: ['get', 'list', 'watch'], why: 'the SealedSecret informer; a read of one object whose spec the compact cache dropped (controller/compact-objects.ts)' },
  { scope: 'cluster', group: SEALED_SECRET_GROUP, resource: `${SEALED_SECRET_PLURAL}/status`, verbs: ['patch'], why: 'Ready condition and observedGeneration (merge patch of the status subresource)' },
  { scope: 'namespace', group: '', resource: 'secrets', verbs: ['list', 'watch', 'create'], why: 'its own sealing-key Secrets: key registry informer, re-list before generating, create a new key (never updated or deleted)' },
  { scope: 'namespace', group: 'coordination.k8s.io', resource: 'leases', verbs: ['get', 'list', 'create', 'update'], why: 'leader election and shard Leases; list: shard Leases of another --shards value during a rollout' },
];

/**
 * What `--adopt-bitnami` adds (controller/deploy/components/adopt-bitnami grants exactly these):
 * Bitnami's SealedSecrets and their status in every namespace, and Bitnami's key Secrets, read only,
 * in `--bitnami-key-namespace` (scope `bitnami-keys`: a Role in that namespace, kube-system by default).
 */
export const BITNAMI_ADOPTION_PERMISSIONS: readonly (Omit<ApiPermission, 'scope'> & { readonly scope: 'cluster' | 'bitnami-keys' })[] = [
  { scope: 'cluster', group: 'bitnami.com', resource: 'sealedsecrets', verbs: ['list', 'watch'], why: 'the informer on adopted bitnami.com SealedSecrets' },
  { scope: 'cluster', group: 'bitnami.com', resource: 'sealedsecrets/status', verbs: ['patch'], why: "Bitnami's Synced and kseal's conditions (merge patch of the status subresource)" },
  { scope: 'bitnami-keys', group: '', resource: 'secrets', verbs: ['list', 'watch'], why: "Bitnami's key Secrets, read live; never written" },
];

/** One API request as an API server sees it (e.g. a line of the test API server's request log). */
export interface ApiRequest {
  readonly verb: ApiVerb;
  readonly group: string;
  readonly resource: string;
  /** Namespace of the request; undefined for a cluster-wide list or watch. */
  readonly namespace?: string | undefined;
}

/**
 * True when `request` is covered by the declared permissions: a `cluster` entry in any namespace (or
 * none; with `watchedNamespaces`, only in one of those), or a `namespace` entry in
 * `controllerNamespace`. Lets tests check a recorded request log.
 */
export function isDeclaredRequest(request: ApiRequest, controllerNamespace: string, permissions: readonly ApiPermission[] = CONTROLLER_API_PERMISSIONS, watchedNamespaces?: readonly string[]): boolean {
  const inScope = (p: ApiPermission): boolean => {
    if (p.scope === 'namespace') return request.namespace === controllerNamespace;
    return watchedNamespaces === undefined || (request.namespace !== undefined && watchedNamespaces.includes(request.namespace));
  };
  return permissions.some((p) => p.group === request.group && p.resource === request.resource && p.verbs.includes(request.verb) && inScope(p));
}
