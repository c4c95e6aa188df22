/**
 * Guards the committed known-answer vectors: they must equal a fresh run of the deterministic
 * generator, so neither can drift. Regenerate with:
 *
 *   KSEAL_WRITE_VECTORS=1 npx vitest run test/vectors/generate.test.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { emeOaepEncode, generateVectorFiles, parseVectorFile } from './generate.js';
import { generateEscrowVectorFiles } from './generate-escrow.js';

const DIR = fileURLToPath(new URL('./', import.meta.url));
const WRITE = process.env.KSEAL_WRITE_VECTORS === '1';

describe('known-answer vector generator', () => {
  const files = { ...generateVectorFiles(), ...generateEscrowVectorFiles() };

  if (WRITE) {
    it('writes the vector files (KSEAL_WRITE_VECTORS=1)', () => {
      for (const [name, text] of Object.entries(files)) writeFileSync(`${DIR}${name}`, text);
      expect(Object.keys(files).length).toBeGreaterThan(0);
    });
  }

  it('produces one file per test key and one for escrow', () => {
    expect(Object.keys(files).sort()).toEqual(['escrow-x25519.json', 'hybrid-rsa-2048.json', 'hybrid-rsa-4096.json']);
  });

  for (const [name, text] of Object.entries(files)) {
    it(`matches the committed ${name} byte for byte`, () => {
      expect(readFileSync(`${DIR}${name}`, 'utf8'), `regenerate with KSEAL_WRITE_VECTORS=1 npx vitest run test/vectors/generate.test.ts`).toBe(text);
    });
  }

  it('gives the same output when run twice', () => {
    expect({ ...generateVectorFiles(), ...generateEscrowVectorFiles() }).toEqual(files);
  });

  it('gives every vector a unique id across all files', () => {
    const ids = Object.values(files).flatMap((text) => parseVectorFile(text).vectors.map((v) => v.id));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('rejects an OAEP seed that is not 32 bytes', () => {
    expect(() => emeOaepEncode(Buffer.alloc(32), Buffer.alloc(0), Buffer.alloc(31), 256)).toThrow(/seed/);
  });
});
