/**
 * The reconcile of one SealedSecret (`namespace/name`): read it from the informer cache, find its
 * Secret (managed-Secret cache, else a direct GET), unseal unless the Secret provably holds the
 * result already (integrity.ts), write the Secret when it differs, then set the Ready condition and
 * emit Events. The status carries Ready plus kstatus's Reconciling (the controller retries by itself)
 * or Stalled (nothing changes until the object, its Secret or the keys do); see conditions.ts.
 *
 * All values unseal or nothing is written. Outcomes map to the work queue:
 * - success and the failures that cannot pass until something changes (DecryptFailed, InvalidSpec,
 *   SecretConflict, SecretImmutable, NoKeys, WriteFailed on a 4xx) are not retried: a change of the
 *   object, its Secret or the key set requeues them (DecryptFailed and NoKeys are in `awaitingKeys`),
 *   and so does the periodic resync;
 * - 409 Conflict (someone else wrote first) and transient API failures requeue with the key's
 *   backoff; after a few transient failures in a row the condition says so (Unknown, ApiError).
 */
import { isKsealError, type KsealError } from '../src/errors.js';
import { PRIMARY_RECIPIENT } from '../src/model/recipients.js';
import { clusterCiphertextSets, sealedSecretSpecError, type SealedSecret } from '../src/model/sealed-secret.js';
import { convergeBitnami } from './bitnami-reconcile.js';
import { isStub } from './compact-objects.js';
import type { KeyView, Unsealer } from './contracts.js';
import type { EventRecorder } from './events.js';
import { readSealedSpec } from './integrity.js';
import { keyLabelInTemplate } from './key-guard.js';
import type { KeyUsage } from './key-usage.js';
import { isTransient, KubeError, splitKey, statusOf, type KubeApi, type KubeObject, type SecretJson } from './kube-client.js';
import type { Logger } from './logger.js';
import type { ControllerMetrics } from './metrics.js';
import { desiredSecret, planWrite, secretMode, verifiedData } from './secret-writer.js';
import { currentStatus, nextStatus, READY_REASONS, type ReadyReason } from './status.js';
import type { Requeue } from './work-queue.js';
import { BITNAMI_API_VERSION, BITNAMI_GROUP, KSEAL_API_VERSION } from '../src/wire.js';

/** The cache an informer offers the reconciler. */
export interface CacheView<T extends KubeObject> {
  get(key: string): T | undefined;
  observeWrite(written: T, previousVersion: string | undefined): void;
}

export interface ReconcilerDeps {
  readonly api: Pick<KubeApi, 'readNamespacedSecret' | 'createNamespacedSecret' | 'replaceNamespacedSecret' | 'readNamespacedCustomObject' | 'patchNamespacedCustomObjectStatus'>;
  readonly sealedSecrets: CacheView<KubeObject>;
  readonly secrets: CacheView<SecretJson>;
  readonly keys: KeyView;
  readonly unsealer: Unsealer;
  readonly events: EventRecorder;
  readonly metrics: ControllerMetrics;
  readonly usage: KeyUsage;
  readonly logger: Logger;
  /** Transient failures in a row before the condition reports ApiError (default 3). */
  readonly apiErrorThreshold?: number;
  /** `bitnami`: adopted bitnami.com objects, with Bitnami's Secret semantics and Synced (bitnami-reconcile.ts). */
  readonly flavour?: 'kseal' | 'bitnami';
  readonly now?: () => Date;
}

/** What one reconcile did (tests and logs). */
export interface ReconcileResult {
  readonly requeue: Requeue;
  /** The Ready reason set, when one was. */
  readonly reason?: ReadyReason;
  /** True when the Secret was created or updated. */
  readonly wrote: boolean;
  /** RSA private-key operations spent. */
  readonly privateOps: number;
  /** The object's resourceVersion once this reconcile is done (after its own status write, if any). */
  readonly settledVersion?: string;
}

interface Outcome {
  /** The Ready reason to set; undefined reports nothing (a conflict to retry, a first transient failure). */
  readonly reason?: ReadyReason;
  readonly message: string;
  readonly requeue: Requeue;
  /** The uid of the Secret the controller owns for the object now (recorded in status.secretUid). */
  readonly secretUid?: string | undefined;
}

/** Reconciles SealedSecrets into Secrets (see the module comment). */
export class Reconciler {
  /** Objects whose last outcome a new key could change (DecryptFailed, NoKeys). */
  private readonly awaitingKeys = new Set<string>();
  private readonly now: () => Date;

