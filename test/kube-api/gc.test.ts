// Conformance of garbage collection (ownerReferences with Background, Orphan and Foreground
// propagation) and of the namespace and CRD deletion lifecycles.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startKubeApi } from '../../kube-api/server.js';
import type { JsonObject, KubeApiServer } from '../../kube-api/server.js';
import { call, eventually, meta, openWatch, secret, sealedSecret, sealedSecretCrd } from './test-helpers.js';

let server: KubeApiServer;

beforeEach(async () => {
  server = await startKubeApi({ namespaces: ['gc'] });
  server.store.create(sealedSecretCrd());
});

afterEach(async () => {
  await server.close();
});

const SS = '/apis/kseal.dev/v1alpha1/namespaces/gc/sealedsecrets';

function owned(name: string, owner: JsonObject, extra: JsonObject = {}): JsonObject {
  const m = meta(owner);
  return {
    ...secret(name, 'gc'),
    metadata: {
      name,
      namespace: 'gc',
      ownerReferences: [{ apiVersion: 'kseal.dev/v1alpha1', kind: 'SealedSecret', name: m['name'] as string, uid: m['uid'] as string, controller: true, ...extra }],
    },
  };
}

const getSecret = (name: string): JsonObject | undefined => server.store.get('v1', 'Secret', name, 'gc');
const getSS = (name: string): JsonObject | undefined => server.store.get('kseal.dev/v1alpha1', 'SealedSecret', name, 'gc');

describe('garbage collection', () => {
  it('deletes dependents in the background after the owner is deleted, a little later', async () => {
    const owner = server.store.create(sealedSecret('owner', 'gc'));
    server.store.create(owned('dep', owner));
    // In-process delete: synchronous, so the check below runs before the collector's timer can fire.
    expect(server.store.delete('kseal.dev/v1alpha1', 'SealedSecret', 'owner', 'gc')).toBe(true);
    expect(getSS('owner')).toBeUndefined();
    expect(getSecret('dep')).toBeDefined();
    await eventually(() => getSecret('dep') === undefined);
  });

  it('keeps a dependent that still has another owner and drops the dangling reference', async () => {
    const a = server.store.create(sealedSecret('a', 'gc'));
    const b = server.store.create(sealedSecret('b', 'gc'));
    const dep = owned('shared', a);
    (meta(dep)['ownerReferences'] as JsonObject[]).push({ apiVersion: 'kseal.dev/v1alpha1', kind: 'SealedSecret', name: 'b', uid: meta(b)['uid'] as string });
    server.store.create(dep);
    server.store.delete('kseal.dev/v1alpha1', 'SealedSecret', 'a', 'gc');
    await eventually(() => (meta(getSecret('shared'))['ownerReferences'] as unknown[] | undefined)?.length === 1);
    await server.settle();
    expect(getSecret('shared')).toBeDefined();
  });

  it('orphans dependents with propagationPolicy=Orphan and then removes the orphan finalizer', async () => {
    const owner = server.store.create(sealedSecret('o', 'gc'));
    server.store.create(owned('orphan-me', owner));
    const res = await call(server, 'DELETE', `${SS}/o`, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Orphan' });
    expect(res.status).toBe(200);
    expect(meta(res.body)['finalizers']).toEqual(['orphan']);
    expect(meta(res.body)['deletionTimestamp']).toBeTruthy();
    await eventually(() => getSS('o') === undefined);
    expect(meta(getSecret('orphan-me'))['ownerReferences']).toBeUndefined();
  });

  it('deletes blocking dependents first with propagationPolicy=Foreground', async () => {
    const owner = server.store.create(sealedSecret('f', 'gc'));
    server.store.create({ ...owned('blocker', owner, { blockOwnerDeletion: true }), metadata: { ...meta(owned('blocker', owner, { blockOwnerDeletion: true })), finalizers: ['kseal.dev/hold'] } });
    const res = await call(server, 'DELETE', `${SS}/f?propagationPolicy=Foreground`);
    expect(meta(res.body)['finalizers']).toEqual(['foregroundDeletion']);
    // The dependent is being deleted but holds a finalizer: the owner waits.
    await eventually(() => meta(getSecret('blocker'))['deletionTimestamp']);
    await server.settle();
    expect(getSS('f')).toBeDefined();
    server.store.patch('v1', 'Secret', 'blocker', 'gc', { metadata: { finalizers: null } });
    await eventually(() => getSS('f') === undefined);
    expect(getSecret('blocker')).toBeUndefined();
  });

  it('collects an object whose owner does not exist', async () => {
    server.store.create({
      ...secret('dangling', 'gc'),
      metadata: { name: 'dangling', namespace: 'gc', ownerReferences: [{ apiVersion: 'kseal.dev/v1alpha1', kind: 'SealedSecret', name: 'ghost', uid: 'no-such-uid' }] },
    });
    await eventually(() => getSecret('dangling') === undefined);
  });

  it('collects an object whose owner exists with another uid', async () => {
    server.store.create(sealedSecret('reborn', 'gc'));
    server.store.create({
      ...secret('stale-owner', 'gc'),
      metadata: { name: 'stale-owner', namespace: 'gc', ownerReferences: [{ apiVersion: 'kseal.dev/v1alpha1', kind: 'SealedSecret', name: 'reborn', uid: 'old-uid' }] },
    });
    await eventually(() => getSecret('stale-owner') === undefined);
  });

  it('leaves objects alone when garbage collection is off', async () => {
    const off = await startKubeApi({ gc: false, namespaces: ['gc'] });
    try {
      off.store.create({
        ...secret('kept', 'gc'),
        metadata: { name: 'kept', namespace: 'gc', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'nope' }] },
      });
      await off.settle();
      await new Promise((r) => setTimeout(r, 30));
      expect(off.store.get('v1', 'Secret', 'kept', 'gc')).toBeDefined();
    } finally {
      await off.close();
    }
  });
});

