/**
 * Deterministic generator of the known-answer vectors in test/vectors/*.json (format: docs/FORMAT.md).
 *
 * RSA-OAEP is randomized, so the generator does not call an OAEP implementation: it performs the
 * EME-OAEP encoding of RFC 8017 §7.1.1 itself (SHA-256, MGF1-SHA-256) with a seed derived from the
 * vector id, then raw RSA (`publicEncrypt` with RSA_NO_PADDING). Session keys, seeds and filler bytes
 * all come from `derive()`, a SHA-256 counter-mode expansion of a fixed domain string and the vector
 * id, so the same code always produces the same bytes. The library under test is deliberately not
 * used here (only types are imported), so the vectors do not inherit its mistakes.
 *
 * The committed JSON must equal a fresh generation (test/vectors/generate.test.ts). To regenerate
 * after changing this file:
 *
 *   KSEAL_WRITE_VECTORS=1 npx vitest run test/vectors/generate.test.ts
 */
import { constants, createCipheriv, createHash, createPublicKey, publicEncrypt, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ErrorCode } from '../../src/errors.js';
import type { Scope } from '../../src/model/scope.js';

/** What opening a vector must produce. */
export type Expect = 'success' | 'scope failure' | 'auth failure' | 'malformed' | 'no key';

/** The KsealError code each failing class maps to (scope failure and no key are indistinguishable by design). */
export const EXPECT_CODES: Readonly<Record<Exclude<Expect, 'success'>, ErrorCode>> = {
  'scope failure': 'DECRYPT_FAILED',
  'no key': 'DECRYPT_FAILED',
  'auth failure': 'AUTH_FAILED',
  malformed: 'MALFORMED_CIPHERTEXT',
};

export type VectorKeyName = 'rsa-2048' | 'rsa-4096';

export interface Vector {
  /** Unique across all files: `<key>/<class>/<case>`. */
  readonly id: string;
  readonly comment: string;
  readonly expect: Expect;
  /** The KsealError code expected when `expect` is not success. */
  readonly code?: ErrorCode;
  /** Modulus size in bits of the key the value was sealed to. */
  readonly keySize: number;
  /** The test key to open the value with (test/vectors/keys/test-<key>.key.pem). */
  readonly key: VectorKeyName;
  /** Scope, namespace and name of the object the value is opened in; they give the OAEP label. */
  readonly scope: Scope;
  readonly namespace: string;
  readonly name: string;
  /** The value exactly as stored in spec.encryptedData. */
  readonly ciphertext: string;
  /** Base64 of the expected plaintext bytes (success only). */
  readonly plaintext?: string;
  /** Base64 of the AES session key and the OAEP seed, when `ciphertext` is the canonical encoding of them (for encoders). */
  readonly sessionKey?: string;
  readonly oaepSeed?: string;
}

export interface VectorFile {
  readonly description: readonly string[];
  readonly specification: string;
  readonly generator: string;
  readonly keys: Readonly<Record<VectorKeyName, { readonly bits: number; readonly privateKey: string; readonly certificate: string; readonly keyId: string }>>;
  readonly expect: Readonly<Record<Expect, ErrorCode | null>>;
  readonly vectors: readonly Vector[];
}

const KEY_DIR = fileURLToPath(new URL('./keys/', import.meta.url));
const KEY_NAMES: readonly VectorKeyName[] = ['rsa-2048', 'rsa-4096'];
const DOMAIN = 'kseal test vectors v1';
const HASH_LENGTH = 32;
const NONCE = Buffer.alloc(12);

