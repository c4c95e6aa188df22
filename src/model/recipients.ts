/**
 * The recipients of a SealedSecret (docs/FORMAT.md §9): the first cluster key seals
 * `spec.encryptedData` (Bitnami-compatible, named by the `kseal.dev/key-id` hint); every further
 * recipient, another cluster's RSA key or an offline X25519 escrow identity, has an entry in the
 * kseal-only `spec.recipients[]` with its key id, kind, public key and its own `encryptedData`
 * holding the same keys. Ids are hints, never trusted: they only choose which ciphertexts and which
 * key to try first.
 *
 * `sealForRecipients` is the one place that seals values for a list of recipients: one RSA-OAEP
 * wrap per value per cluster key, one ephemeral X25519 key per escrow recipient per run.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { KsealError, type ErrorLocation } from '../errors.js';
import { decodeBase64, encodeBase64 } from '../crypto/base64.js';
import { sealValues } from '../crypto/seal-value.js';
import { EscrowEphemeral, EscrowSealer } from '../crypto/escrow.js';
import { parseRecipient, type EscrowRecipient } from '../crypto/identity.js';
import { keyIdOf } from '../crypto/key-id.js';
import { asRecord, describe, optionalString, stringMap, userRecord } from './fields.js';
import { invalidSecretKey } from './names.js';
import { sortedRecord } from './secret.js';

export const RECIPIENT_KINDS = ['cluster', 'escrow'] as const;
export type RecipientKind = (typeof RECIPIENT_KINDS)[number];
/** Most entries in spec.recipients (bounds the work of opening an object). */
export const MAX_RECIPIENTS = 16;
/** Where the first cluster recipient's ciphertexts live, as a recipient name in messages and status. */
export const PRIMARY_RECIPIENT = 'encryptedData';

/** One entry of spec.recipients[]. */
export interface RecipientEntry {
  /** Key id (64 lowercase hex) of the recipient's public key. */
  id: string;
  kind: RecipientKind;
  /** cluster: base64 DER SubjectPublicKeyInfo of the RSA key; escrow: the kseal1… text. */
  publicKey: string;
  encryptedData: Record<string, string>;
}

/** A recipient values can be sealed for. */
export type SealingRecipient =
  | { readonly kind: 'cluster'; readonly keyId: string; readonly publicKey: KeyObject }
  | { readonly kind: 'escrow'; readonly keyId: string; readonly publicKey: Buffer; readonly text: string };

/** The cluster recipient of a certificate (or anything with an RSA public key and its id). */
export function clusterRecipient(cert: { readonly publicKey: KeyObject; readonly keyId: string }): SealingRecipient {
  return { kind: 'cluster', keyId: cert.keyId, publicKey: cert.publicKey };
}

/** The escrow recipient of a parsed kseal1… key. */
export function escrowRecipient(recipient: EscrowRecipient): SealingRecipient {
  return { kind: 'escrow', keyId: recipient.keyId, publicKey: recipient.publicKey, text: recipient.text };
}

/** Drops repeated key ids (the first wins), so one key never gets two entries. */
export function uniqueRecipients(list: readonly SealingRecipient[]): SealingRecipient[] {
  const seen = new Set<string>();
  return list.filter((r) => (seen.has(r.keyId) ? false : (seen.add(r.keyId), true)));
}

/** The public-key text stored in an entry for `recipient`. */
export function storedPublicKey(recipient: SealingRecipient): string {
  return recipient.kind === 'escrow' ? recipient.text : encodeBase64(recipient.publicKey.export({ type: 'spki', format: 'der' }));
}

/** Sealed values for a primary cluster key and further recipients, base64 as stored. */
export interface RecipientValues {
  /** For spec.encryptedData (the primary cluster recipient). */
  readonly primary: Record<string, string>;
  /** For spec.recipients[], in the order of `others`. */
  readonly others: ReadonlyArray<{ readonly recipient: SealingRecipient; readonly encryptedData: Record<string, string> }>;
}

/**
 * Seals `values` for the primary cluster recipient and every other recipient under the scope
 * `label`. Escrow recipients get one ephemeral key for the whole call (one DH, not one per value).
 */
export function sealForRecipients(primary: { readonly publicKey: KeyObject }, others: readonly SealingRecipient[], label: Buffer, values: ReadonlyMap<string, Uint8Array>): RecipientValues {
  return { primary: sealValues(primary.publicKey, label, values), others: sealForEach(others, label, values) };
}

/** How long, and for how many objects, one ephemeral escrow key is reused (FORMAT.md §9.3). */
const EPHEMERAL_REUSE_MS = 60_000;
const EPHEMERAL_REUSE_OBJECTS = 100_000;
const ephemerals = new Map<string, { readonly ephemeral: EscrowEphemeral; readonly until: number; uses: number }>();

/**
 * The ephemeral key for an escrow recipient: one per recipient for the objects sealed within one
 * command (at most a minute and 100,000 objects), so bulk sealing pays one X25519 operation per
 * recipient, not two per object. Each object still gets its own keys: the label is in the HKDF info.
 */
