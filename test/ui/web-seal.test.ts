/**
 * The page's WebCrypto sealing (ui/browser/web-seal.ts), run here under Node's WebCrypto: the AES part
 * equals the known-answer vectors byte for byte (the OAEP seed cannot be fixed in WebCrypto, so the
 * RSA part is checked by opening it), the library and the independent node-forge decoder open what
 * it seals, and a value sealed for one scope does not open under another.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from '../../src/crypto/base64.js';
import { splitSealed, unsealBytes } from '../../src/crypto/hybrid.js';
import { scopeLabel, SCOPES } from '../../src/model/scope.js';
import { sealBytesWeb, type WebCryptoKey } from '../../ui/browser/web-seal.js';
import { independentLabel, independentOpen } from '../crypto/independent-decoder.js';
import { parseVectorFile } from '../vectors/generate.js';
import { testKey, type TestKeyName } from '../helpers/keys.js';
import { ksealErrorOf } from '../helpers/errors.js';

const DIR = fileURLToPath(new URL('../vectors/', import.meta.url));
const FILES = readdirSync(DIR).filter((f) => f.startsWith('hybrid-') && f.endsWith('.json')).sort();

async function webKey(name: TestKeyName): Promise<WebCryptoKey> {
  const spki = testKey(name).publicKey.export({ type: 'spki', format: 'der' });
  return crypto.subtle.importKey('spki', new Uint8Array(spki), { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['encrypt']);
}

describe('sealBytesWeb', () => {
  for (const file of FILES) {
    const { vectors } = parseVectorFile(readFileSync(`${DIR}${file}`, 'utf8'));
    const sealable = vectors.filter((v) => v.expect === 'success' && v.sessionKey !== undefined && Buffer.from(v.sessionKey, 'base64').length === 32);
    it(`${file}: has success vectors with 32-byte session keys to reproduce`, () => {
      expect(sealable.length).toBeGreaterThan(0);
    });
    for (const vector of sealable) {
      it(`${vector.id}: gives the vector's AES-GCM part with its session key, and an RSA part the library opens`, async () => {
        const sessionKey = Buffer.from(vector.sessionKey ?? '', 'base64');
        const plaintext = Buffer.from(vector.plaintext ?? '', 'base64');
        const label = scopeLabel(vector.scope, vector.namespace, vector.name);
        const ours = Buffer.from(await sealBytesWeb(await webKey(vector.key), label, plaintext, sessionKey));
        const theirs = splitSealed(decodeBase64(vector.ciphertext) ?? Buffer.alloc(0));
        const mine = splitSealed(ours);
        expect(mine.payload.equals(theirs.payload)).toBe(true);
        expect(mine.wrappedKey.length).toBe(theirs.wrappedKey.length);
        expect(unsealBytes([testKey(vector.key).privateKey], label, ours).plaintext.equals(plaintext)).toBe(true);
      });
    }
  }

  for (const scope of SCOPES) {
    it(`seals a value for ${scope} scope that the library and the independent decoder open`, async () => {
      const plaintext = Buffer.from('web-sealed value \u00e9\u0000\u00ff', 'utf8');
      const label = scopeLabel(scope, 'app', 'db');
      const sealed = await sealBytesWeb(await webKey('rsa-2048'), label, plaintext);
      expect(unsealBytes([testKey('rsa-2048').privateKey], label, sealed).plaintext.equals(plaintext)).toBe(true);
      const outcome = independentOpen(testKey('rsa-2048').privateKeyPem, independentLabel(scope, 'app', 'db'), encodeBase64(sealed));
      expect(outcome.ok && outcome.plaintext.equals(plaintext)).toBe(true);
    });
  }

  it('frames a 4096-bit seal as 2 + 512 + len + 16 bytes starting with 0x02 0x00 ("Ag" in base64)', async () => {
    const sealed = await sealBytesWeb(await webKey('rsa-4096'), scopeLabel('strict', 'app', 'db'), new Uint8Array(5));
    expect(sealed.length).toBe(2 + 512 + 5 + 16);
    expect(encodeBase64(sealed).startsWith('Ag')).toBe(true);
  });

  it('binds the value to its label: sealed for app/db it does not open as app/other', async () => {
    const sealed = await sealBytesWeb(await webKey('rsa-2048'), scopeLabel('strict', 'app', 'db'), Buffer.from('x'));
    expect(ksealErrorOf(() => unsealBytes([testKey('rsa-2048').privateKey], scopeLabel('strict', 'app', 'other'), sealed)).code).toBe('DECRYPT_FAILED');
  });

  it('draws a fresh session key each time: two seals of one value differ', async () => {
    const key = await webKey('rsa-2048');
    const label = scopeLabel('cluster-wide', undefined, undefined);
    const a = await sealBytesWeb(key, label, Buffer.from('same'));
    const b = await sealBytesWeb(key, label, Buffer.from('same'));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(splitSealed(a).payload.equals(splitSealed(b).payload)).toBe(false);
  });

  it('refuses a session key that is not 32 bytes', async () => {
    await expect(sealBytesWeb(await webKey('rsa-2048'), new Uint8Array(0), new Uint8Array(1), new Uint8Array(16))).rejects.toThrow('32 bytes');
  });
});
