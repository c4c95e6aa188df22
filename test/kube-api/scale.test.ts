// The server holds the benchmark's 10,000 SealedSecrets + 10,000 Secrets and lists/watches them
// in time proportional to what matches.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeApi } from '../../kube-api/server.js';
import type { JsonObject, KubeApiServer } from '../../kube-api/server.js';
import { call, meta, openWatch, sealedSecret, sealedSecretCrd, secret } from './test-helpers.js';

let server: KubeApiServer;
const N = 10_000;
let loadMs = 0;

beforeAll(async () => {
  server = await startKubeApi({ namespaces: ['bench', 'other'] });
  server.store.create(sealedSecretCrd());
  const objs: JsonObject[] = [];
  for (let i = 0; i < N; i++) {
    const name = `obj-${String(i).padStart(5, '0')}`;
    objs.push(sealedSecret(name, 'bench', { password: 'AgBy3i4OJSWK+PiTySYZZA==' }));
    objs.push({ ...secret(name, 'bench', { password: 'c2VjcmV0' }), metadata: { name, namespace: 'bench', labels: { shard: String(i % 10) } } });
  }
  const t = Date.now();
  server.store.load(objs);
  loadMs = Date.now() - t;
}, 60_000);

afterAll(async () => {
  await server.close();
});

describe('scale', () => {
  it('loads 20,000 objects in a few seconds', () => {
    expect(server.store.count('v1', 'Secret', 'bench')).toBe(N);
    expect(server.store.count('kseal.dev/v1alpha1', 'SealedSecret')).toBe(N);
    expect(loadMs).toBeLessThan(8000);
  });

  it('pages through 10,000 Secrets with limit/continue', async () => {
    let token: string | undefined;
    let total = 0;
    let pages = 0;
    const t = Date.now();
    do {
      const res = await call(server, 'GET', `/api/v1/namespaces/bench/secrets?limit=1000${token ? `&continue=${encodeURIComponent(token)}` : ''}`);
      total += (res.body['items'] as unknown[]).length;
      token = meta(res.body)['continue'] as string | undefined;
      pages++;
    } while (token);
    expect(total).toBe(N);
    expect(pages).toBe(10);
    expect(Date.now() - t).toBeLessThan(5000);
  });

  it('answers a label-selected list and a name-pinned list quickly', async () => {
    const t = Date.now();
    const shard = await call(server, 'GET', '/api/v1/namespaces/bench/secrets?labelSelector=shard%3D3');
    expect((shard.body['items'] as unknown[]).length).toBe(N / 10);
    const one = await call(server, 'GET', '/apis/kseal.dev/v1alpha1/namespaces/bench/sealedsecrets?fieldSelector=metadata.name%3Dobj-04242');
    expect((one.body['items'] as unknown[]).length).toBe(1);
    const empty = await call(server, 'GET', '/api/v1/namespaces/other/secrets');
    expect((empty.body['items'] as unknown[]).length).toBe(0);
    expect(Date.now() - t).toBeLessThan(3000);
  });

  it('streams 10,000 synthetic ADDED events to a watch from resourceVersion 0', async () => {
    const w = await openWatch(server, '/apis/kseal.dev/v1alpha1/namespaces/bench/sealedsecrets?watch=true&resourceVersion=0');
    try {
      const events = await w.waitFor(N, () => true, 15_000);
      expect(events[0]!.type).toBe('ADDED');
      expect(events).toHaveLength(N);
    } finally {
      w.close();
    }
  });
});
