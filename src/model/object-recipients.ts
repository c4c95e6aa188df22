/**
 * Sealing for and opening with the recipients already on a SealedSecret: what `--merge-into`,
 * `kseal edit`, `kseal set` and `kseal recipients add` need. New values are sealed for the object's
 * first cluster key (the certificate the caller has) and for every entry of spec.recipients, from
 * the public keys stored there, under the object's own scope; escrow identities open the object
 * offline, without any cluster key.
 */
import { KsealError, type ErrorLocation } from '../errors.js';
import { openEscrowValue, type EscrowOpenCache } from '../crypto/escrow.js';
import type { EscrowIdentity } from '../crypto/identity.js';
import type { PrivateKeyEntry } from '../crypto/private-key.js';
import type { SealingCertificate } from '../crypto/certificate.js';
import { entryRecipient, sealForRecipients, type SealingRecipient } from './recipients.js';
import { decodeValues, mostSpecificError, sealedSecretLabel, unsealSealedSecret, type SealedSecret } from './sealed-secret.js';
import { KEY_ID_ANNOTATION } from '../wire.js';

/** The recipients of spec.recipients, parsed from their stored public keys (in order). */
export function objectRecipients(sealed: SealedSecret, location: ErrorLocation = {}): SealingRecipient[] {
  return (sealed.spec.recipients ?? []).map((entry) => entryRecipient(entry, location));
}

/** New ciphertexts for an object: for spec.encryptedData and, by entry id, for each spec.recipients entry. */
export interface ObjectValues {
  readonly encryptedData: Record<string, string>;
  readonly recipients: ReadonlyMap<string, Record<string, string>>;
}

/**
 * Seals `values` for every recipient of `sealed`: `primary` (the certificate of its first cluster)
 * for spec.encryptedData and each spec.recipients entry from its stored public key, under the
 * object's own name, namespace and scope. The one function for adding or changing keys of an
 * existing object (merge, edit, set).
 */
export function sealForObject(sealed: SealedSecret, primary: Pick<SealingCertificate, 'publicKey'>, values: ReadonlyMap<string, Uint8Array>, location: ErrorLocation = {}): ObjectValues {
  const recipients = objectRecipients(sealed, location);
  const sealedValues = sealForRecipients(primary, recipients, sealedSecretLabel(sealed), values);
  return { encryptedData: sealedValues.primary, recipients: new Map(sealedValues.others.map((o) => [o.recipient.keyId, o.encryptedData])) };
}

/** What opened an object, for messages: the recipient and where its key came from. */
export interface Opened {
  readonly data: Map<string, Buffer>;
  /** `encryptedData` or the spec.recipients id whose ciphertexts opened. */
  readonly recipient: string;
  readonly kind: 'cluster' | 'escrow';
  /** Key id of the private key or identity that opened it. */
  readonly keyId: string;
  /** The file it came from. */
  readonly source: string;
}

/**
 * Opens an object with escrow identities: the entries whose id matches an identity first, then every
 * other escrow entry with every identity (ids are hints). Throws the most specific failure, or
 * DECRYPT_FAILED when the object has no escrow entry an identity opens.
 */
export function openWithIdentities(sealed: SealedSecret, identities: readonly EscrowIdentity[], location: ErrorLocation = {}): Opened {
  const label = sealedSecretLabel(sealed);
  const entries = (sealed.spec.recipients ?? []).filter((r) => r.kind === 'escrow');
  const pairs = [
    ...entries.flatMap((entry) => identities.filter((id) => id.keyId === entry.id).map((identity) => ({ entry, identity }))),
    ...entries.flatMap((entry) => identities.filter((id) => id.keyId !== entry.id).map((identity) => ({ entry, identity }))),
  ];
  const errors: KsealError[] = [];
  for (const { entry, identity } of pairs) {
    const cache: EscrowOpenCache = new Map();
    const data = new Map<string, Buffer>();
    try {
      for (const { key, bytes } of decodeValues(entry.encryptedData, location)) {
        try {
          data.set(key, openEscrowValue(identity, label, bytes, cache));
        } catch (e) {
          throw e instanceof KsealError ? e.at({ ...location, key }) : e;
        }
      }
    } catch (e) {
      if (!(e instanceof KsealError)) throw e;
      for (const bytes of data.values()) bytes.fill(0);
      errors.push(e);
      continue;
    }
    return { data, recipient: entry.id, kind: 'escrow', keyId: identity.keyId, source: identity.source };
  }
  const error = mostSpecificError(errors);
  if (error !== undefined && error.code !== 'DECRYPT_FAILED') throw error;
  const held = identities.map((i) => i.recipient.slice(0, 16)).join(', ');
  throw new KsealError('DECRYPT_FAILED', entries.length === 0 ? 'the object has no escrow recipient' : `no identity opens it (tried ${identities.length}: ${held}…)`, {
    ...location,
    hint: entries.length === 0 ? 'it was sealed without --recipient; open it with the cluster key (--key) instead' : 'pass the identity it was sealed for, or check that it was sealed for this name, namespace and scope',
  });
}

/**
 * Opens an object with whatever the caller holds: escrow identities first (no RSA work), then cluster
 * private keys. Throws the failure of the last kind tried when neither opens it.
 */
export function openObject(sealed: SealedSecret, held: { readonly identities?: readonly EscrowIdentity[]; readonly keys?: readonly PrivateKeyEntry[] }, location: ErrorLocation = {}): Opened {
  const identities = held.identities ?? [];
  const keys = held.keys ?? [];
  if (identities.length === 0 && keys.length === 0) throw new KsealError('NO_PRIVATE_KEYS', 'no identity or private key was given', { ...location, hint: 'pass --identity FILE or --key FILE' });
  let failure: unknown;
  if (identities.length > 0) {
    try {
      return openWithIdentities(sealed, identities, location);
    } catch (e) {
      if (keys.length === 0) throw e;
      failure = e;
    }
  }
  try {
    const result = unsealSealedSecret(sealed, keys, location);
    const keyId = [...result.keyIds.values()][0] ?? sealed.metadata.annotations?.[KEY_ID_ANNOTATION] ?? '';
    const data = new Map<string, Buffer>();
    for (const key of Object.keys(sealed.spec.encryptedData)) {
      const value = result.secret.data[key];
      if (value !== undefined) data.set(key, Buffer.from(value, 'base64'));
    }
    return { data, recipient: result.recipient, kind: 'cluster', keyId, source: keys.find((k) => k.keyId === keyId)?.source ?? '' };
  } catch (e) {
    throw failure !== undefined && isAuth(failure) ? failure : e;
  }
}

function isAuth(e: unknown): boolean {
  return e instanceof KsealError && (e.code === 'AUTH_FAILED' || e.code === 'MALFORMED_CIPHERTEXT');
}
