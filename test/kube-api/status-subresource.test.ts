// Conformance of the status subresource and metadata.generation (customresource/strategy.go).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeApi } from '../../kube-api/server.js';
import type { KubeApiServer } from '../../kube-api/server.js';
import { call, meta, sealedSecret, sealedSecretCrd } from './test-helpers.js';

let server: KubeApiServer;
const SS = '/apis/kseal.dev/v1alpha1/namespaces/app/sealedsecrets';

beforeAll(async () => {
  server = await startKubeApi({ namespaces: ['app'] });
  server.store.create(sealedSecretCrd());
});

afterAll(async () => {
  await server.close();
});

const READY = { conditions: [{ type: 'Ready', status: 'True', reason: 'Unsealed', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00Z' }] };

describe('status subresource', () => {
  it('drops status sent on create', async () => {
    const res = await call(server, 'POST', SS, { ...sealedSecret('create-status', 'app'), status: READY });
    expect(res.status).toBe(201);
    expect(res.body['status']).toBeUndefined();
    expect(meta(res.body)['generation']).toBe(1);
  });

  it('ignores status in a PUT of the object', async () => {
    const created = await call(server, 'POST', SS, sealedSecret('put-status', 'app'));
    const res = await call(server, 'PUT', `${SS}/put-status`, { ...created.body, status: READY });
    expect(res.status).toBe(200);
    expect(res.body['status']).toBeUndefined();
    expect(meta(res.body)['resourceVersion']).toBe(meta(created.body)['resourceVersion']);
  });

  it('ignores status in a merge patch of the object', async () => {
    await call(server, 'POST', SS, sealedSecret('patch-status', 'app'));
    const res = await call(server, 'PATCH', `${SS}/patch-status`, { status: READY }, { 'Content-Type': 'application/merge-patch+json' });
    expect(res.status).toBe(200);
    expect(res.body['status']).toBeUndefined();
  });

  it('writes only status through /status, keeping spec, labels and generation', async () => {
    const created = await call(server, 'POST', SS, sealedSecret('only-status', 'app'));
    const res = await call(server, 'PUT', `${SS}/only-status/status`, {
      ...created.body,
      metadata: { ...meta(created.body), labels: { ignored: 'yes' } },
      spec: { encryptedData: { changed: 'x' } },
      status: READY,
    });
    expect(res.status).toBe(200);
    expect(res.body['status']).toEqual(READY);
    expect(res.body['spec']).toEqual({ encryptedData: { password: 'AgAAAA==' } });
    expect(meta(res.body)['labels']).toBeUndefined();
    expect(meta(res.body)['generation']).toBe(1);
    expect(Number(meta(res.body)['resourceVersion'])).toBeGreaterThan(Number(meta(created.body)['resourceVersion']));
  });

  it('patches status through /status with a merge patch', async () => {
    await call(server, 'POST', SS, sealedSecret('patch-sub', 'app'));
    const res = await call(server, 'PATCH', `${SS}/patch-sub/status`, { status: { observedGeneration: 1 } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(res.status).toBe(200);
    expect(res.body['status']).toEqual({ observedGeneration: 1 });
  });

  it('answers 409 on /status with a stale resourceVersion', async () => {
    const created = await call(server, 'POST', SS, sealedSecret('stale-status', 'app'));
    await call(server, 'PUT', `${SS}/stale-status/status`, { ...created.body, status: READY });
    const res = await call(server, 'PUT', `${SS}/stale-status/status`, { ...created.body, status: { x: 1 } });
    expect(res.status).toBe(409);
  });

  it('answers 404 for /status of a kind without the subresource', async () => {
    const res = await call(server, 'GET', '/api/v1/namespaces/app/secrets/x/status');
    expect(res.status).toBe(404);
  });

  it('gets the object through /status', async () => {
    await call(server, 'POST', SS, sealedSecret('get-status', 'app'));
    const res = await call(server, 'GET', `${SS}/get-status/status`);
    expect(res.status).toBe(200);
    expect(meta(res.body)['name']).toBe('get-status');
  });
});

describe('generation', () => {
  it('bumps generation on spec changes only', async () => {
    const created = await call(server, 'POST', SS, sealedSecret('gen', 'app'));
    const labels = await call(server, 'PUT', `${SS}/gen`, { ...created.body, metadata: { ...meta(created.body), labels: { a: 'b' } } });
    expect(meta(labels.body)['generation']).toBe(1);
    const spec = await call(server, 'PUT', `${SS}/gen`, { ...labels.body, spec: { encryptedData: { other: 'x' } } });
    expect(meta(spec.body)['generation']).toBe(2);
    const status = await call(server, 'PUT', `${SS}/gen/status`, { ...spec.body, status: READY });
    expect(meta(status.body)['generation']).toBe(2);
  });

  it('bumps generation on status changes when the CRD has no status subresource', async () => {
    const s2 = await startKubeApi({ namespaces: ['app'] });
    try {
      s2.store.create(sealedSecretCrd({ statusSubresource: false }));
      const created = await call(s2, 'POST', SS, sealedSecret('nosub', 'app'));
      const res = await call(s2, 'PUT', `${SS}/nosub`, { ...created.body, status: READY });
      expect(res.body['status']).toEqual(READY);
      expect(meta(res.body)['generation']).toBe(2);
      expect((await call(s2, 'GET', `${SS}/nosub/status`)).status).toBe(404);
    } finally {
      await s2.close();
    }
  });

  it('bumps generation when an object with a generation is marked for deletion', async () => {
    await call(server, 'POST', SS, { ...sealedSecret('gen-del', 'app'), metadata: { name: 'gen-del', finalizers: ['kseal.dev/x'] } });
    const res = await call(server, 'DELETE', `${SS}/gen-del`);
    expect(meta(res.body)['generation']).toBe(2);
    expect(meta(res.body)['deletionTimestamp']).toBeTruthy();
  });

  it('gives the CRD a generation that follows its spec, with storedVersions and Established status', async () => {
    const crd = await call(server, 'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/sealedsecrets.kseal.dev');
    expect(meta(crd.body)['generation']).toBe(1);
    const status = crd.body['status'] as { conditions: { type: string; status: string }[]; storedVersions: string[]; acceptedNames: { kind: string } };
    expect(status.storedVersions).toEqual(['v1alpha1']);
    expect(status.acceptedNames.kind).toBe('SealedSecret');
    expect(status.conditions.find((c) => c.type === 'Established')?.status).toBe('True');
    expect(status.conditions.find((c) => c.type === 'NamesAccepted')?.status).toBe('True');
  });
});
