/**
 * Process-level faults: `kseal-controller` as a real process (dist/) against the
 * in-repo API, killed with SIGKILL where it hurts most — in the middle of reconciling, while
 * generating the first key, with its key Secret create in flight, and as the leader of two
 * replicas with 500 objects in flight. Each scenario ends with every SealedSecret Ready with the right
 * data, exactly one complete key, no Secret ever observed (through a watch) with a value missing or
 * wrong, and (mid-reconcile) no canary value in anything the processes emitted. Fake-only: they need
 * the server's store and fault injection. Test timings: 2048-bit keys (except where a slow keygen is
 * the point), a 1 s lease renewed every 100 ms.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SecretJson } from '../../controller/kube-client.js';
import { readKeySecret } from '../../controller/key-registry.js';
import { parseCertificate } from '../../src/crypto/certificate.js';
import type { JsonObject, KubeApiServer } from '../../kube-api/server.js';
import { containsCanary, newCanary } from '../helpers/canary.js';
import { eventually, keySecret, sealedObject } from './fixtures.js';
import { readyOf, valuesOf } from './harness.js';
import { e2eEnv, kill, leaseHolder, runControllerProcess, type ControllerProcess, type E2eEnv } from './e2e-env.js';

/** Fast failover; no renewal (the test key's certificate dates from 2020 and would be renewed at once). */
const FLAGS = ['--lease-duration', '1s', '--renew-deadline', '700ms', '--retry-period', '100ms', '--retry-max', '500ms', '--key-renew-period', '0'];
const KEY_LABEL = 'kseal.dev/sealing-key';

let env: E2eEnv;
let processes: ControllerProcess[] = [];
/** Namespaces of SealedSecrets, removed after each test: every replica watches all namespaces. */
const apps: string[] = [];

beforeAll(async () => {
  env = await e2eEnv();
});
afterAll(async () => {
  await env?.close();
});
afterEach(async () => {
  await Promise.all(processes.map(kill));
  processes = [];
  env?.server?.faults.clear();
  for (const app of apps.splice(0)) {
    await env.core.deleteNamespace({ name: app });
    await eventually(`namespace ${app} removed`, () => env.server?.store.get('v1', 'Namespace', app) === undefined, 10_000, 20);
  }
});

/** A namespace for SealedSecrets, removed after the test. */
async function appNamespace(prefix: string): Promise<string> {
  const name = await env.namespace(prefix);
  apps.push(name);
  return name;
}

function run(namespace: string, identity: string, extra: string[] = []): ControllerProcess {
  const p = runControllerProcess(env, namespace, identity, [...FLAGS, ...extra]);
  processes.push(p);
  return p;
}

/** The key Secrets of `namespace`, as stored. */
function keysIn(server: KubeApiServer, namespace: string): SecretJson[] {
  return (server.store.list('v1', 'Secret', namespace) as SecretJson[]).filter((s) => s.metadata.labels?.[KEY_LABEL] !== undefined);
}

/** Stores the RSA-2048 test key as the controller key of `namespace`. */
function addTestKey(server: KubeApiServer, namespace: string): void {
  const secret = keySecret('kseal-key-test', 'rsa-2048', namespace);
  const { resourceVersion: _rv, ...metadata } = secret.metadata;
  server.store.create({ ...secret, metadata } as unknown as JsonObject);
}

/** Loads `count` SealedSecrets `s<i>` into `namespace`, sealed to `cert` (the test key by default). */
function loadMany(server: KubeApiServer, namespace: string, count: number, values: (i: number) => Record<string, string>, cert?: ReturnType<typeof parseCertificate>): Map<string, Record<string, string>> {
  const expected = new Map<string, Record<string, string>>();
  const objects = [];
  for (let i = 0; i < count; i++) {
    expected.set(`s${i}`, values(i));
    objects.push(sealedObject({ name: `s${i}`, namespace, values: values(i), ...(cert === undefined ? {} : { cert }) }));
  }
  server.store.load(objects as never);
  return expected;
}

