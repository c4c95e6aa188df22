/** Unit tests of sealing-certificate parsing and checks (src/crypto/certificate.ts). */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { KsealError } from '../../src/errors.js';
import { parseCertificate, type ParseCertificateOptions } from '../../src/crypto/certificate.js';
import { keyIdOf } from '../../src/crypto/key-id.js';
import { testKey } from '../helpers/keys.js';

const rsa = testKey('rsa-2048');

/** A self-signed certificate for a fresh non-RSA key, made by the openssl CLI. */
function opensslCertificate(keyArgs: readonly string[]): string {
  return execFileSync('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-keyout', '/dev/null', '-subj', '/CN=kseal-test', '-days', '1'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}
const ecCertificate = opensslCertificate(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']);
const ed25519Certificate = opensslCertificate(['-newkey', 'ed25519']);

function failure(pem: string | Uint8Array, options: ParseCertificateOptions = {}): KsealError {
  try {
    parseCertificate(pem, options);
  } catch (e) {
    if (e instanceof KsealError) return e;
    throw e;
  }
  throw new Error('expected parseCertificate to throw');
}

describe('parseCertificate', () => {
  it('parses the RSA test certificate with its key id, size and validity', () => {
    const cert = parseCertificate(rsa.certificatePem);
    expect(cert.keyId).toBe(keyIdOf(rsa.privateKey));
    expect(cert.keyId).toMatch(/^[0-9a-f]{64}$/);
    expect(cert.bits).toBe(2048);
    expect(cert.notBefore.toISOString()).toBe('2020-01-01T00:00:00.000Z');
    expect(cert.notAfter.toISOString()).toBe('2120-01-01T00:00:00.000Z');
    expect(cert.publicKey.asymmetricKeyType).toBe('rsa');
  });

  it('reports 4096 bits for the 4096-bit test certificate', () => {
    expect(parseCertificate(testKey('rsa-4096').certificatePem).bits).toBe(4096);
  });

  it('accepts bytes as well as text', () => {
    expect(parseCertificate(Buffer.from(rsa.certificatePem)).keyId).toBe(rsa.certificate.keyId);
  });

  it('accepts LF and CRLF line endings', () => {
    const lf = rsa.certificatePem.replace(/\r\n/g, '\n');
    expect(parseCertificate(lf).keyId).toBe(rsa.certificate.keyId);
    expect(parseCertificate(lf.replace(/\n/g, '\r\n')).keyId).toBe(rsa.certificate.keyId);
  });

  it('finds the certificate after other text (openssl x509 -text output)', () => {
    expect(parseCertificate(`Certificate:\n    Data: ...\n${rsa.certificatePem}`).keyId).toBe(rsa.certificate.keyId);
  });

  it('uses the first certificate of a bundle', () => {
    const bundle = testKey('rsa-4096').certificatePem + rsa.certificatePem;
    expect(parseCertificate(bundle).bits).toBe(4096);
  });

  it('returns the certificate alone as PEM', () => {
    const cert = parseCertificate(`junk before\n${rsa.certificatePem}junk after\n`);
    expect(cert.pem.trim().startsWith('-----BEGIN CERTIFICATE-----')).toBe(true);
    expect(cert.pem.trim().endsWith('-----END CERTIFICATE-----')).toBe(true);
  });

  it('rejects text that is not PEM with CERT_NOT_PEM', () => {
    expect(failure('hello, this is not a certificate').code).toBe('CERT_NOT_PEM');
  });

  it('rejects empty input with CERT_NOT_PEM', () => {
    expect(failure('').code).toBe('CERT_NOT_PEM');
  });

  it('rejects a private key given as certificate with CERT_NOT_PEM and says so', () => {
    const error = failure(rsa.privateKeyPem);
    expect(error.code).toBe('CERT_NOT_PEM');
    expect(error.message).toMatch(/private key/);
  });

  it('rejects a truncated certificate (no END line) with CERT_INVALID', () => {
    expect(failure(rsa.certificatePem.slice(0, rsa.certificatePem.length / 2)).code).toBe('CERT_INVALID');
  });

  it('rejects a certificate with a corrupt body with CERT_INVALID', () => {
    const lines = rsa.certificatePem.replace(/\r\n/g, '\n').split('\n');
    lines[3] = 'A'.repeat(lines[3]?.length ?? 64);
    expect(failure(lines.join('\n')).code).toBe('CERT_INVALID');
  });

  it('rejects a certificate with one line missing with CERT_INVALID', () => {
    const lines = rsa.certificatePem.replace(/\r\n/g, '\n').split('\n');
    lines.splice(5, 1);
    expect(failure(lines.join('\n')).code).toBe('CERT_INVALID');
  });

  it('rejects an EC certificate with CERT_NOT_RSA', () => {
    const error = failure(ecCertificate);
    expect(error.code).toBe('CERT_NOT_RSA');
    expect(error.message).toMatch(/an ec key/);
  });

  it('rejects an Ed25519 certificate with CERT_NOT_RSA', () => {
    const error = failure(ed25519Certificate);
    expect(error.code).toBe('CERT_NOT_RSA');
    expect(error.message).toMatch(/ed25519/);
  });

  it('rejects a bundle whose first certificate is not RSA, with a hint to reorder it', () => {
    const error = failure(ecCertificate + rsa.certificatePem);
    expect(error.code).toBe('CERT_NOT_RSA');
    expect(error.hint).toMatch(/first certificate/);
  });

  it('rejects an expired certificate with CERT_EXPIRED', () => {
    const error = failure(rsa.certificatePem, { now: new Date('2120-01-01T00:00:01Z') });
    expect(error.code).toBe('CERT_EXPIRED');
    expect(error.message).toContain('2120-01-01T00:00:00.000Z');
  });

  it('rejects a certificate that is not valid yet with CERT_NOT_YET_VALID', () => {
    const error = failure(rsa.certificatePem, { now: new Date('2019-12-31T23:59:59Z') });
    expect(error.code).toBe('CERT_NOT_YET_VALID');
    expect(error.message).toContain('2020-01-01T00:00:00.000Z');
  });

  it('accepts a certificate at the first and the last second of its validity', () => {
    expect(parseCertificate(rsa.certificatePem, { now: new Date('2020-01-01T00:00:00Z') }).bits).toBe(2048);
    expect(parseCertificate(rsa.certificatePem, { now: new Date('2120-01-01T00:00:00Z') }).bits).toBe(2048);
  });

  it('skips the validity check when asked', () => {
    expect(parseCertificate(rsa.certificatePem, { now: new Date('2200-01-01T00:00:00Z'), skipValidity: true }).bits).toBe(2048);
  });

  it('names the source in the error', () => {
    const error = failure('nope', { source: 'cert.pem' });
    expect(error.file).toBe('cert.pem');
    expect(error.format()).toMatch(/^cert\.pem: /);
  });

  it('gives every certificate error the key exit code', () => {
    expect(failure('nope').exitCode).toBe(4);
    expect(failure(ecCertificate).exitCode).toBe(4);
  });
});
