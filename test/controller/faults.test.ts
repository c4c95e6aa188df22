/**
 * Convergence under the faults a real API server produces, injected by the in-repo server: watches
 * that end or are reset (once, and five times during a sync), 410 Gone after compaction, a restart
 * that drops every watch and misses changes, 409 Conflict storms (60%, and a seeded 20% of updates),
 * 5xx bursts and a seeded 10% of every request answered 5xx (through a flaky HTTP proxy), 150 ms of
 * latency on every request, key Secrets unreadable for a while (no key is generated, the objects
 * wait), a Secret watch down while an object is recreated (no false SecretConflict from the stale
 * cache), a lease outage during which an object is deleted (its condition metric is dropped once
 * leading again), and a half-open connection (through a freezing proxy) that only the watchdog can
 * detect. Process-level faults (SIGKILL mid-reconcile, mid-keygen, of a leader with 500 objects in
 * flight) are in faults-process.test.ts.
 */
import { createServer, request, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../kube-api/faults.js';
import type { KubeApiServer } from '../../kube-api/server.js';
import { eventually, sealedObject } from './fixtures.js';
import { applySealed, CONTROLLER_NS, keySecrets, metricValue, readyOf, sealedOf, secretOf, startCluster, startController, valuesOf, waitForReason, type TestController } from './harness.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

let server: KubeApiServer | undefined;
let ctl: TestController | undefined;
let proxy: TcpProxy | undefined;
let flaky: FlakyProxy | undefined;

afterEach(async () => {
  await ctl?.stop();
  ctl = undefined;
  await proxy?.close();
  proxy = undefined;
  await flaky?.close();
  flaky = undefined;
  await server?.close();
  server = undefined;
});

async function running(overrides: Parameters<typeof startController>[1] = {}, clusterOptions: Parameters<typeof startCluster>[0] = {}) {
  server = await startCluster({ withKey: true, ...clusterOptions });
  ctl = startController(server, overrides);
  await eventually('leader with keys', () => ctl!.controller.isLeader() && ctl!.controller.keys.newest() !== undefined);
  return { server, ctl };
}

function update(s: KubeApiServer, name: string, values: Record<string, string>): void {
  const current = sealedOf(s, 'app', name)!;
  s.store.update({ ...current, spec: sealedObject({ name, namespace: 'app', values }).spec } as never);
}

/** Waits until every `app/<name>` is Ready=Unsealed at its generation with exactly `values`. */
async function converged(s: KubeApiServer, expected: ReadonlyMap<string, Record<string, string>>, timeoutMs = 20_000): Promise<void> {
  const same = (a: Record<string, string>, b: Record<string, string>): boolean => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
  const pending = (): string[] =>
    [...expected].filter(([name, values]) => {
      const c = readyOf(s, 'app', name);
      return !(c?.reason === 'Unsealed' && c.observedGeneration === sealedOf(s, 'app', name)?.metadata.generation && same(valuesOf(secretOf(s, 'app', name)), values));
    }).map(([name]) => name);
  try {
    await eventually(`${expected.size} objects unsealed`, () => pending().length === 0, timeoutMs, 50);
  } catch (e) {
    const left = pending();
    throw new Error(`${(e as Error).message}: ${left.length} left, e.g. ${left.slice(0, 3).map((n) => `${n} (${readyOf(s, 'app', n)?.reason ?? 'no condition'})`).join(', ')}`);
  }
}

/** Creates `count` objects `<prefix><i>` in app (two values each) and returns what their Secrets must hold. */
function createMany(s: KubeApiServer, prefix: string, count: number, round = 'one'): Map<string, Record<string, string>> {
  const expected = new Map<string, Record<string, string>>();
  const objects = [];
  for (let i = 0; i < count; i++) {
    const values = { user: `${prefix}${i}`, password: `${round}-${prefix}${i}` };
    expected.set(`${prefix}${i}`, values);
    objects.push(sealedObject({ name: `${prefix}${i}`, namespace: 'app', values }));
  }
  s.store.load(objects as never);
  return expected;
}

/** A seeded HTTP proxy in front of the API: a fraction of requests get 500 or 503, the rest (watches too) are forwarded. */
interface FlakyProxy {
  readonly url: string;
  readonly failed: () => number;
  readonly forwarded: () => number;
  close(): Promise<void>;
}

/** Responses to requests matching `method` and `path` are held `ms` before they are relayed (the server has acted). */
interface HeldResponses {
  readonly method: string;
  readonly path: RegExp;
  readonly ms: number;
}

async function startFlakyProxy(target: KubeApiServer, fraction: number, seed: number, hold?: HeldResponses): Promise<FlakyProxy> {
  const random = mulberry32(seed);
  let failed = 0;
  let forwarded = 0;
  const server: Server = createServer((req, res) => {
    if (random() < fraction) {
      failed++;
      const code = failed % 2 === 0 ? 503 : 500;
      const reason = code === 503 ? 'ServiceUnavailable' : 'InternalError';
      req.resume();
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'injected by the test proxy', reason, code }));
      return;
    }
    forwarded++;
    const held = hold !== undefined && req.method === hold.method && hold.path.test(req.url ?? '') ? hold.ms : 0;
    const upstream = request({ host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers: req.headers, agent: false }, (answer) => {
      setTimeout(() => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      }, held);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    failed: () => failed,
    forwarded: () => forwarded,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('faults', () => {
  it('converges after every watch is ended by the server', async () => {
    const { server } = await running();
    // The three watches (SealedSecrets, managed Secrets, key Secrets) open after their lists.
    await eventually('three watches open', () => server.watchCount >= 3);
    expect(server.faults.endWatches()).toBeGreaterThanOrEqual(3);
    applySealed(server, sealedObject({ name: 'after-end', namespace: 'app', values: { a: 'x' } }));
    await waitForReason(server, 'app', 'after-end', 'Unsealed');
  });

  it('converges after every watch connection is reset', async () => {
    const { server } = await running();
    server.faults.resetWatches();
    applySealed(server, sealedObject({ name: 'after-reset', namespace: 'app', values: { a: 'x' } }));
    await waitForReason(server, 'app', 'after-reset', 'Unsealed');
  });

  it('re-lists after 410 Gone and sees the changes it missed', async () => {
    const { server, ctl } = await running();
    applySealed(server, sealedObject({ name: 'before', namespace: 'app', values: { a: 'one' } }));
    await waitForReason(server, 'app', 'before', 'Unsealed');
    await server.restart({ downtimeMs: 300 });
    // While the API is away (watches dropped, history compacted): a change and a new object.
    update(server, 'before', { a: 'two' });
    applySealed(server, sealedObject({ name: 'during', namespace: 'app', values: { a: 'x' } }));
    await waitForReason(server, 'app', 'during', 'Unsealed', 15_000);
    await eventually('missed update applied', () => valuesOf(secretOf(server, 'app', 'before')).a === 'two', 15_000);
    await eventually('a re-list after 410', () => ctl.logs().includes('watch expired; re-listing'));
  });

  it('re-lists when history is compacted under a live watch', async () => {
    const { server, ctl } = await running();
    server.faults.compact();
    server.faults.endWatches();
    applySealed(server, sealedObject({ name: 'compacted', namespace: 'app', values: { a: 'x' } }));
    await waitForReason(server, 'app', 'compacted', 'Unsealed');
    expect(ctl.logs()).not.toMatch(/"level":"error"/);
  });

  it('converges under a 409 Conflict storm without duplicate writes of the wrong data', async () => {
    const { server } = await running();
    server.faults.setConflictRate(0.6, 42);
    for (let i = 0; i < 8; i++) applySealed(server, sealedObject({ name: `c${i}`, namespace: 'app', values: { v: `first-${i}` } }));
    for (let i = 0; i < 8; i++) await waitForReason(server, 'app', `c${i}`, 'Unsealed', 20_000);
    for (let i = 0; i < 8; i++) update(server, `c${i}`, { v: `second-${i}` });
    for (let i = 0; i < 8; i++) await eventually(`c${i} updated`, () => valuesOf(secretOf(server, 'app', `c${i}`)).v === `second-${i}` && readyOf(server, 'app', `c${i}`)?.observedGeneration === 2, 20_000);
    expect(server.faults.injected).toBeGreaterThan(0);
  });

  it('retries through a burst of 5xx answers on writes', async () => {
    const { server } = await running();
    server.faults.failNext({ method: 'POST', path: '/secrets', status: 503, count: 4 });
    server.faults.failNext({ method: 'PATCH', path: 'sealedsecrets', status: 500, count: 2 });
    applySealed(server, sealedObject({ name: 'flaky', namespace: 'app', values: { a: 'x' } }));
    await waitForReason(server, 'app', 'flaky', 'Unsealed');
    expect(valuesOf(secretOf(server, 'app', 'flaky'))).toEqual({ a: 'x' });
  });

  it('says ApiError (Unknown) while the API keeps failing, then recovers', async () => {
    const { server } = await running({ apiErrorThreshold: 3, queueBackoff: { initialMs: 5, maxMs: 50 } });
    server.faults.failNext({ method: 'POST', path: '/secrets', status: 500, count: 1000 });
    applySealed(server, sealedObject({ name: 'down', namespace: 'app', values: { a: 'x' } }));
    const c = await waitForReason(server, 'app', 'down', 'ApiError');
    expect(c.status).toBe('Unknown');
    server.faults.clear();
    await waitForReason(server, 'app', 'down', 'Unsealed');
  });

  it('recovers when the list itself fails for a while', async () => {
    server = await startCluster({ withKey: true });
    server.faults.failNext({ method: 'GET', path: 'sealedsecrets', status: 503, count: 5 });
    ctl = startController(server);
    applySealed(server, sealedObject({ name: 'late', namespace: 'app', values: { a: 'x' } }));
    await waitForReason(server, 'app', 'late', 'Unsealed');
  });

  it('restarts a watch silent for longer than the idle timeout (a half-open connection)', async () => {
    server = await startCluster({ withKey: true, bookmarkIntervalMs: 100 });
    proxy = await startTcpProxy(server.port);
    ctl = startController(server, { watch: { idleTimeoutMs: 600, minWatchTimeoutSeconds: 60, backoff: { initialMs: 20, maxMs: 200 } } }, { url: proxy.url });
    await eventually('leader with keys', () => ctl!.controller.isLeader() && ctl!.controller.keys.newest() !== undefined);
    expect(proxy.freeze()).toBeGreaterThan(0);
    applySealed(server, sealedObject({ name: 'behind-partition', namespace: 'app', values: { a: 'x' } }));
    await waitForReason(server, 'app', 'behind-partition', 'Unsealed', 10_000);
    expect(ctl.logs()).toContain('watch silent for too long');
  });

  it('re-reconciles everything on the periodic resync (an unwatched Secret becomes adoptable)', async () => {
    const { server } = await running({ resyncMs: 200 });
    server.store.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'app' }, data: { old: 'b2xk' } });
    applySealed(server, sealedObject({ name: 'db', namespace: 'app', values: { a: 'x' } }));
    await waitForReason(server, 'app', 'db', 'SecretConflict');
    const secret = secretOf(server, 'app', 'db')!;
    server.store.update({ ...secret, metadata: { ...secret.metadata, annotations: { 'kseal.dev/managed': 'true' } } } as never);
    await waitForReason(server, 'app', 'db', 'Unsealed');
  });
  it('converges with a seeded 20% of updates and status patches answered 409 Conflict', async () => {
    const { server, ctl } = await running();
    server.faults.setConflictRate(0.2, 20);
    const expected = createMany(server, 'k', 30);
    await converged(server, expected);
    for (let i = 0; i < 15; i++) {
      const values = { user: `k${i}`, password: `two-k${i}` };
      update(server, `k${i}`, values);
      expected.set(`k${i}`, values);
    }
    await converged(server, expected);
    expect(server.faults.injected).toBeGreaterThanOrEqual(5);
    expect(keySecrets(server)).toHaveLength(1);
    expect(ctl.logs()).not.toMatch(/reconcile threw|failed unexpectedly/);
  });

  it('converges when a seeded 10% of every request (lists, watches, writes, the lease) answer 500 or 503', async () => {
    server = await startCluster({ withKey: true });
    flaky = await startFlakyProxy(server, 0.1, 10);
    ctl = startController(server, {}, { url: flaky.url });
    await eventually('leader with keys', () => ctl!.controller.isLeader() && ctl!.controller.keys.newest() !== undefined, 15_000);
    const expected = createMany(server, 'f', 30);
    await converged(server, expected);
    for (let i = 0; i < 10; i++) {
      const values = { user: `f${i}`, password: `two-f${i}` };
      update(server, `f${i}`, values);
      expected.set(`f${i}`, values);
    }
    await converged(server, expected);
    expect(flaky.failed()).toBeGreaterThanOrEqual(10);
    expect(flaky.failed() / (flaky.failed() + flaky.forwarded())).toBeLessThan(0.2);
    expect(keySecrets(server)).toHaveLength(1);
  });

  it('converges with 150 ms of latency on every request and keeps the lease', async () => {
    const { server, ctl } = await running();
    server.faults.setLatency(150);
    const expected = createMany(server, 'l', 20);
    await converged(server, expected);
    update(server, 'l0', { user: 'l0', password: 'two-l0' });
    expected.set('l0', { user: 'l0', password: 'two-l0' });
    await converged(server, expected);
    expect(ctl.controller.isLeader()).toBe(true);
    expect(ctl.logs()).not.toContain('lost leadership');
  });

  it('finishes a sync of 150 objects while every watch is ended or reset after each 25 Secrets written', async () => {
    const { server, ctl } = await running();
    // Driven by progress rather than a clock, so the drops land inside the sync on a fast machine too.
    let drops = 0;
    let syncing = true;
    const dropper = (async () => {
      while (syncing) {
        if (drops < 5 && server.store.count('v1', 'Secret', 'app') >= 25 * (drops + 1)) {
          if (drops++ % 2 === 0) server.faults.endWatches();
          else server.faults.resetWatches();
        }
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    try {
      await converged(server, createMany(server, 'w', 150), 30_000);
    } finally {
      syncing = false;
      await dropper;
    }
    expect(drops).toBe(5);
    expect(ctl.logs()).not.toMatch(/reconcile threw|failed unexpectedly/);
  });

  it.each([500, 403])('generates no key and reconciles nothing while key Secrets answer %i, then unseals', async (status) => {
    server = await startCluster({ withKey: true });
    server.faults.failNext({ method: 'GET', path: `/namespaces/${CONTROLLER_NS}/secrets`, status, count: 100_000 });
    ctl = startController(server);
    const expected = createMany(server, 'u', 5);
    await eventually('leading, with key lists failing', () => ctl!.controller.isLeader() && server!.faults.injected >= 5, 10_000);
    expect(ctl.controller.ready()).toBe(false);
    for (const name of expected.keys()) expect(readyOf(server, 'app', name)).toBeUndefined();
    expect(keySecrets(server).map((s) => s.metadata.name)).toEqual(['kseal-key-test']);
    server.faults.clear();
    await converged(server, expected);
    expect(keySecrets(server).map((s) => s.metadata.name)).toEqual(['kseal-key-test']);
    expect(await metricValue(ctl.options.metrics.keysGenerated)).toBe(0);
  });

  it('keeps unsealing with the keys it holds, and generates none, while key Secrets become unreadable mid-run', async () => {
    const { server, ctl } = await running();
    server.faults.failNext({ method: 'GET', path: `/namespaces/${CONTROLLER_NS}/secrets`, status: 503, count: 100_000 });
    server.faults.resetWatches();
    await eventually('key watch and list failing', () => server.faults.injected >= 3, 10_000);
    const expected = createMany(server, 'm', 5);
    await converged(server, expected);
    server.faults.clear();
    expect(keySecrets(server).map((s) => s.metadata.name)).toEqual(['kseal-key-test']);
    expect(await metricValue(ctl.options.metrics.keysGenerated)).toBe(0);
  });
  it('decides SecretConflict on a fresh read, not on a stale cache (an object recreated while the Secret watch is down)', async () => {
    const { server, ctl } = await running();
    applySealed(server, sealedObject({ name: 'again', namespace: 'app', values: { a: 'one' } }));
    await waitForReason(server, 'app', 'again', 'Unsealed');
    // The managed-Secret informer cannot list or watch: its cache keeps the Secret after it is gone.
    server.faults.failNext({ method: 'GET', path: /^\/api\/v1\/secrets\?/, status: 503, count: 100_000 });
    server.faults.resetWatches();
    server.store.delete('kseal.dev/v1alpha1', 'SealedSecret', 'again', 'app');
    await eventually('the old Secret collected', () => secretOf(server, 'app', 'again') === undefined);
    await eventually('the old object forgotten', async () => !(await ctl.options.metrics.conditionInfo.get()).values.some((v) => v.labels.name === 'again'));
    applySealed(server, sealedObject({ name: 'again', namespace: 'app', values: { a: 'two' } }));
    const ready = await eventually('a Ready condition', () => readyOf(server, 'app', 'again'));
    expect(ready.reason, ready.message).toBe('Unsealed');
    expect(valuesOf(secretOf(server, 'app', 'again'))).toEqual({ a: 'two' });
    expect((server.store.list('v1', 'Event', 'app') as Array<{ reason: string }>).map((e) => e.reason)).not.toContain('SecretConflict');
  });
  it('forgets the condition metrics of an object deleted while its lease could not be renewed', async () => {
    const { server, ctl } = await running();
    applySealed(server, sealedObject({ name: 'gone', namespace: 'app', values: { a: 'x' } }));
    await waitForReason(server, 'app', 'gone', 'Unsealed');
    const series = async (): Promise<number> => (await ctl.options.metrics.conditionInfo.get()).values.filter((v) => v.labels.name === 'gone').length;
    expect(await series()).toBe(1);
    server.faults.failNext({ path: '/leases', status: 500, count: 100_000 });
    await eventually('leadership lost', () => !ctl.controller.isLeader(), 12_000);
    server.store.delete('kseal.dev/v1alpha1', 'SealedSecret', 'gone', 'app');
    server.faults.clear();
    await eventually('leading again', () => ctl.controller.isLeader(), 12_000);
    await eventually('the deleted object no longer reported', async () => (await series()) === 0, 12_000);
  }, 45_000);
  it('does not bring back an object deleted while the answer to its status write was on the way', async () => {
    server = await startCluster({ withKey: true });
    // Status patch answers arrive 300 ms after the server acted: the watch reports the delete first.
    flaky = await startFlakyProxy(server, 0, 1, { method: 'PATCH', path: /\/sealedsecrets\/late\/status/, ms: 300 });
    ctl = startController(server, { resyncMs: 200 }, { url: flaky.url });
    await eventually('leader with keys', () => ctl!.controller.isLeader() && ctl!.controller.keys.newest() !== undefined, 15_000);
    applySealed(server, sealedObject({ name: 'late', namespace: 'app', values: { a: 'x' } }));
    await waitForReason(server, 'app', 'late', 'Unsealed');
    server.store.delete('kseal.dev/v1alpha1', 'SealedSecret', 'late', 'app');
    await eventually('its Secret collected', () => secretOf(server!, 'app', 'late') === undefined);
    const creates = server.stats.count({ verb: 'create', resource: 'secrets' });
    // Several resyncs later: no Secret written again for the deleted object, and no condition kept.
    await new Promise((r) => setTimeout(r, 1000));
    expect(server.stats.count({ verb: 'create', resource: 'secrets' })).toBe(creates);
    expect(secretOf(server, 'app', 'late')).toBeUndefined();
    expect((await ctl.options.metrics.conditionInfo.get()).values.filter((v) => v.labels.name === 'late')).toEqual([]);
  });
});
