/**
 * Deterministic generator of the escrow known-answer vectors (test/vectors/escrow-x25519.json,
 * format: docs/FORMAT.md §9). It writes the derivation out from the specification with node:crypto
 * (X25519, HKDF-SHA-256) and tweetnacl's secretbox, importing nothing from src/; every secret,
 * ephemeral key and nonce comes from `derive()` (generate.ts), so the same code gives the same bytes.
 * The committed JSON must equal a fresh generation (generate.test.ts).
 */
import { createPrivateKey, createPublicKey, diffieHellman, hkdfSync } from 'node:crypto';
import nacl from 'tweetnacl';
import type { ErrorCode } from '../../src/errors.js';
import type { Scope } from '../../src/model/scope.js';
import { derive, EXPECT_CODES, labelFor, type Expect } from './generate.js';

export type EscrowIdentityName = 'escrow-a' | 'escrow-b';

export interface EscrowVector {
  readonly id: string;
  readonly comment: string;
  readonly expect: Expect;
  readonly code?: ErrorCode;
  /** The identity to open with. */
  readonly identity: EscrowIdentityName;
  readonly scope: Scope;
  readonly namespace: string;
  readonly name: string;
  /** The value exactly as stored in a spec.recipients entry's encryptedData. */
  readonly ciphertext: string;
  readonly plaintext?: string;
  /** Base64 of the ephemeral secret and the nonce, when `ciphertext` is their canonical sealing (for encoders). */
  readonly ephemeralSecret?: string;
  readonly nonce?: string;
}

export interface EscrowVectorFile {
  readonly description: readonly string[];
  readonly specification: string;
  readonly generator: string;
  /** Raw X25519 keys (hex) of the test identities; public, for tests only. */
  readonly identities: Readonly<Record<EscrowIdentityName, { readonly secretKey: string; readonly publicKey: string }>>;
  readonly expect: Readonly<Record<Expect, ErrorCode | null>>;
  readonly vectors: readonly EscrowVector[];
}

const PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI = Buffer.from('302a300506032b656e032100', 'hex');
const INFO = 'kseal escrow v1';

function publicOf(secret: Buffer): Buffer {
  const der = createPublicKey(createPrivateKey({ key: Buffer.concat([PKCS8, secret]), format: 'der', type: 'pkcs8' })).export({ type: 'spki', format: 'der' });
  return der.subarray(SPKI.length);
}

function dh(secret: Buffer, publicKey: Buffer): Buffer {
  return diffieHellman({
    privateKey: createPrivateKey({ key: Buffer.concat([PKCS8, secret]), format: 'der', type: 'pkcs8' }),
    publicKey: createPublicKey({ key: Buffer.concat([SPKI, publicKey]), format: 'der', type: 'spki' }),
  });
}

/** Seals one value as FORMAT.md §9.3 says, with a given ephemeral secret and nonce. */
function sealEscrow(recipient: Buffer, label: Buffer, plaintext: Buffer, ephemeralSecret: Buffer, nonce: Buffer): Buffer {
  const ephemeral = publicOf(ephemeralSecret);
  const shared = dh(ephemeralSecret, recipient);
  const okm = Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeral, recipient]), Buffer.concat([Buffer.from(INFO), Buffer.of(0), label]), 48));
  const box = nacl.secretbox(plaintext, nonce, okm.subarray(0, 32));
  return Buffer.concat([Buffer.of(1), ephemeral, okm.subarray(32, 48), nonce, box]);
}

const NS = 'prod';
const NAME = 'db';
const SHORT = Buffer.from('hello, kseal', 'utf8');
/** A point of order 8 on Curve25519 (RFC 7748 §6.1 small-order list): every DH with it is zero. */
const LOW_ORDER = Buffer.from('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', 'hex');

