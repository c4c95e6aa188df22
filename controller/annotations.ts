/**
 * Labels and annotations the controller reads and writes. The `kseal.dev/*` names are kseal's own;
 * Bitnami's are honoured too on the objects people make (take-over, patch, skip owner reference), so
 * objects and Secrets move between the two controllers unchanged.
 */

/** Label on every Secret the controller writes: the managed-Secret informer selects on it. */
export const MANAGED_BY_LABEL = 'kseal.dev/managed-by';
export const MANAGED_BY_VALUE = 'kseal-controller';
/** Label selector of the managed-Secret informer. */
export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

/** On a Secret: SHA-256 of the SealedSecret content it was produced from (see integrity.ts). */
export const SPEC_HASH_ANNOTATION = 'kseal.dev/spec-hash';
/** On a Secret: `<key id prefix>:<HMAC-SHA256>` over what the controller wrote (see integrity.ts). */
export const INTEGRITY_ANNOTATION = 'kseal.dev/integrity';
/** On a Secret: the ids of the sealing keys that opened its values, comma-separated. */
export const UNSEALED_WITH_ANNOTATION = 'kseal.dev/unsealed-with';
/** On a Secret: the uid of the SealedSecret it belongs to (ownership without an ownerReference). */
export const OWNER_UID_ANNOTATION = 'kseal.dev/owner-uid';

/** On an existing Secret: let the controller take it over. */
export const MANAGED_ANNOTATIONS: readonly string[] = ['kseal.dev/managed', 'sealedsecrets.bitnami.com/managed'];
/** On an existing Secret: merge the SealedSecret's keys into it, leaving its other keys. */
export const PATCH_ANNOTATIONS: readonly string[] = ['kseal.dev/patch', 'sealedsecrets.bitnami.com/patch'];
/** On the template's annotations: write no ownerReference. */
export const SKIP_OWNER_REFERENCE_ANNOTATIONS: readonly string[] = ['kseal.dev/skip-owner-reference', 'sealedsecrets.bitnami.com/skip-set-owner-references'];

/** True when any of `names` is `"true"` in `annotations`. */
export function flagged(annotations: Readonly<Record<string, string>> | undefined, names: readonly string[]): boolean {
  return annotations !== undefined && names.some((n) => annotations[n] === 'true');
}
