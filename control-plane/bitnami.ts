/**
 * Bitnami Sealed Secrets' own controller as a peer on the real control plane, shared by the
 * benchmarks (bench/real-*.ts) and the compatibility e2e test (test/e2e/bitnami-peer.test.ts).
 *
 * The binaries come from `npm run peer:build` (`go install` of the module into bench/peer/bin).
 * Its CRD is read from the same module's source in the Go module cache. Bitnami's controller only
 * runs in-cluster (`rest.InClusterConfig()`: it reads KUBERNETES_SERVICE_HOST/PORT and a
 * ServiceAccount token and CA at /var/run/secrets/kubernetes.io/serviceaccount/), so it is started
 * as a pod would see it: in a private mount namespace (`unshare -m`) with a tmpfs on /run and the
 * token, CA and namespace files bind-mounted where it looks. Nothing outside that process's mount
 * namespace changes. Its ServiceAccount is bound to cluster-admin: the peer is measured, not its
 * RBAC.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { AdminClients } from './admin.js';
import { freePort, startProcess, waitHealthy, type ManagedProcess } from './processes.js';

/** Where `npm run peer:build` installs `controller` and `kubeseal`. */
const BITNAMI_BIN_DIR = fileURLToPath(new URL('../bench/peer/bin', import.meta.url));
const MODULE_PATH = 'github.com/bitnami-labs/sealed-secrets';
const SERVICE_ACCOUNT = 'sealed-secrets-controller';

/** Path of a peer binary (`controller` or `kubeseal`). */
export function bitnamiBinary(name: 'controller' | 'kubeseal'): string {
  return join(BITNAMI_BIN_DIR, name);
}

/** The module version the binaries were built from (`controller --version`), e.g. v0.36.6. */
export function bitnamiVersion(): string {
  const out = execFileSync(bitnamiBinary('controller'), ['--version'], { encoding: 'utf8' });
  return /version:\s*(\S+)/.exec(out)?.[1] ?? 'unknown';
}

/** Why the peer cannot run here ('' when it can): binaries missing, or no private mount namespace. */
export function bitnamiUnavailable(): string {
  const missing = (['controller', 'kubeseal'] as const).filter((b) => !existsSync(bitnamiBinary(b)));
  if (missing.length > 0) return `Bitnami peer not built (${missing.join(', ')} missing in ${BITNAMI_BIN_DIR}): run \`npm run peer:build\``;
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'true'], { stdio: 'ignore' });
  if (r.status !== 0) return 'Bitnami\'s controller runs only in-cluster (token at /var/run/secrets/...) and `unshare -m` cannot make a private mount namespace here (needs root or CAP_SYS_ADMIN)';
  return '';
}

/** Bitnami's CRD (bitnami.com/v1alpha1 SealedSecret) from the module source in the Go module cache. */
function bitnamiCrd(): KubernetesObject {
  const version = bitnamiVersion();
  const cache = execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();
  const path = join(cache, `${MODULE_PATH}@${version}`, 'helm', 'sealed-secrets', 'crds', 'bitnami.com_sealedsecrets.yaml');
  if (!existsSync(path)) throw new Error(`Bitnami's CRD not in the Go module cache at ${path}: run \`npm run peer:build -- --force\``);
  return parse(readFileSync(path, 'utf8')) as KubernetesObject;
}