function vectors(a: Buffer, b: Buffer): EscrowVector[] {
  const out: EscrowVector[] = [];
  const at = { identity: 'escrow-a' as const };
  const seal = (id: string, recipient: Buffer, label: Buffer, plaintext: Buffer) => {
    const ephemeralSecret = derive(`escrow/${id}/ephemeral`, 32);
    const nonce = derive(`escrow/${id}/nonce`, 24);
    return { bytes: sealEscrow(recipient, label, plaintext, ephemeralSecret, nonce), ephemeralSecret, nonce };
  };
  const success = (tag: string, comment: string, scope: Scope, namespace: string, name: string, sealLabel: Buffer, plaintext: Buffer, reencode?: (s: string) => string) => {
    const id = `escrow-a/success/${tag}`;
    const sealed = seal(id, a, sealLabel, plaintext);
    const canonical = sealed.bytes.toString('base64');
    out.push({
      id,
      comment,
      expect: 'success',
      ...at,
      scope,
      namespace,
      name,
      ciphertext: reencode === undefined ? canonical : reencode(canonical),
      plaintext: plaintext.toString('base64'),
      ...(reencode === undefined ? { ephemeralSecret: sealed.ephemeralSecret.toString('base64'), nonce: sealed.nonce.toString('base64') } : {}),
    });
  };
  const failure = (expect: Exclude<Expect, 'success'>, tag: string, comment: string, ciphertext: string, open: { scope?: Scope; namespace?: string; name?: string } = {}) => {
    out.push({ id: `escrow-a/${expect.replace(' ', '-')}/${tag}`, comment, expect, code: EXPECT_CODES[expect], ...at, scope: open.scope ?? 'strict', namespace: open.namespace ?? NS, name: open.name ?? NAME, ciphertext });
  };
  const strict = labelFor('strict', NS, NAME);
  const base = (id: string) => seal(`escrow-a/${id}`, a, strict, SHORT).bytes;
  const flip = (bytes: Buffer, index: number, mask: number) => {
    const copy = Buffer.from(bytes);
    copy[index] = (copy[index] ?? 0) ^ mask;
    return copy;
  };
  const b64 = (bytes: Buffer) => bytes.toString('base64');

  const plaintexts: ReadonlyArray<[string, string, Buffer]> = [
    ['empty', 'an empty value (0 bytes)', Buffer.alloc(0)],
    ['binary', 'every byte value 0x00..0xff once (256 bytes)', Buffer.from(Array.from({ length: 256 }, (_, i) => i))],
    ['multi-kb', 'a 5123-byte pseudo-random value', derive('escrow/plaintext/multi-kb', 5123)],
    ['utf8', 'UTF-8 text with a trailing newline', Buffer.from('pässwörd ✓ 🔑 日本語\n', 'utf8')],
  ];
  for (const scope of ['strict', 'namespace-wide', 'cluster-wide'] as const) {
    for (const [tag, what, bytes] of plaintexts) success(`${scope}/${tag}`, `${scope} escrow value of ${what}, opened in ${NS}/${NAME}`, scope, NS, NAME, labelFor(scope, NS, NAME), bytes);
  }
  success('namespace-wide/other-name', 'a namespace-wide value sealed for prod opens under any name in prod (here web)', 'namespace-wide', NS, 'web', labelFor('namespace-wide', NS, NAME), SHORT);
  success('cluster-wide/other-namespace', 'a cluster-wide value opens anywhere (here staging/web)', 'cluster-wide', 'staging', 'web', Buffer.alloc(0), SHORT);
  success('base64-crlf-76', 'the base64 text is wrapped every 76 characters with CR LF; CR and LF are ignored', 'strict', NS, NAME, strict, SHORT, (s) => (s.match(/.{1,76}/g) ?? []).join('\r\n'));

  const scopeCases: ReadonlyArray<[string, Scope, Scope, string, string]> = [
    ['strict-other-name', 'strict', 'strict', NS, 'web'],
    ['strict-other-namespace', 'strict', 'strict', 'staging', NAME],
    ['strict-as-namespace-wide', 'strict', 'namespace-wide', NS, NAME],
    ['strict-as-cluster-wide', 'strict', 'cluster-wide', NS, NAME],
    ['namespace-wide-other-namespace', 'namespace-wide', 'namespace-wide', 'staging', NAME],
    ['namespace-wide-as-strict', 'namespace-wide', 'strict', NS, NAME],
    ['namespace-wide-as-cluster-wide', 'namespace-wide', 'cluster-wide', NS, NAME],
    ['cluster-wide-as-strict', 'cluster-wide', 'strict', NS, NAME],
    ['cluster-wide-as-namespace-wide', 'cluster-wide', 'namespace-wide', NS, NAME],
  ];
  for (const [tag, sealScope, scope, namespace, name] of scopeCases) {
    const bytes = seal(`escrow-a/scope/${tag}`, a, labelFor(sealScope, NS, NAME), SHORT).bytes;
    failure('scope failure', tag, `${sealScope} value sealed for ${NS}/${NAME}, opened as ${scope} ${namespace}/${name}: the label is in the HKDF info, so the key confirmation differs`, b64(bytes), { scope, namespace, name });
  }

  failure('no key', 'other-identity', 'sealed for identity escrow-b, opened with escrow-a: the key confirmation differs', b64(seal('escrow-a/no-key/other-identity', b, strict, SHORT).bytes));
  failure('no key', 'flip-ephemeral-bit', 'a bit of the ephemeral public key is flipped: another shared secret, so the key confirmation differs', b64(flip(base('no-key/flip-ephemeral'), 5, 0x01)));
  failure('no key', 'flip-check-bit', 'a bit of the 16-byte key confirmation (offset 33) is flipped', b64(flip(base('no-key/flip-check'), 33, 0x80)));

  {
    const v = base('auth/flip-first-tag-bit');
    failure('auth failure', 'flip-first-tag-bit', 'the first Poly1305 tag byte (offset 73) is flipped', b64(flip(v, 73, 0x01)));
    const w = base('auth/flip-last-byte');
    failure('auth failure', 'flip-last-byte', 'the last ciphertext byte is flipped', b64(flip(w, w.length - 1, 0x80)));
    const n = base('auth/flip-nonce-bit');
    failure('auth failure', 'flip-nonce-bit', 'a nonce bit (offset 49) is flipped: the key confirmation holds, the box does not', b64(flip(n, 49, 0x01)));
    const t = base('auth/truncated-one-byte');
    failure('auth failure', 'truncated-one-byte', 'the last byte is cut off (still longer than the 89-byte minimum)', b64(t.subarray(0, t.length - 1)));
    const x = base('auth/extra-byte');
    failure('auth failure', 'extra-byte', 'one 0x00 byte is appended', b64(Buffer.concat([x, Buffer.of(0)])));
    const s1 = base('auth/spliced-a');
    const s2 = seal('escrow-a/auth/spliced-b', a, strict, SHORT).bytes;
    // Same recipient and label but another ephemeral key: the header of one value with the box of another.
    failure('auth failure', 'spliced', 'the header (version, E, check, nonce) of one sealing and the box of another of the same value', b64(Buffer.concat([s1.subarray(0, 73), s2.subarray(73)])));
  }

  {
    const v = base('malformed/framing');
    failure('malformed', 'empty', 'the value is empty', '');
    failure('malformed', 'too-short', '88 bytes, one fewer than an escrow value of an empty plaintext', b64(v.subarray(0, 88)));
    failure('malformed', 'version-0', 'the version byte is 0x00', b64(Buffer.concat([Buffer.of(0), v.subarray(1)])));
    failure('malformed', 'version-2', 'the version byte is 0x02 (a later version this opener does not know)', b64(Buffer.concat([Buffer.of(2), v.subarray(1)])));
    failure('malformed', 'ephemeral-zero', 'the ephemeral public key is all zeros: the shared secret would be zero', b64(Buffer.concat([v.subarray(0, 1), Buffer.alloc(32), v.subarray(33)])));
    failure('malformed', 'ephemeral-low-order', 'the ephemeral public key is a point of order 8: the shared secret would be zero', b64(Buffer.concat([v.subarray(0, 1), LOW_ORDER, v.subarray(33)])));
    failure('malformed', 'not-base64', 'the text holds a character outside the base64 alphabet', `${b64(v).slice(0, 20)}*${b64(v).slice(21)}`);
    failure('malformed', 'missing-padding', 'the base64 text lacks its final = padding', b64(v).replace(/=+$/, ''));
  }
  return out;
}

