/**
 * GitOps health for every Ready reason: the controller runs against the in-repo API and produces each
 * outcome for real; the stored objects are then judged by kstatus's documented rules (Flux, kpt,
 * `kubectl wait` consumers) and by controller/deploy/argocd/health.lua run in a real Lua 5.1 VM,
 * which must say the same thing. Bitnami-style objects (Synced only) go through the same script.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { KubeObject } from '../../controller/kube-client.js';
import { READY_REASONS, type ReadyReason } from '../../controller/status.js';
import type { KubeApiServer } from '../../kube-api/server.js';
import { testKey } from '../helpers/keys.js';
import { kstatusOf, type KstatusStatus } from '../helpers/kstatus.js';
import { findLua, runHealthScript } from '../helpers/lua.js';
import { sealedObject } from './fixtures.js';
import { applySealed, sealedOf, startCluster, startController, waitForReason, type TestController } from './harness.js';

const HEALTH_LUA = fileURLToPath(new URL('../../controller/deploy/argocd/health.lua', import.meta.url));
const ARGOCD_CM = fileURLToPath(new URL('../../controller/deploy/argocd/argocd-cm.yaml', import.meta.url));

interface Case {
  readonly reason: ReadyReason;
  readonly namespace: string;
  readonly name: string;
  readonly kstatus: KstatusStatus;
  readonly argo: 'Healthy' | 'Degraded' | 'Progressing';
}

const CASES: readonly Case[] = [
  { reason: 'Unsealed', namespace: 'app', name: 'ok', kstatus: 'Current', argo: 'Healthy' },
  { reason: 'DecryptFailed', namespace: 'app', name: 'other-key', kstatus: 'Failed', argo: 'Degraded' },
  { reason: 'SecretConflict', namespace: 'app', name: 'taken', kstatus: 'Failed', argo: 'Degraded' },
  { reason: 'SecretImmutable', namespace: 'app', name: 'frozen', kstatus: 'Failed', argo: 'Degraded' },
  { reason: 'InvalidSpec', namespace: 'app', name: 'bad-scope', kstatus: 'Failed', argo: 'Degraded' },
  { reason: 'WriteFailed', namespace: 'refuse', name: 'rejected', kstatus: 'Failed', argo: 'Degraded' },
  { reason: 'ApiError', namespace: 'down', name: 'retrying', kstatus: 'InProgress', argo: 'Progressing' },
  { reason: 'NoKeys', namespace: 'app', name: 'early', kstatus: 'Failed', argo: 'Degraded' },
];

const servers: KubeApiServer[] = [];
const controllers: TestController[] = [];
const written = new Map<ReadyReason, KubeObject>();
/** A WriteFailed the controller retries (403): Reconciling, not Stalled. */
let forbidden: KubeObject | undefined;

beforeAll(async () => {
  const main = await startCluster({ withKey: true, namespaces: ['refuse', 'down', 'forbid'] });
  servers.push(main);
  main.faults.failNext({ method: 'POST', path: '/namespaces/refuse/secrets', status: 422, count: 1000 });
  main.faults.failNext({ method: 'POST', path: '/namespaces/down/secrets', status: 500, count: 1000 });
  main.faults.failNext({ method: 'POST', path: '/namespaces/forbid/secrets', status: 403, count: 1000 });
  controllers.push(startController(main, { apiErrorThreshold: 2, queueBackoff: { initialMs: 5, maxMs: 50 } }));
  applySealed(main, sealedObject({ name: 'ok', namespace: 'app', values: { a: 'x' } }));
  applySealed(main, sealedObject({ name: 'other-key', namespace: 'app', values: { a: 'x' }, cert: testKey('rsa-4096').certificate }));
  main.store.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'taken', namespace: 'app' }, data: { mine: 'a2VlcA==' } });
  applySealed(main, sealedObject({ name: 'taken', namespace: 'app', values: { a: 'x' } }));
  main.store.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'frozen', namespace: 'app', annotations: { 'kseal.dev/managed': 'true' } }, immutable: true, data: { a: 'b2xk' } });
  applySealed(main, sealedObject({ name: 'frozen', namespace: 'app', values: { a: 'new' } }));
  const badScope = sealedObject({ name: 'bad-scope', namespace: 'app', values: { a: 'x' } });
  badScope.metadata.annotations!['sealedsecrets.bitnami.com/cluster-wide'] = 'true';
  applySealed(main, badScope);
  applySealed(main, sealedObject({ name: 'rejected', namespace: 'refuse', values: { a: 'x' } }));
  applySealed(main, sealedObject({ name: 'retrying', namespace: 'down', values: { a: 'x' } }));
  applySealed(main, sealedObject({ name: 'no-right', namespace: 'forbid', values: { a: 'x' } }));

  const keyless = await startCluster();
  servers.push(keyless);
  controllers.push(startController(keyless, { generateKey: () => new Promise(() => undefined) }));
  applySealed(keyless, sealedObject({ name: 'early', namespace: 'app', values: { a: 'x' } }));

  for (const c of CASES) {
    const server = c.reason === 'NoKeys' ? keyless : main;
    await waitForReason(server, c.namespace, c.name, c.reason);
    written.set(c.reason, sealedOf(server, c.namespace, c.name) as KubeObject);
  }
  await waitForReason(main, 'forbid', 'no-right', 'WriteFailed');
  forbidden = sealedOf(main, 'forbid', 'no-right');
}, 60_000);

