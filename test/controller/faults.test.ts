/**
 * Convergence under the faults a real API server produces, injected by the in-repo server: watches
 * that end or are reset, 410 Gone after compaction, a restart that drops every watch and misses
 * changes, 409 Conflict storms, 5xx bursts, and a half-open connection (through a freezing proxy)
 * that only the watchdog can detect.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeApiServer } from '../kube-api/server.js';
import { eventually, sealedObject } from './fixtures.js';
import { applySealed, readyOf, sealedOf, secretOf, startCluster, startController, valuesOf, waitForReason, type TestController } from './harness.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

let server: KubeApiServer | undefined;
let ctl: TestController | undefined;
let proxy: TcpProxy | undefined;

afterEach(async () => {
  await ctl?.stop();
  ctl = undefined;
  await proxy?.close();
  proxy = undefined;
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

describe('faults', () => {
  it('converges after every watch is ended by the server', async () => {
    const { server } = await running();
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
});
