/**
 * The page's certificate parser (ui/browser/web-certificate.ts) against the library's
 * (src/crypto/certificate.ts): the same key id, size and validity for good certificates, and the same
 * error code and message for every kind of bad one.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { KsealError } from '../../src/errors.js';
import { parseCertificate } from '../../src/crypto/certificate.js';
import { parseCertificateWeb } from '../../ui/browser/web-certificate.js';
import { testKey } from '../helpers/keys.js';

const rsa2048 = testKey('rsa-2048');
const rsa4096 = testKey('rsa-4096');

function opensslCertificate(keyArgs: readonly string[]): string {
  return execFileSync('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-keyout', '/dev/null', '-subj', '/CN=kseal-test', '-days', '1'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

function libraryError(pem: string, now?: Date): KsealError {
  try {
    parseCertificate(pem, { source: 'cert.pem', ...(now === undefined ? {} : { now }) });
  } catch (e) {
    if (e instanceof KsealError) return e;
    throw e;
  }
  throw new Error('expected parseCertificate to throw');
}

async function webError(pem: string, now?: Date): Promise<KsealError> {
  try {
    await parseCertificateWeb(pem, { source: 'cert.pem', ...(now === undefined ? {} : { now }) });
  } catch (e) {
    if (e instanceof KsealError) return e;
    throw e;
  }
  throw new Error('expected parseCertificateWeb to throw');
}

describe('parseCertificateWeb', () => {
  for (const key of [rsa2048, rsa4096]) {
    it(`gives the library's key id, size and validity for the ${key.name} test certificate`, async () => {
      const web = await parseCertificateWeb(key.certificatePem);
      const lib = parseCertificate(key.certificatePem);
      expect(web.keyId).toBe(lib.keyId);
      expect(web.bits).toBe(lib.bits);
      expect(web.notBefore.toISOString()).toBe(lib.notBefore.toISOString());
      expect(web.notAfter.toISOString()).toBe(lib.notAfter.toISOString());
      expect(web.publicKey.algorithm.name).toBe('RSA-OAEP');
    });
  }

  it('uses the first certificate of a bundle, as the library does', async () => {
    const bundle = `${rsa4096.certificatePem}${rsa2048.certificatePem}`;
    expect((await parseCertificateWeb(bundle)).keyId).toBe(parseCertificate(bundle).keyId);
  });

  const body = rsa2048.certificatePem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
  const bad: Array<[string, string, Date?]> = [
    ['text that is not PEM', 'hello'],
    ['a private key', rsa2048.privateKeyPem],
    ['a PEM block of another kind', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'],
    ['a certificate without its END line', rsa2048.certificatePem.replace(/-----END CERTIFICATE-----\s*$/, '')],
    ['a truncated certificate body', `-----BEGIN CERTIFICATE-----\n${body.slice(0, 5).join('\n')}\n-----END CERTIFICATE-----\n`],
    ['a certificate body that is not base64', '-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n'],
    ['an EC certificate', opensslCertificate(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'])],
    ['an Ed25519 certificate', opensslCertificate(['-newkey', 'ed25519'])],
    ['an expired certificate', rsa2048.certificatePem, new Date('2121-01-01T00:00:00Z')],
    ['a certificate not yet valid', rsa2048.certificatePem, new Date('2019-01-01T00:00:00Z')],
  ];
  for (const [what, pem, now] of bad) {
    it(`fails on ${what} with the library's code and message`, async () => {
      const lib = libraryError(pem, now);
      const web = await webError(pem, now);
      expect({ code: web.code, message: web.message, hint: web.hint, file: web.file }).toEqual({ code: lib.code, message: lib.message, hint: lib.hint, file: lib.file });
    });
  }
});
