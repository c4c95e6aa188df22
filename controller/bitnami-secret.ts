/**
 * The Secret a bitnami.com/v1alpha1 SealedSecret becomes, with exactly Bitnami's semantics
 * (pkg/apis/sealedsecrets/v1alpha1 Unseal and the controller's update rule), so that a Secret
 * Bitnami's controller made is already "up to date" (adopted with no write) and one kseal writes is
 * one Bitnami's controller would leave alone after a rollback:
 *
 * - metadata is the template's labels and annotations; name and namespace are the object's;
 * - `type` and `immutable` from the template; data: the unsealed values, then each
 *   `spec.template.data` entry rendered as a Go template over the unsealed values (go-template.ts),
 *   which wins over an encrypted key of the same name, as in Bitnami;
 * - an ownerReference `{apiVersion: bitnami.com/v1alpha1, kind: SealedSecret, name, uid,
 *   controller: true}` unless the template says `sealedsecrets.bitnami.com/skip-set-owner-references`;
 * - nothing of kseal's: no managed-by label, no integrity annotations.
 *
 * Updating an existing Secret: `patch` merges data, labels and annotations (and takes the owner
 * when it is also `managed`); otherwise data, labels, annotations and owners are replaced. The type
 * always follows the template. No write when nothing differs.
 */
import { encodeBase64 } from '../src/crypto/base64.js';
import { KsealError } from '../src/errors.js';
import type { SealedSecret } from '../src/model/sealed-secret.js';
import { BITNAMI_API_VERSION, MANAGED_ANNOTATIONS, SKIP_OWNER_REFERENCE_ANNOTATIONS } from '../src/wire.js';
import { flagged } from './annotations.js';
import { renderGoTemplate } from '../src/model/go-template.js';
import type { KubeObject, OwnerReferenceJson, SecretJson } from './kube-client.js';
import type { SecretMode, WritePlan } from './secret-writer.js';

/** The Secret Bitnami's controller would write for `sealed` (owner `owner`) from the unsealed values. */
export function bitnamiDesiredSecret(sealed: SealedSecret, owner: KubeObject, unsealed: ReadonlyMap<string, Buffer>): SecretJson {
  const template = sealed.spec.template ?? {};
  const data: Record<string, string> = {};
  const strings: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, bytes] of unsealed) {
    data[key] = encodeBase64(bytes);
    strings[key] = bytes.toString('utf8');
  }
  for (const [key, text] of Object.entries(template.data ?? {})) {
    try {
      data[key] = encodeBase64(Buffer.from(renderGoTemplate(text, strings), 'utf8'));
    } catch (e) {
      throw e instanceof KsealError ? e.at({ key }) : e;
    }
  }
  const metadata: SecretJson['metadata'] = { name: sealed.metadata.name };
  if (sealed.metadata.namespace !== undefined) metadata.namespace = sealed.metadata.namespace;
  if (template.metadata?.labels !== undefined) metadata.labels = { ...template.metadata.labels };
  if (template.metadata?.annotations !== undefined) metadata.annotations = { ...template.metadata.annotations };
  if (!flagged(template.metadata?.annotations, SKIP_OWNER_REFERENCE_ANNOTATIONS)) metadata.ownerReferences = [bitnamiOwnerReference(owner)];
  const secret: SecretJson = { apiVersion: 'v1', kind: 'Secret', metadata, type: template.type ?? 'Opaque', data };
  if (template.immutable !== undefined) secret.immutable = template.immutable;
  return secret;
}

/** Bitnami's ownerReference to its SealedSecret (controller, no blockOwnerDeletion). */
function bitnamiOwnerReference(owner: KubeObject): OwnerReferenceJson {
  return { apiVersion: BITNAMI_API_VERSION, kind: 'SealedSecret', name: owner.metadata.name, uid: owner.metadata.uid ?? '', controller: true };
}

/** Decides the write that brings `existing` to `desired` the way Bitnami's controller does. */
export function planBitnamiWrite(mode: SecretMode, existing: SecretJson | undefined, desired: SecretJson): WritePlan {
  if (mode === 'create' || existing === undefined) return { action: 'create', body: desired };
  const annotations = existing.metadata.annotations ?? {};
  const next: SecretJson = { ...existing, metadata: { ...existing.metadata } };
  if (mode === 'patch') {
    next.data = { ...existing.data, ...desired.data };
    next.metadata.annotations = { ...annotations, ...desired.metadata.annotations };
    next.metadata.labels = { ...existing.metadata.labels, ...desired.metadata.labels };
    if (flagged(annotations, MANAGED_ANNOTATIONS)) setOwners(next, desired.metadata.ownerReferences);
  } else {
    next.data = { ...desired.data };
    setMap(next.metadata, 'annotations', desired.metadata.annotations);
    setMap(next.metadata, 'labels', desired.metadata.labels);
    setOwners(next, desired.metadata.ownerReferences);
  }
  next.type = desired.type ?? 'Opaque';
  if (same(existing, next)) return { action: 'none' };
  const dataChanges = !sameRecord(existing.data ?? {}, next.data ?? {}) || (existing.type ?? 'Opaque') !== next.type;
  if (existing.immutable === true && dataChanges) return { action: 'immutable' };
  const { stringData: _dropped, ...body } = next as SecretJson & { stringData?: unknown };
  return { action: 'replace', body };
}

function setOwners(secret: SecretJson, owners: OwnerReferenceJson[] | undefined): void {
  if (owners === undefined || owners.length === 0) delete secret.metadata.ownerReferences;
  else secret.metadata.ownerReferences = owners.map((o) => ({ ...o }));
}

function setMap(meta: SecretJson['metadata'], field: 'labels' | 'annotations', value: Record<string, string> | undefined): void {
  if (value === undefined || Object.keys(value).length === 0) delete meta[field];
  else meta[field] = { ...value };
}

/** Bitnami's semantic equality on what it writes: data, labels, annotations, owners, type. */
function same(a: SecretJson, b: SecretJson): boolean {
  return (
    sameRecord(a.data ?? {}, b.data ?? {}) &&
    sameRecord(a.metadata.labels ?? {}, b.metadata.labels ?? {}) &&
    sameRecord(a.metadata.annotations ?? {}, b.metadata.annotations ?? {}) &&
    (a.type ?? 'Opaque') === (b.type ?? 'Opaque') &&
    JSON.stringify((a.metadata.ownerReferences ?? []).map(owner)) === JSON.stringify((b.metadata.ownerReferences ?? []).map(owner))
  );
}

function owner(r: OwnerReferenceJson): unknown[] {
  return [r.apiVersion, r.kind, r.name, r.uid, r.controller ?? false, r.blockOwnerDeletion ?? false];
}

function sameRecord(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
}
