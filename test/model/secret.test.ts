/** Unit tests of input Secret reading and checks (src/model/secret.ts). */
import { describe, expect, it } from 'vitest';
import { checkSecretContent, checkSecretNames, MAX_SECRET_BYTES, readSecret, REQUIRED_KEYS, type SecretInput } from '../../src/model/secret.js';
import { canaryHits, errorText, newCanary } from '../helpers/canary.js';
import { ksealErrorOf } from '../helpers/errors.js';

const AT = { file: 'secret.yaml', document: 1 } as const;
const b64 = (text: string) => Buffer.from(text).toString('base64');

function secret(extra: Record<string, unknown> = {}, metadata: Record<string, unknown> = { name: 'db', namespace: 'prod' }): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Secret', metadata, ...extra };
}

const failure = ksealErrorOf;

const read = (value: unknown): SecretInput => readSecret(value, AT);

describe('readSecret', () => {
  it('decodes data values from base64', () => {
    expect(read(secret({ data: { password: b64('s3cret') } })).data.get('password')?.toString()).toBe('s3cret');
  });

  it('takes stringData values as UTF-8 bytes', () => {
    expect(read(secret({ stringData: { note: 'grüße\n' } })).data.get('note')?.equals(Buffer.from('grüße\n', 'utf8'))).toBe(true);
  });

  it('keeps binary data values byte for byte', () => {
    const bytes = Buffer.from([0, 255, 128, 10, 13]);
    expect(read(secret({ data: { blob: bytes.toString('base64') } })).data.get('blob')?.equals(bytes)).toBe(true);
  });

  it('lets stringData win over data for the same key, with a warning', () => {
    const s = read(secret({ data: { password: b64('from-data') }, stringData: { password: 'from-stringData' } }));
    expect(s.data.get('password')?.toString()).toBe('from-stringData');
    expect(s.warnings).toHaveLength(1);
    expect(s.warnings[0]).toMatch(/"password" is in both data and stringData/);
  });

  it('never puts the values in the clash warning', () => {
    const canary = newCanary('clash');
    const s = read(secret({ data: { password: b64(canary) }, stringData: { password: `${canary}-2` } }));
    expect(canaryHits(canary, s.warnings.join('\n'))).toEqual([]);
  });

  it('returns the keys in sorted order', () => {
    const s = read(secret({ data: { zeta: b64('z'), Alpha: b64('A') }, stringData: { beta: 'b', '.dot': 'd' } }));
    expect([...s.data.keys()]).toEqual(['.dot', 'Alpha', 'beta', 'zeta']);
  });

  it('sorts labels and annotations', () => {
    const s = read(secret({}, { name: 'db', labels: { b: '1', a: '2' }, annotations: { z: '1', y: '2' } }));
    expect(Object.keys(s.labels)).toEqual(['a', 'b']);
    expect(Object.keys(s.annotations)).toEqual(['y', 'z']);
  });

  it('drops the kubectl last-applied-configuration annotation, which holds the plaintext', () => {
    const s = read(secret({}, { name: 'db', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{}}', keep: 'me' } }));
    expect(s.annotations).toEqual({ keep: 'me' });
  });

  it('drops the kubecfg last-applied-configuration annotation too', () => {
    const s = read(secret({}, { name: 'db', annotations: { 'kubecfg.ksonnet.io/last-applied-configuration': '{"data":{}}' } }));
    expect(s.annotations).toEqual({});
  });

  it('reads name, namespace, type and immutable', () => {
    const s = read(secret({ type: 'kubernetes.io/basic-auth', immutable: true, stringData: { username: 'u' } }));
    expect([s.name, s.namespace, s.type, s.immutable]).toEqual(['db', 'prod', 'kubernetes.io/basic-auth', true]);
  });

  it('defaults the type to Opaque and leaves immutable unset', () => {
    const s = read(secret({}, { name: 'db' }));
    expect(s.type).toBe('Opaque');
    expect(s.immutable).toBeUndefined();
    expect(s.namespace).toBeUndefined();
  });

  it('reads a Secret without metadata', () => {
    expect(read({ apiVersion: 'v1', kind: 'Secret' }).name).toBeUndefined();
  });

  it('treats null data and stringData as empty', () => {
    expect(read(secret({ data: null, stringData: null })).data.size).toBe(0);
  });

  it('rejects another kind with NOT_A_SECRET naming it', () => {
    const error = failure(() => read({ apiVersion: 'v1', kind: 'ConfigMap' }));
    expect(error.code).toBe('NOT_A_SECRET');
    expect(error.message).toMatch(/kind ConfigMap/);
  });

  it('rejects a document without a kind with NOT_A_SECRET', () => {
    expect(failure(() => read({ apiVersion: 'v1' })).code).toBe('NOT_A_SECRET');
  });

  it('rejects a document that is not a mapping with INVALID_FIELD', () => {
    expect(failure(() => read(['a'])).code).toBe('INVALID_FIELD');
    expect(failure(() => read('text')).code).toBe('INVALID_FIELD');
  });

  it('rejects an apiVersion other than v1 with INVALID_FIELD', () => {
    expect(failure(() => read({ apiVersion: 'v2', kind: 'Secret' })).code).toBe('INVALID_FIELD');
  });

  it('rejects immutable that is not a boolean with INVALID_FIELD', () => {
    expect(failure(() => read(secret({ immutable: 'true' }))).code).toBe('INVALID_FIELD');
  });

  it('rejects a non-string name with INVALID_FIELD', () => {
    expect(failure(() => read(secret({}, { name: 42 }))).code).toBe('INVALID_FIELD');
  });

  const badKeys: ReadonlyArray<[string, string]> = [
    ['an empty key', ''],
    ['a key with a slash', 'a/b'],
    ['a key with a space', 'my key'],
    ['a key with a colon', 'a:b'],
    ['the key "."', '.'],
    ['the key ".."', '..'],
    ['a key of 254 characters', 'k'.repeat(254)],
    ['a non-ASCII key', 'pässword'],
  ];
  for (const [what, key] of badKeys) {
    it(`rejects ${what} with INVALID_KEY_NAME`, () => {
      const error = failure(() => read(secret({ stringData: { [key]: 'v' } })));
      expect(error.code).toBe('INVALID_KEY_NAME');
      expect(error.key).toBe(key);
    });
  }

  it('accepts a key of 253 characters of every allowed kind', () => {
    const key = `a-_.Z9${'k'.repeat(247)}`;
    expect(read(secret({ stringData: { [key]: 'v' } })).data.has(key)).toBe(true);
  });

  it('checks key names in data as well as stringData', () => {
    expect(failure(() => read(secret({ data: { 'a/b': b64('v') } }))).code).toBe('INVALID_KEY_NAME');
  });

  const badBase64: ReadonlyArray<[string, string]> = [
    ['missing padding', 'aGVsbG8'],
    ['the URL-safe alphabet', 'a-_s'],
    ['a space', 'aGVs bG8='],
    ['plain text', 'hello world!'],
  ];
  for (const [what, value] of badBase64) {
    it(`rejects a data value with ${what} with INVALID_BASE64`, () => {
      const error = failure(() => read(secret({ data: { password: value } })));
      expect(error.code).toBe('INVALID_BASE64');
      expect(error.key).toBe('password');
    });
  }

  it('accepts a line-wrapped data value (CR/LF ignored)', () => {
    expect(read(secret({ data: { password: 'aGVs\r\nbG8=\n' } })).data.get('password')?.toString()).toBe('hello');
  });

  it('never shows an invalid data value in the error', () => {
    const canary = newCanary('base64');
    const error = failure(() => read(secret({ data: { password: `${canary}!` } })));
    expect(canaryHits(canary, errorText(error))).toEqual([]);
  });

  it('rejects a non-string value with INVALID_FIELD without showing it', () => {
    const canary = newCanary('list');
    const error = failure(() => read(secret({ stringData: { password: [canary] } })));
    expect(error.code).toBe('INVALID_FIELD');
    expect(error.key).toBe('password');
    expect(canaryHits(canary, errorText(error))).toEqual([]);
  });

  it('rejects a number value with INVALID_FIELD and a hint to quote it', () => {
    const error = failure(() => read(secret({ stringData: { port: 5432 } })));
    expect(error.code).toBe('INVALID_FIELD');
    expect(error.message).toBe('stringData.port must be a string, not a number');
    expect(error.hint).toMatch(/quote/);
  });

  it('carries the location into errors', () => {
    const error = failure(() => read(secret({ data: { password: '!' } })));
    expect(error.format()).toMatch(/^secret\.yaml: document 1: key "password": /);
  });
});

describe('checkSecretContent', () => {
  const content = (data: Record<string, string>, type = 'Opaque') => read(secret({ type, stringData: data }));

  it('rejects a Secret without values with EMPTY_DATA', () => {
    expect(failure(() => checkSecretContent(content({}))).code).toBe('EMPTY_DATA');
  });

  it('accepts a Secret without values when allowed', () => {
    expect(() => checkSecretContent(content({}), { allowEmptyData: true })).not.toThrow();
  });

  it('accepts values adding up to exactly 1 MiB', () => {
    expect(() => checkSecretContent(content({ a: 'x'.repeat(MAX_SECRET_BYTES - 10), b: 'y'.repeat(10) }))).not.toThrow();
  });

  it('rejects values adding up to more than 1 MiB with SECRET_TOO_LARGE', () => {
    const error = failure(() => checkSecretContent(content({ a: 'x'.repeat(MAX_SECRET_BYTES - 10), b: 'y'.repeat(11) })));
    expect(error.code).toBe('SECRET_TOO_LARGE');
    expect(error.message).toContain(String(MAX_SECRET_BYTES + 1));
  });

  it('counts bytes, not characters, against the limit', () => {
    expect(failure(() => checkSecretContent(content({ a: 'é'.repeat(MAX_SECRET_BYTES / 2 + 1) }))).code).toBe('SECRET_TOO_LARGE');
  });

  for (const [type, rule] of Object.entries(REQUIRED_KEYS)) {
    for (const required of rule.all ?? []) {
      it(`requires ${required} in a ${type} Secret`, () => {
        const full = Object.fromEntries((rule.all ?? []).map((k) => [k, 'v']));
        expect(() => checkSecretContent(content(full, type))).not.toThrow();
        const missing = Object.fromEntries((rule.all ?? []).filter((k) => k !== required).map((k) => [k, 'v']));
        const error = failure(() => checkSecretContent(content({ other: 'v', ...missing }, type)));
        expect(error.code).toBe('MISSING_REQUIRED_KEY');
        expect(error.message).toContain(JSON.stringify(required));
      });
    }
    if (rule.oneOf !== undefined) {
      it(`requires one of ${rule.oneOf.join(', ')} in a ${type} Secret`, () => {
        for (const k of rule.oneOf ?? []) expect(() => checkSecretContent(content({ [k]: 'v' }, type))).not.toThrow();
        expect(failure(() => checkSecretContent(content({ other: 'v' }, type))).code).toBe('MISSING_REQUIRED_KEY');
      });
    }
  }

  it('covers every built-in type with required keys', () => {
    expect(Object.keys(REQUIRED_KEYS).sort()).toEqual(['kubernetes.io/basic-auth', 'kubernetes.io/dockercfg', 'kubernetes.io/dockerconfigjson', 'kubernetes.io/ssh-auth', 'kubernetes.io/tls']);
  });

  it('requires nothing of an Opaque or custom-typed Secret', () => {
    expect(() => checkSecretContent(content({ anything: 'v' }, 'example.com/custom'))).not.toThrow();
  });
});

describe('checkSecretNames', () => {
  it('accepts DNS-1123 names and namespaces', () => {
    expect(() => checkSecretNames('db-credentials.v2', 'prod-1', AT)).not.toThrow();
  });

  it('rejects an invalid name with INVALID_NAME', () => {
    for (const name of ['DB', 'db_credentials', '-db', 'db-', 'a'.repeat(254)]) expect(failure(() => checkSecretNames(name, 'prod', AT)).code).toBe('INVALID_NAME');
  });

  it('rejects an invalid namespace with INVALID_NAMESPACE', () => {
    for (const namespace of ['Prod', 'prod.eu', 'a'.repeat(64), 'prod/x']) expect(failure(() => checkSecretNames('db', namespace, AT)).code).toBe('INVALID_NAMESPACE');
  });

  it('accepts a missing name and namespace', () => {
    expect(() => checkSecretNames(undefined, undefined, AT)).not.toThrow();
  });
});
