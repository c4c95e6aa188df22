/**
 * The embedded-API tier's process harness: the in-repo API server with the CRD, namespaces removed
 * at the end, and the controller as a real process from dist/ (process-level faults, the sealing
 * page). It never runs against a real cluster: that is test/e2e/ (`npm run test:e2e`, also with
 * KSEAL_E2E_KUBECONFIG for kind or any cluster), where the controller runs as its ServiceAccount
 * under exactly the deploy's RBAC. The tier-2 e2e.test.ts that used this harness against
 * KSEAL_E2E_KUBECONFIG with admin credentials was folded into test/e2e/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ApiextensionsV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { statusOf } from '../../controller/kube-client.js';
import type { KubeObject, SecretJson } from '../../controller/kube-client.js';
import { startKubeApi, type KubeApiServer } from '../../kube-api/server.js';
import { eventually } from './fixtures.js';
import { crdObject } from './harness.js';

const CONTROLLER_BIN = fileURLToPath(new URL('../../dist/kseal-controller.mjs', import.meta.url));

/** The cluster the suite runs against. */
export interface E2eEnv {
  readonly kind: 'in-repo';
  readonly kubeconfigPath: string;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  readonly coordination: CoordinationV1Api;
  /** The in-repo server. */
  readonly server: KubeApiServer;
  /** Creates a namespace removed by close(). */
  namespace(prefix: string): Promise<string>;
  close(): Promise<void>;
}

/** Starts the in-repo API and installs the CRD. */
export async function e2eEnv(): Promise<E2eEnv> {
  const server = await startKubeApi();
  const kubeconfigPath = server.kubeconfigPath;
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const crd = crdObject() as unknown as V1CustomResourceDefinition;
  try {
    await ext.createCustomResourceDefinition({ body: crd });
  } catch (e) {
    if (statusOf(e) !== 409) throw e;
  }
  await eventually('the CRD established', async () => {
    const current = await ext.readCustomResourceDefinition({ name: 'sealedsecrets.kseal.dev' });
    return current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
  }, 30_000, 100);
  const created: string[] = [];
  return {
    kind: 'in-repo',
    kubeconfigPath,
    core,
    custom,
    coordination,
    server,
    async namespace(prefix) {
      const name = `${prefix}-${randomBytes(3).toString('hex')}`;
      await core.createNamespace({ body: { metadata: { name } } });
      created.push(name);
      return name;
    },
    async close() {
      for (const name of created) await core.deleteNamespace({ name }).catch(() => undefined);
      await server.close();
    },
  };
}

/** A controller process. */
export interface ControllerProcess {
  readonly identity: string;
  readonly child: ChildProcess;
  /** Everything it logged so far. */
  logs(): string;
  /** The ports from its "started" line. */
  ports(): Promise<{ port: number; metricsPort: number }>;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
}

/** Runs `node dist/kseal-controller.mjs` with test timings (overridable by `extra` flags). */
export function runControllerProcess(env: E2eEnv, namespace: string, identity: string, extra: string[] = []): ControllerProcess {
  const args = [
    CONTROLLER_BIN,
    '--kubeconfig', env.kubeconfigPath,
    '--namespace', namespace,
    '--identity', identity,
    '--key-size', '2048',
    '--port', '0',
    '--metrics-port', '0',
    '--listen-host', '127.0.0.1',
    '--workers', '1',
    '--lease-duration', '2s',
    '--renew-deadline', '1500ms',
    '--retry-period', '200ms',
    '--retry-max', '1s',
    ...extra,
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBECONFIG: '' } });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    identity,
    child,
    logs: () => output,
    async ports() {
      const line = await eventually(`${identity} started`, () => output.split('\n').find((l) => l.includes('"msg":"started"')), 20_000);
      const parsed = JSON.parse(line) as { port: number; metricsPort: number };
      return { port: parsed.port, metricsPort: parsed.metricsPort };
    },
    exited,
  };
}

/** Kills a process (SIGKILL) if it still runs and waits for it. */
export async function kill(p: ControllerProcess | undefined): Promise<void> {
  if (p === undefined || p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGKILL');
  await p.exited;
}

/** Creates a SealedSecret through the API. */
export async function createSealed(env: E2eEnv, obj: KubeObject): Promise<void> {
  await env.custom.createNamespacedCustomObject({ group: 'kseal.dev', version: 'v1alpha1', plural: 'sealedsecrets', namespace: obj.metadata.namespace ?? '', body: obj });
}

/** Reads a SealedSecret. */
async function readSealed(env: E2eEnv, namespace: string, name: string): Promise<KubeObject & { status?: { observedGeneration?: number; conditions?: Array<{ type: string; status: string; reason: string; observedGeneration?: number }> } }> {
  return (await env.custom.getNamespacedCustomObject({ group: 'kseal.dev', version: 'v1alpha1', plural: 'sealedsecrets', namespace, name })) as never;
}

/** Waits for Ready=True at `generation` (kubectl wait --for=condition=Ready). */
export async function waitReady(env: E2eEnv, namespace: string, name: string, generation = 1, timeoutMs = 20_000): Promise<void> {
  await eventually(`${namespace}/${name} Ready`, async () => {
    const obj = await readSealed(env, namespace, name);
    return obj.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True' && c.observedGeneration === generation);
  }, timeoutMs, 100);
}

/** The Secret's values (UTF-8), or undefined when it does not exist. */
export async function secretValues(env: E2eEnv, namespace: string, name: string): Promise<Record<string, string> | undefined> {
  try {
    const s = (await env.core.readNamespacedSecret({ namespace, name })) as unknown as SecretJson;
    return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  } catch (e) {
    if (statusOf(e) === 404) return undefined;
    throw e;
  }
}

/** The current holder of the controller Lease ('' when released). */
export async function leaseHolder(env: E2eEnv, namespace: string): Promise<string | undefined> {
  try {
    const lease = await env.coordination.readNamespacedLease({ namespace, name: 'kseal-controller' });
    return lease.spec?.holderIdentity ?? '';
  } catch (e) {
    if (statusOf(e) === 404) return undefined;
    throw e;
  }
}
