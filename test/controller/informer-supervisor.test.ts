import { afterEach, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { SupervisedInformer, type InformerOptions } from '../../controller/informer-supervisor.js';
import { ClientNodeApi, KubeError, type KubeObject, type ListWatchTransport } from '../../controller/kube-client.js';
import { silentLogger } from '../../controller/logger.js';
import type { KubeApiServer } from '../../kube-api/server.js';
import { eventually } from './fixtures.js';
import { startCluster } from './harness.js';

let server: KubeApiServer | undefined;
let informer: SupervisedInformer<KubeObject> | undefined;
afterEach(async () => {
  await informer?.stop();
  informer = undefined;
  await server?.close();
  server = undefined;
});

function configMap(name: string, data: Record<string, string> = {}) {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'app', labels: { watched: 'yes' } }, data };
}

async function start(overrides: Partial<InformerOptions<KubeObject>> = {}, wrapTransport?: (api: ListWatchTransport) => ListWatchTransport) {
  server = await startCluster();
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig);
  const log: string[] = [];
  const restarts: string[] = [];
  const api = new ClientNodeApi(kc);
  informer = new SupervisedInformer<KubeObject>({
    name: 'test',
    path: '/api/v1/namespaces/app/configmaps',
    labelSelector: 'watched=yes',
    transport: wrapTransport?.(api) ?? api,
    logger: silentLogger,
    resyncMs: 0,
    idleTimeoutMs: 5000,
    minWatchTimeoutSeconds: 60,
    backoff: { initialMs: 10, maxMs: 50 },
    pageSize: 2,
    onRestart: (r) => restarts.push(r),
    handlers: {
      add: (o) => log.push(`add ${o.metadata.name}`),
      update: (_p, o) => log.push(`update ${o.metadata.name}`),
      delete: (o) => log.push(`delete ${o.metadata.name}`),
      resync: (o) => log.push(`resync ${o.metadata.name}`),
    },
    ...overrides,
  });
  return { server, informer, log, restarts };
}

