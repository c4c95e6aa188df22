import { afterEach, describe, expect, it } from 'vitest';
import { KubeConfig, V1MicroTime } from '@kubernetes/client-node';
import { ClientNodeApi, KubeError, OPTIONS_TTL_MS, resourcePath, type WatchEvent } from '../../controller/kube-client.js';
import { loadKubeConfig } from '../../net/kube-config-client.js';
import type { KubeApiServer } from '../../kube-api/server.js';
import { newCanary, containsCanary } from '../helpers/canary.js';
import { startCluster } from './harness.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

let server: KubeApiServer | undefined;
let proxy: TcpProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await server?.close();
  server = undefined;
});

async function apiVia(): Promise<{ api: ClientNodeApi; server: KubeApiServer; proxy: TcpProxy }> {
  server = await startCluster();
  proxy = await startTcpProxy(server.port);
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig.replace(server.url, proxy.url));
  return { api: new ClientNodeApi(kc), server, proxy };
}

describe('ClientNodeApi', () => {
  it('reuses keep-alive connections across requests (client-node alone opens one per request)', async () => {
    const { api, proxy } = await apiVia();
    for (let i = 0; i < 20; i++) await api.readNamespacedSecret('app', `missing-${i}`);
    await api.readNamespacedLease('kseal-system', 'nope');
    expect(proxy.connections).toBeLessThanOrEqual(2);
  });

  it('pools sockets with the same 15 s TCP keep-alive delay its requests ask for (no setsockopt per request)', async () => {
    server = await startCluster();
    const kc = new KubeConfig();
    kc.loadFromString(server.kubeconfig);
    const api = new ClientNodeApi(kc);
    await api.readNamespacedSecret('app', 'missing');
    const agents = [...(kc as unknown as { ksealAgents: Map<string, { keepAlive: boolean; keepAliveMsecs: number }> }).ksealAgents.values()];
    expect(agents.map((a) => ({ keepAlive: a.keepAlive, keepAliveMsecs: a.keepAliveMsecs }))).toEqual([{ keepAlive: true, keepAliveMsecs: 15_000 }]);
  });

  it('looks up the TLS and auth options once per interval instead of per request, and again after a 401', async () => {
    server = await startCluster();
    const kc = new KubeConfig();
    kc.loadFromString(server.kubeconfig);
    let lookups = 0;
    const original = kc.applyToHTTPSOptions.bind(kc);
    kc.applyToHTTPSOptions = async (opts) => {
      lookups++;
      return original(opts);
    };
    let t = 0;
    const api = new ClientNodeApi(kc, { now: () => t });
    for (let i = 0; i < 10; i++) await api.readNamespacedSecret('app', `missing-${i}`);
    expect(lookups).toBe(1);
    t += OPTIONS_TTL_MS;
    await api.readNamespacedSecret('app', 'missing');
    expect(lookups).toBe(2);
    server.faults.failNext({ path: 'secrets', status: 401 });
    await expect(api.readNamespacedSecret('app', 'refused')).rejects.toMatchObject({ status: 401 });
    await api.readNamespacedSecret('app', 'missing');
    expect(lookups).toBe(3);
  });

  it('creates, reads and replaces Secrets and merge-patches the status subresource', async () => {
    const { api, server } = await apiVia();
    const created = await api.createNamespacedSecret('app', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'app' }, data: { a: 'eA==' } });
    const read = await api.readNamespacedSecret('app', 's');
    expect(read?.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    await api.replaceNamespacedSecret('app', 's', { ...read!, data: { a: 'eQ==' } });
    expect((server.store.get('v1', 'Secret', 's', 'app') as { data: Record<string, string> }).data).toEqual({ a: 'eQ==' });
    server.store.create({ apiVersion: 'kseal.dev/v1alpha1', kind: 'SealedSecret', metadata: { name: 'ss', namespace: 'app' }, spec: { encryptedData: {} } });
    const patched = await api.patchNamespacedCustomObjectStatus('app', 'ss', { observedGeneration: 1 });
    expect((patched as { status?: unknown }).status).toEqual({ observedGeneration: 1 });
    expect(await api.patchNamespacedCustomObjectStatus('app', 'gone', { observedGeneration: 1 })).toBeUndefined();
  });

  it('turns API failures into KubeErrors with the status, reason and message only', async () => {
    const { api, server } = await apiVia();
    const canary = newCanary();
    await api.createNamespacedSecret('app', { metadata: { name: 'dup', namespace: 'app' }, data: { a: Buffer.from(canary).toString('base64') } });
    const e = await api.createNamespacedSecret('app', { metadata: { name: 'dup', namespace: 'app' }, data: { a: Buffer.from(canary).toString('base64') } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KubeError);
    expect(e).toMatchObject({ status: 409, reason: 'AlreadyExists' });
    expect((e as Error).message).toContain('already exists');
    expect(containsCanary(canary, (e as Error).message)).toBe(false);
    server.faults.failNext({ path: 'leases', status: 503 });
    await expect(api.readNamespacedLease('kseal-system', 'x')).rejects.toMatchObject({ status: 503 });
  });

  it('writes Lease times with microsecond precision', async () => {
    const { api, server } = await apiVia();
    const t = new V1MicroTime(Date.parse('2025-01-02T03:04:05.678Z'));
    await api.createNamespacedLease('kseal-system', { metadata: { name: 'l' }, spec: { holderIdentity: 'me', renewTime: t, acquireTime: t, leaseDurationSeconds: 15 } });
    const stored = server.store.get('coordination.k8s.io/v1', 'Lease', 'l', 'kseal-system') as { spec: { renewTime: string } };
    expect(stored.spec.renewTime).toBe('2025-01-02T03:04:05.678000Z');
  });

  it('streams a watch and stops it on abort without harming later requests', async () => {
    const { api, server } = await apiVia();
    const list = await api.list('/api/v1/namespaces/app/secrets', {});
    const events: WatchEvent[] = [];
    const controller = new AbortController();
    const watching = api.watch('/api/v1/namespaces/app/secrets', { resourceVersion: list.resourceVersion }, (e) => events.push(e), controller.signal);
    server.store.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'w', namespace: 'app' } });
    await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    await expect(watching).rejects.toMatchObject({ name: 'AbortError' });
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED w']);
    expect(await api.readNamespacedSecret('app', 'w')).toBeDefined();
  });
});

describe('loadKubeConfig', () => {
  it('reads --kubeconfig and --context, and refuses an unknown context', async () => {
    server = await startCluster();
    const kc = loadKubeConfig({ kubeconfig: server.kubeconfigPath }, {});
    expect(kc.getCurrentCluster()?.server).toBe(server.url);
    expect(() => loadKubeConfig({ kubeconfig: server!.kubeconfigPath, context: 'nope' }, {})).toThrow();
  });
});

describe('resourcePath', () => {
  it('builds core, grouped, namespaced and subresource paths', () => {
    expect(resourcePath({ namespace: 'a', resource: 'secrets', name: 'b' })).toBe('/api/v1/namespaces/a/secrets/b');
    expect(resourcePath({ group: 'kseal.dev', version: 'v1alpha1', namespace: 'a', resource: 'sealedsecrets', name: 'b', subresource: 'status' })).toBe('/apis/kseal.dev/v1alpha1/namespaces/a/sealedsecrets/b/status');
    expect(resourcePath({ resource: 'secrets' })).toBe('/api/v1/secrets');
  });
});
