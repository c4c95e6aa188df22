/**
 * Admin-side helpers for a real cluster, shared by the e2e suite and the benchmarks: render
 * controller/deploy with kubectl kustomize, create (or replace) its objects, and give a
 * controller its own ServiceAccount identity: the rendered ServiceAccount, Role, RoleBinding and
 * ClusterRoleBinding moved into a controller namespace (what `kustomize edit set namespace` does),
 * with a token from the TokenRequest API.
 * The rules themselves are applied exactly as rendered, so the controller can do nothing that
 * the deploy manifests do not grant.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiextensionsV1Api, CoreV1Api, KubeConfig, KubernetesObjectApi, RbacAuthorizationV1Api, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

const DEPLOY_DIR = fileURLToPath(new URL('../controller/deploy', import.meta.url));

/** The deploy's ServiceAccount name (and Role/binding names). */
const CONTROLLER_SERVICE_ACCOUNT = 'kseal-controller';

export interface AdminClients {
  readonly kc: KubeConfig;
  readonly objects: KubernetesObjectApi;
  readonly core: CoreV1Api;
  readonly ext: ApiextensionsV1Api;
  readonly rbac: RbacAuthorizationV1Api;
}

/** Clients with the admin kubeconfig. */
export function adminClients(kubeconfigPath: string): AdminClients {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return { kc, objects: KubernetesObjectApi.makeApiClient(kc), core: kc.makeApiClient(CoreV1Api), ext: kc.makeApiClient(ApiextensionsV1Api), rbac: kc.makeApiClient(RbacAuthorizationV1Api) };
}

/** `kubectl kustomize controller/deploy`, or another kustomization of the repository (e.g. `examples/watch-namespaces`). */
export function renderDeploy(dir = DEPLOY_DIR): string {
  return execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', env: { ...process.env, KUBECONFIG: '' } });
}

/** The rendered objects (plain JSON). */
export function deployObjects(deployYaml: string): KubernetesObject[] {
  return parseAllDocuments(deployYaml).map((d) => d.toJSON() as KubernetesObject).filter((o) => o !== null);
}

function statusCode(e: unknown): number | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'number' ? e.code : undefined;
}

/** Creates each object, or replaces it when it exists (idempotent against a reused cluster). */
async function upsert(clients: AdminClients, objects: readonly KubernetesObject[]): Promise<void> {
  for (const obj of objects) {
    try {
      await clients.objects.create(obj);
    } catch (e) {
      if (statusCode(e) !== 409) throw e;
      const current = await clients.objects.read({ apiVersion: obj.apiVersion ?? '', kind: obj.kind ?? '', metadata: { name: obj.metadata?.name ?? '', ...(obj.metadata?.namespace === undefined ? {} : { namespace: obj.metadata.namespace }) } });
      await clients.objects.replace({ ...obj, metadata: { ...obj.metadata, resourceVersion: current.metadata?.resourceVersion ?? '' } });
    }
  }
}

/** Creates or replaces the rendered objects that `pick` selects. */
export async function applyObjects(clients: AdminClients, deployYaml: string, pick: (o: KubernetesObject) => boolean): Promise<void> {
  await upsert(clients, deployObjects(deployYaml).filter(pick));
}

