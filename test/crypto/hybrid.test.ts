/** Unit tests of the hybrid value encryption (src/crypto/hybrid.ts) with the fixed test keys. */
import { constants, createCipheriv, publicEncrypt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeBase64 } from '../../src/crypto/base64.js';
import { openPayload, sealBytes, splitSealed, unsealBytes, unwrapSessionKey } from '../../src/crypto/hybrid.js';
import { SCOPES, scopeLabel, type Scope } from '../../src/model/scope.js';
import { testKey } from '../helpers/keys.js';
import { canaryHits, errorText, newCanary } from '../helpers/canary.js';
import { ksealErrorOf } from '../helpers/errors.js';

const key = testKey('rsa-2048');
const NS = 'prod';
const NAME = 'db';
const label = (scope: Scope, namespace = NS, name = NAME) => scopeLabel(scope, namespace, name);

const thrown = ksealErrorOf;

/** A value sealed with a session key of any length (sealBytes only makes 32-byte ones). */
function sealWithSessionKey(sessionKey: Buffer, plaintext: Buffer, l: Buffer): Buffer {
  const wrapped = publicEncrypt({ key: key.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: l }, sessionKey);
  let payload: Buffer;
  if ([16, 24, 32].includes(sessionKey.length)) {
    const cipher = createCipheriv(`aes-${sessionKey.length * 8}-gcm` as 'aes-256-gcm', sessionKey, Buffer.alloc(12));
    payload = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  } else {
    payload = Buffer.alloc(plaintext.length + 16, 0xaa); // never reached: the key size is refused first
  }
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(wrapped.length);
  return Buffer.concat([prefix, wrapped, payload]);
}

describe('sealBytes and unsealBytes', () => {
  for (const scope of SCOPES) {
    it(`round-trips a value sealed ${scope}`, () => {
      const plaintext = Buffer.from(`secret for ${scope}`);
      const sealed = sealBytes(key.publicKey, label(scope), plaintext);
      expect(unsealBytes([key.privateKey], label(scope), sealed).plaintext.equals(plaintext)).toBe(true);
    });
  }

  it('round-trips an empty value', () => {
    const sealed = sealBytes(key.publicKey, label('strict'), Buffer.alloc(0));
    expect(unsealBytes([key.privateKey], label('strict'), sealed).plaintext.length).toBe(0);
  });

  it('round-trips a value sealed to the 4096-bit key', () => {
    const big = testKey('rsa-4096');
    const sealed = sealBytes(big.publicKey, label('strict'), Buffer.from('four thousand'));
    expect(unsealBytes([big.privateKey], label('strict'), sealed).plaintext.toString()).toBe('four thousand');
  });

  it('produces 2 + k + len(value) + 16 bytes', () => {
    expect(sealBytes(key.publicKey, label('strict'), Buffer.alloc(10)).length).toBe(2 + 256 + 10 + 16);
    expect(sealBytes(testKey('rsa-4096').publicKey, label('strict'), Buffer.alloc(10)).length).toBe(2 + 512 + 10 + 16);
  });

  it('writes the RSA ciphertext length as a big-endian prefix, so 4096-bit values start with "Ag"', () => {
    const sealed = sealBytes(testKey('rsa-4096').publicKey, label('strict'), Buffer.from('x'));
    expect(sealed.readUInt16BE(0)).toBe(512);
    expect(encodeBase64(sealed).startsWith('Ag')).toBe(true);
    expect(encodeBase64(sealBytes(key.publicKey, label('strict'), Buffer.from('x'))).startsWith('AQ')).toBe(true);
  });

  it('gives a different ciphertext each time the same value is sealed', () => {
    const a = sealBytes(key.publicKey, label('strict'), Buffer.from('same'));
    const b = sealBytes(key.publicKey, label('strict'), Buffer.from('same'));
    expect(a.equals(b)).toBe(false);
  });

  it('uses a given session key for the AES-GCM part, so that part is reproducible', () => {
    const sessionKey = Buffer.alloc(32, 7);
    const a = splitSealed(sealBytes(key.publicKey, label('strict'), Buffer.from('fixed'), sessionKey));
    const b = splitSealed(sealBytes(key.publicKey, label('strict'), Buffer.from('fixed'), sessionKey));
    expect(a.payload.equals(b.payload)).toBe(true);
    expect(a.wrappedKey.equals(b.wrappedKey)).toBe(false);
  });

  it('opens a value whose session key is 16 bytes (AES-128), as Bitnami does', () => {
    const sealed = sealWithSessionKey(Buffer.alloc(16, 1), Buffer.from('aes-128'), label('strict'));
    expect(unsealBytes([key.privateKey], label('strict'), sealed).plaintext.toString()).toBe('aes-128');
  });

  it('opens a value whose session key is 24 bytes (AES-192), as Bitnami does', () => {
    const sealed = sealWithSessionKey(Buffer.alloc(24, 2), Buffer.from('aes-192'), label('strict'));
    expect(unsealBytes([key.privateKey], label('strict'), sealed).plaintext.toString()).toBe('aes-192');
  });

  it('refuses a session key of another size with MALFORMED_CIPHERTEXT', () => {
    const sealed = sealWithSessionKey(Buffer.alloc(31, 3), Buffer.from('x'), label('strict'));
    expect(thrown(() => unsealBytes([key.privateKey], label('strict'), sealed)).code).toBe('MALFORMED_CIPHERTEXT');
  });
});