/** Waits until every object is Ready=True (Unsealed) with exactly its values. */
async function allReady(server: KubeApiServer, namespace: string, expected: ReadonlyMap<string, Record<string, string>>, timeoutMs = 30_000): Promise<void> {
  const pending = (): string[] =>
    [...expected]
      .filter(([name, values]) => {
        const c = readyOf(server, namespace, name);
        const secret = server.store.get('v1', 'Secret', name, namespace) as SecretJson | undefined;
        return !(c?.status === 'True' && c.reason === 'Unsealed' && JSON.stringify(valuesOf(secret)) === JSON.stringify(sortedValues(values)));
      })
      .map(([name]) => name);
  try {
    await eventually(`${expected.size} objects Ready`, () => pending().length === 0, timeoutMs, 100);
  } catch (e) {
    const left = pending();
    throw new Error(`${(e as Error).message}: ${left.length} left, e.g. ${left.slice(0, 3).map((n) => `${n} (${readyOf(server, namespace, n)?.reason ?? 'no condition'})`).join(', ')}`);
  }
}

function sortedValues(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Records every version of every Secret in `namespace` through a watch, to check none was ever partial. */
async function watchSecrets(server: KubeApiServer, namespace: string): Promise<{ versions: SecretJson[]; stop(): Promise<void> }> {
  const abort = new AbortController();
  const versions: SecretJson[] = [];
  const res = await fetch(`${server.url}/api/v1/namespaces/${namespace}/secrets?watch=true`, { signal: abort.signal, headers: { Authorization: `Bearer ${server.token}` } });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const reading = (async () => {
    let buffered = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffered += decoder.decode(value, { stream: true });
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const event = JSON.parse(buffered.slice(0, nl)) as { type: string; object: SecretJson };
        buffered = buffered.slice(nl + 1);
        if (event.type === 'ADDED' || event.type === 'MODIFIED') versions.push(event.object);
      }
    }
  })().catch(() => undefined);
  return {
    versions,
    async stop() {
      abort.abort();
      await reading;
    },
  };
}

/** Every recorded Secret version held exactly the values of its SealedSecret. */
function expectNoPartialSecret(versions: readonly SecretJson[], expected: ReadonlyMap<string, Record<string, string>>): void {
  expect(versions.length).toBeGreaterThanOrEqual(expected.size);
  const wrong = versions.filter((s) => JSON.stringify(valuesOf(s)) !== JSON.stringify(sortedValues(expected.get(s.metadata.name) ?? {})));
  expect(wrong.map((s) => `${s.metadata.name}@${s.metadata.resourceVersion}: ${Object.keys(s.data ?? {}).join(',')}`)).toEqual([]);
}

/** A counter from the process's /metrics. */
async function metric(p: ControllerProcess, name: string): Promise<number> {
  const { metricsPort } = await p.ports();
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? 'NaN');
}

