/**
 * Reading the labels and annotations the controller acts on. Their names (kseal's `kseal.dev/*` and
 * the Bitnami ones honoured beside them) are wire constants, in src/wire.ts.
 */
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../src/wire.js';

/** Label selector of the managed-Secret informer. */
export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

/** True when any of `names` is `"true"` in `annotations`. */
export function flagged(annotations: Readonly<Record<string, string>> | undefined, names: readonly string[]): boolean {
  return annotations !== undefined && names.some((n) => annotations[n] === 'true');
}