describe('scope binding', () => {
  const mismatches: ReadonlyArray<[string, Buffer, Buffer]> = [
    ['strict, opened under another name', label('strict'), label('strict', NS, 'web')],
    ['strict, opened in another namespace', label('strict'), label('strict', 'staging', NAME)],
    ['strict, opened as namespace-wide', label('strict'), label('namespace-wide')],
    ['strict, opened as cluster-wide', label('strict'), label('cluster-wide')],
    ['namespace-wide, opened in another namespace', label('namespace-wide'), label('namespace-wide', 'staging')],
    ['namespace-wide, opened as strict', label('namespace-wide'), label('strict')],
    ['namespace-wide, opened as cluster-wide', label('namespace-wide'), label('cluster-wide')],
    ['cluster-wide, opened as strict', label('cluster-wide'), label('strict')],
    ['cluster-wide, opened as namespace-wide', label('cluster-wide'), label('namespace-wide')],
  ];
  for (const [what, sealedFor, openedAs] of mismatches) {
    it(`fails with DECRYPT_FAILED for a value sealed ${what}`, () => {
      const sealed = sealBytes(key.publicKey, sealedFor, Buffer.from('bound'));
      expect(thrown(() => unsealBytes([key.privateKey], openedAs, sealed)).code).toBe('DECRYPT_FAILED');
    });
  }

  it('opens a namespace-wide value under any name in its namespace', () => {
    const sealed = sealBytes(key.publicKey, label('namespace-wide', NS, NAME), Buffer.from('ns'));
    expect(unsealBytes([key.privateKey], label('namespace-wide', NS, 'other'), sealed).plaintext.toString()).toBe('ns');
  });

  it('opens a cluster-wide value in any namespace', () => {
    const sealed = sealBytes(key.publicKey, label('cluster-wide', NS, NAME), Buffer.from('cw'));
    expect(unsealBytes([key.privateKey], label('cluster-wide', 'elsewhere', 'other'), sealed).plaintext.toString()).toBe('cw');
  });
});

describe('keys', () => {
  it('fails with DECRYPT_FAILED when sealed for another key', () => {
    const sealed = sealBytes(testKey('rsa-4096').publicKey, label('strict'), Buffer.from('x'));
    expect(thrown(() => unsealBytes([key.privateKey], label('strict'), sealed)).code).toBe('DECRYPT_FAILED');
  });

  it('reports which of several keys opened the value', () => {
    const big = testKey('rsa-4096');
    const sealed = sealBytes(key.publicKey, label('strict'), Buffer.from('x'));
    expect(unsealBytes([big.privateKey, key.privateKey], label('strict'), sealed).keyIndex).toBe(1);
  });

  it('fails with DECRYPT_FAILED when given no keys at all', () => {
    const sealed = sealBytes(key.publicKey, label('strict'), Buffer.from('x'));
    const error = thrown(() => unsealBytes([], label('strict'), sealed));
    expect(error.code).toBe('DECRYPT_FAILED');
    expect(error.message).toMatch(/tried 0 keys/);
  });

  it('says in the hint that another key and another scope cannot be told apart', () => {
    const sealed = sealBytes(key.publicKey, label('strict'), Buffer.from('x'));
    expect(thrown(() => unsealBytes([key.privateKey], label('cluster-wide'), sealed)).hint).toMatch(/another key, or for another name, namespace or scope/);
  });

  it('returns undefined from unwrapSessionKey for the wrong label instead of throwing', () => {
    const { wrappedKey } = splitSealed(sealBytes(key.publicKey, label('strict'), Buffer.from('x')));
    expect(unwrapSessionKey(key.privateKey, label('cluster-wide'), wrappedKey)).toBeUndefined();
  });
});

