/**
 * Sealing values for an existing SealedSecret (`kseal set`, `--merge-into`): every value is sealed
 * under the object's own scope label for each recipient of the object. Today that is the one
 * certificate whose ciphertexts live in `spec.encryptedData`; the recipient list is the seam where
 * multi-recipient objects (further clusters, escrow keys in `spec.recipients[]`) plug in, so the
 * commands that edit files never loop over recipients themselves.
 */
import { encodeBase64 } from '../crypto/base64.js';
import { sealBytes } from '../crypto/hybrid.js';
import type { SealingCertificate } from '../crypto/certificate.js';

/** Who an object's values are sealed for. */
export interface ObjectRecipients {
  /** The cluster certificate whose ciphertexts go in spec.encryptedData. */
  readonly primary: SealingCertificate;
}

/** Seals each value under `label` for the object's recipients; returns key → base64 for spec.encryptedData. */
export function sealObjectValues(recipients: ObjectRecipients, label: Uint8Array, values: ReadonlyMap<string, Uint8Array>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, bytes] of values) out[key] = encodeBase64(sealBytes(recipients.primary.publicKey, label, bytes));
  return out;
}
