import { describe, expect, it } from 'vitest';
import { readSealedSecret } from '../../src/model/sealed-secret.js';
import { specHash, verifyIntegrity } from '../../controller/integrity.js';
import { desiredSecret, planWrite, secretMode, verifiedData } from '../../controller/secret-writer.js';
import type { SecretJson } from '../../controller/kube-client.js';
import { asStored, sealedObject, sealingKey } from './fixtures.js';

const key = sealingKey('rsa-2048');
const other = sealingKey('rsa-4096');

function setup(template: Record<string, unknown> = {}) {
  const raw = asStored(sealedObject({ name: 'db', namespace: 'app', values: { password: 'pw', user: 'u' }, labels: { team: 'a' } }));
  const obj = { ...raw, spec: { ...raw.spec, template: { ...raw.spec.template, ...template } } };
  const sealed = readSealedSecret(obj, {});
  const hash = specHash(sealed);
  const unsealed = new Map([
    ['password', Buffer.from('pw')],
    ['user', Buffer.from('u')],
  ]);
  const desired = desiredSecret(sealed, obj, unsealed, [key.keyId], hash, key);
  return { obj, sealed, hash, unsealed, desired };
}

describe('desiredSecret', () => {
  it('carries the template, the values, the managed-by label, an ownerReference and integrity annotations', () => {
    const { desired, obj } = setup();
    expect(desired.metadata.labels).toEqual({ 'kseal.dev/managed-by': 'kseal-controller', team: 'a' });
    expect(desired.metadata.ownerReferences).toEqual([
      { apiVersion: 'kseal.dev/v1alpha1', kind: 'SealedSecret', name: 'db', uid: obj.metadata.uid, controller: true, blockOwnerDeletion: true },
    ]);
    expect(desired.data).toEqual({ password: Buffer.from('pw').toString('base64'), user: Buffer.from('u').toString('base64') });
    expect(desired.metadata.annotations?.['kseal.dev/spec-hash']).toMatch(/^[0-9a-f]{64}$/);
    expect(desired.metadata.annotations?.['kseal.dev/integrity']).toMatch(new RegExp(`^${key.keyId.slice(0, 16)}:[0-9a-f]{64}$`));
    expect(desired.metadata.annotations?.['kseal.dev/owner-uid']).toBe(obj.metadata.uid);
  });

  it('leaves the ownerReference out when the template asks to', () => {
    const { desired } = setup({ metadata: { annotations: { 'kseal.dev/skip-owner-reference': 'true' } } });
    expect(desired.metadata.ownerReferences).toBeUndefined();
  });
});

describe('verifiedData (zero-cost restart)', () => {
  it('accepts a Secret written from the same spec and returns its values without unsealing', () => {
    const { desired, sealed, hash, obj } = setup();
    const v = verifiedData(desired, sealed, hash, obj.metadata.uid!, [other, key]);
    expect(v?.unsealed.get('password')?.toString()).toBe('pw');
    expect(v?.keyIds).toEqual([key.keyId]);
  });

  it('rejects a hand-edited value', () => {
    const { desired, sealed, hash, obj } = setup();
    const edited: SecretJson = { ...desired, data: { ...desired.data, password: Buffer.from('changed').toString('base64') } };
    expect(verifiedData(edited, sealed, hash, obj.metadata.uid!, [key])).toBeUndefined();
  });

  it('rejects a Secret from another spec, and one whose HMAC key is no longer held', () => {
    const { desired, sealed, obj } = setup();
    expect(verifiedData(desired, sealed, 'f'.repeat(64), obj.metadata.uid!, [key])).toBeUndefined();
    expect(verifiedData(desired, sealed, specHash(sealed), obj.metadata.uid!, [other])).toBeUndefined();
  });

  it('rejects a forged integrity annotation', () => {
    const { desired, hash } = setup();
    expect(verifyIntegrity(`${key.keyId.slice(0, 16)}:${'0'.repeat(64)}`, [key], { specHash: hash, ownerUid: 'u', keyIds: [], data: {} })).toBe(false);
    expect(verifyIntegrity(desired.metadata.annotations?.['kseal.dev/integrity'], [key], { specHash: hash, ownerUid: 'other-uid', keyIds: [key.keyId], data: {} })).toBe(false);
  });
});

describe('specHash', () => {
  it('changes with the values and the template but not with key order', () => {
    const { sealed, hash } = setup();
    const reordered = readSealedSecret({ ...sealed, spec: { ...sealed.spec, encryptedData: Object.fromEntries(Object.entries(sealed.spec.encryptedData).reverse()) } }, {});
    expect(specHash(reordered)).toBe(hash);
    expect(specHash({ ...sealed, spec: { ...sealed.spec, template: { type: 'kubernetes.io/basic-auth' } } })).not.toBe(hash);
  });
});

