/**
 * The reconcile of one adopted bitnami.com/v1alpha1 SealedSecret (the Reconciler's `bitnami`
 * flavour): Bitnami's semantics for the Secret (bitnami-secret.ts), kseal's status, Events and
 * metrics. The Secret is read with a GET (Bitnami's Secrets carry no kseal label, so the managed-Secret
 * informer does not see them), and written only when Bitnami's own rule finds a difference: a Secret
 * Bitnami's controller made for this object, holding what it opens to, is adopted with no write.
 *
 * Private-key cost: one RSA operation per value at the first reconcile after a start (Bitnami's keys
 * are tried first; the key that opened the first value is tried first for the others). Afterwards a
 * memo of (spec hash, Secret uid and resourceVersion) per object skips unsealing while neither the
 * object nor its Secret changed, so resyncs cost one GET and nothing else.
 */
import { isKsealError, type KsealError } from '../src/errors.js';
import { readScopeAnnotations } from '../src/model/scope.js';
import { bitnamiDesiredSecret, planBitnamiWrite } from './bitnami-secret.js';
import type { KeyView, Unsealer } from './contracts.js';
import type { EventRecorder } from './events.js';
import { readSealedSpec } from './integrity.js';
import { isTransient, splitKey, statusOf, type KubeApi, type KubeObject, type SecretJson } from './kube-client.js';
import type { Logger } from './logger.js';
import type { ControllerMetrics } from './metrics.js';
import { secretMode } from './secret-writer.js';
import { keyLabelInTemplate } from './key-guard.js';
import type { ReadyReason } from './status.js';
import type { Requeue } from './work-queue.js';

export interface BitnamiConvergeDeps {
  readonly api: Pick<KubeApi, 'readNamespacedSecret' | 'createNamespacedSecret' | 'replaceNamespacedSecret'>;
  readonly keys: KeyView;
  readonly unsealer: Unsealer;
  readonly events: EventRecorder;
  readonly metrics: ControllerMetrics;
  readonly logger: Logger;
  /** key → `specHash|secret uid|secret resourceVersion` of the last reconcile that found the Secret current, and the keys that opened it. */
  readonly memo: Map<string, { readonly stamp: string; readonly keyIds: string[] }>;
}

/** What a converge decided (the reconciler reports it). */
export type BitnamiConverge =
  | { readonly kind: 'failed'; readonly reason: ReadyReason; readonly message: string; readonly requeue: Requeue; readonly privateOps: number }
  | { readonly kind: 'unsealed'; readonly values: number; readonly keyIds: string[]; readonly wrote: boolean; readonly privateOps: number };