describe('namespace deletion', () => {
  it('marks the namespace Terminating, deletes its content, then removes it', async () => {
    server.store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
    server.store.create(secret('s', 'doomed'));
    server.store.create({ ...secret('held', 'doomed'), metadata: { name: 'held', namespace: 'doomed', finalizers: ['kseal.dev/hold'] } });
    const res = await call(server, 'DELETE', '/api/v1/namespaces/doomed');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ kind: 'Namespace', status: { phase: 'Terminating' } });
    const create = await call(server, 'POST', '/api/v1/namespaces/doomed/secrets', secret('late', 'doomed'));
    expect(create.status).toBe(403);
    expect(create.body['message']).toBe('secrets "late" is forbidden: unable to create new content in namespace doomed because it is being terminated');
    await eventually(() => server.store.get('v1', 'Secret', 's', 'doomed') === undefined);
    await eventually(() => {
      const ns = server.store.get('v1', 'Namespace', 'doomed');
      const conds = ((ns?.['status'] as JsonObject | undefined)?.['conditions'] ?? []) as JsonObject[];
      return conds.some((c) => c['type'] === 'NamespaceFinalizersRemaining' && c['status'] === 'True');
    });
    server.store.patch('v1', 'Secret', 'held', 'doomed', { metadata: { finalizers: null } });
    await eventually(() => server.store.get('v1', 'Namespace', 'doomed') === undefined);
  });
});

describe('CRD deletion', () => {
  it('deletes all custom objects, then the CRD, and stops serving the resource', async () => {
    server.store.create(sealedSecret('x1', 'gc'));
    server.store.create({ ...sealedSecret('x2', 'gc'), metadata: { name: 'x2', namespace: 'gc', finalizers: ['kseal.dev/hold'] } });
    const w = await openWatch(server, `${SS}?watch=true&resourceVersion=${server.store.resourceVersion()}`);
    try {
      const res = await call(server, 'DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/sealedsecrets.kseal.dev');
      expect(res.status).toBe(200);
      expect(meta(res.body)['finalizers']).toEqual(['customresourcecleanup.apiextensions.k8s.io']);
      await eventually(() => getSS('x1') === undefined);
      await server.settle();
      expect(server.store.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'sealedsecrets.kseal.dev')).toBeDefined();
      server.store.patch('kseal.dev/v1alpha1', 'SealedSecret', 'x2', 'gc', { metadata: { finalizers: null } });
      await eventually(() => server.store.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'sealedsecrets.kseal.dev') === undefined);
      expect((await call(server, 'GET', SS)).status).toBe(404);
      expect(await w.ended).toBe(true);
      expect(w.events.filter((e) => e.type === 'DELETED').map((e) => meta(e.object)['name']).sort()).toEqual(['x1', 'x2']);
    } finally {
      w.close();
    }
  });

  it('rejects new custom objects while the CRD is terminating', async () => {
    server.store.create({ ...sealedSecret('pin', 'gc'), metadata: { name: 'pin', namespace: 'gc', finalizers: ['kseal.dev/hold'] } });
    await call(server, 'DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/sealedsecrets.kseal.dev');
    const res = await call(server, 'POST', SS, sealedSecret('new', 'gc'));
    expect(res.status).toBe(405);
    expect(res.body['message']).toBe('create not allowed while custom resource definition is terminating');
  });
});