describe('secretMode and planWrite', () => {
  it('classifies missing, owned, managed, patch and foreign Secrets', () => {
    const { desired, obj } = setup();
    const uid = obj.metadata.uid!;
    const foreign: SecretJson = { metadata: { name: 'db', namespace: 'app', resourceVersion: '5' }, data: { x: 'eA==' } };
    expect(secretMode(undefined, uid)).toBe('create');
    expect(secretMode(desired, uid)).toBe('owned');
    expect(secretMode(foreign, uid)).toBe('conflict');
    expect(secretMode({ ...foreign, metadata: { ...foreign.metadata, annotations: { 'kseal.dev/managed': 'true' } } }, uid)).toBe('takeover');
    expect(secretMode({ ...foreign, metadata: { ...foreign.metadata, annotations: { 'sealedsecrets.bitnami.com/patch': 'true' } } }, uid)).toBe('patch');
  });

  it('treats the Secret whose uid the status recorded as owned, whatever its annotations and owners', () => {
    const uid = setup().obj.metadata.uid!;
    const stripped: SecretJson = { metadata: { name: 'db', namespace: 'app', uid: 'secret-uid-1', annotations: { 'kseal.dev/patch': 'true' } }, data: { x: 'eA==' } };
    expect(secretMode(stripped, uid)).toBe('patch');
    expect(secretMode(stripped, uid, 'secret-uid-1')).toBe('owned');
    // Another Secret of the same name (deleted and made again by someone else) is not the recorded one.
    expect(secretMode({ ...stripped, metadata: { ...stripped.metadata, uid: 'secret-uid-2', annotations: {} } }, uid, 'secret-uid-1')).toBe('conflict');
    expect(secretMode({ ...stripped, metadata: { ...stripped.metadata, uid: '' } }, uid, '')).toBe('patch');
  });

  it('writes nothing when the owned Secret is up to date, even with labels others added', () => {
    const { desired } = setup();
    const existing = { ...desired, metadata: { ...desired.metadata, resourceVersion: '3', labels: { ...desired.metadata.labels, extra: 'x' } } };
    expect(planWrite('owned', existing, desired)).toEqual({ action: 'none' });
  });

  it('replaces a drifted owned Secret keeping its resourceVersion and other owners', () => {
    const { desired } = setup();
    const foreignOwner = { apiVersion: 'v1', kind: 'ConfigMap', name: 'c', uid: 'c-uid' };
    const existing: SecretJson = { ...desired, metadata: { ...desired.metadata, resourceVersion: '3', ownerReferences: [foreignOwner, ...desired.metadata.ownerReferences!] }, data: { password: 'eA==' } };
    const plan = planWrite('owned', existing, desired);
    expect(plan.action).toBe('replace');
    if (plan.action !== 'replace') return;
    expect(plan.body.metadata.resourceVersion).toBe('3');
    expect(plan.body.data).toEqual(desired.data);
    expect(plan.body.metadata.ownerReferences?.map((r) => r.uid)).toEqual(['c-uid', desired.metadata.ownerReferences![0]!.uid]);
  });

  it('refuses to change the data of an immutable Secret but may fix its metadata', () => {
    const { desired } = setup();
    const immutable: SecretJson = { ...desired, immutable: true, metadata: { ...desired.metadata, resourceVersion: '3' }, data: { password: 'eA==' } };
    expect(planWrite('owned', immutable, desired)).toEqual({ action: 'immutable' });
    const want = { ...desired, immutable: true };
    const metaOnly: SecretJson = { ...want, metadata: { ...want.metadata, labels: {} } };
    expect(planWrite('owned', metaOnly, want).action).toBe('replace');
  });

  it('merges into a patch-mode Secret, leaving its other keys, labels and owners', () => {
    const { desired } = setup();
    const existing: SecretJson = { metadata: { name: 'db', namespace: 'app', resourceVersion: '9', labels: { own: 'yes' }, annotations: { 'kseal.dev/patch': 'true' } }, type: 'Opaque', data: { keep: 'a2VlcA==', password: 'b2xk' } };
    const plan = planWrite('patch', existing, desired);
    expect(plan.action).toBe('replace');
    if (plan.action !== 'replace') return;
    expect(plan.body.data).toEqual({ ...desired.data, keep: 'a2VlcA==' });
    expect(plan.body.metadata.labels).toMatchObject({ own: 'yes', 'kseal.dev/managed-by': 'kseal-controller' });
    expect(plan.body.metadata.annotations?.['kseal.dev/patch']).toBe('true');
    expect(plan.body.metadata.ownerReferences).toBeUndefined();
  });
});
