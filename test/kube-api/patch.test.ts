// Conformance of PATCH: merge, JSON and strategic merge patches, and server-side apply.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { text } from '../../kube-api/json.js';
import { startKubeApi } from '../../kube-api/server.js';
import type { KubeApiServer } from '../../kube-api/server.js';
import { call, meta, secret, sealedSecret, sealedSecretCrd } from './test-helpers.js';

let server: KubeApiServer;
const SECRETS = '/api/v1/namespaces/app/secrets';
const SS = '/apis/kseal.dev/v1alpha1/namespaces/app/sealedsecrets';
const MERGE = { 'Content-Type': 'application/merge-patch+json' };
const JSONP = { 'Content-Type': 'application/json-patch+json' };
const SMP = { 'Content-Type': 'application/strategic-merge-patch+json' };
const APPLY = { 'Content-Type': 'application/apply-patch+yaml' };

beforeAll(async () => {
  // GC off: these tests put ownerReferences to owners that do not exist, which the collector would delete.
  server = await startKubeApi({ namespaces: ['app'], gc: false });
  server.store.create(sealedSecretCrd());
});

afterAll(async () => {
  await server.close();
});

describe('merge patch', () => {
  it('merges maps and deletes keys set to null', async () => {
    await call(server, 'POST', SECRETS, { ...secret('m1', 'app', { a: 'YQ==', b: 'Yg==' }), metadata: { name: 'm1', labels: { x: '1', y: '2' } } });
    const res = await call(server, 'PATCH', `${SECRETS}/m1`, { metadata: { labels: { y: null, z: '3' } }, data: { a: null, c: 'Yw==' } }, MERGE);
    expect(res.status).toBe(200);
    expect(meta(res.body)['labels']).toEqual({ x: '1', z: '3' });
    expect(res.body['data']).toEqual({ b: 'Yg==', c: 'Yw==' });
  });

  it('answers 409 when the patch carries a stale resourceVersion', async () => {
    const created = await call(server, 'POST', SECRETS, secret('m2', 'app'));
    await call(server, 'PATCH', `${SECRETS}/m2`, { data: { b: 'Yg==' } }, MERGE);
    const res = await call(server, 'PATCH', `${SECRETS}/m2`, { metadata: { resourceVersion: text(meta(created.body)['resourceVersion']) }, data: { c: 'Yw==' } }, MERGE);
    expect(res.status).toBe(409);
    expect(res.body['reason']).toBe('Conflict');
  });

  it('answers 404 for a patch of a missing object', async () => {
    const res = await call(server, 'PATCH', `${SECRETS}/nope`, { data: {} }, MERGE);
    expect(res.status).toBe(404);
  });

  it('answers 400 for an undecodable patch', async () => {
    await call(server, 'POST', SECRETS, secret('m3', 'app'));
    const res = await call(server, 'PATCH', `${SECRETS}/m3`, '{not json', MERGE);
    expect(res.status).toBe(400);
  });
});

describe('JSON patch', () => {
  it('applies add, replace, remove and test operations', async () => {
    await call(server, 'POST', SECRETS, secret('j1', 'app', { a: 'YQ==' }));
    const res = await call(server, 'PATCH', `${SECRETS}/j1`, [
      { op: 'test', path: '/data/a', value: 'YQ==' },
      { op: 'add', path: '/metadata/labels', value: { k: 'v' } },
      { op: 'replace', path: '/data/a', value: 'Yg==' },
      { op: 'add', path: '/data/b', value: 'Yw==' },
      { op: 'remove', path: '/data/b' },
    ], JSONP);
    expect(res.status).toBe(200);
    expect(res.body['data']).toEqual({ a: 'Yg==' });
    expect(meta(res.body)['labels']).toEqual({ k: 'v' });
  });

  it('answers 422 when a test operation fails, with the failure as the cause', async () => {
    await call(server, 'POST', SECRETS, secret('j2', 'app'));
    const res = await call(server, 'PATCH', `${SECRETS}/j2`, [{ op: 'test', path: '/data/a', value: 'nope' }], JSONP);
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({
      reason: 'Invalid',
      message: 'the server rejected our request due to an error in our request',
      details: { causes: [{ reason: 'UnexpectedServerResponse', message: 'testing value /data/a failed: test failed' }] },
    });
  });

  it('answers 400 when the body is not a JSON patch array', async () => {
    await call(server, 'POST', SECRETS, secret('j3', 'app'));
    const res = await call(server, 'PATCH', `${SECRETS}/j3`, { op: 'add' }, JSONP);
    expect(res.status).toBe(400);
  });
});