afterAll(async () => {
  await Promise.all(controllers.map((c) => c.stop()));
  await Promise.all(servers.map((s) => s.close()));
});

type StoredCondition = { type: string; status: string; reason: string; message: string; observedGeneration?: number };

function conditions(obj: KubeObject | undefined): StoredCondition[] {
  const status = (obj as { status?: { conditions?: StoredCondition[] } } | undefined)?.status;
  return status?.conditions ?? [];
}

describe('kstatus conditions the controller writes', () => {
  it('covers every Ready reason', () => {
    expect(CASES.map((c) => c.reason).sort()).toEqual(Object.keys(READY_REASONS).sort());
  });

  it.each(CASES)('$reason gives kstatus $kstatus', ({ reason, kstatus }) => {
    const obj = written.get(reason);
    expect(kstatusOf(obj).status).toBe(kstatus);
  });

  it.each(CASES)('$reason: Stalled or Reconciling repeats the reason and message of Ready, all at the observed generation', ({ reason }) => {
    const obj = written.get(reason)!;
    const all = conditions(obj);
    const ready = all.find((c) => c.type === 'Ready')!;
    const extra = all.filter((c) => c.type === 'Stalled' || c.type === 'Reconciling');
    if (ready.status === 'True') expect(extra).toEqual([]);
    else expect(extra).toEqual([expect.objectContaining({ status: 'True', reason: ready.reason, message: ready.message })]);
    expect((obj as unknown as { status: { observedGeneration: number } }).status.observedGeneration).toBe(obj.metadata.generation);
    for (const c of all) expect(c.observedGeneration).toBe(obj.metadata.generation);
  });

  it('says Reconciling (InProgress), not Stalled, for a write failure the controller retries (403)', () => {
    expect(conditions(forbidden).map((c) => `${c.type}=${c.status}`)).toEqual(['Ready=False', 'Reconciling=True']);
    expect(kstatusOf(forbidden).status).toBe('InProgress');
  });

  it('is InProgress for a generation the controller has not observed yet, with no write needed', () => {
    const obj = written.get('Unsealed')!;
    expect(kstatusOf({ ...obj, metadata: { ...obj.metadata, generation: (obj.metadata.generation ?? 1) + 1 } }).status).toBe('InProgress');
  });

  it('gives Failed with the reason a user can act on (kstatus message is the Stalled message)', () => {
    expect(kstatusOf(written.get('SecretConflict')).message).toContain('kseal.dev/managed');
  });
});

const lua = findLua();

