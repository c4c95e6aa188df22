/**
 * Cross-checks the library against a second implementation written from docs/FORMAT.md with
 * node-forge (independent-decoder.ts): each opens what the other seals, the independent decoder
 * opens and classifies the known-answer vectors, and its encoder reproduces them byte for byte.
 * Most cases use the 2048-bit key, since forge's RSA is pure JavaScript.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from '../../src/crypto/base64.js';
import { sealBytes, unsealBytes } from '../../src/crypto/hybrid.js';
import { SCOPES, scopeLabel } from '../../src/model/scope.js';
import { derive, parseVectorFile, type Expect, type Vector } from '../vectors/generate.js';
import { testKey, type TestKeyName } from '../helpers/keys.js';
import { independentLabel, independentOpen, independentSeal, type IndependentFailure } from './independent-decoder.js';

const NS = 'prod';
const NAME = 'db';
const SIZES = [0, 100, 64 * 1024] as const;

function vectors(key: TestKeyName): readonly Vector[] {
  return parseVectorFile(readFileSync(fileURLToPath(new URL(`../vectors/hybrid-${key}.json`, import.meta.url)), 'utf8')).vectors;
}

const FAILURE_OF: Readonly<Record<Exclude<Expect, 'success'>, IndependentFailure>> = {
  malformed: 'malformed',
  'scope failure': 'no key or wrong scope',
  'no key': 'no key or wrong scope',
  'auth failure': 'auth failure',
};

describe('independent decoder (node-forge, written from docs/FORMAT.md)', () => {
  it('imports nothing from src/', () => {
    const source = readFileSync(fileURLToPath(new URL('./independent-decoder.ts', import.meta.url)), 'utf8');
    expect(source).not.toMatch(/from '[^']*src\//);
    expect(source).not.toMatch(/node:crypto/);
  });

  it('computes the same labels as the library for every scope', () => {
    for (const scope of SCOPES) expect(Buffer.from(independentLabel(scope, NS, NAME), 'utf8').equals(scopeLabel(scope, NS, NAME))).toBe(true);
  });

  describe('opens what the library seals', () => {
    const key = testKey('rsa-2048');
    for (const scope of SCOPES) {
      for (const size of SIZES) {
        it(`opens a ${size}-byte ${scope} value sealed by the library with the 2048-bit key`, () => {
          const plaintext = derive(`independent/${scope}/${size}`, size);
          const stored = encodeBase64(sealBytes(key.publicKey, scopeLabel(scope, NS, NAME), plaintext));
          const outcome = independentOpen(key.privateKeyPem, independentLabel(scope, NS, NAME), stored);
          expect(outcome.ok && outcome.plaintext.equals(plaintext)).toBe(true);
        });
      }
    }

    it('opens a strict value sealed by the library with the 4096-bit key', () => {
      const big = testKey('rsa-4096');
      const plaintext = Buffer.from('a strict value', 'utf8');
      const stored = encodeBase64(sealBytes(big.publicKey, scopeLabel('strict', NS, NAME), plaintext));
      expect(stored.startsWith('Ag')).toBe(true);
      const outcome = independentOpen(big.privateKeyPem, independentLabel('strict', NS, NAME), stored);
      expect(outcome.ok && outcome.plaintext.equals(plaintext)).toBe(true);
    });

    it('refuses a library-sealed value under another scope label', () => {
      const stored = encodeBase64(sealBytes(key.publicKey, scopeLabel('strict', NS, NAME), Buffer.from('x')));
      expect(independentOpen(key.privateKeyPem, independentLabel('namespace-wide', NS, NAME), stored)).toMatchObject({ ok: false, failure: 'no key or wrong scope' });
    });
  });

  describe('the library opens what the independent encoder seals', () => {
    for (const name of ['rsa-2048', 'rsa-4096'] as const) {
      for (const scope of SCOPES) {
        for (const size of SIZES) {
          it(`opens a ${size}-byte ${scope} value sealed by node-forge to the ${name} key`, () => {
            const key = testKey(name);
            const plaintext = derive(`library/${name}/${scope}/${size}`, size);
            const stored = independentSeal(key.certificatePem, independentLabel(scope, NS, NAME), plaintext);
            const bytes = decodeBase64(stored);
            expect(bytes?.length).toBe(2 + key.bits / 8 + size + 16);
            const { plaintext: opened } = unsealBytes([key.privateKey], scopeLabel(scope, NS, NAME), bytes ?? Buffer.alloc(0));
            expect(opened.equals(plaintext)).toBe(true);
          });
        }
      }
    }

    it('opens a value node-forge sealed with a 16-byte session key', () => {
      const key = testKey('rsa-2048');
      const stored = independentSeal(key.certificatePem, 'prod/db', Buffer.from('aes-128'), { sessionKey: derive('aes-128', 16) });
      expect(unsealBytes([key.privateKey], scopeLabel('strict', NS, NAME), decodeBase64(stored) ?? Buffer.alloc(0)).plaintext.toString()).toBe('aes-128');
    });
  });

  describe('known-answer vectors', () => {
    for (const name of ['rsa-2048', 'rsa-4096'] as const) {
      for (const vector of vectors(name).filter((v) => v.oaepSeed !== undefined && v.sessionKey !== undefined)) {
        it(`reproduces ${vector.id} byte for byte from its session key and OAEP seed`, () => {
          const stored = independentSeal(testKey(vector.keySize === 2048 ? 'rsa-2048' : 'rsa-4096').certificatePem, independentLabel(vector.scope, vector.namespace, vector.name), Buffer.from(vector.plaintext ?? '', 'base64'), {
            sessionKey: Buffer.from(vector.sessionKey ?? '', 'base64'),
            oaepSeed: Buffer.from(vector.oaepSeed ?? '', 'base64'),
          });
          expect(stored).toBe(vector.ciphertext);
        });
      }
    }

    // forge's RSA is pure JavaScript (~50 ms per 2048-bit decryption, ~0.4 s at 4096 bits), so the
    // decoder runs on every 2048-bit vector that needs no RSA decryption, every 2048-bit success
    // vector and a sample of the negative vectors that do. The encoder test above covers every
    // success vector of both sizes with public-key operations only, and a 4096-bit value sealed by
    // the library is opened above.
    const NEEDS_RSA_SAMPLE = new Set([
      'rsa-2048/scope-failure/strict-other-name',
      'rsa-2048/scope-failure/namespace-wide-as-cluster-wide',
      'rsa-2048/auth-failure/flip-first-tag-bit',
      'rsa-2048/auth-failure/truncated-one-byte',
      'rsa-2048/no-key/sealed-for-other-key',
      'rsa-2048/malformed/session-key-31',
    ]);
    const noRsaNeeded = (v: Vector) => v.expect === 'malformed' && !v.id.includes('/session-key-');
    const cases = vectors('rsa-2048').filter((v) => NEEDS_RSA_SAMPLE.has(v.id) || v.expect === 'success' || noRsaNeeded(v));
    for (const vector of cases) {
      it(`classifies ${vector.id} as ${vector.expect}`, () => {
        const outcome = independentOpen(testKey(vector.key).privateKeyPem, independentLabel(vector.scope, vector.namespace, vector.name), vector.ciphertext);
        if (vector.expect === 'success') {
          expect(outcome.ok && outcome.plaintext.toString('base64')).toBe(vector.plaintext);
        } else {
          expect(outcome).toMatchObject({ ok: false, failure: FAILURE_OF[vector.expect] });
        }
      });
    }
  });
});
