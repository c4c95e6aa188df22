/** Unit tests of the SealedSecret object (src/model/sealed-secret.ts): sealing, reading and unsealing. */
import { describe, expect, it } from 'vitest';
import { readSecret } from '../../src/model/secret.js';
import { orderKeysByHint } from '../../src/model/key-choice.js';
import {
  readSealedSecret,
  sealedSecretLabel,
  sealedSecretScope,
  sealedValues,
  sealSecret,
  secretFromTemplate,
  unsealSealedSecret,
  type SealedApiVersion,
  type SealedSecret,
} from '../../src/model/sealed-secret.js';
import { SCOPES, type Scope } from '../../src/model/scope.js';
import { testKey } from '../helpers/keys.js';
import { canaryHits, errorText, newCanary } from '../helpers/canary.js';
import { ksealErrorOf } from '../helpers/errors.js';
import { BITNAMI_API_VERSION, BITNAMI_CLUSTER_WIDE, BITNAMI_NAMESPACE_WIDE, KEY_ID_ANNOTATION, KSEAL_API_VERSION, SCOPE_ANNOTATION } from '../../src/wire.js';

const key = testKey('rsa-2048');
const other = testKey('rsa-4096');
const AT = { file: 'in.yaml', document: 1 } as const;

function input(extra: Record<string, unknown> = {}, metadata: Record<string, unknown> = { name: 'db', namespace: 'prod' }) {
  return readSecret({ apiVersion: 'v1', kind: 'Secret', metadata, stringData: { password: 'hunter2', username: 'admin' }, ...extra }, AT);
}

function seal(scope: Scope = 'strict', apiVersion: SealedApiVersion = KSEAL_API_VERSION, secret = input()): SealedSecret {
  return sealSecret(secret, key.certificate, { scope, apiVersion });
}

/** A deep copy, as if the object had been written out and read back. */
function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

const failure = ksealErrorOf;

const unsealedData = (sealed: SealedSecret) =>
  Object.fromEntries(Object.entries(unsealSealedSecret(sealed, [key.entry]).secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));

