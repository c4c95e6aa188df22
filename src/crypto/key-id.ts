/**
 * Key ids: the SHA-256 fingerprint (lowercase hex) of a key's DER SubjectPublicKeyInfo. Taken from the
 * public key rather than the certificate bytes, so a certificate re-issued for the same key keeps its id.
 * The id travels in the `kseal.dev/key-id` annotation as a hint only: it lets the controller try the
 * right private key first; nothing trusts it, and it reveals no more than the public certificate does.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

/** Returns the key id of a public or private key. */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}
