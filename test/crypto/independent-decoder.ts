/**
 * A second, independent implementation of the sealed value format, written from docs/FORMAT.md
 * alone with node-forge for every cryptographic operation (RSA-OAEP, AES-GCM) and nothing from
 * src/. The tests use it to check that the library and the specification agree: what one seals, the
 * other opens. It is deliberately plain and slow (pure JavaScript RSA); it is not product code.
 *
 * forge byte strings are "binary" strings (one char per byte); conversions go through Buffer, since
 * forge's own helpers overflow the stack near 1 MiB.
 */
import forge from 'node-forge';

/** The outcome classes of docs/FORMAT.md §"Opening a value". */
export type IndependentFailure = 'malformed' | 'no key or wrong scope' | 'auth failure';
export type IndependentOutcome = { readonly ok: true; readonly plaintext: Buffer } | { readonly ok: false; readonly failure: IndependentFailure; readonly why: string };

export type IndependentScope = 'strict' | 'namespace-wide' | 'cluster-wide';

const TAG_BYTES = 16;
const NONCE = '\0'.repeat(12);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The OAEP label as text: "namespace/name", "namespace" or "" (FORMAT.md §Labels). */
export function independentLabel(scope: IndependentScope, namespace: string, name: string): string {
  switch (scope) {
    case 'strict':
      return `${namespace}/${name}`;
    case 'namespace-wide':
      return namespace;
    case 'cluster-wide':
      return '';
  }
}

function toBinary(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('binary');
}

function fromBinary(text: string): Buffer {
  return Buffer.from(text, 'binary');
}

function oaepOptions(label: string, seed?: Buffer): Record<string, unknown> {
  // forge defaults both hashes to SHA-1: pass SHA-256 for OAEP and, separately, for MGF1.
  const options: Record<string, unknown> = { md: forge.md.sha256.create(), mgf1: { md: forge.md.sha256.create() }, label: toBinary(Buffer.from(label, 'utf8')) };
  if (seed !== undefined) options.seed = toBinary(seed);
  return options;
}

const privateKeys = new Map<string, forge.pki.rsa.PrivateKey>();

function forgePrivateKey(pem: string): forge.pki.rsa.PrivateKey {
  let key = privateKeys.get(pem);
  if (key === undefined) {
    key = forge.pki.privateKeyFromPem(pem);
    privateKeys.set(pem, key);
  }
  return key;
}

/** Decodes the stored text: standard alphabet, padding required, CR/LF ignored, nothing else (FORMAT.md §Base64). */
export function independentDecodeBase64(text: string): Buffer | undefined {
  const compact = text.replace(/[\r\n]/g, '');
  return BASE64.test(compact) ? Buffer.from(compact, 'base64') : undefined;
}

/** Opens one stored value (base64 text) with one private key (PEM) under the given label text. */
export function independentOpen(privateKeyPem: string, label: string, stored: string): IndependentOutcome {
  const value = independentDecodeBase64(stored);
  if (value === undefined) return { ok: false, failure: 'malformed', why: 'not base64' };
  if (value.length < 2) return { ok: false, failure: 'malformed', why: 'no length prefix' };
  const rsaLength = value.readUInt16BE(0);
  if (rsaLength === 0) return { ok: false, failure: 'malformed', why: 'zero length prefix' };
  if (value.length < 2 + rsaLength) return { ok: false, failure: 'malformed', why: 'length prefix past the end' };
  const wrapped = value.subarray(2, 2 + rsaLength);
  const sealed = value.subarray(2 + rsaLength);
  if (sealed.length < TAG_BYTES) return { ok: false, failure: 'malformed', why: 'no room for the tag' };

  let sessionKey: string;
  try {
    sessionKey = forgePrivateKey(privateKeyPem).decrypt(toBinary(wrapped), 'RSA-OAEP', oaepOptions(label));
  } catch {
    return { ok: false, failure: 'no key or wrong scope', why: 'RSA-OAEP did not unwrap' };
  }
  if (sessionKey.length !== 16 && sessionKey.length !== 24 && sessionKey.length !== 32) {
    return { ok: false, failure: 'malformed', why: `session key of ${sessionKey.length} bytes` };
  }
  const decipher = forge.cipher.createDecipher('AES-GCM', forge.util.createBuffer(sessionKey));
  decipher.start({ iv: NONCE, tagLength: TAG_BYTES * 8, tag: forge.util.createBuffer(toBinary(sealed.subarray(sealed.length - TAG_BYTES))) });
  decipher.update(forge.util.createBuffer(toBinary(sealed.subarray(0, sealed.length - TAG_BYTES))));
  if (!decipher.finish()) return { ok: false, failure: 'auth failure', why: 'GCM tag mismatch' };
  return { ok: true, plaintext: fromBinary(decipher.output.getBytes()) };
}

export interface IndependentSealOptions {
  /** Session key (16, 24 or 32 bytes); random 32 bytes when absent. */
  readonly sessionKey?: Buffer;
  /** The 32-byte OAEP seed; random when absent. */
  readonly oaepSeed?: Buffer;
}

/** Seals `plaintext` to the RSA key of a certificate (PEM) under the label text; returns the base64 text to store. */
export function independentSeal(certificatePem: string, label: string, plaintext: Uint8Array, options: IndependentSealOptions = {}): string {
  const publicKey = forge.pki.certificateFromPem(certificatePem).publicKey as forge.pki.rsa.PublicKey;
  const sessionKey = options.sessionKey === undefined ? forge.random.getBytesSync(32) : toBinary(options.sessionKey);
  const wrapped = fromBinary(publicKey.encrypt(sessionKey, 'RSA-OAEP', oaepOptions(label, options.oaepSeed)));
  const cipher = forge.cipher.createCipher('AES-GCM', forge.util.createBuffer(sessionKey));
  cipher.start({ iv: NONCE, tagLength: TAG_BYTES * 8 });
  cipher.update(forge.util.createBuffer(toBinary(plaintext)));
  cipher.finish();
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(wrapped.length);
  return Buffer.concat([prefix, wrapped, fromBinary(cipher.output.getBytes()), fromBinary(cipher.mode.tag.getBytes())]).toString('base64');
}
