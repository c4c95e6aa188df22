/**
 * A real Kubernetes control plane, envtest-style, shared by the e2e suite (test/e2e) and the
 * benchmarks (bench/): etcd, kube-apiserver and kube-controller-manager built from the Go modules
 * in test/envtest (or found through KUBEBUILDER_ASSETS), listening on 127.0.0.1 only on ephemeral
 * ports, with generated certificates, RBAC authorization, service-account token issuing
 * (TokenRequest) and an audit log of every request made by a ServiceAccount (the e2e suite reads
 * it to fail on any 403; the benchmarks count a controller's writes with it).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeControlPlaneCerts, type ControlPlaneCerts } from './certs.js';
import { freePort, startProcess, waitHealthy, type ManagedProcess } from './processes.js';

/**
 * Where `npm run envtest:build` puts the binaries. Resolved from this module: control-plane/*.ts
 * and the bundles in dist/ (bench) are both one folder below the repository root.
 */
const DEFAULT_ASSETS_DIR = fileURLToPath(new URL('../test/envtest/bin', import.meta.url));
const BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager'] as const;

/** The folder holding the binaries: KUBEBUILDER_ASSETS when set, else test/envtest/bin. */
function assetsDir(): string {
  const dir = process.env.KUBEBUILDER_ASSETS ?? '';
  return dir === '' ? DEFAULT_ASSETS_DIR : dir;
}

/** The binaries missing from `dir` (none when the control plane can start). */
function missingAssets(dir = assetsDir()): string[] {
  return BINARIES.filter((b) => !existsSync(join(dir, b)));
}

/** Throws, naming what to run, when a binary is missing. */
function checkAssets(dir = assetsDir()): void {
  const missing = missingAssets(dir);
  if (missing.length > 0) throw new Error(`control plane binaries missing in ${dir}: ${missing.join(', ')}; run \`npm run envtest:build\` (or set KUBEBUILDER_ASSETS to a folder holding ${BINARIES.join(', ')})`);
}

/** An HTTPS GET with the admin client certificate; resolves with status and body. */
function adminGet(url: string, certs: ControlPlaneCerts, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: certs.pem.ca, cert: certs.pem.adminCert, key: certs.pem.adminKey, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** A kubeconfig (YAML-compatible JSON) for `server` with embedded CA and either a client cert or a bearer token. */
function kubeconfigFor(server: string, caPem: string, user: { certPem: string; keyPem: string } | { token: string }, namespace = 'default'): string {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const userEntry = 'token' in user ? { token: user.token } : { 'client-certificate-data': b64(user.certPem), 'client-key-data': b64(user.keyPem) };
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kseal-e2e', cluster: { server, 'certificate-authority-data': b64(caPem) } }],
    users: [{ name: 'kseal-e2e-user', user: userEntry }],
    contexts: [{ name: 'kseal-e2e', context: { cluster: 'kseal-e2e', user: 'kseal-e2e-user', namespace } }],
    'current-context': 'kseal-e2e',
  }, null, 2);
}

const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
    userGroups: ["system:serviceaccounts"]
  - level: None
