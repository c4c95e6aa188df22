import { describe, expect, it } from 'vitest';
import { compactSecret, isStub, sealedSecretStub } from '../../controller/compact-objects.js';
import type { KubeObject, SecretJson } from '../../controller/kube-client.js';

const sealed: KubeObject = {
  apiVersion: 'kseal.dev/v1alpha1',
  kind: 'SealedSecret',
  metadata: { name: 'db', namespace: 'app', uid: 'u-1', resourceVersion: '7', generation: 2, annotations: { 'kseal.dev/scope': 'strict' }, creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { encryptedData: { password: 'AgB...' } },
  status: { conditions: [{ type: 'Ready', status: 'True' }] },
};

describe('compact cached objects', () => {
  it('keeps only the metadata a SealedSecret is keyed, sharded and compared by in its stub', () => {
    const stub = sealedSecretStub(sealed);
    expect(isStub(stub)).toBe(true);
    expect(isStub(sealed)).toBe(false);
    expect(stub.metadata).toEqual({ name: 'db', namespace: 'app', uid: 'u-1', resourceVersion: '7', generation: 2 });
    expect(stub['spec']).toBeUndefined();
    expect(stub['status']).toBeUndefined();
    expect(sealedSecretStub(stub)).toBe(stub);
  });

  it('holds exactly the stub fields and no key with an undefined value, in the usual shape and in the rare ones', () => {
    expect(Object.keys(sealedSecretStub(sealed)).sort()).toEqual(['apiVersion', 'kind', 'kseal.dev/stub', 'metadata']);
    expect(Object.keys(sealedSecretStub(sealed).metadata).sort()).toEqual(['generation', 'name', 'namespace', 'resourceVersion', 'uid']);
    const bare: KubeObject = { metadata: { name: 'x', namespace: 'app', uid: 'u-2' }, spec: {} };
    const stub = sealedSecretStub(bare);
    expect(Object.keys(stub).sort()).toEqual(['kseal.dev/stub', 'metadata']);
    expect(stub.metadata).toStrictEqual({ name: 'x', namespace: 'app', uid: 'u-2' });
    expect(isStub(stub)).toBe(true);
  });

  it('keeps the deletion timestamp in a stub, so a deleted object is still seen as deleted', () => {
    const deleting = { ...sealed, metadata: { ...sealed.metadata, deletionTimestamp: '2026-01-02T00:00:00Z' } };
    expect(sealedSecretStub(deleting).metadata.deletionTimestamp).toBe('2026-01-02T00:00:00Z');
  });

  it('keeps every field of a managed Secret but its managedFields', () => {
    const secret: SecretJson = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'db',
        namespace: 'app',
        labels: { 'kseal.dev/managed-by': 'kseal-controller' },
        annotations: { 'kseal.dev/unsealed-with': 'abc', 'kseal.dev/spec-hash': 'h' },
        ownerReferences: [{ apiVersion: 'kseal.dev/v1alpha1', kind: 'SealedSecret', name: 'db', uid: 'u-1', controller: true }],
        managedFields: [{ manager: 'x' }],
      },
      type: 'Opaque',
      immutable: false,
      data: { password: 'cHc=' },
    };
    const { managedFields: _m, ...metadata } = secret.metadata;
    expect(compactSecret(secret)).toEqual({ ...secret, metadata });
  });
});
