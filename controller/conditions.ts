/**
 * The condition set the controller writes for one outcome, following kstatus (sigs.k8s.io/cli-utils,
 * read by Flux, kpt and `kubectl wait`) and, on adopted Bitnami objects, Bitnami's own `Synced`:
 *
 * - `Ready`: True (Unsealed), False (a failure), Unknown (ApiError);
 * - `Reconciling=True` (same reason and message as Ready) while the controller retries on its own
 *   (ApiError, a WriteFailed it backs off on): kstatus says InProgress;
 * - `Stalled=True` (same reason and message) when the outcome cannot change until the object, its
 *   Secret or the keys change (DecryptFailed, InvalidSpec, SecretConflict, SecretImmutable, NoKeys, a
 *   WriteFailed it does not retry): kstatus says Failed;
 * - both are removed when Ready=True, so kstatus says Current once observedGeneration caught up;
 * - `Synced` (Bitnami objects only): "True" with an empty message, or "False" with Ready's message,
 *   first in the list because Bitnami's printer columns read `.status.conditions[0]`; it carries
 *   `lastUpdateTime` as Bitnami's does. Argo CD's built-in bitnami.com health check reads it.
 *
 * A freshly changed object is InProgress without any write: kstatus compares `observedGeneration`
 * with `metadata.generation`.
 */
import type { Condition, ConditionStatus } from './status.js';

/** The condition types this controller owns on a kseal.dev SealedSecret (others are kept as they are). */
export const OWNED_CONDITION_TYPES: readonly string[] = ['Ready', 'Reconciling', 'Stalled'];
/** On an adopted bitnami.com SealedSecret, Bitnami's Synced too. */
export const OWNED_BITNAMI_CONDITION_TYPES: readonly string[] = [...OWNED_CONDITION_TYPES, 'Synced'];

/** What one outcome says, before times are filled in. */
export interface ConditionInput {
  /** Ready's status for the reason. */
  readonly ready: ConditionStatus;
  readonly reason: string;
  readonly message: string;
  /** True when the controller requeues the object by itself (backoff): Reconciling, not Stalled. */
  readonly retrying: boolean;
  /** metadata.generation of the object reconciled. */
  readonly generation: number | undefined;
  /** Bitnami object: add Synced first, and leave observedGeneration off the conditions (Bitnami's schema prunes it). */
  readonly bitnami: boolean;
}

type Draft = Omit<Condition, 'lastTransitionTime'> & { lastUpdateTime?: string };

/** The owned conditions for `input`, in the order they are written (without times). */
export function desiredConditions(input: ConditionInput): Draft[] {
  const generation = input.bitnami || input.generation === undefined ? {} : { observedGeneration: input.generation };
  const base = { reason: input.reason, message: input.message, ...generation };
  const out: Draft[] = [];
  if (input.bitnami) out.push({ type: 'Synced', status: input.ready === 'True' ? 'True' : 'False', reason: input.reason, message: input.ready === 'True' ? '' : input.message });
  out.push({ type: 'Ready', status: input.ready, ...base });
  if (input.ready !== 'True') out.push({ type: input.retrying ? 'Reconciling' : 'Stalled', status: 'True', ...base });
  return out;
}

/**
 * Merges the desired owned conditions into `previous` (other types are kept, after Synced and before
 * Ready). `lastTransitionTime` moves only when a condition's status changes. Returns undefined when
 * nothing a reader can see would change (no status write, no loop).
 */
export function mergeConditions(previous: readonly Condition[], desired: readonly Draft[], now: string, owned: readonly string[] = OWNED_CONDITION_TYPES): Condition[] | undefined {
  const byType = new Map(previous.map((c) => [c.type, c]));
  const desiredTypes = new Set(desired.map((c) => c.type));
  let changed = previous.some((c) => owned.includes(c.type) && !desiredTypes.has(c.type));
  const built: Condition[] = desired.map((d) => {
    const old = byType.get(d.type);
    const same = old !== undefined && old.status === d.status && old.reason === d.reason && (old.message ?? '') === d.message && old.observedGeneration === d.observedGeneration;
    if (!same) changed = true;
    const lastTransitionTime = old !== undefined && old.status === d.status && typeof old.lastTransitionTime === 'string' ? old.lastTransitionTime : now;
    const condition: Condition = { ...d, lastTransitionTime };
    if (d.type === 'Synced') (condition as Draft).lastUpdateTime = same ? ((old as Draft).lastUpdateTime ?? now) : now;
    return condition;
  });
  if (!changed) return undefined;
  const others = previous.filter((c) => !owned.includes(c.type));
  const synced = built.filter((c) => c.type === 'Synced');
  return [...synced, ...others, ...built.filter((c) => c.type !== 'Synced')];
}
