/**
 * The Secret a SealedSecret becomes, and how it relates to a Secret that already exists:
 *
 * - none: create it;
 * - a sealing-key Secret (key-guard.ts): never written;
 * - owned by this SealedSecret: its uid is the one the controller recorded in the SealedSecret's
 *   `status.secretUid` when it created or took over the Secret (which someone who can only edit
 *   Secrets cannot change), or it has an ownerReference or `kseal.dev/owner-uid` to the SealedSecret:
 *   keep it exactly as the template says (checked before the annotations below, which only apply to
 *   Secrets it does not own);
 * - annotated `kseal.dev/managed: "true"`: take it over (it becomes owned);
 * - annotated `kseal.dev/patch: "true"`: merge the SealedSecret's keys into it, leaving its other keys,
 *   labels and annotations, type and owners alone;
 * - anything else: a conflict, left untouched.
 *
 * What the controller writes: the template's labels, annotations, type and immutability, the values,
 * the managed-by label (which the managed-Secret informer selects on), an ownerReference (unless the
 * template says `kseal.dev/skip-owner-reference: "true"`), and the integrity annotations. "Up to date"
 * tolerates labels and annotations added by others; a write replaces them with the template's.
 */
import { decodeBase64 } from '../src/crypto/base64.js';
import { secretFromTemplate, type SealedSecret } from '../src/model/sealed-secret.js';
import { sortedRecord } from '../src/model/secret.js';
import { userRecord } from '../src/model/fields.js';
import { flagged } from './annotations.js';
import type { SealingKey } from './contracts.js';
import { isKeySecret } from './key-guard.js';
import { integrityAnnotation, verifyIntegrity, type IntegrityInput } from './integrity.js';
import type { KubeObject, OwnerReferenceJson, SecretJson } from './kube-client.js';
import { INTEGRITY_ANNOTATION, KSEAL_API_VERSION, MANAGED_ANNOTATIONS, MANAGED_BY_LABEL, MANAGED_BY_VALUE, OWNER_UID_ANNOTATION, PATCH_ANNOTATIONS, SKIP_OWNER_REFERENCE_ANNOTATIONS, SPEC_HASH_ANNOTATION, UNSEALED_WITH_ANNOTATION } from '../src/wire.js';

/** How the controller treats the Secret of a SealedSecret. */
export type SecretMode = 'create' | 'owned' | 'takeover' | 'patch';

/**
 * True when `secret` belongs to the SealedSecret with this uid: it is the very Secret recorded in the
 * SealedSecret's status (`recordedUid`), or it points at the SealedSecret.
 */
function ownedBy(secret: SecretJson, uid: string, recordedUid: string | undefined): boolean {
  if (recordedUid !== undefined && recordedUid !== '' && secret.metadata.uid === recordedUid) return true;
  return secret.metadata.ownerReferences?.some((r) => r.uid === uid) === true || secret.metadata.annotations?.[OWNER_UID_ANNOTATION] === uid;
}

/**
 * The mode for an existing Secret, `conflict` when it must be left alone, or `key` when it is a
 * sealing-key Secret (never written). Ownership is decided first: a Secret this SealedSecret owns is
 * restored to exactly what it says, whatever annotations someone who can edit Secrets put on it (a
 * `patch` annotation added to an owned Secret would otherwise keep their foreign keys), also when
 * they removed its ownerReference and owner-uid annotation: `recordedUid` (the SealedSecret's
 * `status.secretUid`) still names it.
 */
export function secretMode(existing: SecretJson | undefined, ownerUid: string, recordedUid?: string): SecretMode | 'conflict' | 'key' {
  if (existing === undefined) return 'create';
  if (isKeySecret(existing)) return 'key';
  const annotations = existing.metadata.annotations;
  if (ownedBy(existing, ownerUid, recordedUid)) return 'owned';
  if (flagged(annotations, PATCH_ANNOTATIONS)) return 'patch';
  if (flagged(annotations, MANAGED_ANNOTATIONS)) return 'takeover';
  return 'conflict';
}

