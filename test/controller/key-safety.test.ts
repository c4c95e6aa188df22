/**
 * Issue 9 regressions on the reconciler and the key registry, in-process against the in-repo API: a
 * SealedSecret cannot plant a sealing key, the controller never writes a key Secret, and a Secret it
 * owns is restored exactly whatever annotations someone put on it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeApiServer } from '../../kube-api/server.js';
import { testKey } from '../helpers/keys.js';
import { eventually, sealedObject } from './fixtures.js';
import { applySealed, CONTROLLER_NS, keySecretObject, keySecrets, readyOf, sealedOf, secretOf, startCluster, startController, valuesOf, waitForReason, type TestController } from './harness.js';

let server: KubeApiServer | undefined;
let controllers: TestController[] = [];

afterEach(async () => {
  await Promise.all(controllers.map((c) => c.stop()));
  controllers = [];
  await server?.close();
  server = undefined;
});

async function setup() {
  server = await startCluster({ withKey: true });
  const ctl = startController(server);
  controllers.push(ctl);
  await eventually('key loaded', () => ctl.controller.keys.newest());
  return { server, ctl };
}

/** A SealedSecret whose template would make a kubernetes.io/tls Secret labelled as a key, holding the rsa-4096 test key. */
function plantingObject(namespace: string, label: string) {
  const key = testKey('rsa-4096');
  return sealedObject({
    name: 'planted',
    namespace,
    type: 'kubernetes.io/tls',
    labels: { [label]: 'active' },
    values: { 'tls.crt': key.certificatePem, 'tls.key': key.privateKeyPem },
  });
}

function warnings(s: KubeApiServer, namespace: string): Array<{ reason: string; type: string }> {
  return (s.store.list('v1', 'Event', namespace) as Array<{ reason: string; type: string }>).filter((e) => e.type === 'Warning');
}

describe('key planting', () => {
  for (const label of ['kseal.dev/sealing-key', 'sealedsecrets.bitnami.com/sealed-secrets-key']) {
    it(`refuses a template labelled ${label} in the controller namespace: InvalidSpec, a Warning Event, no Secret, no new key`, async () => {
      const { server, ctl } = await setup();
      const before = ctl.controller.keys.list().map((k) => k.keyId);
      applySealed(server, plantingObject(CONTROLLER_NS, label));
      const ready = await waitForReason(server, CONTROLLER_NS, 'planted', 'InvalidSpec');
      expect(ready.status).toBe('False');
      expect(ready.message).toContain(label);
      expect(secretOf(server, CONTROLLER_NS, 'planted')).toBeUndefined();
      await eventually('Warning Event', () => warnings(server, CONTROLLER_NS).some((e) => e.reason === 'InvalidSpec'));
      expect(ctl.controller.keys.list().map((k) => k.keyId)).toEqual(before);
    });
  }

  it('refuses a key-labelled template in any other namespace too', async () => {
    const { server } = await setup();
    applySealed(server, plantingObject('app', 'kseal.dev/sealing-key'));
    await waitForReason(server, 'app', 'planted', 'InvalidSpec');
    expect(secretOf(server, 'app', 'planted')).toBeUndefined();
  });

  it('never writes over a key Secret, even one annotated kseal.dev/managed or kseal.dev/patch', async () => {
    const { server } = await setup();
    const key = keySecretObject('hijack', 'rsa-4096') as { metadata: { annotations?: Record<string, string> } };
    key.metadata.annotations = { 'kseal.dev/managed': 'true', 'kseal.dev/patch': 'true' };
    server.store.create(key);
    const original = JSON.stringify(secretOf(server, CONTROLLER_NS, 'hijack')?.data);
    applySealed(server, sealedObject({ name: 'hijack', namespace: CONTROLLER_NS, values: { 'tls.key': 'garbage' } }));
    const ready = await waitForReason(server, CONTROLLER_NS, 'hijack', 'SecretConflict');
    expect(ready.message).toContain('sealing-key');
    expect(JSON.stringify(secretOf(server, CONTROLLER_NS, 'hijack')?.data)).toBe(original);
  });

  it('ignores, as a key, a Secret written from a SealedSecret even when someone labels it a key later', async () => {
    const { server, ctl } = await setup();
    const key = testKey('rsa-4096');
    applySealed(server, sealedObject({ name: 'tlsish', namespace: CONTROLLER_NS, type: 'kubernetes.io/tls', values: { 'tls.crt': key.certificatePem, 'tls.key': key.privateKeyPem } }));
    await waitForReason(server, CONTROLLER_NS, 'tlsish', 'Unsealed');
    const written = secretOf(server, CONTROLLER_NS, 'tlsish')!;
    server.store.update({ ...written, metadata: { ...written.metadata, labels: { ...written.metadata.labels, 'kseal.dev/sealing-key': 'active' } } } as never);
    await eventually('labelled', () => keySecrets(server).some((s) => s.metadata.name === 'tlsish'));
    await new Promise((r) => setTimeout(r, 300));
    expect(ctl.controller.keys.list().map((k) => k.keyId)).not.toContain(key.certificate.keyId);
    expect(ctl.logs()).toContain('written by the controller from a SealedSecret');
  });
});

