/**
 * Sealing certificates: the public half of a controller key, as PEM. kseal seals to the first
 * certificate in a PEM bundle (as kubeseal does), which must hold an RSA key and be valid now.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { KsealError } from '../errors.js';
import { keyIdOf } from './key-id.js';
import { firstCertificateBlock, pemBlocks } from './pem.js';

export interface SealingCertificate {
  readonly publicKey: KeyObject;
  /** SHA-256 of the public key's SubjectPublicKeyInfo, hex; see key-id.ts. */
  readonly keyId: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The certificate alone, re-encoded as PEM. */
  readonly pem: string;
  /** Key size in bits. */
  readonly bits: number;
}

export interface ParseCertificateOptions {
  /** Where it came from, for messages (a path or URL). */
  readonly source?: string;
  /** The time validity is checked against; defaults to now. */
  readonly now?: Date;
  /** Skip the validity-period check (the controller serves its own certificates). */
  readonly skipValidity?: boolean;
}

/** Parses and checks a sealing certificate. Throws CERT_NOT_PEM, CERT_INVALID, CERT_NOT_RSA, CERT_EXPIRED or CERT_NOT_YET_VALID. */
export function parseCertificate(pem: string | Uint8Array, options: ParseCertificateOptions = {}): SealingCertificate {
  const text = typeof pem === 'string' ? pem : Buffer.from(pem).toString('utf8');
  const where = options.source === undefined ? {} : { file: options.source };
  const blocks = pemBlocks(text);
  const first = firstCertificateBlock(blocks, text, where);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(first.text);
  } catch {
    throw new KsealError('CERT_INVALID', 'the certificate cannot be parsed (truncated or corrupt PEM)', { ...where, hint: 'fetch it again with kseal cert' });
  }
  const publicKey = cert.publicKey;
  if (publicKey.asymmetricKeyType !== 'rsa') {
    throw new KsealError('CERT_NOT_RSA', `the certificate holds a${publicKey.asymmetricKeyType === 'ec' ? 'n' : ''} ${publicKey.asymmetricKeyType ?? 'unknown'} key; kseal seals with RSA keys only`, {
      ...where,
      hint: blocks.filter((b) => b.label === 'CERTIFICATE').length > 1 ? 'kseal uses the first certificate in the file; put the RSA sealing certificate first' : 'use the certificate the kseal (or Sealed Secrets) controller serves',
    });
  }
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  if (options.skipValidity !== true) {
    const now = options.now ?? new Date();
    if (now > notAfter) {
      throw new KsealError('CERT_EXPIRED', `the certificate expired on ${notAfter.toISOString()}`, { ...where, hint: 'fetch the current certificate from the controller (kseal cert)' });
    }
    if (now < notBefore) {
      throw new KsealError('CERT_NOT_YET_VALID', `the certificate is not valid until ${notBefore.toISOString()}`, { ...where, hint: "check this machine's clock, or fetch the current certificate (kseal cert)" });
    }
  }
  return {
    publicKey,
    keyId: keyIdOf(publicKey),
    notBefore,
    notAfter,
    pem: cert.toString(),
    bits: publicKey.asymmetricKeyDetails?.modulusLength ?? 0,
  };
}