/** The keys the controller writes: template data and encrypted values. */
function writtenKeys(sealed: SealedSecret): string[] {
  return [...new Set([...Object.keys(sealed.spec.template?.data ?? {}), ...Object.keys(sealed.spec.encryptedData)])].sort();
}

/** The unsealed values an existing Secret provably holds, when it was written from this very spec. */
export interface VerifiedData {
  readonly unsealed: Map<string, Buffer>;
  readonly keyIds: string[];
  /** The integrity annotation that verified. */
  readonly verifiedAnnotation: string;
}

/**
 * Returns the values of `existing` when its spec hash matches and its HMAC verifies under one of
 * `keys` (no private-key operation needed), else undefined.
 */
export function verifiedData(existing: SecretJson, sealed: SealedSecret, hash: string, ownerUid: string, keys: readonly SealingKey[]): VerifiedData | undefined {
  const annotations = existing.metadata.annotations ?? {};
  if (annotations[SPEC_HASH_ANNOTATION] !== hash) return undefined;
  const data = userRecord();
  for (const key of writtenKeys(sealed)) {
    const value = existing.data !== undefined && Object.hasOwn(existing.data, key) ? existing.data[key] : undefined;
    if (value === undefined) return undefined;
    data[key] = value;
  }
  const keyIds = (annotations[UNSEALED_WITH_ANNOTATION] ?? '').split(',').filter((id) => id !== '');
  const verifiedAnnotation = annotations[INTEGRITY_ANNOTATION];
  if (verifiedAnnotation === undefined || !verifyIntegrity(verifiedAnnotation, keys, { specHash: hash, ownerUid, keyIds, data })) return undefined;
  const unsealed = new Map<string, Buffer>();
  for (const key of Object.keys(sealed.spec.encryptedData)) {
    const bytes = decodeBase64(data[key] ?? '');
    if (bytes === undefined) return undefined;
    unsealed.set(key, bytes);
  }
  return { unsealed, keyIds, verifiedAnnotation };
}