describe('strategic merge patch', () => {
  it('merges ownerReferences by uid and finalizers as a set', async () => {
    await call(server, 'POST', SECRETS, {
      ...secret('s1', 'app'),
      metadata: {
        name: 's1',
        finalizers: ['a.io/x'],
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'o1', uid: 'u1' }],
      },
    });
    const res = await call(server, 'PATCH', `${SECRETS}/s1`, {
      metadata: {
        finalizers: ['b.io/y'],
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'o2', uid: 'u2' }, { uid: 'u1', controller: true }],
      },
    }, SMP);
    expect(res.status).toBe(200);
    expect(meta(res.body)['finalizers']).toEqual(['a.io/x', 'b.io/y']);
    expect(meta(res.body)['ownerReferences']).toEqual([
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'o1', uid: 'u1', controller: true },
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'o2', uid: 'u2' },
    ]);
  });

  it('deletes a list element with $patch: delete', async () => {
    await call(server, 'POST', SECRETS, {
      ...secret('s2', 'app'),
      metadata: { name: 's2', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'o1', uid: 'u1' }, { apiVersion: 'v1', kind: 'ConfigMap', name: 'o2', uid: 'u2' }] },
    });
    const res = await call(server, 'PATCH', `${SECRETS}/s2`, { metadata: { ownerReferences: [{ uid: 'u1', $patch: 'delete' }] } }, SMP);
    expect((meta(res.body)['ownerReferences'] as { uid: string }[]).map((r) => r.uid)).toEqual(['u2']);
  });

  it('answers 415 UnsupportedMediaType for a strategic merge patch of a custom resource', async () => {
    await call(server, 'POST', SS, sealedSecret('cr1', 'app'));
    const res = await call(server, 'PATCH', `${SS}/cr1`, { spec: {} }, SMP);
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({
      reason: 'UnsupportedMediaType',
      message: 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
      code: 415,
    });
  });
});

describe('server-side apply', () => {
  it('requires a fieldManager', async () => {
    const res = await call(server, 'PATCH', `${SS}/a0`, sealedSecret('a0', 'app'), APPLY);
    expect(res.status).toBe(422);
    expect(res.body['message']).toBe('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
  });

  it('creates the object when it does not exist (201)', async () => {
    const res = await call(server, 'PATCH', `${SS}/a1?fieldManager=kseal`, sealedSecret('a1', 'app'), APPLY);
    expect(res.status).toBe(201);
    expect(meta(res.body)['uid']).toBeTruthy();
  });

  it('accepts a YAML body and merges it into the live object', async () => {
    await call(server, 'PATCH', `${SS}/a2?fieldManager=kseal`, sealedSecret('a2', 'app', { a: '1' }), APPLY);
    await call(server, 'PATCH', `${SS}/a2`, { metadata: { labels: { other: 'x' } } }, MERGE);
    const yaml = 'apiVersion: kseal.dev/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: a2\n  namespace: app\nspec:\n  encryptedData:\n    a: "2"\n';
    const res = await call(server, 'PATCH', `${SS}/a2?fieldManager=kseal`, yaml, APPLY);
    expect(res.status).toBe(200);
    expect(res.body['spec']).toEqual({ encryptedData: { a: '2' } });
    expect(meta(res.body)['labels']).toEqual({ other: 'x' });
  });

  it('removes fields the same manager stops applying', async () => {
    await call(server, 'PATCH', `${SS}/a3?fieldManager=kseal`, sealedSecret('a3', 'app', { a: '1', b: '2' }), APPLY);
    const res = await call(server, 'PATCH', `${SS}/a3?fieldManager=kseal`, sealedSecret('a3', 'app', { a: '1' }), APPLY);
    expect(res.body['spec']).toEqual({ encryptedData: { a: '1' } });
  });

  it('answers 409 for a field another apply manager owns, unless forced', async () => {
    await call(server, 'PATCH', `${SS}/a4?fieldManager=one`, sealedSecret('a4', 'app', { a: '1' }), APPLY);
    const res = await call(server, 'PATCH', `${SS}/a4?fieldManager=two`, sealedSecret('a4', 'app', { a: '2' }), APPLY);
    expect(res.status).toBe(409);
    expect(res.body['message']).toBe('Apply failed with 1 conflict: conflict with "one" using kseal.dev/v1alpha1: .spec.encryptedData.a');
    const forced = await call(server, 'PATCH', `${SS}/a4?fieldManager=two&force=true`, sealedSecret('a4', 'app', { a: '2' }), APPLY);
    expect(forced.status).toBe(200);
    expect(forced.body['spec']).toEqual({ encryptedData: { a: '2' } });
  });

  it('does not bump resourceVersion when the applied configuration changes nothing', async () => {
    const first = await call(server, 'PATCH', `${SS}/a5?fieldManager=kseal`, sealedSecret('a5', 'app'), APPLY);
    const again = await call(server, 'PATCH', `${SS}/a5?fieldManager=kseal`, sealedSecret('a5', 'app'), APPLY);
    expect(meta(again.body)['resourceVersion']).toBe(meta(first.body)['resourceVersion']);
  });

  it('applies status through the status subresource', async () => {
    await call(server, 'PATCH', `${SS}/a6?fieldManager=kseal`, sealedSecret('a6', 'app'), APPLY);
    const res = await call(server, 'PATCH', `${SS}/a6/status?fieldManager=kseal-status`, {
      apiVersion: 'kseal.dev/v1alpha1', kind: 'SealedSecret', metadata: { name: 'a6', namespace: 'app' }, status: { observedGeneration: 1 },
    }, APPLY);
    expect(res.status).toBe(200);
    expect(res.body['status']).toEqual({ observedGeneration: 1 });
    expect(res.body['spec']).toEqual({ encryptedData: { password: 'AgAAAA==' } });
  });
});