describe('sealSecret', () => {
  it('writes a kseal.dev/v1alpha1 SealedSecret by default', () => {
    const sealed = sealSecret(input(), key.certificate, { scope: 'strict' });
    expect(sealed.apiVersion).toBe('kseal.dev/v1alpha1');
    expect(sealed.kind).toBe('SealedSecret');
    expect(sealed.metadata.name).toBe('db');
    expect(sealed.metadata.namespace).toBe('prod');
  });

  for (const apiVersion of [KSEAL_API_VERSION, BITNAMI_API_VERSION] as const) {
    for (const scope of SCOPES) {
      it(`round-trips every value sealed ${scope} as ${apiVersion}`, () => {
        const sealed = copy(seal(scope, apiVersion));
        expect(unsealedData(readSealedSecret(sealed, AT))).toEqual({ password: 'hunter2', username: 'admin' });
      });
    }
  }

  for (const scope of SCOPES) {
    it(`records ${scope} in kseal.dev/scope on a kseal object`, () => {
      const annotations = seal(scope).metadata.annotations ?? {};
      expect(annotations[SCOPE_ANNOTATION]).toBe(scope);
      expect(annotations[BITNAMI_CLUSTER_WIDE]).toBeUndefined();
      expect(annotations[BITNAMI_NAMESPACE_WIDE]).toBeUndefined();
    });
  }

  it('writes no scope annotation for strict on a Bitnami object', () => {
    expect(Object.keys(seal('strict', BITNAMI_API_VERSION).metadata.annotations ?? {})).toEqual([KEY_ID_ANNOTATION]);
  });

  it('writes sealedsecrets.bitnami.com/cluster-wide: "true" for cluster-wide on a Bitnami object', () => {
    expect(seal('cluster-wide', BITNAMI_API_VERSION).metadata.annotations).toEqual({ [KEY_ID_ANNOTATION]: key.certificate.keyId, [BITNAMI_CLUSTER_WIDE]: 'true' });
  });

  it('writes sealedsecrets.bitnami.com/namespace-wide: "true" for namespace-wide on a Bitnami object', () => {
    expect(seal('namespace-wide', BITNAMI_API_VERSION).metadata.annotations).toEqual({ [KEY_ID_ANNOTATION]: key.certificate.keyId, [BITNAMI_NAMESPACE_WIDE]: 'true' });
  });

  it('writes the name and namespace into the template of a Bitnami object, as kubeseal does', () => {
    expect(seal('strict', BITNAMI_API_VERSION).spec.template?.metadata).toEqual({ name: 'db', namespace: 'prod' });
  });

  it('records the key id of the certificate in kseal.dev/key-id', () => {
    expect(seal().metadata.annotations?.[KEY_ID_ANNOTATION]).toBe(key.certificate.keyId);
  });

  it('seals values to the certificate key (2048-bit values start with "AQ")', () => {
    for (const value of Object.values(seal().spec.encryptedData)) expect(value).toMatch(/^AQ[A-Za-z0-9+/]+=*$/);
  });

  it('writes encryptedData, labels and annotations in sorted key order', () => {
    const secret = input({ stringData: { zeta: 'z', Alpha: 'A', beta: 'b' } }, { name: 'db', namespace: 'prod', labels: { z: '1', a: '2' }, annotations: { y: '1', b: '2' } });
    const sealed = seal('strict', KSEAL_API_VERSION, secret);
    expect(Object.keys(sealed.spec.encryptedData)).toEqual(['Alpha', 'beta', 'zeta']);
    expect(Object.keys(sealed.metadata.labels ?? {})).toEqual(['a', 'z']);
    expect(Object.keys(sealed.metadata.annotations ?? {})).toEqual(['b', KEY_ID_ANNOTATION, SCOPE_ANNOTATION, 'y']);
    expect(Object.keys(sealed.spec.template?.metadata?.annotations ?? {})).toEqual(['b', 'y']);
  });

  it('copies labels and user annotations into the template, without key-id or scope', () => {
    const secret = input({}, { name: 'db', namespace: 'prod', labels: { app: 'db' }, annotations: { team: 'data' } });
    expect(seal('strict', KSEAL_API_VERSION, secret).spec.template?.metadata).toEqual({ labels: { app: 'db' }, annotations: { team: 'data' } });
  });

  it('carries type and immutable into the template', () => {
    const sealed = seal('strict', KSEAL_API_VERSION, input({ type: 'kubernetes.io/basic-auth', immutable: true }));
    expect(sealed.spec.template?.type).toBe('kubernetes.io/basic-auth');
    expect(sealed.spec.template?.immutable).toBe(true);
    expect(seal().spec.template).toEqual({ type: 'Opaque' });
  });

  it('drops last-applied-configuration annotations, which hold the plaintext', () => {
    const canary = newCanary('last-applied');
    const secret = input({}, {
      name: 'db',
      namespace: 'prod',
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': `{"stringData":{"password":"${canary}"}}`, 'kubecfg.ksonnet.io/last-applied-configuration': canary },
    });
    expect(canaryHits(canary, JSON.stringify(seal('strict', KSEAL_API_VERSION, secret)))).toEqual([]);
  });

  it('drops ownerReferences, managedFields and server-set fields', () => {
    const secret = input({ status: { phase: 'x' } }, {
      name: 'db',
      namespace: 'prod',
      uid: '6f1f4a62-0000-4000-8000-000000000001',
      resourceVersion: '123456',
      generation: 7,
      creationTimestamp: '2024-01-01T00:00:00Z',
      selfLink: '/api/v1/namespaces/prod/secrets/db',
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: 'owner-uid' }],
      managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
    });
    const text = JSON.stringify(seal('strict', KSEAL_API_VERSION, secret));
    for (const dropped of ['uid', 'resourceVersion', '123456', 'generation', 'creationTimestamp', 'selfLink', 'ownerReferences', 'owner-uid', 'managedFields', 'status']) expect(text).not.toContain(dropped);
  });

  it('replaces the scope annotations of the input with the scope it sealed for', () => {
    const secret = input({}, { name: 'db', namespace: 'prod', annotations: { [BITNAMI_CLUSTER_WIDE]: 'true', [SCOPE_ANNOTATION]: 'cluster-wide', keep: 'me' } });
    const sealed = seal('strict', KSEAL_API_VERSION, secret);
    expect(sealed.metadata.annotations).toEqual({ keep: 'me', [KEY_ID_ANNOTATION]: key.certificate.keyId, [SCOPE_ANNOTATION]: 'strict' });
    expect(sealed.spec.template?.metadata?.annotations).toEqual({ keep: 'me' });
  });

  it('never writes a plaintext value into the object', () => {
    const canary = newCanary('sealed');
    const text = JSON.stringify(seal('strict', KSEAL_API_VERSION, input({ stringData: { password: canary } })));
    expect(canaryHits(canary, text)).toEqual([]);
  });

  it('changes only the encrypted values when sealing the same Secret again', () => {
    const a = seal();
    const b = seal();
    expect({ ...a, spec: { ...a.spec, encryptedData: {} } }).toEqual({ ...b, spec: { ...b.spec, encryptedData: {} } });
    expect(a.spec.encryptedData.password).not.toBe(b.spec.encryptedData.password);
  });

  it('rejects a Secret without a name with MISSING_NAME', () => {
    expect(failure(() => seal('strict', KSEAL_API_VERSION, input({}, { namespace: 'prod' }))).code).toBe('MISSING_NAME');
  });

  for (const scope of ['strict', 'namespace-wide'] as const) {
    it(`rejects a Secret without a namespace for ${scope} with MISSING_NAMESPACE`, () => {
      expect(failure(() => seal(scope, KSEAL_API_VERSION, input({}, { name: 'db' }))).code).toBe('MISSING_NAMESPACE');
    });
  }

  it('seals a Secret without a namespace cluster-wide, leaving the namespace out', () => {
    const sealed = seal('cluster-wide', KSEAL_API_VERSION, input({}, { name: 'db' }));
    expect(sealed.metadata.namespace).toBeUndefined();
    expect(unsealedData(sealed).password).toBe('hunter2');
  });

  it('rejects an invalid name with INVALID_NAME', () => {
    expect(failure(() => seal('strict', KSEAL_API_VERSION, input({}, { name: 'DB', namespace: 'prod' }))).code).toBe('INVALID_NAME');
  });

  it('rejects a Secret without values with EMPTY_DATA unless allowed', () => {
    const empty = readSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'prod' } }, AT);
    expect(failure(() => sealSecret(empty, key.certificate, { scope: 'strict' })).code).toBe('EMPTY_DATA');
    expect(sealSecret(empty, key.certificate, { scope: 'strict', allowEmptyData: true }).spec.encryptedData).toEqual({});
  });
});

