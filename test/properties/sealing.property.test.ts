/**
 * Properties of sealing (fast-check), over arbitrary values, key names, namespaces and names:
 * round trips, scope binding, tamper evidence, and that failures are always KsealErrors.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KsealError } from '../../src/errors.js';
import { decodeBase64 } from '../../src/crypto/base64.js';
import { unsealBytes } from '../../src/crypto/hybrid.js';
import { readManifests } from '../../src/manifest/read.js';
import { readSecret, type SecretInput } from '../../src/model/secret.js';
import { readSealedSecret, sealSecret, unsealSealedSecret, type SealedSecret } from '../../src/model/sealed-secret.js';
import { SCOPES, scopeLabel, type Scope } from '../../src/model/scope.js';
import { testKey } from '../helpers/keys.js';

const key = testKey('rsa-2048');
const RUNS = { numRuns: 60 };

const dnsLabel = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,14}[a-z0-9])?$/);
const keyName = fc.stringMatching(/^[-._a-zA-Z0-9]{1,20}$/).filter((k) => k !== '.' && k !== '..');
const value = fc.uint8Array({ minLength: 0, maxLength: 2048 });
const scope = fc.constantFrom(...SCOPES);

function secret(name: string, namespace: string, data: Map<string, Uint8Array>): SecretInput {
  return { name, namespace, labels: {}, annotations: {}, type: 'Opaque', immutable: undefined, data: new Map([...data].map(([k, v]) => [k, Buffer.from(v)])), warnings: [], location: {} };
}

function moved(sealed: SealedSecret, namespace: string, name: string, to?: Scope): SealedSecret {
  const annotations = { ...sealed.metadata.annotations, ...(to === undefined ? {} : { 'kseal.dev/scope': to }) };
  return { ...sealed, metadata: { ...sealed.metadata, name, namespace, annotations } };
}

describe('sealing properties', () => {
  it('every value round-trips through seal and unseal, in every scope', () => {
    fc.assert(
      fc.property(dnsLabel, dnsLabel, scope, fc.dictionary(keyName, value, { minKeys: 1, maxKeys: 4 }), (name, namespace, s, dict) => {
        const data = new Map(Object.entries(dict));
        const sealed = sealSecret(secret(name, namespace, data), key.certificate, { scope: s });
        const { secret: out } = unsealSealedSecret(sealed, [key.entry]);
        for (const [k, v] of data) expect(Buffer.from(out.data[k] ?? '', 'base64').equals(Buffer.from(v))).toBe(true);
      }),
      RUNS,
    );
  });

  it('a strict value opens under no other name or namespace', () => {
    fc.assert(
      fc.property(dnsLabel, dnsLabel, dnsLabel, dnsLabel, value, (name, namespace, otherName, otherNamespace, v) => {
        fc.pre(name !== otherName || namespace !== otherNamespace);
        const sealed = sealSecret(secret(name, namespace, new Map([['k', v]])), key.certificate, { scope: 'strict' });
        expect(() => unsealSealedSecret(moved(sealed, otherNamespace, otherName), [key.entry])).toThrow(KsealError);
      }),
      RUNS,
    );
  });

  it('a namespace-wide value opens under any name but no other namespace', () => {
    fc.assert(
      fc.property(dnsLabel, dnsLabel, dnsLabel, dnsLabel, value, (name, namespace, otherName, otherNamespace, v) => {
        fc.pre(namespace !== otherNamespace);
        const sealed = sealSecret(secret(name, namespace, new Map([['k', v]])), key.certificate, { scope: 'namespace-wide' });
        expect(() => unsealSealedSecret(moved(sealed, namespace, otherName), [key.entry])).not.toThrow();
        expect(() => unsealSealedSecret(moved(sealed, otherNamespace, otherName), [key.entry])).toThrow(KsealError);
      }),
      RUNS,
    );
  });

  it('a value does not open when the object claims another scope', () => {
    fc.assert(
      fc.property(dnsLabel, dnsLabel, scope, scope, value, (name, namespace, from, to, v) => {
        fc.pre(from !== to);
        const sealed = sealSecret(secret(name, namespace, new Map([['k', v]])), key.certificate, { scope: from });
        expect(() => unsealSealedSecret(moved(sealed, namespace, name, to), [key.entry])).toThrow(KsealError);
      }),
      RUNS,
    );
  });

  it('any single flipped bit anywhere in a ciphertext makes it fail', () => {
    const sealed = sealSecret(secret('db', 'app', new Map([['k', Buffer.from('a value worth protecting')]])), key.certificate, { scope: 'strict' });
    const bytes = decodeBase64(sealed.spec.encryptedData.k ?? '') ?? Buffer.alloc(0);
    const label = scopeLabel('strict', 'app', 'db');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length * 8 - 1 }), (bit) => {
        const tampered = Buffer.from(bytes);
        tampered[bit >> 3] = (tampered[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        expect(() => unsealBytes([key.privateKey], label, tampered)).toThrow(KsealError);
      }),
      { numRuns: 200 },
    );
  });

  it('unsealing arbitrary bytes throws only KsealError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.uint8Array({ maxLength: 40 }), (bytes, label) => {
        try {
          unsealBytes([key.privateKey], label, bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(KsealError);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('reading arbitrary objects as SealedSecrets and unsealing them throws only KsealError', () => {
    fc.assert(
      fc.property(fc.anything(), fc.object(), (anything, obj) => {
        for (const candidate of [anything, obj, { apiVersion: 'kseal.dev/v1alpha1', kind: 'SealedSecret', metadata: { name: 'a', namespace: 'b' }, spec: obj }]) {
          try {
            unsealSealedSecret(readSealedSecret(candidate, {}), [key.entry]);
          } catch (e) {
            expect(e).toBeInstanceOf(KsealError);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('reading arbitrary text as manifests and Secrets throws only KsealError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.string({ unit: 'binary' })), (text) => {
        try {
          for (const { value: v, location } of readManifests(text, 'x')) readSecret(v, location);
        } catch (e) {
          expect(e).toBeInstanceOf(KsealError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
