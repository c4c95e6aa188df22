/**
 * Private sealing keys from PEM: PKCS#1 (`RSA PRIVATE KEY`) or PKCS#8 (`PRIVATE KEY`). Encrypted keys
 * and non-RSA keys are refused with their own codes. Key material never appears in a message.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { KsealError } from '../errors.js';
import { keyIdOf } from './key-id.js';
import { looksLikePem, pemBlocks } from './pem.js';

/** A private key ready for unsealing, with its id and where it came from (for messages). */
export interface PrivateKeyEntry {
  readonly key: KeyObject;
  readonly keyId: string;
  readonly source: string;
}

/** Parses every private key block in a PEM text. Throws when there is none or one is unusable. */
export function parsePrivateKeysPem(text: string, source: string): PrivateKeyEntry[] {
  const blocks = pemBlocks(text).filter((b) => b.label.includes('PRIVATE KEY'));
  if (blocks.length === 0) {
    const labels = pemBlocks(text).map((b) => b.label);
    if (labels.includes('CERTIFICATE')) {
      throw new KsealError('KEY_NOT_PEM', 'that is a certificate, not a private key', {
        file: source,
        hint: 'decrypt needs the private key the certificate belongs to (the key Secret backup, or the .key file of kseal keygen)',
      });
    }
    if (labels.some((l) => l.includes('PUBLIC KEY'))) {
      throw new KsealError('KEY_NOT_PEM', 'that is a public key, not a private key', { file: source, hint: 'decrypt needs the private key (the key Secret backup, or the .key file of kseal keygen)' });
    }
    throw new KsealError('KEY_NOT_PEM', looksLikePem(text) ? 'no complete PEM private key found' : 'not a PEM private key', {
      file: source,
      hint: 'pass a PEM key (PKCS#1 or PKCS#8), a kubernetes.io/tls key Secret, or a List of them (kubectl get secret -o yaml)',
    });
  }
  return blocks.map((block) => {
    if (block.label === 'ENCRYPTED PRIVATE KEY' || block.encryptedHeader) {
      throw new KsealError('KEY_ENCRYPTED', 'the private key is protected by a passphrase', { file: source, hint: 'decrypt it first, e.g. openssl pkey -in key.pem -out plain.pem' });
    }
    if (block.label !== 'RSA PRIVATE KEY' && block.label !== 'PRIVATE KEY') {
      throw new KsealError('KEY_NOT_RSA', `a ${block.label} is not an RSA key; kseal keys are RSA`, { file: source });
    }
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: block.text, format: 'pem' });
    } catch {
      throw new KsealError('KEY_NOT_PEM', 'the private key cannot be parsed (truncated or corrupt PEM)', { file: source });
    }
    if (key.asymmetricKeyType !== 'rsa') {
      throw new KsealError('KEY_NOT_RSA', `the private key is ${key.asymmetricKeyType ?? 'of an unknown type'}; kseal keys are RSA`, { file: source });
    }
    return { key, keyId: keyIdOf(key), source };
  });
}