/** Installs the CRD (idempotent) and waits until it is Established. */
export async function installBitnamiCrd(clients: AdminClients): Promise<void> {
  const crd = bitnamiCrd();
  await clients.objects.create(crd).catch((e: unknown) => {
    if ((e as { code?: number }).code !== 409) throw e;
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const got = await clients.ext.readCustomResourceDefinition({ name: crd.metadata?.name ?? '' });
    if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    if (Date.now() > deadline) throw new Error('Bitnami CRD not Established after 60 s');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The peer's identity: a ServiceAccount in `namespace` (created if missing) bound to cluster-admin, and a one-hour token. */
export async function bitnamiIdentity(clients: AdminClients, namespace: string): Promise<{ username: string; token: string }> {
  await clients.core.createNamespace({ body: { metadata: { name: namespace } } }).catch(ignoreConflict);
  await clients.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: SERVICE_ACCOUNT } } }).catch(ignoreConflict);
  await clients.rbac.createClusterRoleBinding({
    body: {
      metadata: { name: `bitnami-peer-${namespace}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT, namespace }],
    },
  }).catch(ignoreConflict);
  const tr = await clients.core.createNamespacedServiceAccountToken({ name: SERVICE_ACCOUNT, namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const token = tr.status?.token ?? '';
  if (token === '') throw new Error('TokenRequest returned no token');
  return { username: `system:serviceaccount:${namespace}:${SERVICE_ACCOUNT}`, token };
}

function ignoreConflict(e: unknown): void {
  if ((e as { code?: number }).code !== 409) throw e;
}

/** How to start the peer. */
export interface BitnamiOptions {
  /** The API server, `https://127.0.0.1:PORT` (what KUBERNETES_SERVICE_HOST/PORT name in a pod). */
  readonly apiServerUrl: string;
  readonly caPem: string;
  readonly token: string;
  /** Its namespace (POD_NAMESPACE): where its key Secrets live. */
  readonly namespace: string;
  /** A folder for the mounted ServiceAccount files and the log. */
  readonly dir: string;
  /** `--key-size` for a key it generates (default 4096, Bitnami's). */
  readonly keySize?: number;
  /** More controller flags. */
  readonly args?: readonly string[];
}

/** A running peer controller. */
export interface BitnamiController {
  readonly process: ManagedProcess;
  readonly pid: number;
  readonly port: number;
  readonly metricsPort: number;
  /** Its newest certificate, from GET /v1/cert.pem. */
  certificatePem(): Promise<string>;
}

const MOUNT_AND_EXEC = 'mount -t tmpfs -o size=1m,mode=0755 tmpfs /run && mkdir -p /run/secrets/kubernetes.io/serviceaccount && mount --bind "$KSEAL_PEER_SA_DIR" /run/secrets/kubernetes.io/serviceaccount && exec "$@"';

/**
 * Starts Bitnami's controller against the control plane, listening on 127.0.0.1 (free ports);
 * resolves once /healthz answers, which it does after loading or generating its key.
 */
export async function startBitnami(options: BitnamiOptions): Promise<BitnamiController> {
  const saDir = join(options.dir, 'serviceaccount');
  mkdirSync(saDir, { recursive: true });
  writeFileSync(join(saDir, 'token'), options.token, { mode: 0o600 });
  writeFileSync(join(saDir, 'ca.crt'), options.caPem);
  writeFileSync(join(saDir, 'namespace'), options.namespace);
  const api = new URL(options.apiServerUrl);
  const port = await freePort();
  const metricsPort = await freePort();
  const args = [
    `--listen-addr=127.0.0.1:${port}`,
    `--listen-metrics-addr=127.0.0.1:${metricsPort}`,
    `--key-size=${options.keySize ?? 4096}`,
    '--key-renew-period=0',
    '--log-format=json',
    ...(options.args ?? []),
  ];
  // unshare and sh both exec: the process started is the controller itself (its pid, its RSS).
  const proc = startProcess('bitnami-controller', 'unshare', ['-m', '--propagation', 'private', 'sh', '-c', MOUNT_AND_EXEC, 'bitnami', bitnamiBinary('controller'), ...args], join(options.dir, `bitnami-controller-${port}.log`), {
    KSEAL_PEER_SA_DIR: saDir,
    KUBERNETES_SERVICE_HOST: api.hostname,
    KUBERNETES_SERVICE_PORT: api.port,
    POD_NAMESPACE: options.namespace,
  });
  const get = async (path: string): Promise<Response> => fetch(`http://127.0.0.1:${port}${path}`);
  try {
    await waitHealthy(proc, '/healthz', async () => (await get('/healthz')).ok, 120_000);
  } catch (e) {
    await proc.kill();
    throw e;
  }
  return {
    process: proc,
    pid: proc.child.pid ?? 0,
    port,
    metricsPort,
    async certificatePem() {
      const res = await get('/v1/cert.pem');
      if (!res.ok) throw new Error(`Bitnami /v1/cert.pem: HTTP ${res.status}`);
      return res.text();
    },
  };
}
