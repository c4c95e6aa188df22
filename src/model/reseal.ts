/**
 * Re-sealing: a SealedSecret's values, already opened, sealed again to another (the newest) key under
 * the object's own scope, name and namespace, keeping its labels, annotations and template. The
 * controller's `/v1/rotate` (and through it `kseal reencrypt`) answers with this; the object is laid
 * out by the same assembly as `kseal encrypt`.
 */
import type { KeyObject } from 'node:crypto';
import { KsealError } from '../errors.js';
import { sealValues } from '../crypto/seal-value.js';
import { assembleSealedSecret, sealedSecretLabel, sealedSecretScope, type SealedSecret } from './sealed-secret.js';

/** The key a re-seal seals to. */
export interface ResealTarget {
  readonly publicKey: KeyObject;
  readonly keyId: string;
}

/**
 * Seals `plaintexts` (key → bytes, one for every key of `sealed`) to `target` and returns the object
 * re-sealed. Throws INTERNAL when a value is missing (a caller's bug, never a user's input).
 */
export function resealSealedSecret(sealed: SealedSecret, plaintexts: ReadonlyMap<string, Uint8Array>, target: ResealTarget): SealedSecret {
  const values: Array<readonly [string, Uint8Array]> = [];
  for (const key of Object.keys(sealed.spec.encryptedData)) {
    const plaintext = plaintexts.get(key);
    if (plaintext === undefined) throw new KsealError('INTERNAL', 'a re-seal was given fewer values than the object holds', { key });
    values.push([key, plaintext]);
  }
  const { metadata } = sealed;
  return assembleSealedSecret({
    name: metadata.name,
    namespace: metadata.namespace,
    secret: { labels: metadata.labels ?? {}, annotations: metadata.annotations ?? {}, type: sealed.spec.template?.type ?? 'Opaque', immutable: sealed.spec.template?.immutable },
    scope: sealedSecretScope(sealed),
    keyId: target.keyId,
    encryptedData: sealValues(target.publicKey, sealedSecretLabel(sealed), values),
    apiVersion: sealed.apiVersion,
    template: sealed.spec.template,
    // Further recipients (other clusters, escrow) were sealed to their own keys and stay valid.
    recipients: sealed.spec.recipients,
  });
}