/** Brings the Secret of the bitnami.com object `obj` (queue key `key`) to what Bitnami would write. */
export async function convergeBitnami(deps: BitnamiConvergeDeps, key: string, obj: KubeObject): Promise<BitnamiConverge> {
  const fail = (reason: ReadyReason, message: string, privateOps = 0, requeue: Requeue = 'no'): BitnamiConverge => ({ kind: 'failed', reason, message, requeue, privateOps });
  const spec = readSealedSpec(obj);
  if ('error' in spec) return fail('InvalidSpec', describe(spec.error));
  const { sealed, hash } = spec;
  // Go templates are Bitnami's to render (go-template.ts), so only the scope annotations are checked here.
  const scopeError = readScopeAnnotations(sealed.metadata.annotations).error;
  if (scopeError !== undefined) return fail('InvalidSpec', describe(scopeError));
  // A SealedSecret must never plant a sealing key (key-guard.ts), in adoption mode too.
  const planted = keyLabelInTemplate(sealed);
  if (planted !== undefined) return fail('InvalidSpec', planted);
  const { namespace, name } = splitKey(key);
  const uid = obj.metadata.uid ?? '';
  let existing = await deps.api.readNamespacedSecret(namespace, name);
  const memoKey = (s: SecretJson | undefined): string => `${hash}|${s?.metadata.uid ?? ''}|${s?.metadata.resourceVersion ?? ''}`;
  const known = deps.memo.get(key);
  if (existing !== undefined && known?.stamp === memoKey(existing) && secretMode(existing, uid) !== 'conflict' && secretMode(existing, uid) !== 'key') {
    return { kind: 'unsealed', values: Object.keys(sealed.spec.encryptedData).length, keyIds: known.keyIds, wrote: false, privateOps: 0 };
  }
  deps.memo.delete(key);
  if (deps.keys.list().length === 0) return fail('NoKeys', 'the controller has no sealing key yet');
  let mode = secretMode(existing, uid);
  if (mode === 'key') return fail('SecretConflict', `Secret ${name} is a sealing-key Secret; the controller never writes one (give the SealedSecret another name)`);
  if (mode === 'conflict') {
    return fail('SecretConflict', `Secret ${name} exists and is not owned by this SealedSecret; annotate it sealedsecrets.bitnami.com/managed="true" to let the controller take it over, or sealedsecrets.bitnami.com/patch="true" to merge the keys into it`);
  }
  deps.metrics.unsealRequests.inc();
  let unsealed: ReadonlyMap<string, Buffer>;
  let keyIds: string[];
  let privateOps: number;
  try {
    const result = await deps.unsealer.unseal(sealed);
    unsealed = result.data;
    keyIds = [...new Set(result.keyIds.values())];
    privateOps = result.privateOps;
  } catch (e) {
    if (!isKsealError(e)) throw e;
    if (e.code === 'NO_PRIVATE_KEYS') return fail('NoKeys', 'the controller has no sealing key yet');
    return fail('DecryptFailed', `cannot unseal: ${describe(e)}`);
  }
  let desired: SecretJson;
  try {
    desired = bitnamiDesiredSecret(sealed, obj, unsealed);
  } catch (e) {
    if (!isKsealError(e)) throw e;
    return fail('InvalidSpec', describe(e), privateOps);
  }
  for (let attempt = 0; ; attempt++) {
    const plan = planBitnamiWrite(mode, existing, desired);
    if (plan.action === 'immutable') return fail('SecretImmutable', `Secret ${name} is immutable and would need a change; delete it to let the controller recreate it`, privateOps);
    if (plan.action === 'none') {
      deps.memo.set(key, { stamp: memoKey(existing), keyIds });
      return { kind: 'unsealed', values: unsealed.size, keyIds, wrote: false, privateOps };
    }
    try {
      const written = plan.action === 'create' ? await deps.api.createNamespacedSecret(namespace, plan.body) : await deps.api.replaceNamespacedSecret(namespace, name, plan.body);
      deps.metrics.apiWrites.inc({ verb: plan.action === 'create' ? 'create' : 'update', resource: 'secrets' });
      deps.memo.set(key, { stamp: memoKey(written), keyIds });
      deps.logger.info('Secret written', { object: key, apiVersion: sealed.apiVersion, mode, action: plan.action, values: unsealed.size, privateOps });
      deps.events.record(obj, 'Normal', 'Unsealed', `Secret ${name} ${plan.action === 'create' ? 'created' : 'updated'} with ${unsealed.size} unsealed value${unsealed.size === 1 ? '' : 's'}`);
      return { kind: 'unsealed', values: unsealed.size, keyIds, wrote: true, privateOps };
    } catch (e) {
      // 409 (created meanwhile, or written first by someone else): read again and decide once more.
      if (statusOf(e) === 409 && attempt === 0) {
        existing = await deps.api.readNamespacedSecret(namespace, name);
        mode = secretMode(existing, uid);
        if (mode === 'key') return fail('SecretConflict', `Secret ${name} is a sealing-key Secret; the controller never writes one (give the SealedSecret another name)`, privateOps);
        if (mode === 'conflict') return fail('SecretConflict', `Secret ${name} exists and is not owned by this SealedSecret`, privateOps);
        continue;
      }
      if (statusOf(e) === 409 || isTransient(e)) throw e;
      return fail('WriteFailed', `cannot write Secret ${name}: ${(e as Error).message}`, privateOps, statusOf(e) === 403 ? 'backoff' : 'no');
    }
  }
}

function describe(e: KsealError): string {
  const where = e.key === undefined ? '' : `key ${JSON.stringify(e.key)}: `;
  return `${where}${e.message}${e.hint === undefined ? '' : ` (${e.hint})`}`;
}