  constructor(private readonly deps: ReconcilerDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Keys to requeue after the key set changed (and forgets them). */
  takeAwaitingKeys(): string[] {
    const keys = [...this.awaitingKeys];
    this.awaitingKeys.clear();
    return keys;
  }

  /**
   * Reconciles `key`; `attempt` is the number of failures in a row so far. A cached stub (the object
   * was reconciled before and only its metadata was kept) is read again first.
   */
  async reconcile(key: string, attempt = 0): Promise<ReconcileResult> {
    const { deps } = this;
    const bitnami = deps.flavour === 'bitnami';
    const cached = deps.sealedSecrets.get(key);
    let raw = cached;
    if (cached !== undefined && cached.metadata.deletionTimestamp === undefined && isStub(cached)) {
      const { namespace, name } = splitKey(key);
      try {
        raw = await deps.api.readNamespacedCustomObject(namespace, name, bitnami ? BITNAMI_GROUP : undefined);
      } catch (e) {
        if (!(e instanceof KubeError)) throw e;
        deps.logger.warn('SealedSecret not read', { object: key, error: e.message, attempt });
        return { requeue: 'backoff', wrote: false, privateOps: 0 };
      }
      // Gone since the cache saw it: its delete event reconciles it again and forgets it.
      if (raw === undefined) return { requeue: 'no', wrote: false, privateOps: 0 };
    }
    if (raw === undefined || raw.metadata.deletionTimestamp !== undefined) {
      this.forget(key, raw);
      return { requeue: 'no', wrote: false, privateOps: 0 };
    }
    const obj: KubeObject = { ...raw, apiVersion: raw.apiVersion ?? (bitnami ? BITNAMI_API_VERSION : KSEAL_API_VERSION), kind: raw.kind ?? 'SealedSecret' };
    let wrote = false;
    let privateOps = 0;
    let outcome: Outcome;
    try {
      const result = bitnami ? await this.convergeAdopted(key, obj) : await this.converge(key, obj);
      wrote = result.wrote;
      privateOps = result.privateOps;
      outcome = result.outcome;
    } catch (e) {
      outcome = this.failure(e, attempt);
    }
    const final = await this.report(key, obj, outcome, attempt);
    if (final.reason === 'DecryptFailed' || final.reason === 'NoKeys') this.awaitingKeys.add(key);
    else this.awaitingKeys.delete(key);
    const settledVersion = final.writtenVersion ?? obj.metadata.resourceVersion;
    return { requeue: final.requeue, ...(final.reason === undefined ? {} : { reason: final.reason }), wrote, privateOps, ...(settledVersion === undefined ? {} : { settledVersion }) };
  }

  private async converge(key: string, obj: KubeObject): Promise<{ outcome: Outcome; wrote: boolean; privateOps: number }> {
    const { deps } = this;
    const ownerUid = obj.metadata.uid ?? '';
    const spec = readSealedSpec(obj);
    if ('error' in spec) return { outcome: { reason: 'InvalidSpec', message: describeError(spec.error), requeue: 'no' }, wrote: false, privateOps: 0 };
    const { sealed, hash } = spec;
    const specError = sealedSecretSpecError(sealed);
    if (specError !== undefined) return { outcome: { reason: 'InvalidSpec', message: describeError(specError), requeue: 'no' }, wrote: false, privateOps: 0 };
    const planted = keyLabelInTemplate(sealed);
    if (planted !== undefined) return { outcome: { reason: 'InvalidSpec', message: planted, requeue: 'no' }, wrote: false, privateOps: 0 };
    const keys = deps.keys.list();
    const signer = deps.keys.newest();
    if (signer === undefined) return { outcome: { reason: 'NoKeys', message: 'the controller has no sealing key yet', requeue: 'no' }, wrote: false, privateOps: 0 };

    const { namespace, name } = splitKey(key);
    // The managed-Secret cache knows every Secret this controller manages. On a miss the Secret is
    // most likely absent: create it blindly, and only when that answers AlreadyExists read it and
    // decide again (one GET in the rare case instead of one per new object). No private-key
    // operation is repeated: the values opened once are kept for the second decision.
    let existing = deps.secrets.get(key);
    const recordedUid = currentStatus(obj).secretUid;
    let fetched = false;
    let opened: { unsealed: ReadonlyMap<string, Buffer>; keyIds: string[]; recipient?: string } | undefined;
    let privateOps = 0;
    for (;;) {
      const mode = secretMode(existing, ownerUid, recordedUid);
      if (mode === 'conflict' && !fetched) {
        // The cache may still hold a Secret that is gone (e.g. the Secret of a deleted object of the
        // same name, not yet collected from the watch): decide on a fresh read, not on the cache.
        existing = await deps.api.readNamespacedSecret(namespace, name);
        fetched = true;
        continue;
      }
      if (mode === 'key') {
        const message = `Secret ${name} is a sealing-key Secret; the controller never writes one (give the SealedSecret another name)`;
        return { outcome: { reason: 'SecretConflict', message, requeue: 'no' }, wrote: false, privateOps };
      }
      if (mode === 'conflict') {
        const message = `Secret ${name} exists and is not owned by this SealedSecret; annotate it kseal.dev/managed="true" to let the controller take it over, or kseal.dev/patch="true" to merge the keys into it`;
        return { outcome: { reason: 'SecretConflict', message, requeue: 'no' }, wrote: false, privateOps };
      }
      const verified = existing === undefined || mode === 'takeover' ? undefined : verifiedData(existing, sealed, hash, ownerUid, keys);
      if (verified === undefined && opened === undefined) {
        deps.metrics.unsealRequests.inc();
        try {
          const result = await deps.unsealer.unseal(sealed);
          opened = { unsealed: result.data, keyIds: [...new Set(result.keyIds.values())], recipient: result.recipient };
          privateOps = result.privateOps;
        } catch (e) {
          if (!isKsealError(e)) throw e;
          if (e.code === 'NO_PRIVATE_KEYS') return { outcome: { reason: 'NoKeys', message: 'the controller has no sealing key yet', requeue: 'no' }, wrote: false, privateOps };
          return { outcome: { reason: 'DecryptFailed', message: `cannot unseal: ${describeError(e)}`, requeue: 'no' }, wrote: false, privateOps };
        }
      }
      const { unsealed, keyIds } = verified ?? (opened as { unsealed: ReadonlyMap<string, Buffer>; keyIds: string[] });
      const desired = desiredSecret(sealed, obj, unsealed, keyIds, hash, verified ?? signer);
      const plan = planWrite(mode, existing, desired);
      if (plan.action === 'immutable') {
        return { outcome: { reason: 'SecretImmutable', message: `Secret ${name} is immutable and would need a change; delete it to let the controller recreate it`, requeue: 'no' }, wrote: false, privateOps };
      }
      let wrote = false;
      let secretUid = existing?.metadata.uid;
      if (plan.action !== 'none') {
        try {
          const written = plan.action === 'create' ? await deps.api.createNamespacedSecret(namespace, plan.body) : await deps.api.replaceNamespacedSecret(namespace, name, plan.body);
          secretUid = written.metadata.uid ?? secretUid;
          deps.secrets.observeWrite(written, existing?.metadata.resourceVersion);
          deps.metrics.apiWrites.inc({ verb: plan.action === 'create' ? 'create' : 'update', resource: 'secrets' });
          wrote = true;
        } catch (e) {
          const status = statusOf(e);
          // 409: AlreadyExists on a create, Conflict (someone wrote first) on an update. Re-read the
          // Secret directly (the cache may lag) and decide again, once; then back off.
          if (status === 409 && !fetched) {
            existing = await deps.api.readNamespacedSecret(namespace, name);
            fetched = true;
            if (existing !== undefined || plan.action !== 'create') continue;
          }
          if (status === 409 || isTransient(e)) throw e;
          return { outcome: { reason: 'WriteFailed', message: `cannot write Secret ${name}: ${(e as Error).message}`, requeue: status === 403 ? 'backoff' : 'no' }, wrote: false, privateOps };
        }
        deps.logger.info('Secret written', { object: key, mode, action: plan.action, values: unsealed.size, privateOps });
        deps.events.record(obj, 'Normal', 'Unsealed', `Secret ${name} ${plan.action === 'create' ? 'created' : 'updated'} with ${unsealed.size} unsealed value${unsealed.size === 1 ? '' : 's'}`);
      }
      const recipient = verified === undefined ? opened?.recipient : recipientNamed(sealed, keyIds);
      // A merged-into (patch) Secret stays someone else's: only a Secret it owns is recorded.
      return { outcome: { ...this.unsealed(key, name, unsealed.size, keyIds, sealed, recipient), ...(mode === 'patch' ? {} : { secretUid }) }, wrote, privateOps };
    }
  }

  private readonly memo = new Map<string, { readonly stamp: string; readonly keyIds: string[] }>();

  private async convergeAdopted(key: string, obj: KubeObject): Promise<{ outcome: Outcome; wrote: boolean; privateOps: number }> {
    const r = await convergeBitnami({ ...this.deps, memo: this.memo }, key, obj);
    if (r.kind === 'failed') return { outcome: { reason: r.reason, message: r.message, requeue: r.requeue }, wrote: false, privateOps: r.privateOps };
    return { outcome: this.unsealed(key, splitKey(key).name, r.values, r.keyIds), wrote: r.wrote, privateOps: r.privateOps };
  }

  private unsealed(key: string, name: string, values: number, keyIds: readonly string[], sealed?: SealedSecret, recipient?: string): Outcome {
    this.deps.usage.set(key, keyIds);
    this.deps.metrics.setOpenedBy(splitKey(key).namespace, name, recipient ?? PRIMARY_RECIPIENT, (keyIds[0] ?? '').slice(0, 16));
    const keyList = keyIds.map((id) => id.slice(0, 16)).join(', ');
    // Objects with further recipients also say whose ciphertexts opened (FORMAT.md §9.2).
    const via = sealed?.spec.recipients === undefined || recipient === undefined ? '' : recipient === PRIMARY_RECIPIENT ? ', recipient spec.encryptedData' : `, recipient spec.recipients ${recipient.slice(0, 16)}`;
    const message = `Secret ${name} holds ${values} unsealed value${values === 1 ? '' : 's'}${keyList === '' ? '' : ` (key ${keyList}${via})`}`;
    return { reason: 'Unsealed', message, requeue: 'no' };
  }

  private failure(e: unknown, attempt: number): Outcome {
    if (statusOf(e) === 409) return { message: '', requeue: 'backoff' };
    if (!(e instanceof KubeError)) this.deps.logger.error('reconcile failed unexpectedly', { error: e instanceof Error ? `${e.name}: ${e.message}` : 'unknown' });
    if (attempt + 1 < (this.deps.apiErrorThreshold ?? 3)) return { message: '', requeue: 'backoff' };
    const why = e instanceof KubeError ? e.message : 'an internal error';
    return { reason: 'ApiError', message: `retrying after ${attempt + 1} failures in a row; last: ${why}`, requeue: 'backoff' };
  }

  /** Writes the condition (when it changed), metrics, logs and Events. */
  private async report(key: string, obj: KubeObject, outcome: Outcome, attempt: number): Promise<{ reason?: ReadyReason; requeue: Requeue; writtenVersion?: string }> {
    const { deps } = this;
    const { namespace, name } = splitKey(key);
    const reason = outcome.reason;
    if (reason === undefined) return { requeue: outcome.requeue };
    if (reason !== 'Unsealed') {
      deps.metrics.unsealErrors.inc({ reason, namespace });
      deps.metrics.forgetOpenedBy(namespace, name);
      deps.usage.delete(key);
    }
    deps.metrics.setCondition(namespace, name, READY_REASONS[reason], reason);
    const bitnami = deps.flavour === 'bitnami';
    const next = nextStatus(currentStatus(obj), reason, outcome.message, obj.metadata.generation, this.now(), { retrying: outcome.requeue === 'backoff', bitnami, secretUid: outcome.secretUid });
    if (next === undefined) return { reason, requeue: outcome.requeue };
    let writtenVersion: string | undefined;
    try {
      const updated = await deps.api.patchNamespacedCustomObjectStatus(namespace, name, next as Record<string, unknown>, bitnami ? BITNAMI_GROUP : undefined);
      deps.metrics.apiWrites.inc({ verb: 'patch', resource: 'sealedsecrets/status' });
      if (updated !== undefined) deps.sealedSecrets.observeWrite(updated, obj.metadata.resourceVersion);
      writtenVersion = updated?.metadata.resourceVersion;
    } catch (e) {
      deps.logger.warn('status not written', { object: key, error: (e as Error).message, attempt });
      return { reason, requeue: 'backoff' };
    }
    if (reason !== 'Unsealed') {
      deps.logger.warn('SealedSecret not ready', { object: key, reason, message: outcome.message });
      deps.events.record(obj, 'Warning', reason, outcome.message);
    }
    return { reason, requeue: outcome.requeue, ...(writtenVersion === undefined ? {} : { writtenVersion }) };
  }

  private forget(key: string, raw: KubeObject | undefined): void {
    const { namespace, name } = splitKey(key);
    this.deps.metrics.forgetCondition(namespace, name);
    this.deps.metrics.forgetOpenedBy(namespace, name);
    this.deps.usage.delete(key);
    this.awaitingKeys.delete(key);
    this.memo.delete(key);
    if (raw !== undefined) this.deps.events.forget(raw.metadata.uid);
  }
}

/** The recipient whose ciphertexts the keys that opened an object name first (for values verified without unsealing). */
function recipientNamed(sealed: SealedSecret, keyIds: readonly string[]): string | undefined {
  const first = clusterCiphertextSets(sealed, keyIds)[0];
  return first?.hint !== undefined && keyIds.includes(first.hint) ? first.recipient : undefined;
}

/** A KsealError as one line for a condition or Event: where (key), what, and the hint. */
function describeError(e: KsealError): string {
  const where = e.key === undefined ? '' : `key ${JSON.stringify(e.key)}: `;
  return `${where}${e.message}${e.hint === undefined ? '' : ` (${e.hint})`}`;
}