describe('Argo CD health.lua in a Lua 5.1 VM', () => {
  it('has a Lua 5.1 interpreter to run in (.ci/run installs lua5.1)', () => {
    expect(lua).toBeDefined();
  });

  it('is installed verbatim by the argocd-cm snippet', () => {
    const cm = parse(readFileSync(ARGOCD_CM, 'utf8')) as { metadata: { name: string }; data: Record<string, string> };
    expect(cm.metadata.name).toBe('argocd-cm');
    expect(cm.data['resource.customizations.health.kseal.dev_SealedSecret']).toBe(readFileSync(HEALTH_LUA, 'utf8'));
  });

  it.each(CASES)('$reason gives $argo with the reason and message', ({ reason, argo }) => {
    const obj = written.get(reason)!;
    const health = runHealthScript(lua!, HEALTH_LUA, obj);
    const ready = conditions(obj).find((c) => c.type === 'Ready')!;
    expect(health.status).toBe(argo);
    expect(health.message).toBe(`${ready.reason}: ${ready.message}`);
  });

  it('says Progressing for a retried write failure (Reconciling=True)', () => {
    expect(runHealthScript(lua!, HEALTH_LUA, forbidden).status).toBe('Progressing');
  });

  it('says Progressing for an object with no status yet, and for a generation not yet observed', () => {
    const obj = written.get('Unsealed')!;
    expect(runHealthScript(lua!, HEALTH_LUA, { ...obj, status: undefined })).toEqual({ status: 'Progressing', message: 'Waiting for the SealedSecret to be unsealed' });
    expect(runHealthScript(lua!, HEALTH_LUA, { ...obj, metadata: { ...obj.metadata, generation: 5 } }).status).toBe('Progressing');
  });

  const bitnami = (status: Record<string, unknown> | undefined) => ({ apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name: 'b', namespace: 'app', generation: 2 }, ...(status === undefined ? {} : { status }) });

  it('reads a Bitnami-style object: Synced True is Healthy, Synced False is Degraded with its message, none is Progressing', () => {
    expect(runHealthScript(lua!, HEALTH_LUA, bitnami({ observedGeneration: 2, conditions: [{ type: 'Synced', status: 'True', lastUpdateTime: '2025-01-01T00:00:00Z' }] })).status).toBe('Healthy');
    expect(runHealthScript(lua!, HEALTH_LUA, bitnami({ observedGeneration: 2, conditions: [{ type: 'Synced', status: 'False', message: 'no key could decrypt secret (a)' }] }))).toEqual({ status: 'Degraded', message: 'no key could decrypt secret (a)' });
    expect(runHealthScript(lua!, HEALTH_LUA, bitnami(undefined)).status).toBe('Progressing');
    expect(runHealthScript(lua!, HEALTH_LUA, bitnami({ observedGeneration: 1, conditions: [{ type: 'Synced', status: 'True' }] })).status).toBe('Progressing');
  });

  it('treats a message with quotes, backslashes and non-ASCII text as data', () => {
    const obj = written.get('DecryptFailed')!;
    const all = conditions(obj).map((c) => ({ ...c, message: 'key "ä\\b" ]]' }));
    expect(runHealthScript(lua!, HEALTH_LUA, { ...obj, status: { ...(obj as unknown as { status: object }).status, conditions: all } }).message).toBe('DecryptFailed: key "ä\\b" ]]');
  });
});

/** kubectl (v1.32 at /usr/bin/kubectl) against the in-repo API (in this process: never block the loop). */
async function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const home = mkdtempSync(join(tmpdir(), 'kseal-kubectl-'));
  try {
    return await new Promise((resolve) => {
      execFile('/usr/bin/kubectl', ['--kubeconfig', servers[0]!.kubeconfigPath, '--cache-dir', join(home, 'cache'), ...args], { env: { ...process.env, HOME: home }, timeout: 30_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

describe('Flux and kubectl on a failed object (the CRD printer columns and conditions)', () => {
  it('kubectl get kss shows Ready False and the reason; -o wide adds the message', async () => {
    const got = await kubectl(['get', 'kss', '-n', 'app', 'other-key']);
    expect(got.stdout).toMatch(/other-key\s+False\s+DecryptFailed/);
    const wide = await kubectl(['get', 'kss', '-n', 'app', 'other-key', '-o', 'wide']);
    expect(wide.stdout).toMatch(/DecryptFailed\s+cannot unseal: key "a": no key could decrypt it/);
  });

  it('kubectl wait --for=condition=Ready fails (exit 1, timed out) and --for=condition=Stalled is met at once', async () => {
    const ready = await kubectl(['wait', '--for=condition=Ready', '-n', 'app', 'kss/other-key', '--timeout=1s']);
    expect(ready.code).toBe(1);
    expect(ready.stderr).toContain('timed out');
    const stalled = await kubectl(['wait', '--for=condition=Stalled', '-n', 'app', 'kss/other-key', '--timeout=5s']);
    expect(stalled.code).toBe(0);
    expect(stalled.stdout).toContain('condition met');
  });

  it('kubectl wait --for=condition=Ready succeeds for an unsealed object', async () => {
    expect((await kubectl(['wait', '--for=condition=Ready', '-n', 'app', 'kss/ok', '--timeout=5s'])).code).toBe(0);
  });
});
