/**
 * Moving a SealedSecret between API groups (`kseal convert`): kseal's `kseal.dev/v1alpha1` with its
 * `kseal.dev/scope` annotation, and Bitnami's `bitnami.com/v1alpha1` with the
 * `sealedsecrets.bitnami.com/{cluster,namespace}-wide: "true"` annotations (none for strict). Only the
 * apiVersion and the scope annotations change: the scope, name and namespace stay, so every
 * ciphertext still opens, byte for byte the same.
 */
import { KsealError } from '../errors.js';
import { sealedSecretScope, type SealedApiVersion, type SealedSecret } from './sealed-secret.js';
import { BITNAMI_API_VERSION, BITNAMI_CLUSTER_WIDE, BITNAMI_NAMESPACE_WIDE, KSEAL_API_VERSION, SCOPE_ANNOTATION } from '../wire.js';

/** The two targets, by the names the CLI takes. */
export const CONVERT_TARGETS = { kseal: KSEAL_API_VERSION, bitnami: BITNAMI_API_VERSION } as const;
export type ConvertTarget = keyof typeof CONVERT_TARGETS;

/** The edit that moves one object: the new apiVersion, annotations to set and to remove. */
export interface ConvertEdit {
  readonly apiVersion: SealedApiVersion;
  readonly set: Readonly<Record<string, string>>;
  readonly remove: readonly string[];
}

/**
 * The edit that moves `sealed` to `target`, or undefined when it is already there with exactly the
 * target's annotations. Throws SCOPE_CONFLICT for contradicting scope annotations (from
 * sealedSecretScope), and UNSUPPORTED_TEMPLATE when a template data key is also an encrypted key
 * (the two controllers resolve that clash differently, so the object would not mean the same).
 */
export function convertEdit(sealed: SealedSecret, target: ConvertTarget): ConvertEdit | undefined {
  const scope = sealedSecretScope(sealed);
  const apiVersion = CONVERT_TARGETS[target];
  const clash = Object.keys(sealed.spec.template?.data ?? {}).find((k) => k in sealed.spec.encryptedData);
  if (clash !== undefined) {
    throw new KsealError('UNSUPPORTED_TEMPLATE', 'spec.template.data and spec.encryptedData both set this key, which kseal.dev and bitnami.com objects resolve differently', {
      key: clash,
      hint: 'rename one of them before converting',
    });
  }
  const annotations = sealed.metadata.annotations ?? {};
  const want: Record<string, string> = {};
  if (target === 'kseal') want[SCOPE_ANNOTATION] = scope;
  else if (scope === 'cluster-wide') want[BITNAMI_CLUSTER_WIDE] = 'true';
  else if (scope === 'namespace-wide') want[BITNAMI_NAMESPACE_WIDE] = 'true';
  const remove = [SCOPE_ANNOTATION, BITNAMI_CLUSTER_WIDE, BITNAMI_NAMESPACE_WIDE].filter((k) => k in annotations && !(k in want));
  const set: Record<string, string> = {};
  for (const [k, v] of Object.entries(want)) if (annotations[k] !== v) set[k] = v;
  if (sealed.apiVersion === apiVersion && remove.length === 0 && Object.keys(set).length === 0) return undefined;
  return { apiVersion, set, remove };
}
