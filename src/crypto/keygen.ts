/**
 * Sealing key generation: an RSA key pair from node:crypto (generated on libuv's thread pool, off the
 * event loop) and a self-signed X.509 certificate built with node-forge, which node:crypto cannot
 * create. The certificate is signed with node:crypto too: forge only lays out the ASN.1.
 * node-forge is imported lazily, so commands that never generate keys never load it.
 */
import { constants, createPublicKey, generateKeyPair, privateEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type * as Forge from 'node-forge';
import { keyIdOf } from './key-id.js';

const generateKeyPairAsync = promisify(generateKeyPair);
/** DER prefix of a SHA-256 DigestInfo (RFC 8017 §9.2 note 1), for PKCS#1 v1.5 signatures. */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

export interface KeygenOptions {
  /** RSA modulus size; 4096 by default, as Bitnami's controller. */
  readonly bits?: number;
  /** Certificate subject CN and issuer CN. */
  readonly commonName?: string;
  /** Certificate lifetime in days (default 3650, ten years, as Bitnami). */
  readonly validityDays?: number;
  /** Certificate NotBefore; defaults to now. */
  readonly now?: Date;
}

export interface GeneratedKey {
  /** PKCS#1 PEM (`RSA PRIVATE KEY`), the form Bitnami stores in `tls.key`. */
  readonly privateKeyPem: string;
  readonly certificatePem: string;
  readonly keyId: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Generates an RSA key pair and a self-signed sealing certificate for it. */
export async function generateSealingKey(options: KeygenOptions = {}): Promise<GeneratedKey> {
  const bits = options.bits ?? 4096;
  const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: bits, publicExponent: 0x10001 });
  const privateKeyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
  const notBefore = new Date(Math.floor((options.now ?? new Date()).getTime() / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + (options.validityDays ?? 3650) * 86_400_000);
  const certificatePem = await selfSignedCertificate(privateKey, options.commonName ?? 'kseal', notBefore, notAfter);
  return { privateKeyPem, certificatePem, keyId: keyIdOf(privateKey), notBefore, notAfter };
}

/** Builds and signs a self-signed certificate for `privateKey`. */
async function selfSignedCertificate(privateKey: KeyObject, commonName: string, notBefore: Date, notAfter: Date): Promise<string> {
  const { default: forge } = await import('node-forge');
  const publicPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }) as string;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicPem);
  // A positive 128-bit serial (RFC 5280 §4.1.2.2 allows up to 20 octets). The first byte must also be
  // non-zero: forge writes the bytes as given, and a leading 0x00 before a byte below 0x80 is not DER,
  // which Go's x509 parser (kubeseal, the Bitnami controller) rejects as "malformed serial number".
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) || 0x01;
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  const subject = [{ name: 'commonName', value: commonName }, { name: 'organizationName', value: 'kseal' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  // forge computes the TBS digest and calls signer.sign(md); the RSA operation itself runs on OpenSSL.
  const signer = {
    sign(md: Forge.md.MessageDigest): string {
      const digest = Buffer.from(md.digest().getBytes(), 'binary');
      const signature = privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([SHA256_DIGEST_INFO, digest]));
      return signature.toString('binary');
    },
  };
  cert.sign(signer as unknown as Forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  // node-forge ends PEM lines with CRLF; PEM files (and the key Secret's tls.crt) use LF, as openssl writes them.
  return forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n');
}
