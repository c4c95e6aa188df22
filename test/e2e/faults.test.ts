/**
 * Faults a real control plane produces, with the controller as its ServiceAccount: watches ended
 * and connections reset by a proxy in front of the API server, 5xx answers, latency, 410 Gone
 * after an etcd compaction, and an API server restart. Needs the suite's own control plane (the
 * proxy terminates TLS with its serving certificate; restarts need its etcd and binaries), so it
 * is skipped against KSEAL_E2E_KUBECONFIG.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sealedObject } from '../controller/fixtures.js';
import { compactEtcd, startApiServer, type ApiServer } from '../../control-plane/control-plane.js';
import { eventually, useE2e } from './cluster/e2e.js';
import { startFaultProxy, type FaultProxy } from './cluster/fault-proxy.js';
import { certFrom, createSealed, replaceSpec, secretValues, waitReady } from './cluster/objects.js';

const e2e = useE2e();
let proxy: FaultProxy | undefined;
let extraServer: ApiServer | undefined;

afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await extraServer?.stop();
  extraServer = undefined;
});

async function viaProxy(): Promise<FaultProxy> {
  const plane = e2e.ctx.controlPlane!;
  proxy = await startFaultProxy(plane.apiServerUrl, plane.settings.certs);
  return proxy;
}

describe.skipIf(!e2e.ownControlPlane)('faults of a real API server', () => {
  it('keeps reconciling after its watches are ended and its connections are reset', async () => {
    const p = await viaProxy();
    const ctl = await e2e.controllerNamespace();
    const app = await e2e.namespace('kseal-app');
    const cert = await certFrom(e2e.run(ctl, 'dropped', [], p.url));
    await createSealed(e2e, sealedObject({ name: 's0', namespace: app, values: { v: '0' }, cert }));
    await waitReady(e2e, app, 's0');
    await eventually('three watches open (SealedSecrets, Secrets, keys)', () => p.openWatches >= 3);
    const watchesBefore = p.seen.get('watch sealedsecrets') ?? 0;

    expect(p.endWatches()).toBeGreaterThanOrEqual(3);
    await createSealed(e2e, sealedObject({ name: 's1', namespace: app, values: { v: '1' }, cert }));
    await waitReady(e2e, app, 's1');

    expect(p.resetConnections()).toBeGreaterThan(0);
    await createSealed(e2e, sealedObject({ name: 's2', namespace: app, values: { v: '2' }, cert }));
    await waitReady(e2e, app, 's2');
    expect(await secretValues(e2e, app, 's2')).toEqual({ v: '2' });
    expect(p.seen.get('watch sealedsecrets') ?? 0).toBeGreaterThan(watchesBefore);
  });

  it('unseals through 5xx answers to its Secret create and its status patch', async () => {
    const p = await viaProxy();
    const ctl = await e2e.controllerNamespace();
    const app = await e2e.namespace('kseal-app');
    const cert = await certFrom(e2e.run(ctl, 'retrier', [], p.url));
    const secrets = new RegExp(`/namespaces/${app}/secrets(\\?|$)`);
    const status = new RegExp(`/namespaces/${app}/sealedsecrets/db/status`);
    p.failNext({ status: 500, method: 'POST', path: secrets, count: 2 });
    p.failNext({ status: 503, method: 'PATCH', path: status, count: 2 });
    await createSealed(e2e, sealedObject({ name: 'db', namespace: app, values: { password: 'pw' }, cert }));
    await waitReady(e2e, app, 'db');
    expect(await secretValues(e2e, app, 'db')).toEqual({ password: 'pw' });
    expect(p.seen.get('POST secrets') ?? 0).toBeGreaterThanOrEqual(3);
    expect(p.seen.get('PATCH sealedsecrets/status') ?? 0).toBeGreaterThanOrEqual(3);
  });

  it('keeps its lease and unseals with 300 ms of latency on every request', async () => {
    const p = await viaProxy();
    const ctl = await e2e.controllerNamespace();
    const app = await e2e.namespace('kseal-app');
    const c = e2e.run(ctl, 'slow', ['--lease-duration', '5s', '--renew-deadline', '4s', '--retry-period', '1s'], p.url);
    const cert = await certFrom(c);
    p.setLatency(300);
    for (let i = 0; i < 3; i++) await createSealed(e2e, sealedObject({ name: `s${i}`, namespace: app, values: { v: `${i}` }, cert }));
    for (let i = 0; i < 3; i++) await waitReady(e2e, app, `s${i}`, 1, 60_000);
    expect(c.logs()).not.toContain('lost leadership');
  });

  it('re-lists after 410 Gone: etcd compacted while its API server (no watch cache) was down', async () => {
    const plane = e2e.ctx.controlPlane!;
    extraServer = await startApiServer(plane.settings, 'kube-apiserver-nocache', undefined, ['--watch-cache=false']);
    const ctl = await e2e.controllerNamespace();
    const app = await e2e.namespace('kseal-app');
    const c = e2e.run(ctl, 'compacted', [], extraServer.url);
    const cert = await certFrom(c);
    await createSealed(e2e, sealedObject({ name: 's0', namespace: app, values: { v: 'one' }, cert }));
    await waitReady(e2e, app, 's0');

    await extraServer.stop();
    // Through the suite's main API server while the controller's is down.
    await replaceSpec(e2e, app, 's0', sealedObject({ name: 's0', namespace: app, values: { v: 'two' }, cert }).spec);
    await createSealed(e2e, sealedObject({ name: 's1', namespace: app, values: { v: 'new' }, cert }));
    await compactEtcd(plane.etcdUrl);
    await extraServer.restart();
    e2e.tolerateForbiddenUntil(new Date()); // as in the restart test below

    await waitReady(e2e, app, 's0', 2, 60_000);
    await waitReady(e2e, app, 's1', 1, 60_000);
    expect(await secretValues(e2e, app, 's0')).toEqual({ v: 'two' });
    expect(await secretValues(e2e, app, 's1')).toEqual({ v: 'new' });
    expect(c.logs()).toContain('watch expired; re-listing');
  });

  it('catches up after its API server restarts: changes made during the downtime are applied', async () => {
    const plane = e2e.ctx.controlPlane!;
    extraServer = await startApiServer(plane.settings, 'kube-apiserver-restarted');
    const ctl = await e2e.controllerNamespace();
    const app = await e2e.namespace('kseal-app');
    const cert = await certFrom(e2e.run(ctl, 'restarted', [], extraServer.url));
    await createSealed(e2e, sealedObject({ name: 's0', namespace: app, values: { v: 'one' }, cert }));
    await waitReady(e2e, app, 's0');

    await extraServer.stop();
    await replaceSpec(e2e, app, 's0', sealedObject({ name: 's0', namespace: app, values: { v: 'two' }, cert }).spec);
    await createSealed(e2e, sealedObject({ name: 's1', namespace: app, values: { v: 'new' }, cert }));
    await extraServer.restart();
    // A starting kube-apiserver serves requests before /readyz passes, and until its RBAC caches
    // are filled it refuses them (403). The controller must ride that out; refusals after ready fail.
    e2e.tolerateForbiddenUntil(new Date());

    await waitReady(e2e, app, 's0', 2, 60_000);
    await waitReady(e2e, app, 's1', 1, 60_000);
    expect(await secretValues(e2e, app, 's0')).toEqual({ v: 'two' });
    expect(await secretValues(e2e, app, 's1')).toEqual({ v: 'new' });
  });
});