async function certFrom(p: ControllerProcess): Promise<ReturnType<typeof parseCertificate>> {
  const { port } = await p.ports();
  const pem = await eventually('the certificate', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/cert.pem`);
    return res.status === 200 ? res.text() : undefined;
  }, 20_000, 50);
  return parseCertificate(pem);
}

describe('kseal-controller processes killed with SIGKILL (in-repo API)', { timeout: 60_000 }, () => {
  it('recovers from SIGKILL in the middle of reconciling: all Ready, values right, no partial Secret ever written', async () => {
    const server = env.server;
    const ns = await env.namespace('kseal-kill');
    const app = await appNamespace('kseal-kill-app');
    addTestKey(server, ns);
    const seen = await watchSecrets(server, app);
    // Each Secret create is held 40 ms, so 150 objects at 4 at a time take about 1.5 s: the kill lands mid-way.
    server.faults.addLatency({ ms: 40, method: 'POST', path: `/namespaces/${app}/secrets` });
    const canary = newCanary('kill');
    const expected = loadMany(server, app, 150, (i) => ({ user: `user-${i}`, password: `${canary}-${i}`, url: `db-${i}.internal` }));
    const a = run(ns, 'reconciling-a', ['--concurrency', '4']);
    await eventually('a third of the Secrets written', () => server.store.count('v1', 'Secret', app) >= 50, 20_000, 5);
    await kill(a);
    const atKill = server.store.count('v1', 'Secret', app);
    expect(atKill).toBeLessThan(150);

    const b = run(ns, 'reconciling-b', ['--concurrency', '4']);
    await allReady(server, app, expected);
    await seen.stop();
    expectNoPartialSecret(seen.versions, expected);
    expect(keysIn(server, ns).map((s) => s.metadata.name)).toEqual(['kseal-key-test']);
    // Leak canary: nothing either process emitted, and no Event or status, holds a value.
    const { metricsPort } = await b.ports();
    const emitted = [a.logs(), b.logs(), JSON.stringify(server.store.list('v1', 'Event', app)), JSON.stringify(server.store.list('kseal.dev/v1alpha1', 'SealedSecret', app).map((o) => o['status'])), await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()];
    expect(containsCanary(canary, emitted.join('\n'))).toBe(false);
  });

  it('recovers from SIGKILL while generating the first key: exactly one complete key, and it unseals', async () => {
    const server = env.server;
    const ns = await env.namespace('kseal-keygen');
    const app = await appNamespace('kseal-keygen-app');
    // An 8192-bit key takes many seconds to generate: the kill lands inside the keygen.
    const a = run(ns, 'keygen-a', ['--key-size', '8192', '--log-level', 'debug']);
    await eventually('a leads', async () => (await leaseHolder(env, ns)) === 'keygen-a', 20_000, 50);
    await new Promise((r) => setTimeout(r, 800));
    expect(keysIn(server, ns)).toEqual([]);
    await kill(a);
    expect(a.logs()).not.toContain('sealing key generated');

    const b = run(ns, 'keygen-b');
    const cert = await certFrom(b);
    const keys = keysIn(server, ns);
    expect(keys).toHaveLength(1);
    const read = readKeySecret(keys[0]!);
    expect(read.ok && read.key.keyId).toBe(cert.keyId);
    const expected = loadMany(server, app, 3, (i) => ({ token: `t-${i}` }), cert);
    await allReady(server, app, expected);
    expect(keysIn(server, ns)).toHaveLength(1);
  });

  it('makes exactly one key when the leader dies with its key Secret create in flight', async () => {
    const server = env.server;
    const ns = await env.namespace('kseal-inflight');
    const app = await appNamespace('kseal-inflight-app');
    // The first key create is held by the API server; the client dies meanwhile and the server drops it.
    const holdMs = 2500;
    server.faults.addLatency({ ms: holdMs, method: 'POST', path: `/namespaces/${ns}/secrets`, count: 1 });
    const a = run(ns, 'inflight-a');
    await eventually('the key create held by the server', () => (server.faults.describe()['latency'] as unknown[]).length === 0, 20_000, 10);
    const heldAt = Date.now();
    await kill(a);
    expect(keysIn(server, ns)).toEqual([]);

    // The new leader lists no key, generates one and creates it; nothing of the dead leader's lands later.
    const b = run(ns, 'inflight-b');
    const cert = await certFrom(b);
    await new Promise((r) => setTimeout(r, Math.max(0, heldAt + holdMs + 300 - Date.now())));
    const keys = keysIn(server, ns);
    expect(keys).toHaveLength(1);
    const read = readKeySecret(keys[0]!);
    expect(read.ok && read.key.keyId).toBe(cert.keyId);
    const expected = loadMany(server, app, 3, (i) => ({ token: `t-${i}` }), cert);
    await allReady(server, app, expected);
  });

  it('finishes 500 objects on the follower when the leader is SIGKILLed mid-sync, unsealing none twice', async () => {
    const server = env.server;
    const ns = await env.namespace('kseal-failover');
    const app = await appNamespace('kseal-failover-app');
    addTestKey(server, ns);
    // Both replicas start together; whichever takes the lease is the leader to kill.
    const first = run(ns, 'failover-a');
    const second = run(ns, 'failover-b');
    const holder = await eventually('a leader', () => leaseHolder(env, ns), 20_000, 50);
    const a = holder === first.identity ? first : second;
    const b = a === first ? second : first;
    await Promise.all([a.ports(), b.ports()]);
    const seen = await watchSecrets(server, app);
    server.faults.addLatency({ ms: 20, method: 'POST', path: `/namespaces/${app}/secrets` });
    const expected = loadMany(server, app, 500, (i) => ({ password: `pw-${i}` }));
    await eventually('100 Secrets written', () => server.store.count('v1', 'Secret', app) >= 100, 20_000, 5);
    await kill(a);
    const atKill = server.store.count('v1', 'Secret', app);
    expect(atKill).toBeLessThan(500);

    await allReady(server, app, expected, 40_000);
    expect(await leaseHolder(env, ns)).toBe(b.identity);
    // What the leader wrote before dying is verified by its integrity annotation, not unsealed again.
    const opsB = await metric(b, 'kseal_private_key_operations_total');
    expect(opsB).toBeGreaterThan(0);
    expect(opsB).toBeLessThanOrEqual(500 - atKill);
    await seen.stop();
    expectNoPartialSecret(seen.versions, expected);
    expect(keysIn(server, ns).map((s) => s.metadata.name)).toEqual(['kseal-key-test']);
  });
});
