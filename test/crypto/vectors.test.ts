/**
 * Runs every known-answer vector in test/vectors/*.json through the library: base64 decoding
 * (decodeBase64), then unsealBytes with the vector's test key and scope label. Success vectors must
 * give the expected plaintext; every other class must fail with the KsealError code it maps to.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KsealError } from '../../src/errors.js';
import { decodeBase64 } from '../../src/crypto/base64.js';
import { sealBytes, splitSealed, unsealBytes } from '../../src/crypto/hybrid.js';
import { scopeLabel } from '../../src/model/scope.js';
import { EXPECT_CODES, parseVectorFile, type Vector } from '../vectors/generate.js';
import { testKey } from '../helpers/keys.js';

const DIR = fileURLToPath(new URL('../vectors/', import.meta.url));
const FILES = readdirSync(DIR).filter((f) => f.startsWith('hybrid-') && f.endsWith('.json')).sort();

/** Opens a vector the way the library's callers do; returns the plaintext or the thrown KsealError. */
function open(vector: Vector): Buffer | KsealError {
  try {
    const bytes = decodeBase64(vector.ciphertext);
    if (bytes === undefined) throw new KsealError('MALFORMED_CIPHERTEXT', 'not valid base64');
    return unsealBytes([testKey(vector.key).privateKey], scopeLabel(vector.scope, vector.namespace, vector.name), bytes).plaintext;
  } catch (e) {
    if (e instanceof KsealError) return e;
    throw e;
  }
}

describe('known-answer vectors', () => {
  it('has vector files to run', () => {
    expect(FILES).toEqual(['hybrid-rsa-2048.json', 'hybrid-rsa-4096.json']);
  });

  for (const file of FILES) {
    const { vectors } = parseVectorFile(readFileSync(`${DIR}${file}`, 'utf8'));
    describe(file, () => {
      it('covers every expect class', () => {
        expect(new Set(vectors.map((v) => v.expect))).toEqual(new Set(['success', 'scope failure', 'auth failure', 'malformed', 'no key']));
      });

      for (const vector of vectors) {
        it(`${vector.id}: ${vector.comment}`, () => {
          const result = open(vector);
          if (vector.expect === 'success') {
            expect(result).toBeInstanceOf(Buffer);
            expect((result as Buffer).toString('base64')).toBe(vector.plaintext);
          } else {
            expect(vector.code).toBe(EXPECT_CODES[vector.expect]);
            expect(result).toBeInstanceOf(KsealError);
            expect((result as KsealError).code).toBe(vector.code);
          }
        });
      }

      for (const vector of vectors.filter((v) => v.sessionKey !== undefined && Buffer.from(v.sessionKey, 'base64').length === 32)) {
        it(`${vector.id}: sealBytes with the vector's session key gives the same AES-GCM part`, () => {
          const sessionKey = Buffer.from(vector.sessionKey ?? '', 'base64');
          const plaintext = Buffer.from(vector.plaintext ?? '', 'base64');
          const label = scopeLabel(vector.scope, vector.namespace, vector.name);
          const ours = splitSealed(sealBytes(testKey(vector.key).publicKey, label, plaintext, sessionKey));
          const theirs = splitSealed(decodeBase64(vector.ciphertext) ?? Buffer.alloc(0));
          expect(ours.payload.equals(theirs.payload)).toBe(true);
          expect(ours.wrappedKey.length).toBe(theirs.wrappedKey.length);
        });
      }
    });
  }
});
