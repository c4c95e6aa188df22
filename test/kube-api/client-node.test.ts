// client-node 1.4 against the server: discovery through KubernetesObjectApi (custom resources
// appear with their CRD and disappear with it), ApiException shapes, patch strategies, MicroTime.
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  V1MicroTime,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeApi } from '../../kube-api/server.js';
import type { KubeApiServer } from '../../kube-api/server.js';
import { call, eventually, sealedSecret, sealedSecretCrd } from './test-helpers.js';

let server: KubeApiServer;
let kc: KubeConfig;

beforeAll(async () => {
  server = await startKubeApi({ namespaces: ['cn'] });
  kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig);
});

afterAll(async () => {
  await server.close();
});

async function apiError(p: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiException) return { code: e.code, body: JSON.parse(e.body as string) as Record<string, unknown> };
    throw e;
  }
  throw new Error('expected an ApiException');
}

describe('discovery', () => {
  it('serves /api, /apis, group and resource lists, and /version', async () => {
    expect((await call(server, 'GET', '/api')).body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const apis = await call(server, 'GET', '/apis');
    const groups = (apis.body['groups'] as { name: string; preferredVersion: { groupVersion: string } }[]).map((g) => g.name);
    expect(groups).toEqual(expect.arrayContaining(['apiextensions.k8s.io', 'coordination.k8s.io', 'events.k8s.io']));
    const core = await call(server, 'GET', '/api/v1');
    const resources = core.body['resources'] as { name: string; namespaced: boolean; kind: string; verbs: string[] }[];
    expect(resources.find((r) => r.name === 'secrets')).toMatchObject({ namespaced: true, kind: 'Secret', verbs: expect.arrayContaining(['watch', 'patch']) as unknown });
    expect(resources.find((r) => r.name === 'namespaces')).toMatchObject({ namespaced: false });
    expect(resources.map((r) => r.name)).toContain('namespaces/status');
    expect((await call(server, 'GET', '/version')).body).toMatchObject({ major: '1', minor: '32' });
    expect((await call(server, 'GET', '/openapi/v3')).status).toBe(404);
  });

  it('lists a custom resource only after its CRD is created, and not after it is deleted', async () => {
    expect((await call(server, 'GET', '/apis/kseal.dev/v1alpha1')).status).toBe(404);
    const objects = KubernetesObjectApi.makeApiClient(kc);
    await objects.create(sealedSecretCrd());
    const group = await call(server, 'GET', '/apis/kseal.dev');
    expect(group.body).toMatchObject({ kind: 'APIGroup', name: 'kseal.dev', preferredVersion: { groupVersion: 'kseal.dev/v1alpha1', version: 'v1alpha1' } });
    const list = await call(server, 'GET', '/apis/kseal.dev/v1alpha1');
    expect((list.body['resources'] as { name: string }[]).map((r) => r.name)).toEqual(['sealedsecrets', 'sealedsecrets/status']);
    const created = await objects.create<KubernetesObject>(sealedSecret('via-object-api', 'cn'));
    expect(created.metadata?.uid).toBeTruthy();
    const read = await objects.read({ apiVersion: 'kseal.dev/v1alpha1', kind: 'SealedSecret', metadata: { name: 'via-object-api', namespace: 'cn' } });
    expect(read.metadata?.name).toBe('via-object-api');
    await objects.delete({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'sealedsecrets.kseal.dev' } });
    await server.settle();
    await eventually(async () => (await call(server, 'GET', '/apis/kseal.dev/v1alpha1')).status === 404);
    expect((await call(server, 'GET', '/apis/kseal.dev/v1alpha1/sealedsecrets')).status).toBe(404);
  });
});

describe('client-node errors and patches', () => {
  it('surfaces a 409 Conflict as ApiException with the Status body', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const created = await core.createNamespacedSecret({ namespace: 'cn', body: { metadata: { name: 'conf' }, stringData: { a: 'b' } } });
    await core.replaceNamespacedSecret({ name: 'conf', namespace: 'cn', body: { ...created, data: { a: 'Yw==' } } });
    const err = await apiError(core.replaceNamespacedSecret({ name: 'conf', namespace: 'cn', body: { ...created, data: { a: 'ZA==' } } }));
    expect(err.code).toBe(409);
    expect(err.body).toMatchObject({ kind: 'Status', reason: 'Conflict', code: 409 });
  });

  it('surfaces 404 and 409 AlreadyExists', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    expect((await apiError(core.readNamespacedSecret({ name: 'nope', namespace: 'cn' }))).code).toBe(404);
    await core.createNamespacedSecret({ namespace: 'cn', body: { metadata: { name: 'twice' } } });
    const err = await apiError(core.createNamespacedSecret({ namespace: 'cn', body: { metadata: { name: 'twice' } } }));
    expect(err.body).toMatchObject({ reason: 'AlreadyExists', code: 409 });
  });

  it('applies the JSON patch client-node sends by default and a merge patch when asked', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedSecret({ namespace: 'cn', body: { metadata: { name: 'patched' }, data: { a: 'YQ==' } } });
    const j = await core.patchNamespacedSecret({ name: 'patched', namespace: 'cn', body: [{ op: 'add', path: '/data/b', value: 'Yg==' }] });
    expect(j.data).toEqual({ a: 'YQ==', b: 'Yg==' });
    const m = await core.patchNamespacedSecret(
      { name: 'patched', namespace: 'cn', body: { metadata: { labels: { x: 'y' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(m.metadata?.labels).toEqual({ x: 'y' });
  });

  it('accepts Lease times as V1MicroTime and rejects a plain Date with 400', async () => {
    const leases = kc.makeApiClient(CoordinationV1Api);
    const now = new Date();
    const ok = await leases.createNamespacedLease({
      namespace: 'cn',
      body: { metadata: { name: 'leader' }, spec: { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: new V1MicroTime(now), renewTime: new V1MicroTime(now) } },
    });
    expect(ok.spec?.holderIdentity).toBe('me');
    const err = await apiError(
      leases.createNamespacedLease({ namespace: 'cn', body: { metadata: { name: 'bad-leader' }, spec: { holderIdentity: 'me', renewTime: now } } }),
    );
    expect(err.code).toBe(400);
    expect(String(err.body['message'])).toContain('cannot parse');
  });

  it('answers 415 when KubernetesObjectApi patches a custom resource with its default strategic merge patch', async () => {
    const objects = KubernetesObjectApi.makeApiClient(kc);
    await objects.create(sealedSecretCrd());
    await objects.create(sealedSecret('smp', 'cn'));
    const err = await apiError(objects.patch({ apiVersion: 'kseal.dev/v1alpha1', kind: 'SealedSecret', metadata: { name: 'smp', namespace: 'cn', labels: { a: 'b' } } }));
    expect(err.code).toBe(415);
    const merged = await objects.patch(
      { apiVersion: 'kseal.dev/v1alpha1', kind: 'SealedSecret', metadata: { name: 'smp', namespace: 'cn', labels: { a: 'b' } } },
      undefined, undefined, undefined, undefined, PatchStrategy.MergePatch,
    );
    expect(merged.metadata?.labels).toEqual({ a: 'b' });
  });

  it('accepts any bearer token and records it', () => {
    expect(server.stats.snapshot().tokens).toContain('kseal-test-token');
  });
});
