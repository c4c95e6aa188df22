/**
 * Escrow values: one Secret value sealed to an offline X25519 identity (docs/FORMAT.md §9), for
 * disaster recovery and editing without any cluster key. A KEM-DEM in the style of age's X25519
 * stanza, with the scope label in the key derivation (the box has no associated data):
 *
 *   e, E = ephemeral X25519 key pair, one per sealing run (per object and recipient)
 *   s    = X25519(e, R)                       (all-zero s is refused: R or E of low order)
 *   okm  = HKDF-SHA-256(ikm = s, salt = E || R, info = "kseal escrow v1" || 0x00 || L, 48 bytes)
 *   K    = okm[0..32]   box key;   check = okm[32..48]   key confirmation
 *   value = 0x01 || E || check || N || XSalsa20-Poly1305(K, N)(P)        (N = 24 random bytes per value)
 *
 * The X25519 and HKDF steps run on node:crypto (~35 µs a DH); the box is tweetnacl's secretbox
 * (XSalsa20-Poly1305, which also runs in browsers). One DH per run, not per value: values of one run
 * share K and differ by their random 24-byte nonce. `check` tells "wrong identity or wrong scope"
 * (DECRYPT_FAILED) from "modified" (AUTH_FAILED), as RSA-OAEP does for cluster values, and commits
 * the value to one key (Poly1305 alone is not key-committing).
 */
import { createHash, createPrivateKey, createPublicKey, diffieHellman, hkdfSync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import nacl from 'tweetnacl';
import { KsealError } from '../errors.js';

/** First byte of every escrow value of this version. */
const ESCROW_VERSION = 0x01;
/** HKDF info prefix: domain separation from every other use of the same keys. */
const ESCROW_INFO = 'kseal escrow v1';
const KEY_BYTES = 32;
const CHECK_BYTES = 16;
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
/** Bytes before the box: version, E, check, N. */
const ESCROW_HEADER_BYTES = 1 + KEY_BYTES + CHECK_BYTES + NONCE_BYTES;
/** Total overhead of an escrow value over its plaintext. */
const ESCROW_OVERHEAD_BYTES = ESCROW_HEADER_BYTES + TAG_BYTES;

const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const ZERO = Buffer.alloc(KEY_BYTES);

/** An X25519 private key (32 raw bytes) as a node:crypto KeyObject. */
function privateKeyObject(secret: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secret]), format: 'der', type: 'pkcs8' });
}

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
}

/** The X25519 public key (32 bytes) of a 32-byte secret. */
export function x25519PublicKey(secret: Uint8Array): Buffer {
  return (createPublicKey(privateKeyObject(secret)).export({ type: 'spki', format: 'der' }) as Buffer).subarray(SPKI_PREFIX.length);
}

/** X25519(secret, publicKey); undefined for an all-zero result (a low-order point) or a point OpenSSL refuses. */
export function x25519(secret: Uint8Array, publicKey: Uint8Array): Buffer | undefined {
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey: privateKeyObject(secret), publicKey: publicKeyObject(publicKey) });
  } catch {
    return undefined;
  }
  return shared.equals(ZERO) ? undefined : shared;
}

/** The key id of an X25519 public key: SHA-256 (hex) of its DER SubjectPublicKeyInfo, as for RSA keys (key-id.ts). */
export function escrowKeyId(publicKey: Uint8Array): string {
  return createHash('sha256').update(SPKI_PREFIX).update(publicKey).digest('hex');
}

/** The box key and key confirmation for one (shared secret, ephemeral, recipient, label). */
function deriveEscrowKeys(shared: Uint8Array, ephemeral: Uint8Array, recipient: Uint8Array, label: Uint8Array): { key: Buffer; check: Buffer } {
  const info = Buffer.concat([Buffer.from(ESCROW_INFO, 'utf8'), Buffer.of(0), label]);
  const okm = Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeral, recipient]), info, KEY_BYTES + CHECK_BYTES));
  return { key: okm.subarray(0, KEY_BYTES), check: okm.subarray(KEY_BYTES) };
}

/** An ephemeral X25519 key and its shared secret with one recipient: one DH, reusable for several labels. */
export class EscrowEphemeral {
  readonly publicKey: Buffer;
  readonly shared: Buffer;