describe('framing', () => {
  const good = sealBytes(key.publicKey, label('strict'), Buffer.from('framing'));
  const withPrefix = (n: number) => {
    const copy = Buffer.from(good);
    copy.writeUInt16BE(n);
    return copy;
  };
  const cases: ReadonlyArray<[string, Buffer]> = [
    ['an empty value', Buffer.alloc(0)],
    ['a value of one byte', good.subarray(0, 1)],
    ['a value of only the length prefix', good.subarray(0, 2)],
    ['a value cut inside the RSA ciphertext', good.subarray(0, 100)],
    ['a value with no room for the tag', good.subarray(0, 2 + 256 + 15)],
    ['a zero length prefix', withPrefix(0)],
    ['a length prefix past the end', withPrefix(0xffff)],
  ];
  for (const [what, bytes] of cases) {
    it(`rejects ${what} with MALFORMED_CIPHERTEXT`, () => {
      expect(thrown(() => splitSealed(bytes)).code).toBe('MALFORMED_CIPHERTEXT');
      expect(thrown(() => unsealBytes([key.privateKey], label('strict'), bytes)).code).toBe('MALFORMED_CIPHERTEXT');
    });
  }

  it('splits a value into the wrapped key and the payload', () => {
    const parts = splitSealed(good);
    expect(parts.wrappedKey.length).toBe(256);
    expect(parts.payload.length).toBe('framing'.length + 16);
  });

  it('works on a Uint8Array view into a larger buffer', () => {
    const outer = Buffer.concat([Buffer.alloc(5, 9), good, Buffer.alloc(3, 9)]);
    const view = new Uint8Array(outer.buffer, outer.byteOffset + 5, good.length);
    expect(unsealBytes([key.privateKey], label('strict'), view).plaintext.toString()).toBe('framing');
  });
});

describe('authentication', () => {
  const sealed = sealBytes(key.publicKey, label('strict'), Buffer.from('authentic'));
  const flipped = (index: number) => {
    const copy = Buffer.from(sealed);
    copy[index] = (copy[index] ?? 0) ^ 1;
    return copy;
  };

  it('fails with AUTH_FAILED when a ciphertext bit is flipped', () => {
    expect(thrown(() => unsealBytes([key.privateKey], label('strict'), flipped(2 + 256))).code).toBe('AUTH_FAILED');
  });

  it('fails with AUTH_FAILED when a tag bit is flipped', () => {
    expect(thrown(() => unsealBytes([key.privateKey], label('strict'), flipped(sealed.length - 1))).code).toBe('AUTH_FAILED');
  });

  it('fails with AUTH_FAILED when a byte is appended', () => {
    expect(thrown(() => unsealBytes([key.privateKey], label('strict'), Buffer.concat([sealed, Buffer.of(0)]))).code).toBe('AUTH_FAILED');
  });

  it('fails with AUTH_FAILED from openPayload given the wrong session key', () => {
    expect(thrown(() => openPayload(Buffer.alloc(32), splitSealed(sealed).payload)).code).toBe('AUTH_FAILED');
  });
});

describe('error messages', () => {
  const canary = newCanary('hybrid');
  const sealed = sealBytes(key.publicKey, label('strict'), Buffer.from(canary));
  const failures: ReadonlyArray<[string, () => unknown]> = [
    ['a wrong scope', () => unsealBytes([key.privateKey], label('cluster-wide'), sealed)],
    ['a tampered tag', () => unsealBytes([key.privateKey], label('strict'), Buffer.concat([sealed.subarray(0, sealed.length - 1), Buffer.of((sealed[sealed.length - 1] ?? 0) ^ 1)]))],
    ['a truncated value', () => unsealBytes([key.privateKey], label('strict'), sealed.subarray(0, 2 + 256 + 4))],
  ];
  for (const [what, fn] of failures) {
    it(`never contain the plaintext for ${what}`, () => {
      const error = thrown(fn);
      expect(canaryHits(canary, errorText(error))).toEqual([]);
      expect(error.exitCode).toBe(5);
    });
  }

  it('never contain the ciphertext for a tampered value', () => {
    const tampered = Buffer.from(sealed);
    tampered[sealed.length - 1] = (tampered[sealed.length - 1] ?? 0) ^ 1;
    const text = errorText(thrown(() => unsealBytes([key.privateKey], label('strict'), tampered)));
    expect(text).not.toContain(encodeBase64(tampered).slice(0, 24));
    expect(text).not.toContain(tampered.subarray(2, 14).toString('hex'));
  });
});
