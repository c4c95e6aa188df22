/**
 * The fixed, public test keys in test/vectors/keys/ (RSA-2048 and RSA-4096, never for real use),
 * loaded once and offered in every form tests need: PEM text, node:crypto KeyObjects, the parsed
 * sealing certificate and the private-key entry the unseal functions take.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseCertificate, type SealingCertificate } from '../../src/crypto/certificate.js';
import { parsePrivateKeysPem, type PrivateKeyEntry } from '../../src/crypto/private-key.js';

/** Names of the committed test keys; also the `key` field of the vector files. */
export const TEST_KEY_NAMES = ['rsa-2048', 'rsa-4096'] as const;
export type TestKeyName = (typeof TEST_KEY_NAMES)[number];

/** Directory holding the key PEM files. */
export const TEST_KEY_DIR = fileURLToPath(new URL('../vectors/keys/', import.meta.url));

export interface TestKey {
  readonly name: TestKeyName;
  readonly bits: number;
  /** PKCS#1 PEM (`RSA PRIVATE KEY`). */
  readonly privateKeyPem: string;
  /** Self-signed certificate PEM, valid 2020-01-01 to 2120-01-01. */
  readonly certificatePem: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The certificate as kseal parses it (keyId, bits, validity). */
  readonly certificate: SealingCertificate;
  /** The private key as kseal parses it, ready for unsealSealedSecret. */
  readonly entry: PrivateKeyEntry;
}

const cache = new Map<TestKeyName, TestKey>();

/** Returns a test key by name (`rsa-2048` is the fast default), loading it on first use. */
export function testKey(name: TestKeyName = 'rsa-2048'): TestKey {
  const cached = cache.get(name);
  if (cached !== undefined) return cached;
  const privateKeyPem = readFileSync(`${TEST_KEY_DIR}test-${name}.key.pem`, 'utf8');
  const certificatePem = readFileSync(`${TEST_KEY_DIR}test-${name}.crt.pem`, 'utf8');
  const privateKey = createPrivateKey(privateKeyPem);
  const [entry] = parsePrivateKeysPem(privateKeyPem, `test-${name}.key.pem`);
  if (entry === undefined) throw new Error(`test key ${name} did not parse`);
  const key: TestKey = {
    name,
    bits: Number(name.slice('rsa-'.length)),
    privateKeyPem,
    certificatePem,
    privateKey,
    publicKey: createPublicKey(privateKey),
    certificate: parseCertificate(certificatePem, { source: `test-${name}.crt.pem` }),
    entry,
  };
  cache.set(name, key);
  return key;
}

/** The other test key (for "sealed with another key" cases). */
export function otherTestKey(name: TestKeyName): TestKey {
  return testKey(name === 'rsa-2048' ? 'rsa-4096' : 'rsa-2048');
}