describe('SupervisedInformer', () => {
  it('lists in pages, then watches only what the label selector matches', async () => {
    const { server, informer, log } = await start();
    for (const n of ['a', 'b', 'c']) server.store.create(configMap(n));
    server.store.create({ ...configMap('other'), metadata: { name: 'other', namespace: 'app' } });
    informer.start();
    await informer.waitForSync();
    expect(informer.list().map((o) => o.metadata.name).sort()).toEqual(['a', 'b', 'c']);
    server.store.create(configMap('d'));
    await eventually('d added', () => informer.get('app/d'));
    expect(log).toEqual(['add a', 'add b', 'add c', 'add d']);
  });

  it('re-lists after 410 and reports what vanished meanwhile as deleted', async () => {
    const { server, informer, log, restarts } = await start();
    server.store.create(configMap('keep'));
    server.store.create(configMap('gone'));
    informer.start();
    await informer.waitForSync();
    // Other writes move the cluster past the informer's last resourceVersion; the restart then
    // compacts history, so watching from that version answers 410.
    server.store.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'unrelated', namespace: 'app' } });
    await server.restart({ downtimeMs: 200 });
    server.store.delete('v1', 'ConfigMap', 'gone', 'app');
    server.store.create(configMap('new'));
    await eventually('caught up', () => informer.get('app/new') !== undefined && informer.get('app/gone') === undefined, 10_000);
    expect(log).toContain('delete gone');
    expect(restarts).toContain('expired');
  });

  it('ignores the late event of a version its own write replaced', async () => {
    const { server, informer, log } = await start();
    server.store.create(configMap('x', { v: '1' }));
    informer.start();
    await informer.waitForSync();
    // Someone writes v2; before the informer hears of it, the controller writes v3 over it.
    const v2 = server.store.patch('v1', 'ConfigMap', 'x', 'app', { data: { v: '2' } }) as unknown as KubeObject;
    const v3 = server.store.patch('v1', 'ConfigMap', 'x', 'app', { data: { v: '3' } }) as unknown as KubeObject;
    informer.observeWrite(v3, v2.metadata.resourceVersion);
    await new Promise((r) => setTimeout(r, 200));
    expect((informer.get('app/x') as unknown as { data: Record<string, string> }).data).toEqual({ v: '3' });
    expect(log).not.toContain('update x');
  });

  it('calls the resync handler for every cached object each period', async () => {
    const { server, informer, log } = await start({ resyncMs: 100 });
    server.store.create(configMap('a'));
    informer.start();
    await eventually('two resyncs', () => log.filter((l) => l === 'resync a').length >= 2, 3000);
  });

  it('backs off and recovers when watches keep failing with 5xx', async () => {
    const { server, informer, restarts } = await start();
    informer.start();
    await informer.waitForSync();
    server.faults.failNext({ method: 'GET', path: 'watch=', status: 500, count: 3 });
    server.faults.endWatches();
    server.store.create(configMap('late'));
    await eventually('late seen', () => informer.get('app/late'), 5000);
    expect(restarts.filter((r) => r === 'http-500').length).toBeGreaterThanOrEqual(1);
  });

  it('releases whoever waits for the first list when it stops before that list came', async () => {
    const { server, informer } = await start();
    server.faults.failNext({ method: 'GET', path: 'configmaps', status: 403, count: 1_000_000 });
    informer.start();
    let released = false;
    const waiting = informer.waitForSync().then(() => (released = true));
    await informer.stop();
    await waiting;
    expect(released).toBe(true);
    expect(informer.synced).toBe(false);
  });

  it('keeps a released object as its stub until a newer version arrives', async () => {
    const stub = (o: KubeObject): KubeObject => ({ metadata: { name: o.metadata.name, namespace: o.metadata.namespace ?? '', resourceVersion: o.metadata.resourceVersion ?? '' }, stub: true });
    const { server, informer, log } = await start({ stub });
    server.store.create(configMap('x', { v: '1' }));
    informer.start();
    await informer.waitForSync();
    informer.release('app/x', 'not-its-version');
    expect(informer.get('app/x')?.['data']).toEqual({ v: '1' });
    informer.release('app/x');
    expect(informer.get('app/x')?.['stub']).toBe(true);
    server.store.patch('v1', 'ConfigMap', 'x', 'app', { data: { v: '2' } });
    await eventually('v2 cached whole', () => (informer.get('app/x')?.['data'] as { v?: string } | undefined)?.v === '2');
    expect(log).toContain('update x');
  });

  it('applies each page of a list as it arrives instead of holding the whole list first', async () => {
    const cachedAtEachPage: number[] = [];
    const { server, informer, log } = await start({}, (api) => ({
      list: (path, query, signal) => {
        cachedAtEachPage.push(informer?.size ?? -1);
        return api.list(path, query, signal);
      },
      watch: (path, query, onEvent, signal) => api.watch(path, query, onEvent, signal),
    }));
    for (const n of ['a', 'b', 'c', 'd', 'e']) server.store.create(configMap(n));
    informer.start();
    await informer.waitForSync();
    // Pages of 2: the second page is asked for with the first one already cached, and so on.
    expect(cachedAtEachPage).toEqual([0, 2, 4]);
    expect(informer.list().map((o) => o.metadata.name).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(log).toEqual(['add a', 'add b', 'add c', 'add d', 'add e']);
  });

  it('lists again from the first page when a continue token expires, deleting what only the abandoned list held', async () => {
    let expired = false;
    const { server, informer, log, restarts } = await start({}, (api) => ({
      list: async (path, query, signal) => {
        if (query['continue'] !== undefined && !expired) {
          // The first page is applied; before the second, the object of that page is deleted and
          // the continue token expires (410), as when a list outlives the server's compaction.
          expired = true;
          server?.store.delete('v1', 'ConfigMap', 'a', 'app');
          throw new KubeError('list: 410 Expired', 410, 'Expired');
        }
        return api.list(path, query, signal);
      },
      watch: (path, query, onEvent, signal) => api.watch(path, query, onEvent, signal),
    }));
    for (const n of ['a', 'b', 'c', 'd']) server.store.create(configMap(n));
    informer.start();
    await informer.waitForSync();
    expect(restarts).toContain('expired');
    expect(informer.list().map((o) => o.metadata.name).sort()).toEqual(['b', 'c', 'd']);
    expect(log.indexOf('delete a')).toBeGreaterThan(log.indexOf('add a'));
    // Still watching from the new list's version.
    server.store.create(configMap('later'));
    await eventually('later added', () => informer.get('app/later'));
  });
});
