/**
 * Runs the escrow known-answer vectors (test/vectors/escrow-x25519.json) through the library and
 * through the independent decoder (test/crypto/independent-escrow.ts), and checks that each opens
 * what the other seals.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KsealError } from '../../src/errors.js';
import { decodeBase64 } from '../../src/crypto/base64.js';
import { EscrowSealer, openEscrowValue } from '../../src/crypto/escrow.js';
import { identityFromSecret } from '../../src/crypto/identity.js';
import { scopeLabel } from '../../src/model/scope.js';
import { EXPECT_CODES } from '../vectors/generate.js';
import { parseEscrowVectorFile, type EscrowVector } from '../vectors/generate-escrow.js';
import { independentEscrowLabel, independentEscrowOpen, independentEscrowSeal, independentSecretbox } from './independent-escrow.js';
import nacl from 'tweetnacl';

const FILE = fileURLToPath(new URL('../vectors/escrow-x25519.json', import.meta.url));
const file = parseEscrowVectorFile(readFileSync(FILE, 'utf8'));
const secretOf = (name: EscrowVector['identity']) => Buffer.from(file.identities[name].secretKey, 'hex');
const CLASS = { 'scope failure': 'no key or wrong scope', 'no key': 'no key or wrong scope', 'auth failure': 'auth failure', malformed: 'malformed' } as const;

function libraryOpen(vector: EscrowVector): Buffer | KsealError {
  try {
    const bytes = decodeBase64(vector.ciphertext);
    if (bytes === undefined) throw new KsealError('MALFORMED_CIPHERTEXT', 'not valid base64');
    return openEscrowValue(identityFromSecret(secretOf(vector.identity), 'vector'), scopeLabel(vector.scope, vector.namespace, vector.name), bytes);
  } catch (e) {
    if (e instanceof KsealError) return e;
    throw e;
  }
}

describe('escrow known-answer vectors', () => {
  it('covers every expect class', () => {
    expect(new Set(file.vectors.map((v) => v.expect))).toEqual(new Set(['success', 'scope failure', 'auth failure', 'malformed', 'no key']));
  });

  it('holds test identities whose public keys match their secret keys', () => {
    for (const { secretKey, publicKey } of Object.values(file.identities)) {
      expect(identityFromSecret(Buffer.from(secretKey, 'hex'), 'vector').publicKey.toString('hex')).toBe(publicKey);
      expect(Buffer.from(nacl.scalarMult.base(Buffer.from(secretKey, 'hex'))).toString('hex')).toBe(publicKey);
    }
  });

  for (const vector of file.vectors) {
    it(`library: ${vector.id}: ${vector.comment}`, () => {
      const result = libraryOpen(vector);
      if (vector.expect === 'success') {
        expect(result).toBeInstanceOf(Buffer);
        expect((result as Buffer).toString('base64')).toBe(vector.plaintext);
      } else {
        expect(vector.code).toBe(EXPECT_CODES[vector.expect]);
        expect(result).toBeInstanceOf(KsealError);
        expect((result as KsealError).code).toBe(vector.code);
      }
    });

    it(`independent decoder: ${vector.id}`, () => {
      const outcome = independentEscrowOpen(secretOf(vector.identity), independentEscrowLabel(vector.scope, vector.namespace, vector.name), vector.ciphertext);
      if (vector.expect === 'success') expect(outcome).toEqual({ ok: true, plaintext: Buffer.from(vector.plaintext ?? '', 'base64') });
      else expect(outcome.ok === false && outcome.failure).toBe(CLASS[vector.expect]);
    });
  }

  for (const vector of file.vectors.filter((v) => v.ephemeralSecret !== undefined)) {
    it(`${vector.id}: the library seals the vector byte for byte from its ephemeral key and nonce`, () => {
      const recipient = Buffer.from(file.identities[vector.identity].publicKey, 'hex');
      const sealer = new EscrowSealer(recipient, scopeLabel(vector.scope, 'prod', 'db'), Buffer.from(vector.ephemeralSecret ?? '', 'base64'));
      expect(sealer.seal(Buffer.from(vector.plaintext ?? '', 'base64'), Buffer.from(vector.nonce ?? '', 'base64')).toString('base64')).toBe(vector.ciphertext);
    });
  }
});

describe('library and independent escrow implementations', () => {
  const a = identityFromSecret(secretOf('escrow-a'), 'a');
  const label = Buffer.from('prod/db');

  it('the independent XSalsa20-Poly1305 equals tweetnacl secretbox', () => {
    const key = Buffer.alloc(32, 7);
    const nonce = Buffer.alloc(24, 9);
    for (const length of [0, 1, 31, 32, 33, 64, 200]) {
      const message = Buffer.alloc(length, length);
      expect(independentSecretbox(message, nonce, key).equals(Buffer.from(nacl.secretbox(message, nonce, key)))).toBe(true);
    }
  });

  it('the independent decoder opens what the library seals', () => {
    const sealer = new EscrowSealer(a.publicKey, label);
    const value = sealer.seal(Buffer.from('s3cret'));
    expect(independentEscrowOpen(a.secret, label, value.toString('base64'))).toEqual({ ok: true, plaintext: Buffer.from('s3cret') });
  });

  it('the library opens what the independent implementation seals', () => {
    const stored = independentEscrowSeal(a.publicKey, label, Buffer.from('from the spec'), Buffer.alloc(32, 3), Buffer.alloc(24, 4));
    expect(openEscrowValue(a, label, decodeBase64(stored)!).toString()).toBe('from the spec');
  });
});