describe('readSealedSecret', () => {
  it('reads back what sealSecret wrote, for both API versions', () => {
    for (const apiVersion of [KSEAL_API_VERSION, BITNAMI_API_VERSION] as const) {
      const sealed = seal('namespace-wide', apiVersion, input({ immutable: false }, { name: 'db', namespace: 'prod', labels: { app: 'db' } }));
      expect(readSealedSecret(copy(sealed), AT)).toEqual(sealed);
    }
  });

  it('drops fields it does not know, such as status', () => {
    const sealed = { ...copy(seal()), status: { observedGeneration: 1 } };
    expect('status' in readSealedSecret(sealed, AT)).toBe(false);
  });

  it('rejects another kind with NOT_A_SEALED_SECRET', () => {
    expect(failure(() => readSealedSecret({ apiVersion: 'v1', kind: 'Secret' }, AT)).code).toBe('NOT_A_SEALED_SECRET');
  });

  it('rejects an unknown API version with UNSUPPORTED_API_VERSION', () => {
    expect(failure(() => readSealedSecret({ ...copy(seal()), apiVersion: 'bitnami.com/v1' }, AT)).code).toBe('UNSUPPORTED_API_VERSION');
  });

  it('rejects an object without a name with MISSING_NAME', () => {
    expect(failure(() => readSealedSecret({ apiVersion: KSEAL_API_VERSION, kind: 'SealedSecret', metadata: {}, spec: { encryptedData: {} } }, AT)).code).toBe('MISSING_NAME');
  });

  it("rejects Bitnami's pre-2018 spec.data with UNSUPPORTED_TEMPLATE", () => {
    expect(failure(() => readSealedSecret({ apiVersion: BITNAMI_API_VERSION, kind: 'SealedSecret', metadata: { name: 'db' }, spec: { data: 'AgB...' } }, AT)).code).toBe('UNSUPPORTED_TEMPLATE');
  });

  it('rejects an invalid key name in encryptedData with INVALID_KEY_NAME', () => {
    const error = failure(() => readSealedSecret({ apiVersion: KSEAL_API_VERSION, kind: 'SealedSecret', metadata: { name: 'db' }, spec: { encryptedData: { 'a/b': 'AgA=' } } }, AT));
    expect(error.code).toBe('INVALID_KEY_NAME');
    expect(error.key).toBe('a/b');
  });

  it('rejects an object without spec with INVALID_FIELD', () => {
    expect(failure(() => readSealedSecret({ apiVersion: KSEAL_API_VERSION, kind: 'SealedSecret', metadata: { name: 'db' } }, AT)).code).toBe('INVALID_FIELD');
  });
});

