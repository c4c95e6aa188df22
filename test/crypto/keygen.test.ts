/**
 * Unit tests of sealing-key generation (src/crypto/keygen.ts). One RSA-2048 key serves most tests;
 * the default RSA-4096 size is generated exactly once (~1 s).
 */
import { execFileSync } from 'node:child_process';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSealingKey, type GeneratedKey } from '../../src/crypto/keygen.js';
import { parseCertificate } from '../../src/crypto/certificate.js';
import { parsePrivateKeysPem } from '../../src/crypto/private-key.js';
import { sealBytes, unsealBytes } from '../../src/crypto/hybrid.js';
import { scopeLabel } from '../../src/model/scope.js';

const NOW = new Date('2030-06-15T12:34:56.789Z');
let key: GeneratedKey;

beforeAll(async () => {
  key = await generateSealingKey({ bits: 2048, commonName: 'kseal-test', now: NOW, validityDays: 30 });
});

describe('generateSealingKey', () => {
  it('writes the private key as PKCS#1 PEM, as Bitnami stores it', () => {
    expect(key.privateKeyPem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
  });

  it('makes a certificate that kseal parses, with the key id of the private key', () => {
    const cert = parseCertificate(key.certificatePem, { now: NOW });
    const [entry] = parsePrivateKeysPem(key.privateKeyPem, 'generated');
    expect(cert.keyId).toBe(key.keyId);
    expect(entry?.keyId).toBe(key.keyId);
    expect(cert.bits).toBe(2048);
  });

  it('starts validity at `now`, truncated to the second', () => {
    expect(key.notBefore.toISOString()).toBe('2030-06-15T12:34:56.000Z');
    expect(parseCertificate(key.certificatePem, { skipValidity: true }).notBefore.toISOString()).toBe('2030-06-15T12:34:56.000Z');
  });

  it('ends validity after the given number of days', () => {
    expect(key.notAfter.getTime() - key.notBefore.getTime()).toBe(30 * 86_400_000);
    expect(parseCertificate(key.certificatePem, { skipValidity: true }).notAfter.toISOString()).toBe(key.notAfter.toISOString());
  });

  it('makes a certificate that is self-signed with the key', () => {
    const x509 = new X509Certificate(key.certificatePem);
    expect(x509.verify(createPublicKey(key.privateKeyPem))).toBe(true);
    expect(x509.issuer).toBe(x509.subject);
  });

  it('puts the common name and organisation in subject and issuer', () => {
    const x509 = new X509Certificate(key.certificatePem);
    expect(x509.subject).toBe('CN=kseal-test\nO=kseal');
    expect(x509.issuer).toBe(x509.subject);
  });

  it('makes a positive 16-byte serial number with a non-zero first byte (minimal DER, as Go requires)', () => {
    const serial = BigInt(`0x${new X509Certificate(key.certificatePem).serialNumber}`);
    expect(serial >= 2n ** 120n && serial < 2n ** 127n).toBe(true);
    const text = execFileSync('openssl', ['x509', '-noout', '-serial'], { input: key.certificatePem, encoding: 'utf8' });
    expect(BigInt(`0x${text.trim().replace(/^serial=/, '')}`)).toBe(serial);
  });

  it('makes a certificate that openssl accepts, marked not a CA and for key encipherment', () => {
    const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: key.certificatePem, encoding: 'utf8' });
    expect(text).toMatch(/Public-Key: \(2048 bit\)/);
    expect(text).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
    expect(text).toMatch(/CA:FALSE/);
    expect(text).toMatch(/Key Encipherment/);
  });

  it('makes a key pair that seals and unseals', () => {
    const cert = parseCertificate(key.certificatePem, { now: NOW });
    const [entry] = parsePrivateKeysPem(key.privateKeyPem, 'generated');
    const label = scopeLabel('strict', 'prod', 'db');
    const sealed = sealBytes(cert.publicKey, label, Buffer.from('generated'));
    expect(unsealBytes(entry === undefined ? [] : [entry.key], label, sealed).plaintext.toString()).toBe('generated');
  });

  it('makes a different key every time', async () => {
    const other = await generateSealingKey({ bits: 1024, now: NOW });
    expect(other.keyId).not.toBe(key.keyId);
  });

  it('defaults to a 4096-bit key, CN kseal, valid ten years from now', async () => {
    const before = Date.now();
    const generated = await generateSealingKey();
    const cert = parseCertificate(generated.certificatePem);
    expect(cert.bits).toBe(4096);
    expect(new X509Certificate(generated.certificatePem).subject).toBe('CN=kseal\nO=kseal');
    expect(generated.notBefore.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(generated.notAfter.getTime() - generated.notBefore.getTime()).toBe(3650 * 86_400_000);
  });
});
