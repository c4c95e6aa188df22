/**
 * Changing who an existing SealedSecret is sealed for (`kseal recipients add|remove`, FORMAT.md §9).
 *
 * Removing needs no key: a recipient's ciphertexts are simply dropped. When the recipient is the
 * first cluster (spec.encryptedData), the next cluster entry takes its place, ciphertexts and id
 * unchanged (the Bitnami-compatible field must hold a cluster's values); the last cluster recipient
 * is never removed, since no controller could open the object afterwards.
 *
 * Adding needs the plaintext (an identity or key opened it): every value is sealed for the new
 * recipients under the object's own scope; existing ciphertexts stay byte-identical. Nothing here
 * re-seals for a caller without a key (see docs/SECURITY.md, "Why no re-seal endpoint").
 */
import { KsealError, type ErrorLocation } from '../errors.js';
import { KEY_ID_ANNOTATION } from '../wire.js';
import { MAX_RECIPIENTS, PRIMARY_RECIPIENT, recipientEntries, sealForEach, type RecipientEntry, type SealingRecipient } from './recipients.js';
import { checkRecipientsAllowed, sealedSecretLabel, type SealedSecret } from './sealed-secret.js';

/** The ids the key-id hint names (it may list several keys of one cluster, comma-separated). */
function primaryIds(sealed: SealedSecret): string[] {
  return (sealed.metadata.annotations?.[KEY_ID_ANNOTATION] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** An object's recipients after a removal: the new primary (when it moved) and spec.recipients. */
export interface Removal {
  /** Ids removed from this object (empty when it had none of them). */
  readonly removed: string[];
  /** Set when the first cluster was removed: the entry whose values move to spec.encryptedData. */
  readonly promoted: RecipientEntry | undefined;
  readonly entries: RecipientEntry[];
}

/**
 * Plans removing the recipients `ids` (key ids) from `sealed`. Throws RECIPIENT_MISSING when that
 * would leave no cluster recipient, or when spec.encryptedData is named only in part (its hint lists
 * several keys and not all are removed).
 */
export function planRemoval(sealed: SealedSecret, ids: ReadonlySet<string>, location: ErrorLocation = {}): Removal {
  const entries = sealed.spec.recipients ?? [];
  const hinted = primaryIds(sealed);
  const primaryGoes = hinted.length > 0 && hinted.some((id) => ids.has(id));
  if (primaryGoes && !hinted.every((id) => ids.has(id))) {
    throw new KsealError('RECIPIENT_MISSING', `spec.encryptedData holds values sealed with several keys (${hinted.map((h) => h.slice(0, 12)).join(', ')}); remove all of them or none`, { ...location, hint: 'kseal reencrypt first makes them one key' });
  }
  const kept = entries.filter((e) => !ids.has(e.id));
  const removed = [...(primaryGoes ? [PRIMARY_RECIPIENT] : []), ...entries.filter((e) => ids.has(e.id)).map((e) => e.id)];
  if (!primaryGoes) return { removed, promoted: undefined, entries: kept };
  const promoted = kept.find((e) => e.kind === 'cluster');
  if (promoted === undefined) {
    throw new KsealError('RECIPIENT_MISSING', 'that would remove the last cluster recipient: no controller could unseal the object any more', {
      ...location,
      hint: 'add the new cluster first (kseal recipients add --cert), then remove the old one',
    });
  }
  return { removed, promoted, entries: kept.filter((e) => e !== promoted) };
}

/** Which of `recipients` an object does not hold yet (by key id: its primary hint or an entry). */
export function missingRecipients(sealed: SealedSecret, recipients: readonly SealingRecipient[]): SealingRecipient[] {
  const held = new Set([...primaryIds(sealed), ...(sealed.spec.recipients ?? []).map((e) => e.id)]);
  return recipients.filter((r) => !held.has(r.keyId));
}

/**
 * New spec.recipients for `sealed` with `recipients` added, their values sealed from `plaintext`
 * (every key of spec.encryptedData) under the object's scope; existing entries are returned as they
 * are. Throws RECIPIENTS_UNSUPPORTED for bitnami.com objects and INVALID_FIELD past 16 entries.
 */
export function entriesWithAdded(sealed: SealedSecret, recipients: readonly SealingRecipient[], plaintext: ReadonlyMap<string, Uint8Array>, location: ErrorLocation = {}): RecipientEntry[] {
  checkRecipientsAllowed(sealed.apiVersion, recipients.length > 0, location);
  const existing = sealed.spec.recipients ?? [];
  if (existing.length + recipients.length > MAX_RECIPIENTS) {
    throw new KsealError('INVALID_FIELD', `the object would have ${existing.length + recipients.length} spec.recipients entries; at most ${MAX_RECIPIENTS} are allowed`, location);
  }
  const values = new Map<string, Uint8Array>();
  for (const key of Object.keys(sealed.spec.encryptedData)) {
    const bytes = plaintext.get(key);
    if (bytes === undefined) throw new KsealError('INTERNAL', 'a recipient was added with fewer values than the object holds', { ...location, key });
    values.set(key, bytes);
  }
  return [...existing, ...recipientEntries(sealForEach(recipients, sealedSecretLabel(sealed), values))];
}