describe('identity comes from the object, never the template', () => {
  it('writes the Secret under the object name and namespace even when the template names others', () => {
    const sealed = copy(seal('strict', BITNAMI_API_VERSION));
    sealed.spec.template = { ...sealed.spec.template, metadata: { name: 'other', namespace: 'kube-system' } };
    const { secret } = unsealSealedSecret(sealed, [key.entry]);
    expect(secret.metadata.name).toBe('db');
    expect(secret.metadata.namespace).toBe('prod');
  });

  it('does not let a template scope annotation widen a strict object', () => {
    const sealed = copy(seal('cluster-wide'));
    sealed.metadata.annotations = { ...sealed.metadata.annotations, [SCOPE_ANNOTATION]: 'strict' };
    sealed.spec.template = { ...sealed.spec.template, metadata: { annotations: { [BITNAMI_CLUSTER_WIDE]: 'true', [SCOPE_ANNOTATION]: 'cluster-wide' } } };
    expect(sealedSecretScope(sealed)).toBe('strict');
    expect(failure(() => unsealSealedSecret(sealed, [key.entry])).code).toBe('DECRYPT_FAILED');
  });

  it('fails with DECRYPT_FAILED when a strict object is renamed', () => {
    const sealed = copy(seal('strict'));
    sealed.metadata.name = 'db-copy';
    const error = failure(() => unsealSealedSecret(sealed, [key.entry]));
    expect(error.code).toBe('DECRYPT_FAILED');
    expect(error.key).toBe('password');
  });

  it('fails with DECRYPT_FAILED when a strict object is moved to another namespace', () => {
    const sealed = copy(seal('strict'));
    sealed.metadata.namespace = 'staging';
    expect(failure(() => unsealSealedSecret(sealed, [key.entry])).code).toBe('DECRYPT_FAILED');
  });

  it('fails with DECRYPT_FAILED when the scope annotation of a strict object is widened', () => {
    const sealed = copy(seal('strict'));
    sealed.metadata.annotations = { ...sealed.metadata.annotations, [SCOPE_ANNOTATION]: 'cluster-wide' };
    expect(failure(() => unsealSealedSecret(sealed, [key.entry])).code).toBe('DECRYPT_FAILED');
  });

  it('opens a namespace-wide object renamed within its namespace', () => {
    const sealed = copy(seal('namespace-wide'));
    sealed.metadata.name = 'db-copy';
    expect(unsealSealedSecret(sealed, [key.entry]).secret.metadata.name).toBe('db-copy');
  });

  it('derives the label from the object metadata', () => {
    expect(sealedSecretLabel(seal('strict')).toString()).toBe('prod/db');
    expect(sealedSecretLabel(seal('namespace-wide', BITNAMI_API_VERSION)).toString()).toBe('prod');
    expect(sealedSecretLabel(seal('cluster-wide', BITNAMI_API_VERSION)).length).toBe(0);
  });

  it('reads an object without scope annotations as strict', () => {
    const sealed = copy(seal('strict', BITNAMI_API_VERSION));
    expect(sealedSecretScope(sealed)).toBe('strict');
  });
});

describe('key-id hint', () => {
  const entries = [other.entry, key.entry];

  it('keeps the given order when there is no hint', () => {
    const sealed = copy(seal());
    delete sealed.metadata.annotations?.[KEY_ID_ANNOTATION];
    expect(orderKeysByHint(sealed, entries)).toEqual(entries);
  });

  it('puts the hinted key first', () => {
    expect(orderKeysByHint(seal(), entries).map((e) => e.keyId)).toEqual([key.entry.keyId, other.entry.keyId]);
  });

  it('keeps the given order when the hint names no given key', () => {
    const sealed = copy(seal());
    sealed.metadata.annotations = { ...sealed.metadata.annotations, [KEY_ID_ANNOTATION]: '0'.repeat(64) };
    expect(orderKeysByHint(sealed, entries)).toEqual(entries);
  });

  it('reports which key opened each value', () => {
    const { keyIds } = unsealSealedSecret(seal(), entries);
    expect([...keyIds.entries()]).toEqual([
      ['password', key.entry.keyId],
      ['username', key.entry.keyId],
    ]);
  });

  it('still opens the object when the hint names the wrong key', () => {
    const sealed = copy(seal());
    sealed.metadata.annotations = { ...sealed.metadata.annotations, [KEY_ID_ANNOTATION]: other.entry.keyId };
    expect(unsealSealedSecret(sealed, entries).keyIds.get('password')).toBe(key.entry.keyId);
  });
});

