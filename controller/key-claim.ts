/**
 * The key-generation claim: one Lease (`kseal-key-generation` in the controller's namespace) that a
 * replica must win, by an optimistic-concurrency write, before it creates a new key Secret. Key Secret
 * names come from the key itself (see keySecretName), so two replicas that generated two different
 * keys would otherwise create two Secrets; the claim makes one of them give up.
 *
 * The claim records the decision (a digest of the key ids it was taken on) and the id of the key being
 * created. A replica gives up when the claim names the same decision and either that key exists by now
 * or the claim is another replica's and fresh (its holder is creating it); a stale claim (the holder died between claiming
 * and creating) is taken over. Uses only get/create/update on leases, which the Role already grants.
 */
import { createHash } from 'node:crypto';
import { V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import { statusOf, type KubeApi } from './kube-client.js';
import { timeOf } from './leader-election.js';

/** Name of the claim Lease. */
export const KEY_CLAIM_LEASE = 'kseal-key-generation';
/** Annotation on the claim: digest of the key ids the decision was taken on. */
export const KEY_DECISION_ANNOTATION = 'kseal.dev/key-decision';
/** Annotation on the claim: id of the key its holder is creating. */
export const KEY_CLAIMED_ANNOTATION = 'kseal.dev/claimed-key-id';
/**
 * A claim younger than this is respected; an older one is taken over (the default; the controller
 * passes twice its leader lease duration: a claim holder that died lost leadership by then, so waiting
 * longer would only delay the first key of a cluster whose first leader crashed mid-create).
 */
export const KEY_CLAIM_TTL_MS = 60_000;

/** Digest of a key set (ids in any order): what a decision to add a key was taken on. */
export function keyDecision(keyIds: readonly string[]): string {
  return createHash('sha256').update([...keyIds].sort().join('\n')).digest('hex').slice(0, 32);
}

export interface KeyClaimRequest {
  readonly api: Pick<KubeApi, 'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'>;
  readonly namespace: string;
  readonly identity: string;
  /** Key ids of the key Secrets the decision was taken on. */
  readonly existingKeyIds: readonly string[];
  /** Id of the key this replica wants to create. */
  readonly keyId: string;
  readonly now: Date;
  /** How long another replica's claim is respected (default KEY_CLAIM_TTL_MS). */
  readonly ttlMs?: number;
}

/** Tries to win the claim for adding `keyId` to `existingKeyIds`; false when another replica has it. */
export async function claimKeyGeneration(request: KeyClaimRequest): Promise<boolean> {
  const { api, namespace, identity, keyId, now } = request;
  const ttlMs = request.ttlMs ?? KEY_CLAIM_TTL_MS;
  const decision = keyDecision(request.existingKeyIds);
  const metadata = { name: KEY_CLAIM_LEASE, namespace, annotations: { [KEY_DECISION_ANNOTATION]: decision, [KEY_CLAIMED_ANNOTATION]: keyId } };
  const spec = { holderIdentity: identity, leaseDurationSeconds: Math.max(1, Math.ceil(ttlMs / 1000)), renewTime: new V1MicroTime(now.getTime()) };
  const current = await api.readNamespacedLease(namespace, KEY_CLAIM_LEASE);
  try {
    if (current === undefined) {
      await api.createNamespacedLease(namespace, { metadata, spec });
      return true;
    }
    const annotations = current.metadata?.annotations ?? {};
    const claimed = annotations[KEY_CLAIMED_ANNOTATION];
    const holder = current.spec?.holderIdentity ?? '';
    if (annotations[KEY_DECISION_ANNOTATION] === decision && claimed !== undefined && claimed !== keyId && holder !== identity) {
      if (request.existingKeyIds.includes(claimed)) return false;
      const renewed = timeOf(current.spec?.renewTime);
      if (renewed !== undefined && now.getTime() - renewed < ttlMs) return false;
    }
    const body: V1Lease = { ...current, metadata: { ...current.metadata, ...metadata, annotations: { ...current.metadata?.annotations, ...metadata.annotations } }, spec: { ...current.spec, ...spec } };
    await api.replaceNamespacedLease(namespace, KEY_CLAIM_LEASE, body);
    return true;
  } catch (e) {
    if (statusOf(e) === 409) return false;
    throw e;
  }
}

