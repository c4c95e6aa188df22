/**
 * The hybrid encryption of one value, byte-compatible with Bitnami Sealed Secrets
 * (their pkg/crypto/crypto.go; specified in docs/FORMAT.md):
 *
 *   sessionKey = 32 random bytes
 *   payload    = AES-256-GCM(sessionKey, nonce = 12 zero bytes, no AAD)(plaintext) || tag(16)
 *   wrapped    = RSA-OAEP(SHA-256, MGF1-SHA-256, label = scope label)(sessionKey)
 *   value      = u16be(len(wrapped)) || wrapped || payload
 *
 * The all-zero nonce is safe because every session key encrypts exactly one message.
 * RSA and AES run on node:crypto (OpenSSL), ~40x faster than a JavaScript implementation.
 */
import { constants, createCipheriv, createDecipheriv, privateDecrypt, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { KsealError } from '../errors.js';

const NONCE = Buffer.alloc(12);
const TAG_LENGTH = 16;
const SESSION_KEY_LENGTH = 32;
/** AES key sizes Bitnami's controller (Go's crypto/aes) accepts when opening a value. */
const CIPHERS: Readonly<Record<number, string>> = { 16: 'aes-128-gcm', 24: 'aes-192-gcm', 32: 'aes-256-gcm' };

/** The two parts of a sealed value. */
export interface SealedParts {
  /** The RSA-OAEP-wrapped session key. */
  readonly wrappedKey: Buffer;
  /** AES-GCM ciphertext with its 16-byte tag appended. */
  readonly payload: Buffer;
}

/** Seals `plaintext` to `publicKey` with the scope `label`. `sessionKey` is for test vectors only. */
export function sealBytes(publicKey: KeyObject, label: Uint8Array, plaintext: Uint8Array, sessionKey: Buffer = randomBytes(SESSION_KEY_LENGTH)): Buffer {
  const wrappedKey = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: label }, sessionKey);
  const cipher = createCipheriv('aes-256-gcm', sessionKey, NONCE);
  const body = cipher.update(plaintext);
  cipher.final();
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(wrappedKey.length);
  return Buffer.concat([prefix, wrappedKey, body, cipher.getAuthTag()]);
}

/**
 * Splits a sealed value into its parts, checking only the framing. Throws MALFORMED_CIPHERTEXT when
 * the value is shorter than its length prefix says or has no room for a GCM tag.
 */
export function splitSealed(value: Uint8Array): SealedParts {
  const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (bytes.length < 2) throw malformed('it is shorter than its 2-byte length prefix');
  const rsaLength = bytes.readUInt16BE(0);
  if (rsaLength === 0) throw malformed('its length prefix is zero');
  if (bytes.length < 2 + rsaLength) throw malformed(`its length prefix says ${rsaLength} bytes of RSA ciphertext but only ${bytes.length - 2} follow`);
  const payload = bytes.subarray(2 + rsaLength);
  if (payload.length < TAG_LENGTH) throw malformed('it is too short to hold an AES-GCM tag');
  return { wrappedKey: bytes.subarray(2, 2 + rsaLength), payload };
}

/**
 * Unwraps the session key with one private key. Returns undefined when this key and label do not
 * open it (wrong key, or sealed for another scope: RSA-OAEP cannot tell the two apart).
 */
export function unwrapSessionKey(privateKey: KeyObject, label: Uint8Array, wrappedKey: Buffer): Buffer | undefined {
  try {
    return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: label }, wrappedKey);
  } catch {
    return undefined;
  }
}

/** Opens the AES-GCM payload with an unwrapped session key. Throws AUTH_FAILED when the tag does not verify. */
export function openPayload(sessionKey: Buffer, payload: Buffer): Buffer {
  const algorithm = CIPHERS[sessionKey.length];
  if (algorithm === undefined) throw new KsealError('MALFORMED_CIPHERTEXT', `the session key is ${sessionKey.length} bytes; AES needs 16, 24 or 32`);
  const decipher = createDecipheriv(algorithm as 'aes-256-gcm', sessionKey, NONCE, { authTagLength: TAG_LENGTH });
  decipher.setAuthTag(payload.subarray(payload.length - TAG_LENGTH));
  const plaintext = decipher.update(payload.subarray(0, payload.length - TAG_LENGTH));
  try {
    decipher.final();
  } catch {
    throw new KsealError('AUTH_FAILED', 'the value was modified after sealing (AES-GCM authentication failed)', {
      hint: 'the ciphertext is corrupt or was tampered with; seal the value again',
    });
  }
  return plaintext;
}

/** Result of opening a value: the plaintext and which of the given keys opened it. */
export interface Unsealed {
  readonly plaintext: Buffer;
  readonly keyIndex: number;
}

/**
 * Opens a sealed value with the first of `privateKeys` that unwraps it, in the order given (callers put
 * the likeliest key first). Throws MALFORMED_CIPHERTEXT, DECRYPT_FAILED (no key opened it for this
 * label) or AUTH_FAILED.
 */
export function unsealBytes(privateKeys: readonly KeyObject[], label: Uint8Array, value: Uint8Array): Unsealed {
  const { wrappedKey, payload } = splitSealed(value);
  for (let keyIndex = 0; keyIndex < privateKeys.length; keyIndex++) {
    const key = privateKeys[keyIndex];
    if (key === undefined) continue;
    const sessionKey = unwrapSessionKey(key, label, wrappedKey);
    if (sessionKey !== undefined) return { plaintext: openPayload(sessionKey, payload), keyIndex };
  }
  throw new KsealError('DECRYPT_FAILED', `no key could decrypt it (tried ${privateKeys.length} key${privateKeys.length === 1 ? '' : 's'})`, {
    hint: 'it was sealed with another key, or for another name, namespace or scope',
  });
}

function malformed(why: string): KsealError {
  return new KsealError('MALFORMED_CIPHERTEXT', `the sealed value is malformed: ${why}`, { hint: 'it was truncated or is not a kseal/Sealed Secrets value' });
}