/** The ownerReference to a SealedSecret. */
function ownerReference(owner: KubeObject): OwnerReferenceJson {
  return {
    apiVersion: owner.apiVersion ?? KSEAL_API_VERSION,
    kind: owner.kind ?? 'SealedSecret',
    name: owner.metadata.name,
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/**
 * Builds the Secret the controller wants for `sealed` (owner `owner`), with its integrity annotations:
 * a fresh HMAC under `signer`, or, when the values come from a Secret whose HMAC just verified, that
 * Secret's own annotation (so a key rotation does not rewrite every Secret).
 */
export function desiredSecret(
  sealed: SealedSecret,
  owner: KubeObject,
  unsealed: ReadonlyMap<string, Buffer>,
  keyIds: readonly string[],
  hash: string,
  signer: SealingKey | { readonly verifiedAnnotation: string },
): SecretJson {
  const base = secretFromTemplate(sealed, unsealed);
  const ownerUid = owner.metadata.uid ?? '';
  const ids = [...new Set(keyIds)].sort();
  const written = userRecord();
  for (const key of writtenKeys(sealed)) written[key] = base.data[key] ?? '';
  const input: IntegrityInput = { specHash: hash, ownerUid, keyIds: ids, data: written };
  const annotations: Record<string, string> = {
    ...base.metadata.annotations,
    [SPEC_HASH_ANNOTATION]: hash,
    [INTEGRITY_ANNOTATION]: 'verifiedAnnotation' in signer ? signer.verifiedAnnotation : integrityAnnotation(signer, input),
    [UNSEALED_WITH_ANNOTATION]: ids.join(','),
    [OWNER_UID_ANNOTATION]: ownerUid,
  };
  const metadata: SecretJson['metadata'] = {
    name: base.metadata.name,
    ...(base.metadata.namespace === undefined ? {} : { namespace: base.metadata.namespace }),
    labels: sortedRecord({ ...base.metadata.labels, [MANAGED_BY_LABEL]: MANAGED_BY_VALUE }),
    annotations: sortedRecord(annotations),
  };
  if (!flagged(sealed.spec.template?.metadata?.annotations, SKIP_OWNER_REFERENCE_ANNOTATIONS)) metadata.ownerReferences = [ownerReference(owner)];
  const secret: SecretJson = { apiVersion: 'v1', kind: 'Secret', metadata, type: base.type, data: base.data };
  if (base.immutable !== undefined) secret.immutable = base.immutable;
  return secret;
}

/** What to do with the existing Secret. */
export type WritePlan =
  | { readonly action: 'none' }
  | { readonly action: 'create'; readonly body: SecretJson }
  | { readonly action: 'replace'; readonly body: SecretJson }
  /** The Secret is immutable and its data, type or immutability would change. */
  | { readonly action: 'immutable' };

/** Decides the write that brings `existing` to `desired` in `mode`. */
export function planWrite(mode: SecretMode, existing: SecretJson | undefined, desired: SecretJson): WritePlan {
  if (mode === 'create' || existing === undefined) return { action: 'create', body: desired };
  const labels = existing.metadata.labels ?? {};
  const annotations = existing.metadata.annotations ?? {};
  const desiredData = desired.data ?? {};
  const existingData = existing.data ?? {};
  // A merged-into Secret stays someone else's: it never gets the owner-uid annotation, which would
  // make it count as owned (and be restored to exactly the SealedSecret) on the next reconcile.
  const { [OWNER_UID_ANNOTATION]: _ownerUid, ...patchAnnotations } = desired.metadata.annotations ?? {};
  const desiredAnnotations = mode === 'patch' ? patchAnnotations : (desired.metadata.annotations ?? {});
  const metaOk = contains(labels, desired.metadata.labels ?? {}) && contains(annotations, desiredAnnotations);
  if (mode === 'patch') {
    if (metaOk && contains(existingData, desiredData)) return { action: 'none' };
    if (existing.immutable === true && !contains(existingData, desiredData)) return { action: 'immutable' };
    return {
      action: 'replace',
      body: {
        ...existing,
        metadata: { ...existing.metadata, labels: { ...labels, ...desired.metadata.labels }, annotations: { ...annotations, ...desiredAnnotations } },
        data: { ...existingData, ...desiredData },
      },
    };
  }
  const ours = desired.metadata.ownerReferences?.[0];
  const ownerOk = ours === undefined || existing.metadata.ownerReferences?.some((r) => r.uid === ours.uid && r.controller === true) === true;
  const dataSame = sameRecord(existingData, desiredData);
  const typeSame = (existing.type ?? 'Opaque') === (desired.type ?? 'Opaque');
  const immutableSame = (existing.immutable ?? false) === (desired.immutable ?? false);
  if (mode === 'owned' && metaOk && ownerOk && dataSame && typeSame && immutableSame) return { action: 'none' };
  if (existing.immutable === true && !(dataSame && typeSame && immutableSame)) return { action: 'immutable' };
  const others = (existing.metadata.ownerReferences ?? []).filter((r) => r.controller !== true && r.uid !== ours?.uid);
  const ownerReferences = ours === undefined ? others : [...others, ours];
  const { stringData: _dropped, ...rest } = existing as SecretJson & { stringData?: unknown };
  const metadata: SecretJson['metadata'] = { ...existing.metadata, labels: desired.metadata.labels ?? {}, annotations: desired.metadata.annotations ?? {} };
  if (ownerReferences.length > 0) metadata.ownerReferences = ownerReferences;
  else delete metadata.ownerReferences;
  const body: SecretJson = { ...rest, metadata, type: desired.type ?? 'Opaque', data: desiredData };
  if (desired.immutable !== undefined) body.immutable = desired.immutable;
  else delete body.immutable;
  return { action: 'replace', body };
}

function contains(have: Readonly<Record<string, string>>, want: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(want)) if (!Object.hasOwn(have, k) || have[k] !== v) return false;
  return true;
}

function sameRecord(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  return Object.keys(a).length === Object.keys(b).length && contains(a, b);
}
