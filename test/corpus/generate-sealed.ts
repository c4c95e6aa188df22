/**
 * The `sealed-secrets` corpus family, generated deterministically from the committed base objects
 * (base-*.yaml, sealed once with the fixed test keys): every way a SealedSecret can be damaged,
 * moved or tampered with, one file per case. `corpus.test.ts` checks the committed files equal a
 * fresh generation; to rewrite them run `KSEAL_WRITE_CORPUS=1 npx vitest run test/corpus`.
 */
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';

export interface GeneratedCase {
  readonly file: string;
  readonly content: string;
  /** The expected error code, or "ok" when the object must open. */
  readonly code: string;
  readonly why: string;
  readonly says?: string;
}

interface Sealed {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; [k: string]: unknown };
  spec: { encryptedData: Record<string, string>; template?: Record<string, unknown>; [k: string]: unknown };
  [k: string]: unknown;
}

const dir = new URL('./', import.meta.url);
const load = (name: string): Sealed => parse(readFileSync(new URL(name, dir), 'utf8')) as Sealed;
const dump = (o: unknown): string => stringify(o, { lineWidth: 0, minContentWidth: 0 });

/** Returns every case of the family, in a stable order. */
export function generateSealedCases(): GeneratedCase[] {
  const base = load('base-strict.yaml');
  const wide = load('base-namespace-wide.yaml');
  const otherKey = load('base-other-key.yaml');
  const cases: GeneratedCase[] = [];
  const add = (file: string, object: unknown, code: string, why: string, says?: string): void => {
    cases.push({ file, content: typeof object === 'string' ? object : dump(object), code, why, ...(says === undefined ? {} : { says }) });
  };
  const clone = (o: Sealed = base): Sealed => structuredClone(o);
  const withValue = (bytes: Buffer | string): Sealed => {
    const o = clone();
    o.spec.encryptedData.password = typeof bytes === 'string' ? bytes : bytes.toString('base64');
    return o;
  };
  const value = Buffer.from(base.spec.encryptedData.password ?? '', 'base64');
  const rsaLength = value.readUInt16BE(0);
  const payloadStart = 2 + rsaLength;
  const tagStart = value.length - 16;
  const flip = (at: number): Buffer => {
    const b = Buffer.from(value);
    b[at] = (b[at] ?? 0) ^ 0x01;
    return b;
  };

  add('valid-strict.yaml', base, 'ok', 'the untouched base object opens');
  add('valid-namespace-wide-renamed.yaml', { ...clone(wide), metadata: { ...wide.metadata, name: 'renamed' } }, 'ok', 'a namespace-wide object opens under any name');

  // Truncation at every boundary of u16 length || RSA ciphertext || AES-GCM ciphertext || tag.
  add('truncated-empty.yaml', withValue(Buffer.alloc(0)), 'MALFORMED_CIPHERTEXT', 'an empty value');
  add('truncated-1-byte.yaml', withValue(value.subarray(0, 1)), 'MALFORMED_CIPHERTEXT', 'one byte: half a length prefix');
  add('truncated-after-prefix.yaml', withValue(value.subarray(0, 2)), 'MALFORMED_CIPHERTEXT', 'the length prefix alone');
  add('truncated-inside-rsa.yaml', withValue(value.subarray(0, 2 + 100)), 'MALFORMED_CIPHERTEXT', 'cut inside the RSA part', 'length prefix says');
  add('truncated-rsa-last-byte.yaml', withValue(value.subarray(0, payloadStart - 1)), 'MALFORMED_CIPHERTEXT', 'cut one byte before the RSA part ends');
  add('truncated-after-rsa.yaml', withValue(value.subarray(0, payloadStart)), 'MALFORMED_CIPHERTEXT', 'the RSA part with no payload');
  add('truncated-payload-shorter-than-tag.yaml', withValue(value.subarray(0, payloadStart + 15)), 'MALFORMED_CIPHERTEXT', 'a payload shorter than a GCM tag');
  add('truncated-inside-ciphertext.yaml', withValue(value.subarray(0, payloadStart + 20)), 'AUTH_FAILED', 'cut inside the AES ciphertext');
  add('truncated-inside-tag.yaml', withValue(value.subarray(0, tagStart + 8)), 'AUTH_FAILED', 'cut inside the tag');
  add('truncated-last-byte.yaml', withValue(value.subarray(0, value.length - 1)), 'AUTH_FAILED', 'the last byte missing');
  add('extended-one-byte.yaml', withValue(Buffer.concat([value, Buffer.from([0])])), 'AUTH_FAILED', 'one byte appended');
  add('extended-duplicated.yaml', withValue(Buffer.concat([value, value])), 'AUTH_FAILED', 'the value twice over');
  // Length prefix.
  const prefixed = (n: number): Buffer => {
    const b = Buffer.from(value);
    b.writeUInt16BE(n, 0);
    return b;
  };
  add('prefix-past-end.yaml', withValue(prefixed(0xffff)), 'MALFORMED_CIPHERTEXT', 'a length prefix larger than the data', 'length prefix says 65535');
  add('prefix-zero.yaml', withValue(prefixed(0)), 'MALFORMED_CIPHERTEXT', 'a zero length prefix');
  add('prefix-one-less.yaml', withValue(prefixed(rsaLength - 1)), 'DECRYPT_FAILED', 'a length prefix one byte short (RSA input of the wrong size)');
  add('prefix-one-more.yaml', withValue(prefixed(rsaLength + 1)), 'DECRYPT_FAILED', 'a length prefix one byte long');
  add('prefix-bit-flip.yaml', withValue(flip(0)), 'MALFORMED_CIPHERTEXT', 'a flipped bit in the high byte of the length prefix');
  // Flipped bits in each part.
  add('flip-rsa-first-byte.yaml', withValue(flip(2)), 'DECRYPT_FAILED', 'a flipped bit in the first RSA byte');
  add('flip-rsa-middle.yaml', withValue(flip(2 + (rsaLength >> 1))), 'DECRYPT_FAILED', 'a flipped bit in the middle of the RSA part');
  add('flip-rsa-last-byte.yaml', withValue(flip(payloadStart - 1)), 'DECRYPT_FAILED', 'a flipped bit in the last RSA byte');
  add('flip-ciphertext-first-byte.yaml', withValue(flip(payloadStart)), 'AUTH_FAILED', 'a flipped bit in the first AES ciphertext byte');
  add('flip-ciphertext-last-byte.yaml', withValue(flip(tagStart - 1)), 'AUTH_FAILED', 'a flipped bit in the last AES ciphertext byte');
  add('flip-tag-first-byte.yaml', withValue(flip(tagStart)), 'AUTH_FAILED', 'a flipped bit in the first tag byte');
  add('flip-tag-last-byte.yaml', withValue(flip(value.length - 1)), 'AUTH_FAILED', 'a flipped bit in the last tag byte');
  // Base64 encoding of the value.
  const b64 = value.toString('base64');
  add('base64-not.yaml', withValue(`${b64.slice(0, 20)}!${b64.slice(21)}`), 'MALFORMED_CIPHERTEXT', 'a character outside the base64 alphabet', 'not valid base64');
  add('base64-url-alphabet.yaml', withValue(b64.replace(/\+/g, '-').replace(/\//g, '_')), 'MALFORMED_CIPHERTEXT', 'the URL-safe alphabet');
  add('base64-no-padding.yaml', withValue(b64.replace(/=+$/, '')), 'MALFORMED_CIPHERTEXT', 'padding removed');
  add('base64-inner-space.yaml', withValue(`${b64.slice(0, 40)} ${b64.slice(40)}`), 'MALFORMED_CIPHERTEXT', 'a space inside the base64 (Go rejects it)');
  add('base64-crlf-accepted.yaml', withValue(b64.replace(/(.{64})/g, '$1\r\n')), 'ok', 'CR/LF inside the base64, which Go ignores');
  add('base64-number.yaml', { ...clone(), spec: { ...base.spec, encryptedData: { ...base.spec.encryptedData, password: 12345 } } }, 'INVALID_FIELD', 'a value that is a number');
  // Moved to where it was not sealed for.
  add('moved-other-name.yaml', { ...clone(), metadata: { ...base.metadata, name: 'stolen' } }, 'DECRYPT_FAILED', 'a strict object renamed');
  add('moved-other-namespace.yaml', { ...clone(), metadata: { ...base.metadata, namespace: 'attacker' } }, 'DECRYPT_FAILED', 'a strict object moved to another namespace');
  add('moved-scope-namespace-wide.yaml', { ...clone(), metadata: { ...base.metadata, annotations: { ...base.metadata.annotations, 'kseal.dev/scope': 'namespace-wide' } } }, 'DECRYPT_FAILED', 'a strict object relabelled namespace-wide');
  add('moved-scope-cluster-wide.yaml', { ...clone(), metadata: { ...base.metadata, annotations: { ...base.metadata.annotations, 'kseal.dev/scope': 'cluster-wide' } } }, 'DECRYPT_FAILED', 'a strict object relabelled cluster-wide');
  add('moved-bitnami-cluster-wide.yaml', { ...clone(), apiVersion: 'bitnami.com/v1alpha1', metadata: { name: 'db', namespace: 'app', annotations: { 'sealedsecrets.bitnami.com/cluster-wide': 'true' } } }, 'DECRYPT_FAILED', "a strict object given Bitnami's cluster-wide annotation");
  add('moved-namespace-wide-other-namespace.yaml', { ...clone(wide), metadata: { ...wide.metadata, namespace: 'attacker' } }, 'DECRYPT_FAILED', 'a namespace-wide object moved to another namespace');
  add('moved-namespace-wide-to-strict.yaml', { ...clone(wide), metadata: { ...wide.metadata, annotations: { ...wide.metadata.annotations, 'kseal.dev/scope': 'strict' } } }, 'DECRYPT_FAILED', 'a namespace-wide object relabelled strict');
  add('value-from-other-object.yaml', { ...clone(), metadata: { ...base.metadata, name: 'web' }, spec: { ...base.spec } }, 'DECRYPT_FAILED', "another object's values pasted under a new name");
  add('other-key.yaml', otherKey, 'DECRYPT_FAILED', 'sealed with a key that is not given', 'no key could decrypt');
  // The template cannot redirect or widen.
  add('template-redirect-name.yaml', { ...clone(), spec: { ...base.spec, template: { metadata: { name: 'elsewhere', namespace: 'kube-system' } } } }, 'ok', 'a template naming another Secret: the Secret keeps the object name', 'name: db');
  add('template-scope-annotation.yaml', { ...clone(), metadata: { ...base.metadata, name: 'stolen' }, spec: { ...base.spec, template: { metadata: { annotations: { 'kseal.dev/scope': 'cluster-wide', 'sealedsecrets.bitnami.com/cluster-wide': 'true' } } } } }, 'DECRYPT_FAILED', 'a moved object whose template claims cluster-wide');
  add('template-go-template-data.yaml', { ...clone(), spec: { ...base.spec, template: { data: { url: 'postgres://{{ index . "username" }}@db' } } } }, 'UNSUPPORTED_TEMPLATE', "Bitnami's Go-template data, which kseal does not run");
  // Object structure.
  add('not-a-sealed-secret.yaml', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'app' }, data: { k: 'YQ==' } }, 'NOT_A_SEALED_SECRET', 'a plain Secret', 'kind Secret');
  add('api-version-unknown.yaml', { ...clone(), apiVersion: 'kseal.dev/v9' }, 'UNSUPPORTED_API_VERSION', 'an unknown apiVersion');
  add('spec-missing.yaml', { apiVersion: base.apiVersion, kind: 'SealedSecret', metadata: base.metadata }, 'INVALID_FIELD', 'no spec');
  add('encrypted-data-list.yaml', { ...clone(), spec: { encryptedData: ['a', 'b'] } }, 'INVALID_FIELD', 'encryptedData that is a list');
  add('encrypted-data-empty.yaml', { ...clone(), spec: { encryptedData: {} } }, 'ok', 'no values: an empty Secret, as with --allow-empty-data');
  add('legacy-spec-data.yaml', { apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name: 'db', namespace: 'app' }, spec: { data: 'AgBy...' } }, 'UNSUPPORTED_TEMPLATE', "Bitnami's pre-2018 whole-Secret format");
  add('name-missing.yaml', { ...clone(), metadata: { namespace: 'app' } }, 'MISSING_NAME', 'no name');
  add('namespace-missing.yaml', { ...clone(), metadata: { name: 'db', annotations: base.metadata.annotations } }, 'MISSING_NAMESPACE', 'a strict object with no namespace');
  add('invalid-key-name.yaml', { ...clone(), spec: { ...base.spec, encryptedData: { 'a/b': base.spec.encryptedData.password } } }, 'INVALID_KEY_NAME', 'a key with a slash');
  add('unknown-fields.yaml', { ...clone(), extra: { x: 1 }, metadata: { ...base.metadata, uid: 'u', resourceVersion: '7' }, spec: { ...base.spec, futureField: true }, status: { conditions: [] } }, 'ok', 'unknown and server fields are ignored');
  return cases;
}