`;

/** Settings shared by every kube-apiserver of one control plane (a test may start a second one). */
export interface ApiServerSettings {
  readonly bin: string;
  readonly dir: string;
  readonly etcdUrl: string;
  readonly certs: ControlPlaneCerts;
  readonly auditPolicyPath: string;
}

/** A running kube-apiserver. */
export interface ApiServer {
  readonly url: string;
  readonly port: number;
  readonly auditLogPath: string;
  readonly process: ManagedProcess;
  /** Stops it (SIGTERM) and starts it again on the same port; resolves once it is ready. */
  restart(downtimeMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a kube-apiserver on `port` (a free one when omitted) against the control plane's etcd;
 * resolves once /readyz answers 200. `name` keeps the logs and audit logs of several apart.
 */
export async function startApiServer(settings: ApiServerSettings, name = 'kube-apiserver', port?: number, extraArgs: readonly string[] = []): Promise<ApiServer> {
  const { certs } = settings;
  const listenPort = port ?? (await freePort());
  const url = `https://127.0.0.1:${listenPort}`;
  const auditLogPath = join(settings.dir, `${name}-audit.log`);
  const certDir = join(settings.dir, `${name}-certs`);
  mkdirSync(certDir, { recursive: true });
  const args = [
    `--etcd-servers=${settings.etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${listenPort}`,
    `--cert-dir=${certDir}`,
    `--tls-cert-file=${certs.servingCert}`,
    `--tls-private-key-file=${certs.servingKey}`,
    `--client-ca-file=${certs.caCert}`,
    '--authorization-mode=RBAC',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${certs.serviceAccountPub}`,
    `--service-account-signing-key-file=${certs.serviceAccountKey}`,
    // Not routed anywhere: no kubelet, no kube-proxy, no Service is ever reached.
    '--service-cluster-ip-range=10.0.0.0/24',
    '--endpoint-reconciler-type=none',
    '--allow-privileged=false',
    '--profiling=false',
    `--audit-policy-file=${settings.auditPolicyPath}`,
    `--audit-log-path=${auditLogPath}`,
    '--audit-log-mode=blocking',
    ...extraArgs,
  ];
  const logPath = join(settings.dir, `${name}.log`);
  const launch = async (): Promise<ManagedProcess> => {
    const proc = startProcess(name, settings.bin, args, logPath);
    await waitHealthy(proc, '/readyz', async () => (await adminGet(`${url}/readyz`, certs)).status === 200, 120_000);
    return proc;
  };
  let proc = await launch();
  return {
    url,
    port: listenPort,
    auditLogPath,
    get process() {
      return proc;
    },
    async restart(downtimeMs = 0) {
      await proc.stop();
      if (downtimeMs > 0) await new Promise((r) => setTimeout(r, downtimeMs));
      proc = await launch();
    },
    async stop() {
      await proc.stop();
    },
  };
}

/** The running control plane. */
export interface ControlPlane {
  readonly dir: string;
  readonly etcdUrl: string;
  readonly apiServer: ApiServer;
  readonly settings: ApiServerSettings;
  /** Admin kubeconfig file (client certificate in system:masters). */
  readonly kubeconfigPath: string;
  readonly certs: ControlPlaneCerts;
  /** Stops everything it started and removes its folder (unless KSEAL_E2E_KEEP is set). */
  stop(): Promise<void>;
}

/** Starts etcd, kube-apiserver and kube-controller-manager; stops what started if a later step fails. */
export async function startControlPlane(options: { assets?: string; dir?: string } = {}): Promise<ControlPlane> {
  const assets = options.assets ?? assetsDir();
  checkAssets(assets);
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'kseal-envtest-'));
  const started: ManagedProcess[] = [];
  const stopAll = async (): Promise<void> => {
    for (const p of started.reverse()) await p.stop().catch(() => undefined);
  };
  try {
    const certs = writeControlPlaneCerts(dir);
    const clientPort = await freePort();
    const peerPort = await freePort();
    const etcdUrl = `http://127.0.0.1:${clientPort}`;
    const etcd = startProcess('etcd', join(assets, 'etcd'), [
      '--name=kseal-e2e',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=kseal-e2e=http://127.0.0.1:${peerPort}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ], join(dir, 'etcd.log'));
    started.push(etcd);
    await waitHealthy(etcd, '/health', async () => (await fetch(`${etcdUrl}/health`)).ok, 60_000);

    const auditPolicyPath = join(dir, 'audit-policy.yaml');
    writeFileSync(auditPolicyPath, AUDIT_POLICY);
    const settings: ApiServerSettings = { bin: join(assets, 'kube-apiserver'), dir, etcdUrl, certs, auditPolicyPath };
    const apiServer = await startApiServer(settings);
    started.push(apiServer.process);

    const kubeconfigPath = join(dir, 'admin.kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfigFor(apiServer.url, certs.pem.ca, { certPem: certs.pem.adminCert, keyPem: certs.pem.adminKey }), { mode: 0o600 });
    const kcm = startProcess('kube-controller-manager', join(assets, 'kube-controller-manager'), [
      `--kubeconfig=${kubeconfigPath}`,
      '--controllers=garbage-collector-controller,namespace-controller',
      '--leader-elect=false',
      '--secure-port=0',
      '--use-service-account-credentials=false',
      '--concurrent-gc-syncs=5',
      '--concurrent-namespace-syncs=5',
    ], join(dir, 'kube-controller-manager.log'));
    started.push(kcm);
    await new Promise((r) => setTimeout(r, 500));
    if (!kcm.running()) throw new Error(`kube-controller-manager exited at start:\n${kcm.tail()}`);

    return {
      dir,
      etcdUrl,
      get apiServer() {
        return apiServer;
      },
      settings,
      kubeconfigPath,
      certs,
      async stop() {
        await kcm.stop();
        await apiServer.stop();
        await etcd.stop();
        if ((process.env.KSEAL_E2E_KEEP ?? '') === '') rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/**
 * Compacts etcd's history up to its current revision (physical), through etcd's HTTP gateway:
 * afterwards every watch or list from an older resourceVersion that reaches etcd gets 410 Gone.
 * Resolves with the revision compacted to.
 */
export async function compactEtcd(etcdUrl: string): Promise<number> {
  const post = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(`${etcdUrl}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  };
  const range = await post('/v3/kv/range', { key: Buffer.from('/').toString('base64'), limit: 1 });
  const revision = Number((range.header as { revision?: string } | undefined)?.revision ?? 'NaN');
  if (!Number.isFinite(revision)) throw new Error(`etcd returned no revision: ${JSON.stringify(range)}`);
  await post('/v3/kv/compaction', { revision: String(revision), physical: true });
  return revision;
}
