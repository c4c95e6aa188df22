/**
 * The e2e harness a test file uses: `const e2e = useE2e()` registers the hooks and gives clients
 * (admin), fresh namespaces, controller processes running as the deploy's ServiceAccount, and the
 * audit check. After each test it kills the controllers the test started, fails the test if any
 * request of a controller identity was refused (403 in the API server's audit log, or a
 * "forbidden" in the controller's own log), and deletes the test's namespaces and bindings.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, EventsV1Api } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, expect, inject } from 'vitest';
import type { E2eContext } from '../global-setup.js';
import { adminClients, controllerIdentity, deleteIdentity, type AdminClients, type ControllerIdentity } from '../../../control-plane/admin.js';

const CONTROLLER_BIN = fileURLToPath(new URL('../../../dist/kseal-controller.mjs', import.meta.url));

/** Controller flags for tests: small keys, a fast lease, one worker. Later flags override. */
const TEST_FLAGS = ['--key-size', '2048', '--port', '0', '--metrics-port', '0', '--listen-host', '127.0.0.1', '--workers', '1', '--lease-duration', '2s', '--renew-deadline', '1500ms', '--retry-period', '200ms', '--retry-max', '1s'];

/** A controller process started by the harness. */
export interface ControllerProcess {
  readonly identity: string;
  readonly child: ChildProcess;
  logs(): string;
  /** The HTTP and metrics ports from its "started" line. */
  ports(): Promise<{ port: number; metricsPort: number }>;
  readonly exited: Promise<number | null>;
  kill(): Promise<void>;
}

/** A namespace the controller runs in, with its ServiceAccount identity. */
export interface ControllerNamespace {
  readonly namespace: string;
  readonly identity: ControllerIdentity;
  /** The identity's kubeconfig for the cluster (or for `server`, e.g. a proxy or a second API server). */
  kubeconfig(server?: string): string;
}

export interface E2e {
  readonly ctx: E2eContext;
  readonly admin: AdminClients;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  readonly coordination: CoordinationV1Api;
  readonly events: EventsV1Api;
  /** True when the suite started the control plane (fault scenarios need it). */
  readonly ownControlPlane: boolean;
  /** A temp folder removed after the file. */
  readonly tmp: string;
  /** A fresh namespace (removed after the test). */
  namespace(prefix: string): Promise<string>;
  /**
   * A fresh namespace with the controller's ServiceAccount, Role and bindings (removed after the
   * test), from `deployYaml` (default: controller/deploy rendered); Roles of that render in other
   * namespaces go to the namespaces `moved` maps them to.
   */
  controllerNamespace(prefix?: string, rbac?: { readonly deployYaml: string; readonly moved: Readonly<Record<string, string>> }): Promise<ControllerNamespace>;
  /** Starts `node dist/kseal-controller.mjs` as the namespace's ServiceAccount (killed after the test). */
  run(ns: ControllerNamespace, identity: string, extra?: readonly string[], server?: string): ControllerProcess;
  /** Audit entries of refused requests by `usernames` (default: the controller identities created in this test). */
  forbiddenRequests(usernames?: readonly string[]): string[];
  /**
   * Lets this test's controllers be refused until `until` (e.g. by an API server that was just
   * restarted and serves requests before its RBAC caches are filled); refusals after it still fail.
   */
  tolerateForbiddenUntil(until: Date): void;
}

function startController(kubeconfigPath: string, namespace: string, identity: string, extra: readonly string[]): ControllerProcess {
  const args = [CONTROLLER_BIN, '--kubeconfig', kubeconfigPath, '--namespace', namespace, '--identity', identity, ...TEST_FLAGS, ...extra];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBECONFIG: '', POD_NAMESPACE: '' } });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    identity,
    child,
    logs: () => output,
    async ports() {
      const line = await eventually(`${identity} started`, () => output.split('\n').find((l) => l.includes('"msg":"started"')), 30_000);
      const parsed = JSON.parse(line) as { port: number; metricsPort: number };
      return { port: parsed.port, metricsPort: parsed.metricsPort };
    },
    exited,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Polls `check` until truthy or `timeoutMs` passes (then throws naming `what` and the last error). */