/** Waits until the CRD is Established. */
export async function waitCrdEstablished(clients: AdminClients, name: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const crd = await clients.ext.readCustomResourceDefinition({ name });
    if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The namespaced identity objects of the deploy, moved into `namespace`; Roles and RoleBindings in
 * another namespace named in `moved` (e.g. the watched namespaces of examples/watch-namespaces) are
 * moved to the namespace it maps to, and the rest of those left out.
 */
function identityObjects(deployYaml: string, namespace: string, moved: Readonly<Record<string, string>> = {}): KubernetesObject[] {
  const all = deployObjects(deployYaml);
  const sa = all.find((o) => o.kind === 'ServiceAccount' && o.metadata?.name === CONTROLLER_SERVICE_ACCOUNT);
  if (sa === undefined) throw new Error('controller/deploy renders no ServiceAccount kseal-controller');
  const home = sa.metadata?.namespace ?? '';
  const out: KubernetesObject[] = [];
  for (const o of all) {
    const copy = structuredClone(o) as KubernetesObject & { subjects?: Array<{ kind: string; name: string; namespace?: string }> };
    const meta = copy.metadata ?? {};
    if (o.kind === 'ServiceAccount' || ((o.kind === 'Role' || o.kind === 'RoleBinding') && meta.namespace === home)) {
      meta.namespace = namespace;
    } else if ((o.kind === 'Role' || o.kind === 'RoleBinding') && meta.namespace !== undefined && Object.hasOwn(moved, meta.namespace)) {
      meta.namespace = moved[meta.namespace] ?? meta.namespace;
    } else if (o.kind === 'ClusterRoleBinding') {
      meta.name = `${meta.name ?? ''}-${namespace}`;
    } else {
      continue;
    }
    for (const s of copy.subjects ?? []) if (s.kind === 'ServiceAccount' && s.namespace === home) s.namespace = namespace;
    copy.metadata = meta;
    out.push(copy);
  }
  return out;
}

/** A controller identity: its kubeconfig (bearer token of the ServiceAccount) and user name. */
export interface ControllerIdentity {
  readonly namespace: string;
  readonly username: string;
  readonly token: string;
  /** Writes a kubeconfig for this identity pointing at `server` (default: the admin kubeconfig's). */
  kubeconfig(dir: string, server?: string): string;
}

/**
 * Creates the deploy's identity in `namespace` (and its Roles in the namespaces `moved` maps to, see
 * identityObjects) and requests a one-hour token for it.
 */
export async function controllerIdentity(clients: AdminClients, deployYaml: string, namespace: string, moved: Readonly<Record<string, string>> = {}): Promise<ControllerIdentity> {
  await upsert(clients, identityObjects(deployYaml, namespace, moved));
  const tr = await clients.core.createNamespacedServiceAccountToken({ name: CONTROLLER_SERVICE_ACCOUNT, namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const token = tr.status?.token ?? '';
  if (token === '') throw new Error('TokenRequest returned no token');
  const cluster = clients.kc.getCurrentCluster();
  if (cluster === null) throw new Error('admin kubeconfig has no current cluster');
  return {
    namespace,
    username: `system:serviceaccount:${namespace}:${CONTROLLER_SERVICE_ACCOUNT}`,
    token,
    kubeconfig(dir, server = cluster.server) {
      const path = join(dir, `controller-${namespace}-${Buffer.from(server).toString('hex').slice(-8)}.kubeconfig`);
      const clusterEntry: Record<string, unknown> = { server };
      if (cluster.caData !== undefined) clusterEntry['certificate-authority-data'] = cluster.caData;
      if (cluster.caFile !== undefined) clusterEntry['certificate-authority'] = cluster.caFile;
      if (cluster.skipTLSVerify) clusterEntry['insecure-skip-tls-verify'] = true;
      const config = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'e2e', cluster: clusterEntry }],
        users: [{ name: 'kseal-controller', user: { token } }],
        contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: 'kseal-controller', namespace } }],
        'current-context': 'e2e',
      };
      writeFileSync(path, JSON.stringify(config, null, 2), { mode: 0o600 });
      return path;
    },
  };
}

/** Deletes the per-namespace ClusterRoleBinding made by controllerIdentity. */
export async function deleteIdentity(clients: AdminClients, deployYaml: string, namespace: string): Promise<void> {
  for (const o of identityObjects(deployYaml, namespace)) {
    if (o.kind !== 'ClusterRoleBinding') continue;
    await clients.rbac.deleteClusterRoleBinding({ name: o.metadata?.name ?? '' }).catch(() => undefined);
  }
}