describe('ownership before annotations', () => {
  it('restores an owned Secret exactly when someone adds kseal.dev/patch and a foreign key', async () => {
    const { server } = await setup();
    applySealed(server, sealedObject({ name: 'app-env', namespace: 'app', values: { a: 'original' } }));
    await waitForReason(server, 'app', 'app-env', 'Unsealed');
    const secret = secretOf(server, 'app', 'app-env')!;
    server.store.update({
      ...secret,
      metadata: { ...secret.metadata, annotations: { ...secret.metadata.annotations, 'kseal.dev/patch': 'true' } },
      data: { ...secret.data, LD_PRELOAD: Buffer.from('/tmp/evil.so').toString('base64') },
    } as never);
    await eventually('foreign key removed', () => secretOf(server, 'app', 'app-env')?.data?.LD_PRELOAD === undefined);
    expect(valuesOf(secretOf(server, 'app', 'app-env'))).toEqual({ a: 'original' });
    expect(readyOf(server, 'app', 'app-env')?.status).toBe('True');
  });

  it('restores an owned Secret exactly when someone strips its ownerReference, owner-uid annotation and label and adds kseal.dev/patch', async () => {
    const { server } = await setup();
    applySealed(server, sealedObject({ name: 'stripped', namespace: 'app', values: { a: 'original' } }));
    await waitForReason(server, 'app', 'stripped', 'Unsealed');
    const secret = secretOf(server, 'app', 'stripped')!;
    // The uid of the Secret it made is in the SealedSecret's status, which a Secret editor cannot change.
    expect((sealedOf(server, 'app', 'stripped') as { status?: { secretUid?: string } }).status?.secretUid).toBe(secret.metadata.uid);
    const { 'kseal.dev/owner-uid': _uid, ...annotations } = secret.metadata.annotations ?? {};
    const { ownerReferences: _refs, labels: _labels, ...metadata } = secret.metadata;
    server.store.update({
      ...secret,
      metadata: { ...metadata, annotations: { ...annotations, 'kseal.dev/patch': 'true' } },
      data: { ...secret.data, LD_PRELOAD: Buffer.from('/tmp/evil.so').toString('base64') },
    } as never);
    await eventually('foreign key removed and ownership restored', () => {
      const s = secretOf(server, 'app', 'stripped');
      return s?.data?.LD_PRELOAD === undefined && s?.metadata.ownerReferences?.length === 1 ? s : undefined;
    });
    const restored = secretOf(server, 'app', 'stripped')!;
    expect(valuesOf(restored)).toEqual({ a: 'original' });
    expect(restored.metadata.annotations?.['kseal.dev/patch']).toBeUndefined();
    expect(readyOf(server, 'app', 'stripped')?.status).toBe('True');
  });

  it('records the uid of the Secret it recreates after someone deleted it', async () => {
    const { server } = await setup();
    applySealed(server, sealedObject({ name: 'gone', namespace: 'app', values: { a: 'original' } }));
    await waitForReason(server, 'app', 'gone', 'Unsealed');
    const old = secretOf(server, 'app', 'gone')!;
    server.store.delete('v1', 'Secret', 'gone', 'app');
    await eventually('recreated by the controller', () => {
      const s = secretOf(server, 'app', 'gone');
      return s !== undefined && s.metadata.uid !== old.metadata.uid ? s : undefined;
    });
    const fresh = secretOf(server, 'app', 'gone')!;
    await eventually('the new uid recorded', () => (sealedOf(server, 'app', 'gone') as { status?: { secretUid?: string } }).status?.secretUid === fresh.metadata.uid);
  });

  it('reports Ready=False SecretImmutable, never Ready=True, for a tampered owned Secret made immutable', async () => {
    const { server } = await setup();
    applySealed(server, sealedObject({ name: 'frozen', namespace: 'app', values: { a: 'original' } }));
    await waitForReason(server, 'app', 'frozen', 'Unsealed');
    const secret = secretOf(server, 'app', 'frozen')!;
    server.store.update({
      ...secret,
      metadata: { ...secret.metadata, annotations: { ...secret.metadata.annotations, 'kseal.dev/patch': 'true' } },
      immutable: true,
      data: { a: Buffer.from('tampered').toString('base64') },
    } as never);
    const ready = await waitForReason(server, 'app', 'frozen', 'SecretImmutable');
    expect(ready.status).toBe('False');
  });
});

describe('patch mode stays patch mode', () => {
  it('never marks a merged-into Secret as owned, so its other keys survive later reconciles', async () => {
    const { server, ctl } = await setup();
    server.store.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'shared', namespace: 'app', annotations: { 'kseal.dev/patch': 'true' } }, data: { keep: Buffer.from('k').toString('base64') } });
    applySealed(server, sealedObject({ name: 'shared', namespace: 'app', values: { a: 'new' } }));
    await waitForReason(server, 'app', 'shared', 'Unsealed');
    expect(secretOf(server, 'app', 'shared')?.metadata.annotations?.['kseal.dev/owner-uid']).toBeUndefined();
    // A second pass (as a resync makes) keeps merging.
    const cur = secretOf(server, 'app', 'shared')!;
    server.store.update({ ...cur, data: { ...cur.data, a: Buffer.from('changed').toString('base64') } } as never);
    await eventually('value restored', () => valuesOf(secretOf(server, 'app', 'shared')).a === 'new');
    expect(valuesOf(secretOf(server, 'app', 'shared'))).toEqual({ a: 'new', keep: 'k' });
    expect(ctl.controller.isLeader()).toBe(true);
  });
});