function ephemeralFor(recipient: Extract<SealingRecipient, { kind: 'escrow' }>): EscrowEphemeral {
  const now = Date.now();
  const cached = ephemerals.get(recipient.keyId);
  if (cached !== undefined && cached.until > now && cached.uses < EPHEMERAL_REUSE_OBJECTS) {
    cached.uses++;
    return cached.ephemeral;
  }
  const ephemeral = new EscrowEphemeral(recipient.publicKey);
  if (ephemerals.size >= MAX_RECIPIENTS) ephemerals.clear();
  ephemerals.set(recipient.keyId, { ephemeral, until: now + EPHEMERAL_REUSE_MS, uses: 1 });
  return ephemeral;
}

/** Seals `values` for each recipient under `label` (what `kseal recipients add` needs: no primary). */
export function sealForEach(recipients: readonly SealingRecipient[], label: Buffer, values: ReadonlyMap<string, Uint8Array>): RecipientValues['others'] {
  return recipients.map((recipient) => {
    if (recipient.kind === 'cluster') return { recipient, encryptedData: sealValues(recipient.publicKey, label, values) };
    const sealer = new EscrowSealer(ephemeralFor(recipient), label);
    const encryptedData = userRecord();
    for (const [key, bytes] of values) encryptedData[key] = encodeBase64(sealer.seal(bytes));
    return { recipient, encryptedData };
  });
}

/** New spec.recipients[] entries for sealed values (keys sorted). */
export function recipientEntries(values: RecipientValues['others']): RecipientEntry[] {
  return values.map(({ recipient, encryptedData }) => ({ id: recipient.keyId, kind: recipient.kind, publicKey: storedPublicKey(recipient), encryptedData: sortedRecord(encryptedData) }));
}

/** The recipient an entry names, from its stored public key; checks that the key matches the id. */
export function entryRecipient(entry: RecipientEntry, location: ErrorLocation = {}): SealingRecipient {
  const where = `spec.recipients entry ${entry.id.slice(0, 12)}`;
  let recipient: SealingRecipient;
  if (entry.kind === 'escrow') {
    recipient = escrowRecipient(parseRecipient(entry.publicKey, `the publicKey of ${where}`));
  } else {
    const der = decodeBase64(entry.publicKey);
    let key: KeyObject | undefined;
    try {
      key = der === undefined ? undefined : createPublicKey({ key: der, format: 'der', type: 'spki' });
    } catch {
      key = undefined;
    }
    if (key === undefined || key.asymmetricKeyType !== 'rsa') throw new KsealError('INVALID_FIELD', `the publicKey of ${where} is not a base64 DER RSA public key`, location);
    recipient = { kind: 'cluster', keyId: keyIdOf(key), publicKey: key };
  }
  if (recipient.keyId !== entry.id) throw new KsealError('INVALID_FIELD', `the publicKey of ${where} does not match its id`, { ...location, hint: 'the entry was edited by hand; remove it (kseal recipients remove) and add the recipient again' });
  return recipient;
}

const KEY_ID = /^[0-9a-f]{64}$/;

/**
 * Reads spec.recipients (absent or null gives []). Checks the shape only (the public keys are parsed
 * when sealing, see entryRecipient): ids are 64 hex, unique; kinds known; every entry holds exactly
 * the keys of spec.encryptedData.
 */
export function readRecipientEntries(value: unknown, primaryKeys: readonly string[], location: ErrorLocation): RecipientEntry[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new KsealError('INVALID_FIELD', `spec.recipients must be a list, not ${describe(value)}`, location);
  if (value.length > MAX_RECIPIENTS) throw new KsealError('INVALID_FIELD', `spec.recipients holds ${value.length} entries; at most ${MAX_RECIPIENTS} are allowed`, location);
  const ids = new Set<string>();
  const expected = [...primaryKeys].sort().join('\0');
  return value.map((item, i) => {
    const field = `spec.recipients[${i}]`;
    const r = asRecord(item, field, location);
    const id = optionalString(r.id, `${field}.id`, location) ?? '';
    if (!KEY_ID.test(id)) throw new KsealError('INVALID_FIELD', `${field}.id must be a key id (64 lowercase hex digits)`, location);
    if (ids.has(id)) throw new KsealError('INVALID_FIELD', `${field}.id repeats an earlier recipient`, location);
    ids.add(id);
    const kind = optionalString(r.kind, `${field}.kind`, location);
    if (kind !== 'cluster' && kind !== 'escrow') throw new KsealError('INVALID_FIELD', `${field}.kind must be cluster or escrow`, location);
    const publicKey = optionalString(r.publicKey, `${field}.publicKey`, location);
    if (publicKey === undefined || publicKey === '') throw new KsealError('INVALID_FIELD', `${field}.publicKey is missing`, location);
    const encryptedData = stringMap(r.encryptedData, `${field}.encryptedData`, location);
    for (const key of Object.keys(encryptedData)) {
      const why = invalidSecretKey(key);
      if (why) throw new KsealError('INVALID_KEY_NAME', `the key name is not valid: it ${why}`, { ...location, key });
    }
    if (Object.keys(encryptedData).sort().join('\0') !== expected) {
      throw new KsealError('INVALID_FIELD', `${field}.encryptedData does not hold the same keys as spec.encryptedData`, { ...location, hint: 'add or remove keys with kseal encrypt --merge-into or kseal edit, which keep every recipient in step' });
    }
    return { id, kind, publicKey, encryptedData };
  });
}