export async function eventually<T>(what: string, check: () => T | Promise<T>, timeoutMs = 30_000, intervalMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? ` (last error: ${last.message})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

interface AuditEvent {
  stage?: string;
  verb?: string;
  requestURI?: string;
  user?: { username?: string };
  responseStatus?: { code?: number };
  annotations?: Record<string, string>;
  requestReceivedTimestamp?: string;
}

/** The audit logs of every API server of the suite's control plane (a test may start more). */
function auditLogs(ctx: E2eContext): string[] {
  const dir = ctx.controlPlane?.settings.dir;
  if (dir === undefined || !existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('-audit.log')).map((f) => join(dir, f));
}

/** Registers the hooks of one e2e test file and returns its harness. */
export function useE2e(): E2e {
  const ctx = inject('e2e');
  const admin = adminClients(ctx.kubeconfigPath);
  const tmp = mkdtempSync(join(tmpdir(), 'kseal-e2e-'));
  let processes: ControllerProcess[] = [];
  let namespaces: string[] = [];
  let identities: ControllerNamespace[] = [];
  let toleratedUntil = 0;

  const forbiddenRequests = (usernames?: readonly string[]): string[] => {
    const users = new Set(usernames ?? identities.map((i) => i.identity.username));
    if (users.size === 0) return [];
    const out: string[] = [];
    for (const line of auditLogs(ctx).flatMap((path) => readFileSync(path, 'utf8').split('\n'))) {
      if (line === '') continue;
      const e = JSON.parse(line) as AuditEvent;
      if (Date.parse(e.requestReceivedTimestamp ?? '') < toleratedUntil) continue;
      // Only the authorizer's refusals: a 403 from admission (e.g. an Event into a terminating namespace) is allowed by RBAC.
      if (e.responseStatus?.code === 403 && e.annotations?.['authorization.k8s.io/decision'] === 'forbid' && users.has(e.user?.username ?? '')) out.push(`${e.user?.username ?? ''} ${e.verb ?? ''} ${e.requestURI ?? ''}`);
    }
    return out;
  };

  const e2e: E2e = {
    ctx,
    admin,
    core: admin.kc.makeApiClient(CoreV1Api),
    custom: admin.kc.makeApiClient(CustomObjectsApi),
    coordination: admin.kc.makeApiClient(CoordinationV1Api),
    events: admin.kc.makeApiClient(EventsV1Api),
    ownControlPlane: ctx.controlPlane !== undefined,
    tmp,
    async namespace(prefix) {
      const name = `${prefix}-${randomBytes(3).toString('hex')}`;
      await admin.core.createNamespace({ body: { metadata: { name, labels: { 'kseal.dev/e2e': 'true' } } } });
      namespaces.push(name);
      return name;
    },
    async controllerNamespace(prefix = 'kseal-ctl', rbac) {
      const namespace = await e2e.namespace(prefix);
      const identity = await controllerIdentity(admin, rbac?.deployYaml ?? ctx.deployYaml, namespace, rbac?.moved);
      const ns: ControllerNamespace = { namespace, identity, kubeconfig: (server) => identity.kubeconfig(tmp, server) };
      identities.push(ns);
      return ns;
    },
    run(ns, identity, extra = [], server) {
      const p = startController(ns.kubeconfig(server), ns.namespace, identity, extra);
      processes.push(p);
      return p;
    },
    forbiddenRequests,
    tolerateForbiddenUntil(until) {
      toleratedUntil = until.getTime();
    },
  };

  beforeAll(() => {
    if (!existsSync(CONTROLLER_BIN)) throw new Error(`${CONTROLLER_BIN} missing: the global setup builds it`);
  });
  afterEach(async () => {
    const ps = processes;
    processes = [];
    await Promise.all(ps.map((p) => p.kill()));
    // Blocking audit mode writes an event before the response is sent; a short pause covers watches closing.
    await new Promise((r) => setTimeout(r, 200));
    const refused = forbiddenRequests();
    const forbiddenLogs = ps.flatMap((p) => p.logs().split('\n').filter((l) => /forbidden|HTTP-Code: 403|"code":403/i.test(l) && !l.includes('because it is being terminated') && !(Date.parse(/"time":"([^"]+)"/.exec(l)?.[1] ?? '') < toleratedUntil)).map((l) => `${p.identity}: ${l.slice(0, 600)}`));
    const ids = identities;
    const nss = namespaces;
    identities = [];
    namespaces = [];
    toleratedUntil = 0;
    for (const id of ids) await deleteIdentity(admin, ctx.deployYaml, id.namespace);
    for (const name of nss) await admin.core.deleteNamespace({ name }).catch(() => undefined);
    // Controllers watch every namespace: wait until this test's objects are gone so that the next
    // test's controllers never see them (the real namespace controller takes a few seconds).
    await eventually('the test namespaces removed', async () => {
      for (const name of nss) {
        try {
          await admin.core.readNamespace({ name });
          return false;
        } catch (e) {
          if ((e as { code?: number }).code !== 404) throw e;
        }
      }
      return true;
    }, 120_000, 250);
    expect(refused, 'requests of the controller refused by RBAC (audit log)').toEqual([]);
    expect(forbiddenLogs, 'forbidden errors in the controller logs').toEqual([]);
  });
  afterAll(() => {
    rmSync(tmp, { recursive: true, force: true });
  });
  return e2e;
}
