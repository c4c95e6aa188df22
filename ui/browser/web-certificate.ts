/**
 * Sealing certificates in the browser: the counterpart of src/crypto/certificate.ts for places without
 * node:crypto. It finds the first CERTIFICATE block (with the library's own PEM scanner), walks the
 * DER far enough to reach the validity period and the SubjectPublicKeyInfo, imports the RSA key into
 * WebCrypto for RSA-OAEP SHA-256 and computes the same key id (SHA-256 of the DER SubjectPublicKeyInfo
 * as WebCrypto re-exports it, which is what node:crypto's export gives). Failures are the same
 * KsealErrors, with the same codes and messages, as parseCertificate; test/ui/web-certificate.test.ts
 * checks the two against each other.
 */
import { KsealError } from '../../src/errors.js';
import { firstCertificateBlock, pemBlocks } from '../../src/crypto/pem.js';
import type { WebCryptoKey } from './web-seal.js';
import { children, DerError, expectTag, oidText, readOnly, TAG, timeOf } from './der.js';

/** A parsed sealing certificate with its key ready for WebCrypto. */
export interface WebSealingCertificate {
  readonly publicKey: WebCryptoKey;
  /** SHA-256 of the public key's SubjectPublicKeyInfo, hex (src/crypto/key-id.ts). */
  readonly keyId: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Key size in bits. */
  readonly bits: number;
}

export interface WebCertificateOptions {
  /** Where it came from, for messages (a path or URL). */
  readonly source?: string;
  /** The time validity is checked against; defaults to now. */
  readonly now?: Date;
}

/** Key types by SubjectPublicKeyInfo algorithm OID, named as node:crypto's asymmetricKeyType names them. */
const KEY_TYPES: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.1': 'rsa',
  '1.2.840.113549.1.1.10': 'rsa-pss',
  '1.2.840.10040.4.1': 'dsa',
  '1.2.840.113549.1.3.1': 'dh',
  '1.2.840.10045.2.1': 'ec',
  '1.3.101.110': 'x25519',
  '1.3.101.111': 'x448',
  '1.3.101.112': 'ed25519',
  '1.3.101.113': 'ed448',
};

interface CertificateFields {
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly spki: Uint8Array;
  readonly keyType: string | undefined;
  readonly bits: number;
}

/** Parses and checks a sealing certificate. Throws CERT_NOT_PEM, CERT_INVALID, CERT_NOT_RSA, CERT_EXPIRED or CERT_NOT_YET_VALID. */
export async function parseCertificateWeb(text: string, options: WebCertificateOptions = {}): Promise<WebSealingCertificate> {
  const where = options.source === undefined ? {} : { file: options.source };
  const blocks = pemBlocks(text);
  const first = firstCertificateBlock(blocks, text, where);
  const unparseable = (): KsealError => new KsealError('CERT_INVALID', 'the certificate cannot be parsed (truncated or corrupt PEM)', { ...where, hint: 'fetch it again with kseal cert' });
  let fields: CertificateFields;
  try {
    fields = certificateFields(pemBody(first.text));
  } catch (e) {
    if (e instanceof DerError) throw unparseable();
    throw e;
  }
  if (fields.keyType !== 'rsa') {
    const type = fields.keyType;
    throw new KsealError('CERT_NOT_RSA', `the certificate holds a${type === 'ec' ? 'n' : ''} ${type ?? 'unknown'} key; kseal seals with RSA keys only`, {
      ...where,
      hint: blocks.filter((b) => b.label === 'CERTIFICATE').length > 1 ? 'kseal uses the first certificate in the file; put the RSA sealing certificate first' : 'use the certificate the kseal (or Sealed Secrets) controller serves',
    });
  }
  const now = options.now ?? new Date();
  if (now > fields.notAfter) {
    throw new KsealError('CERT_EXPIRED', `the certificate expired on ${fields.notAfter.toISOString()}`, { ...where, hint: 'fetch the current certificate from the controller (kseal cert)' });
  }
  if (now < fields.notBefore) {
    throw new KsealError('CERT_NOT_YET_VALID', `the certificate is not valid until ${fields.notBefore.toISOString()}`, { ...where, hint: "check this machine's clock, or fetch the current certificate (kseal cert)" });
  }
  let publicKey: WebCryptoKey;
  try {
    publicKey = await crypto.subtle.importKey('spki', copy(fields.spki), { name: 'RSA-OAEP', hash: 'SHA-256' }, true, ['encrypt']);
  } catch {
    throw unparseable();
  }
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', publicKey));
  const keyId = hex(new Uint8Array(await crypto.subtle.digest('SHA-256', spki)));
  return { publicKey, keyId, notBefore: fields.notBefore, notAfter: fields.notAfter, bits: fields.bits };
}

/** The DER bytes of one PEM block: the base64 lines between BEGIN and END (headers, if any, skipped). */
function pemBody(block: string): Uint8Array {
  const lines = block.split(/\r?\n/).filter((line) => line !== '' && !line.startsWith('-----') && !line.includes(':'));
  const text = lines.join('');
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) throw new DerError('not base64');
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }
 * TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, ... }
 */
function certificateFields(der: Uint8Array): CertificateFields {
  const certificate = children(readOnly(der, TAG.SEQUENCE));
  if (certificate.length !== 3) throw new DerError('a certificate has three parts');
  const tbs = children(expectTag(certificate[0], TAG.SEQUENCE));
  let i = tbs[0]?.tag === 0xa0 ? 1 : 0;
  expectTag(tbs[i++], TAG.INTEGER);
  expectTag(tbs[i++], TAG.SEQUENCE);
  expectTag(tbs[i++], TAG.SEQUENCE);
  const validity = children(expectTag(tbs[i++], TAG.SEQUENCE));
  const [from, to] = validity;
  if (from === undefined || to === undefined || validity.length !== 2) throw new DerError('validity has two times');
  const notBefore = timeOf(from);
  const notAfter = timeOf(to);
  expectTag(tbs[i++], TAG.SEQUENCE);
  const spkiElement = expectTag(tbs[i], TAG.SEQUENCE);
  const [algorithm, key] = children(spkiElement);
  const oid = oidText(expectTag(children(expectTag(algorithm, TAG.SEQUENCE))[0], TAG.OID).contents);
  const keyType = KEY_TYPES[oid];
  const bitString = expectTag(key, TAG.BIT_STRING).contents;
  return { notBefore, notAfter, spki: spkiElement.encoded, keyType, bits: keyType === 'rsa' ? modulusBits(bitString) : 0 };
}

/** Bits of the modulus of an RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } (in a BIT STRING). */
function modulusBits(bitString: Uint8Array): number {
  if (bitString[0] !== 0) throw new DerError('unused bits in the key');
  const [modulus] = children(readOnly(bitString.subarray(1), TAG.SEQUENCE));
  let bytes = expectTag(modulus, TAG.INTEGER).contents;
  while (bytes.length > 0 && bytes[0] === 0) bytes = bytes.subarray(1);
  if (bytes.length === 0) throw new DerError('zero modulus');
  return (bytes.length - 1) * 8 + (32 - Math.clz32(bytes[0] as number));
}

function copy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