describe('unsealSealedSecret', () => {
  it('builds the Secret with template labels, annotations, type and immutable', () => {
    const secret = input({ type: 'kubernetes.io/basic-auth', immutable: true }, { name: 'db', namespace: 'prod', labels: { app: 'db' }, annotations: { team: 'data' } });
    expect(unsealSealedSecret(seal('strict', KSEAL_API_VERSION, secret), [key.entry]).secret).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db', namespace: 'prod', labels: { app: 'db' }, annotations: { team: 'data' } },
      type: 'kubernetes.io/basic-auth',
      immutable: true,
      data: { password: Buffer.from('hunter2').toString('base64'), username: Buffer.from('admin').toString('base64') },
    });
  });

  it('rejects an empty key list with NO_PRIVATE_KEYS', () => {
    expect(failure(() => unsealSealedSecret(seal(), [])).code).toBe('NO_PRIVATE_KEYS');
  });

  it('fails with DECRYPT_FAILED naming the first key when no key opens it', () => {
    const error = failure(() => unsealSealedSecret(seal(), [other.entry], AT));
    expect(error.code).toBe('DECRYPT_FAILED');
    expect(error.key).toBe('password');
    expect(error.file).toBe('in.yaml');
  });

  it('fails with AUTH_FAILED naming the tampered key', () => {
    const sealed = copy(seal());
    const bytes = Buffer.from(sealed.spec.encryptedData.username ?? '', 'base64');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    sealed.spec.encryptedData.username = bytes.toString('base64');
    const error = failure(() => unsealSealedSecret(sealed, [key.entry]));
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.key).toBe('username');
  });

  it('fails with MALFORMED_CIPHERTEXT naming a value that is not base64', () => {
    const sealed = copy(seal());
    sealed.spec.encryptedData.username = 'not base64!';
    const error = failure(() => sealedValues(sealed, AT));
    expect(error.code).toBe('MALFORMED_CIPHERTEXT');
    expect(error.key).toBe('username');
  });

  it('never shows a plaintext in its errors', () => {
    const canary = newCanary('unseal');
    const sealed = copy(seal('strict', KSEAL_API_VERSION, input({ stringData: { a: canary, b: `${canary}-b` } })));
    const bytes = Buffer.from(sealed.spec.encryptedData.b ?? '', 'base64');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    sealed.spec.encryptedData.b = bytes.toString('base64');
    expect(canaryHits(canary, errorText(failure(() => unsealSealedSecret(sealed, [key.entry]))))).toEqual([]);
    expect(canaryHits(canary, errorText(failure(() => unsealSealedSecret(sealed, [other.entry]))))).toEqual([]);
  });
});

describe('spec.template.data', () => {
  it('adds static template values to the Secret as UTF-8', () => {
    const sealed = copy(seal('strict', BITNAMI_API_VERSION));
    sealed.spec.template = { ...sealed.spec.template, data: { 'config.ini': 'mode=prod\n' } };
    const { secret } = unsealSealedSecret(sealed, [key.entry]);
    expect(Buffer.from(secret.data['config.ini'] ?? '', 'base64').toString()).toBe('mode=prod\n');
    expect(Object.keys(secret.data)).toEqual(['config.ini', 'password', 'username']);
  });

  it('rejects a Go template value with UNSUPPORTED_TEMPLATE naming the key', () => {
    const sealed = copy(seal('strict', BITNAMI_API_VERSION));
    sealed.spec.template = { ...sealed.spec.template, data: { dsn: 'postgres://admin:{{ .password }}@db' } };
    const error = failure(() => unsealSealedSecret(sealed, [key.entry]));
    expect(error.code).toBe('UNSUPPORTED_TEMPLATE');
    expect(error.key).toBe('dsn');
  });

  it('is read from a Bitnami object', () => {
    const sealed = { ...copy(seal('strict', BITNAMI_API_VERSION)) };
    sealed.spec.template = { ...sealed.spec.template, data: { static: 'value' } };
    expect(readSealedSecret(copy(sealed), AT).spec.template?.data).toEqual({ static: 'value' });
  });
});

describe('secretFromTemplate', () => {
  it('defaults the type to Opaque and leaves immutable out without a template', () => {
    const sealed: SealedSecret = { apiVersion: KSEAL_API_VERSION, kind: 'SealedSecret', metadata: { name: 'db', namespace: 'prod' }, spec: { encryptedData: {} } };
    expect(secretFromTemplate(sealed, new Map([['k', Buffer.from('v')]]))).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db', namespace: 'prod' },
      type: 'Opaque',
      data: { k: 'dg==' },
    });
  });
});
