/**
 * Sealing values: the one path from plaintext bytes to the base64 text a SealedSecret's
 * `encryptedData` holds. `kseal encrypt`, `--merge-into`, `kseal raw` and the controller's
 * `/v1/rotate` all seal through here (docs/FORMAT.md specifies the bytes).
 */
import type { KeyObject } from 'node:crypto';
import { encodeBase64 } from './base64.js';
import { sealBytes } from './hybrid.js';

/** Seals one value to `publicKey` under the scope `label` and returns it base64-encoded (standard, padded). */
export function sealValue(publicKey: KeyObject, label: Uint8Array, value: Uint8Array): string {
  return encodeBase64(sealBytes(publicKey, label, value));
}

/** Seals every value of `values` (key → bytes) under one scope label; returns key → base64 ciphertext. */
export function sealValues(publicKey: KeyObject, label: Uint8Array, values: Iterable<readonly [string, Uint8Array]>): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, value] of values) out[key] = sealValue(publicKey, label, value);
  return out;
}
