/**
 * A second implementation of kseal escrow values, written from docs/FORMAT.md §9 alone and sharing
 * no code with the sealing path: X25519 from tweetnacl's scalarMult (the library uses node:crypto),
 * HKDF-SHA-256 written out from RFC 5869 over node's HMAC (the library uses hkdfSync), and
 * XSalsa20-Poly1305 written out here from the Salsa20 and Poly1305 specifications (the library uses
 * tweetnacl's secretbox). Plain and slow; not product code.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import nacl from 'tweetnacl';

export type IndependentEscrowFailure = 'malformed' | 'no key or wrong scope' | 'auth failure';
export type IndependentEscrowOutcome = { readonly ok: true; readonly plaintext: Buffer } | { readonly ok: false; readonly failure: IndependentEscrowFailure; readonly why: string };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** RFC 5869 HKDF-SHA-256. */
function hkdf(ikm: Buffer, salt: Buffer, info: Buffer, length: number): Buffer {
  const prk = createHmac('sha256', salt).update(ikm).digest();
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let i = 1; blocks.length * 32 < length; i++) {
    previous = createHmac('sha256', prk).update(previous).update(info).update(Buffer.of(i)).digest();
    blocks.push(previous);
  }
  return Buffer.concat(blocks).subarray(0, length);
}

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574];

function rotl(v: number, c: number): number {
  return ((v << c) | (v >>> (32 - c))) >>> 0;
}

/** The Salsa20 double-round permutation applied 10 times to 16 words (in place). */
function rounds(x: Uint32Array): void {
  const qr = (a: number, b: number, c: number, d: number): void => {
    x[b] = (x[b]! ^ rotl((x[a]! + x[d]!) >>> 0, 7)) >>> 0;
    x[c] = (x[c]! ^ rotl((x[b] + x[a]!) >>> 0, 9)) >>> 0;
    x[d] = (x[d]! ^ rotl((x[c] + x[b]) >>> 0, 13)) >>> 0;
    x[a] = (x[a]! ^ rotl((x[d] + x[c]) >>> 0, 18)) >>> 0;
  };
  for (let i = 0; i < 10; i++) {
    qr(0, 4, 8, 12);
    qr(5, 9, 13, 1);
    qr(10, 14, 2, 6);
    qr(15, 3, 7, 11);
    qr(0, 1, 2, 3);
    qr(5, 6, 7, 4);
    qr(10, 11, 8, 9);
    qr(15, 12, 13, 14);
  }
}

function state(key: Buffer, input: Buffer): Uint32Array {
  const s = new Uint32Array(16);
  s[0] = SIGMA[0]!;
  s[5] = SIGMA[1]!;
  s[10] = SIGMA[2]!;
  s[15] = SIGMA[3]!;
  for (let i = 0; i < 4; i++) {
    s[1 + i] = key.readUInt32LE(4 * i);
    s[11 + i] = key.readUInt32LE(16 + 4 * i);
    s[6 + i] = input.readUInt32LE(4 * i);
  }
  return s;
}

function hsalsa20(key: Buffer, nonce16: Buffer): Buffer {
  const x = state(key, nonce16);
  rounds(x);
  const out = Buffer.alloc(32);
  [0, 5, 10, 15, 6, 7, 8, 9].forEach((w, i) => out.writeUInt32LE(x[w]!, 4 * i));
  return out;
}

/** `length` bytes of XSalsa20 keystream. */
function xsalsa20Stream(key: Buffer, nonce: Buffer, length: number): Buffer {
  const subkey = hsalsa20(key, nonce.subarray(0, 16));
  const out = Buffer.alloc(Math.ceil(length / 64) * 64);
  for (let block = 0; block * 64 < length; block++) {
    const input = Buffer.alloc(16);
    nonce.copy(input, 0, 16, 24);
    input.writeUInt32LE(block >>> 0, 8);
    input.writeUInt32LE(Math.floor(block / 2 ** 32), 12);
    const s = state(subkey, input);
    const x = Uint32Array.from(s);
    rounds(x);
    for (let i = 0; i < 16; i++) out.writeUInt32LE((x[i]! + s[i]!) >>> 0, block * 64 + 4 * i);
  }
  return out.subarray(0, length);
}

function le(bytes: Buffer): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

