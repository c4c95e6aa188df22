/**
 * The SealedSecret status: `observedGeneration` and kstatus conditions (`Ready`, plus `Reconciling` or
 * `Stalled`; conditions.ts), so that `kubectl wait --for=condition=Ready`, Flux/kstatus and Argo CD
 * health checks work, and the status always says why (Bitnami #739, #1516): a CamelCase reason and a message naming the failing key, never a value.
 *
 * Written through the status subresource only when it changes (Bitnami's status loops: #223, #388,
 * #525); `lastTransitionTime` changes only when the condition's status does.
 */
import { desiredConditions, mergeConditions, OWNED_BITNAMI_CONDITION_TYPES, OWNED_CONDITION_TYPES } from './conditions.js';

/** Every Ready reason the controller sets. */
export const READY_REASONS = {
  /** True: every value unsealed and the Secret holds them. */
  Unsealed: 'True',
  /** False: a value does not open with any key (or is malformed or tampered with). */
  DecryptFailed: 'False',
  /** False: a Secret of that name exists and is not this object's (and not annotated managed/patch). */
  SecretConflict: 'False',
  /** False: the existing Secret is immutable and would need a change. */
  SecretImmutable: 'False',
  /** False: the object itself is invalid (scope annotations, key names, templates). */
  InvalidSpec: 'False',
  /** False: the controller has no sealing key yet. */
  NoKeys: 'False',
  /** False: the API server refused the Secret (a 4xx other than a conflict). */
  WriteFailed: 'False',
  /** Unknown: the API server keeps failing; the controller is retrying. */
  ApiError: 'Unknown',
} as const;

export type ReadyReason = keyof typeof READY_REASONS;
export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** A condition as it is stored (metav1.Condition). */
export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** The status fields the controller owns. */
export interface SealedSecretStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  /**
   * The uid of the Secret the controller created (or took over) for this SealedSecret. Whoever can
   * edit that Secret cannot change it (it is in the SealedSecret's status subresource), so the Secret
   * stays owned even with its ownerReference and owner-uid annotation removed (secret-writer.ts).
   */
  secretUid?: string;
}

/** RFC 3339 with seconds precision, as metav1.Time serialises. */
function rfc3339(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** Reads the current status of a SealedSecret object, tolerating anything. */
export function currentStatus(obj: { readonly [field: string]: unknown }): SealedSecretStatus {
  const status = obj.status;
  if (typeof status !== 'object' || status === null) return {};
  const { observedGeneration, conditions, secretUid } = status as { observedGeneration?: unknown; conditions?: unknown; secretUid?: unknown };
  const out: SealedSecretStatus = {};
  if (typeof observedGeneration === 'number') out.observedGeneration = observedGeneration;
  if (typeof secretUid === 'string' && secretUid !== '') out.secretUid = secretUid;
  if (Array.isArray(conditions)) out.conditions = conditions.filter((c): c is Condition => typeof c === 'object' && c !== null && typeof (c as Condition).type === 'string');
  return out;
}

/** How the outcome is reported besides its reason (see conditions.ts). */
export interface StatusOptions {
  /** The controller retries on its own (Reconciling=True rather than Stalled=True). */
  readonly retrying?: boolean;
  /** An adopted bitnami.com object: Bitnami's Synced condition too. */
  readonly bitnami?: boolean;
  /** The uid of the Secret the controller now owns for the object, to record in `status.secretUid`. */
  readonly secretUid?: string | undefined;
}

/**
 * The status to write for `reason`/`message` at `generation` (Ready, and Reconciling or Stalled, and
 * Synced on Bitnami objects; see conditions.ts), keeping conditions of other types, or undefined when
 * the current status already says exactly this.
 */
export function nextStatus(current: SealedSecretStatus, reason: ReadyReason, message: string, generation: number | undefined, now: Date, options: StatusOptions = {}): SealedSecretStatus | undefined {
  const desired = desiredConditions({ ready: READY_REASONS[reason], reason, message, retrying: options.retrying === true, generation, bitnami: options.bitnami === true });
  const merged = mergeConditions(current.conditions ?? [], desired, rfc3339(now), options.bitnami === true ? OWNED_BITNAMI_CONDITION_TYPES : OWNED_CONDITION_TYPES);
  const secretUid = options.secretUid !== undefined && options.secretUid !== '' && options.secretUid !== current.secretUid ? options.secretUid : undefined;
  if (merged === undefined && current.observedGeneration === generation && secretUid === undefined) return undefined;
  return { ...(generation === undefined ? {} : { observedGeneration: generation }), conditions: merged ?? current.conditions ?? [], ...(secretUid === undefined ? {} : { secretUid }) };
}