  constructor(
    readonly recipient: Uint8Array,
    ephemeralSecret: Uint8Array = randomBytes(KEY_BYTES),
  ) {
    this.publicKey = x25519PublicKey(ephemeralSecret);
    const shared = x25519(ephemeralSecret, recipient);
    if (shared === undefined) throw new KsealError('CERT_INVALID', 'the escrow recipient is not a usable X25519 public key (low-order point)');
    this.shared = shared;
  }
}

/**
 * Seals values for one escrow recipient under one label (one object): an ephemeral key (new, or an
 * EscrowEphemeral shared by the objects of one run) and the keys derived for the label.
 * `ephemeralSecret` and the per-value `nonce` are for test vectors only.
 */
export class EscrowSealer {
  private readonly ephemeral: Buffer;
  private readonly key: Buffer;
  private readonly check: Buffer;

  constructor(recipient: Uint8Array | EscrowEphemeral, label: Uint8Array, ephemeralSecret?: Uint8Array) {
    const e = recipient instanceof EscrowEphemeral ? recipient : new EscrowEphemeral(recipient, ephemeralSecret);
    this.ephemeral = e.publicKey;
    ({ key: this.key, check: this.check } = deriveEscrowKeys(e.shared, e.publicKey, e.recipient, label));
  }

  /** Seals one value. */
  seal(plaintext: Uint8Array, nonce: Uint8Array = randomBytes(NONCE_BYTES)): Buffer {
    const box = nacl.secretbox(plaintext, nonce, this.key);
    return Buffer.concat([Buffer.of(ESCROW_VERSION), this.ephemeral, this.check, nonce, box]);
  }
}

/** Derived keys per ephemeral key, so the values of one run cost one DH to open. */
export type EscrowOpenCache = Map<string, { key: Buffer; check: Buffer } | undefined>;

/**
 * Opens one escrow value with an identity (secret and public key, 32 bytes each) under `label`.
 * Throws MALFORMED_CIPHERTEXT (framing, version, unusable ephemeral key), DECRYPT_FAILED (another
 * identity, or another name/namespace/scope) or AUTH_FAILED (modified after sealing).
 */
export function openEscrowValue(identity: { readonly secret: Uint8Array; readonly publicKey: Uint8Array }, label: Uint8Array, value: Uint8Array, cache: EscrowOpenCache = new Map()): Buffer {
  const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (bytes.length < ESCROW_OVERHEAD_BYTES) throw malformed(`it is ${bytes.length} bytes, shorter than the ${ESCROW_OVERHEAD_BYTES} bytes of an empty escrow value`);
  if (bytes[0] !== ESCROW_VERSION) throw malformed(`its version byte is ${bytes[0] ?? 0}, not ${ESCROW_VERSION}`);
  const ephemeral = bytes.subarray(1, 1 + KEY_BYTES);
  const check = bytes.subarray(1 + KEY_BYTES, 1 + KEY_BYTES + CHECK_BYTES);
  const nonce = bytes.subarray(1 + KEY_BYTES + CHECK_BYTES, ESCROW_HEADER_BYTES);
  const cacheKey = `${ephemeral.toString('hex')}:${Buffer.from(label).toString('hex')}`;
  let keys = cache.get(cacheKey);
  if (!cache.has(cacheKey)) {
    const shared = x25519(identity.secret, ephemeral);
    keys = shared === undefined ? undefined : deriveEscrowKeys(shared, ephemeral, identity.publicKey, label);
    cache.set(cacheKey, keys);
  }
  if (keys === undefined) throw malformed('its ephemeral key is not a usable X25519 point');
  if (!timingSafeEqual(keys.check, check)) {
    throw new KsealError('DECRYPT_FAILED', 'the identity does not open it', { hint: 'it was sealed for another escrow identity, or for another name, namespace or scope' });
  }
  const plaintext = nacl.secretbox.open(bytes.subarray(ESCROW_HEADER_BYTES), nonce, keys.key);
  if (plaintext === null) {
    throw new KsealError('AUTH_FAILED', 'the value was modified after sealing (XSalsa20-Poly1305 authentication failed)', { hint: 'the ciphertext is corrupt or was tampered with; seal the value again' });
  }
  return Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
}

function malformed(why: string): KsealError {
  return new KsealError('MALFORMED_CIPHERTEXT', `the escrow value is malformed: ${why}`, { hint: 'it was truncated or is not a kseal escrow value' });
}