/** `length` pseudo-random bytes fixed by `label`: SHA-256(DOMAIN || 0x00 || label || 0x00 || u32be(i)) for i = 0, 1, ... */
export function derive(label: string, length: number): Buffer {
  const blocks: Buffer[] = [];
  for (let i = 0; blocks.length * HASH_LENGTH < length; i++) {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(i);
    blocks.push(createHash('sha256').update(DOMAIN).update(Buffer.of(0)).update(label, 'utf8').update(Buffer.of(0)).update(counter).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** MGF1 with SHA-256 (RFC 8017 §B.2.1). */
function mgf1(seed: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  for (let i = 0; blocks.length * HASH_LENGTH < length; i++) {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(i);
    blocks.push(createHash('sha256').update(seed).update(counter).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return out;
}

/** EME-OAEP encoding (RFC 8017 §7.1.1 step 2) for a k-byte modulus, SHA-256 and MGF1-SHA-256. */
export function emeOaepEncode(message: Buffer, label: Buffer, seed: Buffer, k: number): Buffer {
  if (seed.length !== HASH_LENGTH) throw new Error('the OAEP seed must be 32 bytes');
  if (message.length > k - 2 * HASH_LENGTH - 2) throw new Error('message too long for OAEP');
  const lHash = createHash('sha256').update(label).digest();
  const ps = Buffer.alloc(k - message.length - 2 * HASH_LENGTH - 2);
  const db = Buffer.concat([lHash, ps, Buffer.of(1), message]);
  const maskedDb = xor(db, mgf1(seed, k - HASH_LENGTH - 1));
  const maskedSeed = xor(seed, mgf1(maskedDb, HASH_LENGTH));
  return Buffer.concat([Buffer.of(0), maskedSeed, maskedDb]);
}

/** RSAES-OAEP-ENCRYPT with a given seed: EME-OAEP then the raw RSA permutation. */
function oaepEncrypt(publicKey: KeyObject, bits: number, label: Buffer, message: Buffer, seed: Buffer): Buffer {
  return publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, emeOaepEncode(message, label, seed, bits / 8));
}

/** AES-GCM with the zero nonce, tag appended; the AES variant follows the key length (16, 24 or 32). */
function gcmSeal(sessionKey: Buffer, plaintext: Buffer): Buffer {
  const cipher = createCipheriv(`aes-${sessionKey.length * 8}-gcm` as 'aes-256-gcm', sessionKey, NONCE);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([body, cipher.getAuthTag()]);
}

function frame(wrapped: Buffer, payload: Buffer, prefix = wrapped.length): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(prefix);
  return Buffer.concat([head, wrapped, payload]);
}

/** The OAEP label for a scope, written out from docs/FORMAT.md. */
export function labelFor(scope: Scope, namespace: string, name: string): Buffer {
  if (scope === 'cluster-wide') return Buffer.alloc(0);
  return Buffer.from(scope === 'namespace-wide' ? namespace : `${namespace}/${name}`, 'utf8');
}

interface LoadedKey {
  readonly name: VectorKeyName;
  readonly bits: number;
  readonly publicKey: KeyObject;
  readonly keyId: string;
}

function loadKey(name: VectorKeyName): LoadedKey {
  const publicKey = createPublicKey(readFileSync(`${KEY_DIR}test-${name}.key.pem`, 'utf8'));
  const bits = publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
  const keyId = createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
  return { name, bits, publicKey, keyId };
}

const NS = 'prod';
const NAME = 'db';
const OTHER_NS = 'staging';
const OTHER_NAME = 'web';
/** The plaintext of most negative vectors: 12 bytes, so that both key sizes give a padded base64 value. */
const SHORT = Buffer.from('hello, kseal', 'utf8');

const PLAINTEXTS: ReadonlyArray<{ readonly tag: string; readonly what: string; readonly bytes: Buffer }> = [
  { tag: 'empty', what: 'an empty value (0 bytes)', bytes: Buffer.alloc(0) },
  { tag: 'binary', what: 'every byte value 0x00..0xff once (256 bytes)', bytes: Buffer.from(Array.from({ length: 256 }, (_, i) => i)) },
  { tag: 'multi-kb', what: 'a 5123-byte pseudo-random value (several KB, not a multiple of the AES block)', bytes: derive('plaintext/multi-kb', 5123) },
  { tag: 'utf8', what: 'UTF-8 text "pässwörd ✓ 🔑 日本語\\n" (with a trailing newline, sealed as is)', bytes: Buffer.from('pässwörd ✓ 🔑 日本語\n', 'utf8') },
];

/** Builds every vector for one key (the `other` key gives the "no key" cases). */
function vectorsFor(key: LoadedKey, other: LoadedKey): Vector[] {
  const k = key.bits / 8;
  const vectors: Vector[] = [];
  const at = { keySize: key.bits, key: key.name } as const;

  /** Seals deterministically; the session key and seed are derived from `id` unless given. */
  const seal = (id: string, target: LoadedKey, label: Buffer, plaintext: Buffer, sessionKey = derive(`${id}/session-key`, 32)) => {
    const oaepSeed = derive(`${id}/oaep-seed`, HASH_LENGTH);
    const wrapped = oaepEncrypt(target.publicKey, target.bits, label, sessionKey, oaepSeed);
    const payload = sessionKey.length === 16 || sessionKey.length === 24 || sessionKey.length === 32 ? gcmSeal(sessionKey, plaintext) : derive(`${id}/payload`, plaintext.length + 16);
    return { bytes: frame(wrapped, payload), wrapped, payload, sessionKey, oaepSeed };
  };
  const success = (tag: string, comment: string, scope: Scope, namespace: string, name: string, sealLabel: Buffer, plaintext: Buffer, options: { sessionKey?: Buffer; reencode?: (b64: string) => string } = {}) => {
    const id = `${key.name}/success/${tag}`;
    const sealed = seal(id, key, sealLabel, plaintext, options.sessionKey);
    const canonical = sealed.bytes.toString('base64');
    const ciphertext = options.reencode === undefined ? canonical : options.reencode(canonical);
    if (ciphertext === canonical && options.reencode !== undefined) throw new Error(`${id}: re-encoding changed nothing`);
    vectors.push({
      id,
      comment,
      expect: 'success',
      ...at,
      scope,
      namespace,
      name,
      ciphertext,
      plaintext: plaintext.toString('base64'),
      ...(options.reencode === undefined ? { sessionKey: sealed.sessionKey.toString('base64'), oaepSeed: sealed.oaepSeed.toString('base64') } : {}),
    });
  };
  const failure = (expect: Exclude<Expect, 'success'>, tag: string, comment: string, ciphertext: string, open: { scope?: Scope; namespace?: string; name?: string; keySize?: number } = {}) => {
    vectors.push({
      id: `${key.name}/${expect.replace(' ', '-')}/${tag}`,
      comment,
      expect,
      code: EXPECT_CODES[expect],
      keySize: open.keySize ?? key.bits,
      key: key.name,
      scope: open.scope ?? 'strict',
      namespace: open.namespace ?? NS,
      name: open.name ?? NAME,
      ciphertext,
    });
  };
  const strictLabel = labelFor('strict', NS, NAME);
  /** A fresh strict value of SHORT for one negative vector, sealed with seeds derived from its id. */
  const base = (id: string) => seal(`${key.name}/${id}`, key, strictLabel, SHORT);

  // --- success: every scope x every kind of value -------------------------------------------------
  for (const scope of ['strict', 'namespace-wide', 'cluster-wide'] as const) {
    for (const p of PLAINTEXTS) {
      success(`${scope}/${p.tag}`, `${scope} value of ${p.what}, opened in ${NS}/${NAME}`, scope, NS, NAME, labelFor(scope, NS, NAME), p.bytes);
    }
  }
  success('namespace-wide/other-name', `a namespace-wide value sealed for ${NS} opens under any name in ${NS} (here ${OTHER_NAME})`, 'namespace-wide', NS, OTHER_NAME, labelFor('namespace-wide', NS, NAME), SHORT);
  success('cluster-wide/other-namespace', `a cluster-wide value opens in any namespace under any name (here ${OTHER_NS}/${OTHER_NAME})`, 'cluster-wide', OTHER_NS, OTHER_NAME, Buffer.alloc(0), SHORT);
  success('session-key-16', 'the session key is 16 bytes (AES-128-GCM); kseal never seals this but opens it, as Go crypto/aes does', 'strict', NS, NAME, strictLabel, SHORT, { sessionKey: derive(`${key.name}/session-key-16`, 16) });
  success('session-key-24', 'the session key is 24 bytes (AES-192-GCM); kseal never seals this but opens it, as Go crypto/aes does', 'strict', NS, NAME, strictLabel, SHORT, { sessionKey: derive(`${key.name}/session-key-24`, 24) });
  success('base64-crlf-76', 'the base64 text is wrapped every 76 characters with CR LF (MIME style); CR and LF are ignored', 'strict', NS, NAME, strictLabel, SHORT, { reencode: (s) => wrap(s, 76, '\r\n') });
  success('base64-lf-64', 'the base64 text is wrapped every 64 characters with LF and ends with LF; LF is ignored', 'strict', NS, NAME, strictLabel, SHORT, { reencode: (s) => `${wrap(s, 64, '\n')}\n` });
  success('base64-nonzero-pad-bits', 'the unused low bits of the last base64 character before the padding are not zero; Go StdEncoding (not Strict) accepts this, so kseal does', 'strict', NS, NAME, strictLabel, SHORT, { reencode: setPadBits });

  // --- scope failure: right key, wrong OAEP label ---------------------------------------------------
  const scopeCases: ReadonlyArray<[string, string, Scope, string, string, Scope, string, string]> = [
    ['strict-other-name', 'strict value sealed for prod/db, opened as prod/web', 'strict', NS, NAME, 'strict', NS, OTHER_NAME],
    ['strict-other-namespace', 'strict value sealed for prod/db, opened as staging/db', 'strict', NS, NAME, 'strict', OTHER_NS, NAME],
    ['strict-as-namespace-wide', 'strict value (label "prod/db") opened as namespace-wide prod (label "prod")', 'strict', NS, NAME, 'namespace-wide', NS, NAME],
    ['strict-as-cluster-wide', 'strict value (label "prod/db") opened as cluster-wide (empty label)', 'strict', NS, NAME, 'cluster-wide', NS, NAME],
    ['namespace-wide-other-namespace', 'namespace-wide value sealed for prod, opened as namespace-wide staging', 'namespace-wide', NS, NAME, 'namespace-wide', OTHER_NS, NAME],
    ['namespace-wide-as-strict', 'namespace-wide value (label "prod") opened as strict prod/db (label "prod/db")', 'namespace-wide', NS, NAME, 'strict', NS, NAME],
    ['namespace-wide-as-cluster-wide', 'namespace-wide value (label "prod") opened as cluster-wide (empty label)', 'namespace-wide', NS, NAME, 'cluster-wide', NS, NAME],
    ['cluster-wide-as-strict', 'cluster-wide value (empty label) opened as strict prod/db', 'cluster-wide', NS, NAME, 'strict', NS, NAME],
    ['cluster-wide-as-namespace-wide', 'cluster-wide value (empty label) opened as namespace-wide prod', 'cluster-wide', NS, NAME, 'namespace-wide', NS, NAME],
  ];
  for (const [tag, comment, sealScope, sealNs, sealName, scope, namespace, name] of scopeCases) {
    const sealed = seal(`${key.name}/scope/${tag}`, key, labelFor(sealScope, sealNs, sealName), SHORT);
    failure('scope failure', tag, `${comment}: the OAEP label differs, so the session key does not unwrap`, b64(sealed.bytes), { scope, namespace, name });
  }

  // --- auth failure: the session key unwraps but AES-GCM does not verify ----------------------------
  const flip = (bytes: Buffer, index: number, mask: number) => {
    const out = Buffer.from(bytes);
    out[index] = (out[index] ?? 0) ^ mask;
    return out;
  };
  {
    const v = base('auth/flip-first-ciphertext-bit');
    failure('auth failure', 'flip-first-ciphertext-bit', 'the lowest bit of the first GCM ciphertext byte (offset 2 + k) is flipped', b64(flip(v.bytes, 2 + k, 0x01)));
  }
  {
    const v = base('auth/flip-last-ciphertext-bit');
    failure('auth failure', 'flip-last-ciphertext-bit', 'the highest bit of the last GCM ciphertext byte (just before the tag) is flipped', b64(flip(v.bytes, v.bytes.length - 17, 0x80)));
  }
  {
    const v = base('auth/flip-first-tag-bit');
    failure('auth failure', 'flip-first-tag-bit', 'the highest bit of the first tag byte (offset length - 16) is flipped', b64(flip(v.bytes, v.bytes.length - 16, 0x80)));
  }
  {
    const v = base('auth/flip-last-tag-bit');
    failure('auth failure', 'flip-last-tag-bit', 'the lowest bit of the last byte of the value (last tag byte) is flipped', b64(flip(v.bytes, v.bytes.length - 1, 0x01)));
  }
  {
    const v = base('auth/zero-tag');
    const bytes = Buffer.from(v.bytes);
    bytes.fill(0, bytes.length - 16);
    failure('auth failure', 'zero-tag', 'the 16-byte tag is replaced by zeros', b64(bytes));
  }
  {
    const v = base('auth/truncated-one-byte');
    failure('auth failure', 'truncated-one-byte', 'the last byte is cut off; 27 bytes remain after the RSA part, enough for a tag, so it is an authentication failure, not malformed', b64(v.bytes.subarray(0, v.bytes.length - 1)));
  }
  {
    const v = base('auth/extra-byte');
    failure('auth failure', 'extra-byte', 'one 0x00 byte is appended after the tag', b64(Buffer.concat([v.bytes, Buffer.of(0)])));
  }
  {
    const a = base('auth/spliced-a');
    const b = base('auth/spliced-b');
    failure('auth failure', 'spliced', 'the wrapped key of one sealing followed by the GCM part of another sealing of the same value (same key, same label)', b64(frame(a.wrapped, b.payload)));
  }

  // --- malformed: framing, session key size, base64 -------------------------------------------------
  {
    const v = base('malformed/framing').bytes;
    failure('malformed', 'empty', 'the value is empty (0 bytes): no length prefix', '');
    failure('malformed', 'one-byte', 'only the first byte of the 2-byte length prefix', b64(v.subarray(0, 1)));
    failure('malformed', 'prefix-only', 'only the 2-byte length prefix; no RSA ciphertext follows', b64(v.subarray(0, 2)));
    failure('malformed', 'truncated-in-rsa', `cut in the middle of the RSA ciphertext (after ${2 + k / 2} of ${2 + k} bytes)`, b64(v.subarray(0, 2 + k / 2)));
    failure('malformed', 'truncated-after-rsa', 'cut right after the RSA ciphertext: no GCM ciphertext and no tag', b64(v.subarray(0, 2 + k)));
    failure('malformed', 'too-short-for-tag', 'only 15 bytes follow the RSA ciphertext, fewer than a 16-byte GCM tag', b64(v.subarray(0, 2 + k + 15)));
    failure('malformed', 'prefix-max', 'the length prefix is 0xffff, far past the end of the value', b64(Buffer.concat([Buffer.of(0xff, 0xff), v.subarray(2)])));
    const pastEnd = Buffer.from(v);
    pastEnd.writeUInt16BE(v.length - 2 + 1);
    failure('malformed', 'prefix-one-past-end', 'the length prefix is one more than the number of bytes after it', b64(pastEnd));
    const toEnd = Buffer.from(v);
    toEnd.writeUInt16BE(v.length - 2);
    failure('malformed', 'prefix-to-end', 'the length prefix covers every remaining byte, leaving nothing for the GCM tag', b64(toEnd));
    failure('malformed', 'prefix-zero', 'the length prefix is zero', b64(Buffer.concat([Buffer.of(0, 0), v.subarray(2)])));
  }
  for (const size of [0, 31, 33]) {
    const sealed = seal(`${key.name}/malformed/session-key-${size}`, key, strictLabel, SHORT, derive(`${key.name}/session-key-${size}`, size));
    failure('malformed', `session-key-${size}`, `the RSA ciphertext unwraps (right key, right label) to a ${size}-byte session key; AES takes 16, 24 or 32`, b64(sealed.bytes));
  }
  {
    const text = b64(base('malformed/base64').bytes);
    const urlSafe = text.replace(/\+/g, '-').replace(/\//g, '_');
    if (urlSafe === text) throw new Error('the base64 text has no + or /; change the seed');
    failure('malformed', 'base64-url-alphabet', 'written with the URL-safe alphabet (- and _ instead of + and /)', urlSafe);
    failure('malformed', 'base64-space', 'a space in the middle of the base64 text (only CR and LF are ignored)', `${text.slice(0, 40)} ${text.slice(40)}`);
    failure('malformed', 'base64-tab', 'a tab in the middle of the base64 text (only CR and LF are ignored)', `${text.slice(0, 40)}\t${text.slice(40)}`);
    failure('malformed', 'base64-star', 'a "*", outside the base64 alphabet, replaces one character', `${text.slice(0, 40)}*${text.slice(41)}`);
    failure('malformed', 'base64-non-ascii', 'a non-ASCII character ("é") replaces one character', `${text.slice(0, 40)}é${text.slice(41)}`);
    failure('malformed', 'base64-no-padding', 'the "=" padding is removed (padding is required)', text.replace(/=+$/, ''));
    failure('malformed', 'base64-extra-padding', 'one "=" too many at the end', `${text}=`);
    failure('malformed', 'base64-padding-inside', 'a complete 4-character group ending in "==" is inserted in the middle', `${text.slice(0, 40)}AA==${text.slice(40)}`);
  }

  // --- no key: nothing the key holder can unwrap ----------------------------------------------------
  {
    const sealed = seal(`${key.name}/no-key/other-key`, other, strictLabel, SHORT);
    failure('no key', 'sealed-for-other-key', `sealed for the other test key (${other.name}) with the right label; opened with ${key.name}`, b64(sealed.bytes), { keySize: other.bits });
    const v = base('no-key/rsa-length').bytes;
    const short = Buffer.from(v);
    short.writeUInt16BE(k - 1);
    failure('no key', 'rsa-ciphertext-one-short', `the length prefix says ${k - 1}, one less than the modulus size: an RSA ciphertext of the wrong length unwraps with no key of this size, which cannot be told from a value for another key`, b64(short));
    const long = Buffer.from(v);
    long.writeUInt16BE(k + 1);
    failure('no key', 'rsa-ciphertext-one-long', `the length prefix says ${k + 1}, one more than the modulus size (the first GCM byte is taken into the RSA part)`, b64(long));
  }
  return vectors;
}

function b64(bytes: Buffer): string {
  return bytes.toString('base64');
}

function wrap(text: string, width: number, eol: string): string {
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += width) lines.push(text.slice(i, i + width));
  return lines.join(eol);
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Sets the lowest (unused) bit of the last data character of a padded base64 text. */
function setPadBits(text: string): string {
  const padding = text.length - text.replace(/=+$/, '').length;
  if (padding === 0) throw new Error('setPadBits needs a padded text');
  const index = text.length - padding - 1;
  const value = ALPHABET.indexOf(text[index] ?? '');
  return `${text.slice(0, index)}${ALPHABET[value | 1] ?? ''}${text.slice(index + 1)}`;
}

/** Returns the vector files (file name relative to test/vectors/ → JSON text with a final newline). */
export function generateVectorFiles(): Record<string, string> {
  const keys = Object.fromEntries(KEY_NAMES.map((name) => [name, loadKey(name)])) as Record<VectorKeyName, LoadedKey>;
  const files: Record<string, string> = {};
  for (const name of KEY_NAMES) {
    const key = keys[name];
    const other = keys[name === 'rsa-2048' ? 'rsa-4096' : 'rsa-2048'];
    const file: VectorFile = {
      description: [
        `Known-answer vectors for the kseal / Bitnami Sealed Secrets value encoding, opened with the ${name} test key.`,
        'Open each ciphertext with `key` under the OAEP label of (scope, namespace, name) and check the outcome against `expect`.',
        'Generated by test/vectors/generate.ts; do not edit by hand. The keys are public and for tests only.',
      ],
      specification: 'docs/FORMAT.md',
      generator: 'test/vectors/generate.ts',
      keys: Object.fromEntries(
        KEY_NAMES.map((n) => [n, { bits: keys[n].bits, privateKey: `keys/test-${n}.key.pem`, certificate: `keys/test-${n}.crt.pem`, keyId: keys[n].keyId }]),
      ) as VectorFile['keys'],
      expect: { success: null, ...EXPECT_CODES },
      vectors: vectorsFor(key, other),
    };
    files[`hybrid-${name}.json`] = `${JSON.stringify(file, null, 2)}\n`;
  }
  return files;
}

/** Parses a vector file's text (for the tests that consume them). */
export function parseVectorFile(text: string): VectorFile {
  return JSON.parse(text) as VectorFile;
}