/** The escrow vector file (name → JSON text with a final newline). */
export function generateEscrowVectorFiles(): Record<string, string> {
  const secretA = derive('escrow/identity/escrow-a', 32);
  const secretB = derive('escrow/identity/escrow-b', 32);
  const a = publicOf(secretA);
  const b = publicOf(secretB);
  const file: EscrowVectorFile = {
    description: [
      'Known-answer vectors for kseal escrow values (X25519 + HKDF-SHA-256 + XSalsa20-Poly1305), opened with the escrow-a test identity.',
      'Open each ciphertext with `identity` under the scope label of (scope, namespace, name) and check the outcome against `expect`.',
      'Generated by test/vectors/generate-escrow.ts; do not edit by hand. The identities are public and for tests only.',
    ],
    specification: 'docs/FORMAT.md',
    generator: 'test/vectors/generate-escrow.ts',
    identities: { 'escrow-a': { secretKey: secretA.toString('hex'), publicKey: a.toString('hex') }, 'escrow-b': { secretKey: secretB.toString('hex'), publicKey: b.toString('hex') } },
    expect: { success: null, ...EXPECT_CODES },
    vectors: vectors(a, b),
  };
  return { 'escrow-x25519.json': `${JSON.stringify(file, null, 2)}\n` };
}

/** Parses the escrow vector file. */
export function parseEscrowVectorFile(text: string): EscrowVectorFile {
  return JSON.parse(text) as EscrowVectorFile;
}