/** Poly1305 (RFC 8439 §2.5) with BigInt arithmetic. */
function poly1305(key: Buffer, message: Buffer): Buffer {
  const r = le(key.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  const s = le(key.subarray(16, 32));
  const p = (1n << 130n) - 5n;
  let acc = 0n;
  for (let i = 0; i < message.length; i += 16) {
    const block = Buffer.concat([message.subarray(i, i + 16), Buffer.of(1)]);
    acc = ((acc + le(block)) * r) % p;
  }
  let tag = (acc + s) & ((1n << 128n) - 1n);
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) {
    out[i] = Number(tag & 0xffn);
    tag >>= 8n;
  }
  return out;
}

/** NaCl secretbox open: tag (16) || ciphertext, keystream bytes 0..32 are the Poly1305 key. */
function secretboxOpen(box: Buffer, nonce: Buffer, key: Buffer): Buffer | undefined {
  const tag = box.subarray(0, 16);
  const ciphertext = box.subarray(16);
  const stream = xsalsa20Stream(key, nonce, 32 + ciphertext.length);
  if (!timingSafeEqual(poly1305(stream.subarray(0, 32), ciphertext), tag)) return undefined;
  const out = Buffer.alloc(ciphertext.length);
  for (let i = 0; i < ciphertext.length; i++) out[i] = ciphertext[i]! ^ stream[32 + i]!;
  return out;
}

/** NaCl secretbox seal, for the cross-check in the tests. */
export function independentSecretbox(plaintext: Buffer, nonce: Buffer, key: Buffer): Buffer {
  const stream = xsalsa20Stream(key, nonce, 32 + plaintext.length);
  const ciphertext = Buffer.alloc(plaintext.length);
  for (let i = 0; i < plaintext.length; i++) ciphertext[i] = plaintext[i]! ^ stream[32 + i]!;
  return Buffer.concat([poly1305(stream.subarray(0, 32), ciphertext), ciphertext]);
}

/** The scope label text (FORMAT.md §2). */
export function independentEscrowLabel(scope: 'strict' | 'namespace-wide' | 'cluster-wide', namespace: string, name: string): Buffer {
  return Buffer.from(scope === 'strict' ? `${namespace}/${name}` : scope === 'namespace-wide' ? namespace : '', 'utf8');
}

/** Opens one stored escrow value (base64 text) with a raw 32-byte X25519 secret key under a label. */
export function independentEscrowOpen(secretKey: Buffer, label: Buffer, stored: string): IndependentEscrowOutcome {
  const compact = stored.replace(/[\r\n]/g, '');
  if (!BASE64.test(compact)) return { ok: false, failure: 'malformed', why: 'not base64' };
  const value = Buffer.from(compact, 'base64');
  if (value.length < 89) return { ok: false, failure: 'malformed', why: 'shorter than 89 bytes' };
  if (value[0] !== 1) return { ok: false, failure: 'malformed', why: 'unknown version' };
  const ephemeral = value.subarray(1, 33);
  const check = value.subarray(33, 49);
  const nonce = value.subarray(49, 73);
  const shared = Buffer.from(nacl.scalarMult(secretKey, ephemeral));
  if (shared.every((b) => b === 0)) return { ok: false, failure: 'malformed', why: 'zero shared secret' };
  const recipient = Buffer.from(nacl.scalarMult.base(secretKey));
  const okm = hkdf(shared, Buffer.concat([ephemeral, recipient]), Buffer.concat([Buffer.from('kseal escrow v1'), Buffer.of(0), label]), 48);
  if (!timingSafeEqual(okm.subarray(32), check)) return { ok: false, failure: 'no key or wrong scope', why: 'key confirmation differs' };
  const plaintext = secretboxOpen(value.subarray(73), nonce, okm.subarray(0, 32));
  return plaintext === undefined ? { ok: false, failure: 'auth failure', why: 'Poly1305 tag mismatch' } : { ok: true, plaintext };
}

/** Seals one value to a raw 32-byte X25519 public key (ephemeral secret and nonce given), for cross-checks. */
export function independentEscrowSeal(recipient: Buffer, label: Buffer, plaintext: Buffer, ephemeralSecret: Buffer, nonce: Buffer): string {
  const ephemeral = Buffer.from(nacl.scalarMult.base(ephemeralSecret));
  const shared = Buffer.from(nacl.scalarMult(ephemeralSecret, recipient));
  const okm = hkdf(shared, Buffer.concat([ephemeral, recipient]), Buffer.concat([Buffer.from('kseal escrow v1'), Buffer.of(0), label]), 48);
  return Buffer.concat([Buffer.of(1), ephemeral, okm.subarray(32), nonce, independentSecretbox(plaintext, nonce, okm.subarray(0, 32))]).toString('base64');
}
