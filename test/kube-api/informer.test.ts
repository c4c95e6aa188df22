// client-node 1.4 informers against the server: initial list, events, relist through 410,
// reconnect after a clean close, and the error a connection reset produces.
import { CoreV1Api, KubeConfig, makeInformer } from '@kubernetes/client-node';
import type { Informer, ObjectCache, V1Secret } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startKubeApi } from '../../kube-api/server.js';
import type { KubeApiServer } from '../../kube-api/server.js';
import { eventually, secret } from './test-helpers.js';

let server: KubeApiServer;
let informers: (Informer<V1Secret> & ObjectCache<V1Secret>)[] = [];

beforeEach(async () => {
  server = await startKubeApi({ namespaces: ['inf'] });
});

afterEach(async () => {
  for (const i of informers) await i.stop();
  informers = [];
  await server.close();
});

function client(): { kc: KubeConfig; core: CoreV1Api } {
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig);
  return { kc, core: kc.makeApiClient(CoreV1Api) };
}

interface Recorded {
  informer: Informer<V1Secret> & ObjectCache<V1Secret>;
  log: string[];
  errors: unknown[];
}

async function startInformer(): Promise<Recorded> {
  const { kc, core } = client();
  const informer = makeInformer<V1Secret>(kc, '/api/v1/namespaces/inf/secrets', () => core.listNamespacedSecret({ namespace: 'inf' }));
  informers.push(informer);
  const log: string[] = [];
  const errors: unknown[] = [];
  informer.on('add', (o) => log.push(`add ${o.metadata?.name ?? ''}`));
  informer.on('update', (o) => log.push(`update ${o.metadata?.name ?? ''}`));
  informer.on('delete', (o) => log.push(`delete ${o.metadata?.name ?? ''}`));
  informer.on('error', (e) => errors.push(e));
  await informer.start();
  await eventually(() => server.watchCount === 1);
  return { informer, log, errors };
}

const lists = (): number => server.stats.count({ verb: 'list', resource: 'secrets' });
const watches = (): number => server.stats.count({ verb: 'watch', resource: 'secrets' });

describe('client-node informer', () => {
  it('lists existing objects and then receives add, update and delete', async () => {
    server.store.create(secret('pre', 'inf'));
    const { informer, log } = await startInformer();
    expect(informer.list('inf').map((s) => s.metadata?.name)).toEqual(['pre']);
    server.store.create(secret('new', 'inf'));
    server.store.patch('v1', 'Secret', 'new', 'inf', { data: { b: 'Yg==' } });
    server.store.delete('v1', 'Secret', 'pre', 'inf');
    await eventually(() => log.length === 4);
    expect(log).toEqual(['add pre', 'add new', 'update new', 'delete pre']);
  });

  it('re-watches from its last resourceVersion after a clean close, without relisting', async () => {
    const { log } = await startInformer();
    const listsBefore = lists();
    const watchesBefore = watches();
    expect(server.faults.endWatches()).toBe(1);
    await eventually(() => watches() === watchesBefore + 1 && server.watchCount === 1);
    server.store.create(secret('after-close', 'inf'));
    await eventually(() => log.includes('add after-close'));
    expect(lists()).toBe(listsBefore);
  });

  it('relists after a 410 Expired and reports what changed meanwhile', async () => {
    server.store.create(secret('keep', 'inf'));
    server.store.create(secret('gone', 'inf'));
    const { informer, log, errors } = await startInformer();
    const listsBefore = lists();
    // The stream ends; before the informer can re-watch (this code runs synchronously), an object
    // is deleted and history is compacted, as during a long disconnection: its re-watch gets 410.
    server.faults.endWatches();
    server.store.delete('v1', 'Secret', 'gone', 'inf');
    server.faults.compact();
    await eventually(() => lists() === listsBefore + 1 && server.watchCount === 1);
    await eventually(() => log.includes('delete gone'));
    expect(informer.list('inf').map((s) => s.metadata?.name)).toEqual(['keep']);
    expect(errors).toEqual([]);
    server.store.create(secret('later', 'inf'));
    await eventually(() => log.includes('add later'));
  });

  it('emits error and stops when the watch connection is reset', async () => {
    const { errors } = await startInformer();
    expect(server.faults.resetWatches()).toBe(1);
    await eventually(() => errors.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(server.watchCount).toBe(0);
  });

  it('keeps its cache across an informer restart after an error', async () => {
    const { informer, errors, log } = await startInformer();
    server.faults.resetWatches();
    await eventually(() => errors.length === 1);
    server.store.create(secret('while-stopped', 'inf'));
    await informer.start();
    await eventually(() => log.includes('add while-stopped'));
  });

  it('follows a server restart that keeps the store', async () => {
    server.store.create(secret('survivor', 'inf'));
    const { informer, errors, log } = await startInformer();
    const { core } = client();
    await server.restart({ keepStore: true });
    const got = await core.readNamespacedSecret({ name: 'survivor', namespace: 'inf' });
    expect(got.metadata?.name).toBe('survivor');
    // client-node re-watches as soon as the stream ends: if that lands while the port is closed the
    // informer reports an error and stops (a controller restarts it); otherwise it gets 410 and relists.
    await eventually(() => errors.length > 0 || server.watchCount === 1);
    if (errors.length > 0) await informer.start();
    await eventually(() => server.watchCount === 1);
    server.store.create(secret('after-restart', 'inf'));
    await eventually(() => log.includes('add after-restart'));
    expect(informer.list('inf').map((s) => s.metadata?.name).sort()).toEqual(['after-restart', 'survivor']);
  });
});
