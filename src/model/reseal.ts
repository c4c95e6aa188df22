/**
 * Re-sealing: a SealedSecret's values, already opened, sealed again to another (the newest) key under
 * the object's own scope, name and namespace, keeping its labels, annotations and template. The
 * controller's `/v1/rotate` (and through it `kseal reencrypt`) answers with this; the object is laid
 * out by the same assembly as `kseal encrypt`.
 */
import type { KeyObject } from 'node:crypto';
import { KsealError } from '../errors.js';
import { sealValues } from '../crypto/seal-value.js';
import { clusterRecipient, PRIMARY_RECIPIENT, storedPublicKey, type RecipientEntry } from './recipients.js';
import { sortedRecord } from './secret.js';
import { KEY_ID_ANNOTATION } from '../wire.js';
import { assembleSealedSecret, sealedSecretLabel, sealedSecretScope, type SealedSecret } from './sealed-secret.js';

/** The key a re-seal seals to. */
export interface ResealTarget {
  readonly publicKey: KeyObject;
  readonly keyId: string;
}

/**
 * Seals `plaintexts` (key → bytes, one for every key of `sealed`) to `target` and returns the object
 * re-sealed. `recipient` names whose ciphertexts are replaced (what the unsealer reports:
 * `encryptedData`, the default, or a cluster entry's id in spec.recipients); every other recipient's
 * ciphertexts stay byte-identical, and only that recipient's id (the key-id hint, or the entry's id
 * and public key) moves to `target`. Throws INTERNAL when a value is missing (a caller's bug, never a
 * user's input).
 */
export function resealSealedSecret(sealed: SealedSecret, plaintexts: ReadonlyMap<string, Uint8Array>, target: ResealTarget, recipient: string = PRIMARY_RECIPIENT): SealedSecret {
  const values: Array<readonly [string, Uint8Array]> = [];
  for (const key of Object.keys(sealed.spec.encryptedData)) {
    const plaintext = plaintexts.get(key);
    if (plaintext === undefined) throw new KsealError('INTERNAL', 'a re-seal was given fewer values than the object holds', { key });
    values.push([key, plaintext]);
  }
  const { metadata } = sealed;
  const fresh = sealValues(target.publicKey, sealedSecretLabel(sealed), values);
  const entry = recipient === PRIMARY_RECIPIENT ? undefined : sealed.spec.recipients?.find((r) => r.kind === 'cluster' && r.id === recipient);
  if (recipient !== PRIMARY_RECIPIENT && entry === undefined) throw new KsealError('INTERNAL', 'a re-seal named a recipient the object does not have');
  return assembleSealedSecret({
    name: metadata.name,
    namespace: metadata.namespace,
    secret: { labels: metadata.labels ?? {}, annotations: metadata.annotations ?? {}, type: sealed.spec.template?.type ?? 'Opaque', immutable: sealed.spec.template?.immutable },
    scope: sealedSecretScope(sealed),
    keyId: entry === undefined ? target.keyId : (metadata.annotations?.[KEY_ID_ANNOTATION] ?? target.keyId),
    encryptedData: entry === undefined ? fresh : sealed.spec.encryptedData,
    apiVersion: sealed.apiVersion,
    template: sealed.spec.template,
    recipients: resealedEntries(sealed, entry, target, fresh),
  });
}

/**
 * spec.recipients after a re-seal: the entry that opened (if any) holds the fresh ciphertexts under
 * `target`'s id; another cluster set already sealed to `target` is superseded and dropped, so ids
 * stay unique. Every other recipient (other clusters, escrow) was sealed to its own key and stays
 * byte-identical.
 */
function resealedEntries(sealed: SealedSecret, opened: RecipientEntry | undefined, target: ResealTarget, fresh: Record<string, string>): RecipientEntry[] | undefined {
  const primaryIsTarget = sealed.metadata.annotations?.[KEY_ID_ANNOTATION] === target.keyId;
  return sealed.spec.recipients?.flatMap((r): RecipientEntry[] => {
    if (r === opened) return primaryIsTarget ? [] : [{ id: target.keyId, kind: 'cluster', publicKey: storedPublicKey(clusterRecipient(target)), encryptedData: sortedRecord(fresh) }];
    if (r.kind === 'cluster' && r.id === target.keyId) return [];
    return [r];
  });
}
