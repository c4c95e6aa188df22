/** Unit tests of private-key PEM parsing (src/crypto/private-key.ts). */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KsealError } from '../../src/errors.js';
import { parsePrivateKeysPem } from '../../src/crypto/private-key.js';
import { testKey } from '../helpers/keys.js';
import { canaryHits, errorText } from '../helpers/canary.js';

const rsa = testKey('rsa-2048');
const pkcs8 = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const ed25519 = generateKeyPairSync('ed25519').privateKey;

function failure(text: string): KsealError {
  try {
    parsePrivateKeysPem(text, 'key.pem');
  } catch (e) {
    if (e instanceof KsealError) return e;
    throw e;
  }
  throw new Error('expected parsePrivateKeysPem to throw');
}

describe('parsePrivateKeysPem', () => {
  it('parses a PKCS#1 key with the same key id as its certificate', () => {
    const [entry] = parsePrivateKeysPem(rsa.privateKeyPem, 'key.pem');
    expect(entry?.keyId).toBe(rsa.certificate.keyId);
    expect(entry?.key.asymmetricKeyType).toBe('rsa');
    expect(entry?.source).toBe('key.pem');
  });

  it('parses a PKCS#8 key to the same key id', () => {
    expect(pkcs8).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(parsePrivateKeysPem(pkcs8, 'key.pem')[0]?.keyId).toBe(rsa.certificate.keyId);
  });

  it('parses every key of a file with several, in order', () => {
    const entries = parsePrivateKeysPem(testKey('rsa-4096').privateKeyPem + rsa.privateKeyPem, 'keys.pem');
    expect(entries.map((e) => e.keyId)).toEqual([testKey('rsa-4096').certificate.keyId, rsa.certificate.keyId]);
  });

  it('ignores a certificate next to the key', () => {
    expect(parsePrivateKeysPem(rsa.certificatePem + rsa.privateKeyPem, 'both.pem')).toHaveLength(1);
  });

  it('rejects an encrypted PKCS#8 key with KEY_ENCRYPTED', () => {
    const encrypted = rsa.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string;
    expect(encrypted).toMatch(/ENCRYPTED PRIVATE KEY/);
    expect(failure(encrypted).code).toBe('KEY_ENCRYPTED');
  });

  it('rejects a legacy encrypted PKCS#1 key (Proc-Type header) with KEY_ENCRYPTED', () => {
    const encrypted = rsa.privateKey.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string;
    expect(encrypted).toMatch(/Proc-Type: 4,ENCRYPTED/);
    expect(failure(encrypted).code).toBe('KEY_ENCRYPTED');
  });

  it('rejects a SEC1 EC key with KEY_NOT_RSA', () => {
    expect(failure(ec.export({ type: 'sec1', format: 'pem' }) as string).code).toBe('KEY_NOT_RSA');
  });

  it('rejects a PKCS#8 EC key with KEY_NOT_RSA', () => {
    const error = failure(ec.export({ type: 'pkcs8', format: 'pem' }) as string);
    expect(error.code).toBe('KEY_NOT_RSA');
    expect(error.message).toMatch(/\bec\b/);
  });

  it('rejects a PKCS#8 Ed25519 key with KEY_NOT_RSA', () => {
    expect(failure(ed25519.export({ type: 'pkcs8', format: 'pem' }) as string).code).toBe('KEY_NOT_RSA');
  });

  it('rejects text that is not PEM with KEY_NOT_PEM', () => {
    expect(failure('not a key').code).toBe('KEY_NOT_PEM');
  });

  it('rejects a public key alone with KEY_NOT_PEM', () => {
    expect(failure(rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string).code).toBe('KEY_NOT_PEM');
  });

  it('rejects a truncated key (no END line) with KEY_NOT_PEM', () => {
    const error = failure(rsa.privateKeyPem.slice(0, 300));
    expect(error.code).toBe('KEY_NOT_PEM');
    expect(error.message).toMatch(/no complete/);
  });

  it('rejects a key with a corrupt body with KEY_NOT_PEM', () => {
    const lines = rsa.privateKeyPem.split('\n');
    lines.splice(3, 2);
    expect(failure(lines.join('\n')).code).toBe('KEY_NOT_PEM');
  });

  it('names the file and never shows key material in the error', () => {
    const lines = rsa.privateKeyPem.split('\n');
    const bodyLine = lines[6] ?? '';
    lines.splice(3, 2);
    const error = failure(lines.join('\n'));
    expect(error.file).toBe('key.pem');
    expect(canaryHits(bodyLine, errorText(error))).toEqual([]);
  });
});
