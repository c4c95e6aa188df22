/**
 * Membership of sharded replicas: before a replica holds any shard it must be counted by the others,
 * or the first replica up takes every shard and the rest wait for them one request at a time
 * (measured: a fair split came seconds after the second replica started, when a quiet sync of 1,000
 * objects was mostly done). Each replica therefore holds one member Lease,
 * `<lease>-member-<k>-of-<shards>` with k < shards (a fixed set of names: a restarted pod with a new
 * identity takes a free or expired slot instead of leaving a Lease behind), and renews it every
 * retry period from the shard coordinator's loop.
 *
 * - Claiming a slot is an ordinary Lease take (free, released, or unchanged for the lease duration
 *   by this replica's clock; every write carries the resourceVersion read, so two replicas cannot
 *   take the same slot).
 * - A slot counts as a live member while its record changed within the renew deadline by the
 *   reader's own clock. No clock is compared with another node's, so skew does not matter. The
 *   deadline is shorter than the lease duration, so a dead replica stops being counted before its
 *   shard Leases expire and the survivors can take them at once (failover is not delayed).
 * - `settled()` is the start-up grace: a replica takes no shard until it has held its slot across
 *   one full retry period, so replicas that start together see each other first and each takes its
 *   share, instead of the first taking everything and handing it back.
 * Membership only steers fairness. Who reconciles a shard is still decided by the shard's own Lease.
 */
import { V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import { statusOf, type KubeApi } from './kube-client.js';
import { timeOf } from './leader-election.js';
import type { Logger } from './logger.js';

export interface ShardMembersOptions {
  readonly api: Pick<KubeApi, 'createNamespacedLease' | 'replaceNamespacedLease'>;
  readonly namespace: string;
  /** Base name; shard Leases are `<leaseName>-shard-<i>-of-<n>`, member Leases `<leaseName>-member-<k>-of-<n>`. */
  readonly leaseName: string;
  readonly shards: number;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly logger: Logger;
}

/** The member slot Lease `slot` (0 ≤ slot < shards). */
export function memberLeaseName(leaseName: string, slot: number, shards: number): string {
  return `${leaseName}-member-${slot}-of-${shards}`;
}

/** Holds this replica's member slot and tells which replicas are live members (see the module comment). */
export class ShardMembers {
  private slot: number | undefined;
  /** The slot's Lease as this replica last wrote it (for the release). */
  private written: V1Lease | undefined;
  /** Updates of the slot done while holding it (the grace ends after the first one). */
  private renewals = 0;
  private lastRenew = 0;
  /** Slot Lease name → [holder-and-renewTime stamp, when this replica first saw it]. */
  private readonly seen = new Map<string, [string, number]>();
  private live = new Set<string>();

  constructor(private readonly options: ShardMembersOptions) {}

  /** Identities of the live members other than this replica. */
  others(): Set<string> {
    return this.live;
  }

  /** True once this replica has held its slot for a retry period (the start-up grace is over). */
  settled(): boolean {
    return this.slot !== undefined && this.renewals >= 1;
  }

  /**
   * One step, each retry period, from the coordinator's list of the namespace's Leases: reads who
   * is live, renews the slot held, or claims the lowest free or expired one.
   */
  async update(leases: readonly V1Lease[]): Promise<void> {
    const { leaseName, shards, identity, leaseDurationMs, renewDeadlineMs } = this.options;
    const now = Date.now();
    const slots: Array<V1Lease | undefined> = Array.from({ length: shards }, () => undefined);
    const live = new Set<string>();
    const expired: boolean[] = Array.from({ length: shards }, () => true);
    for (let k = 0; k < shards; k++) {
      const name = memberLeaseName(leaseName, k, shards);
      const lease = leases.find((l) => l.metadata?.name === name);
      slots[k] = lease;
      const holder = lease?.spec?.holderIdentity ?? '';
      if (lease === undefined || holder === '') continue;
      const stamp = `${holder} ${String(timeOf(lease.spec?.renewTime) ?? '')}`;
      const before = this.seen.get(name);
      const changedAt = before !== undefined && before[0] === stamp ? before[1] : now;
      this.seen.set(name, [stamp, changedAt]);
      if (holder !== identity && now - changedAt < renewDeadlineMs) live.add(holder);
      expired[k] = now - changedAt >= leaseDurationMs;
    }
    this.live = live;
    if (this.slot !== undefined) {
      const lease = slots[this.slot];
      const holder = lease?.spec?.holderIdentity ?? '';
      if (lease !== undefined && holder !== identity) return this.lose(`taken by ${holder || 'nobody'}`);
      if (await this.write(this.slot, lease, true)) {
        this.renewals++;
        this.lastRenew = now;
      } else if (now - this.lastRenew > renewDeadlineMs) this.lose('not renewed in time');
      return;
    }
    // The lowest free slot; when another replica takes it first (a conflict), the next one.
    for (let k = 0; k < shards; k++) {
      const lease = slots[k];
      if (lease !== undefined && (lease.spec?.holderIdentity ?? '') !== '' && !expired[k]) continue;
      if (!(await this.write(k, lease, false))) continue;
      this.slot = k;
      this.renewals = 0;
      this.lastRenew = now;
      this.options.logger.info('joined as a shard member', { lease: memberLeaseName(leaseName, k, shards), members: live.size + 1 });
      return;
    }
  }

  /** Gives the slot up (empty holder, 1 s), so the others count one member fewer at once. */
  async release(): Promise<void> {
    const slot = this.slot;
    const lease = this.written;
    this.slot = undefined;
    this.written = undefined;
    if (slot === undefined || lease?.spec === undefined) return;
    const name = memberLeaseName(this.options.leaseName, slot, this.options.shards);
    const t = new V1MicroTime(Date.now());
    try {
      await this.options.api.replaceNamespacedLease(this.options.namespace, name, { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: t } });
    } catch (e) {
      this.options.logger.debug('member Lease not released', { lease: name, error: (e as Error).message });
    }
  }

  private lose(why: string): void {
    this.options.logger.warn('lost the shard member Lease', { slot: this.slot, why });
    this.slot = undefined;
    this.written = undefined;
    this.renewals = 0;
  }

  /** Creates, takes or renews slot `k`; false on a conflict or error (try again next period). */
  private async write(k: number, lease: V1Lease | undefined, renewing: boolean): Promise<boolean> {
    const { api, namespace, leaseName, shards, identity, leaseDurationMs, logger } = this.options;
    const name = memberLeaseName(leaseName, k, shards);
    const now = new V1MicroTime(Date.now());
    const seconds = Math.max(1, Math.round(leaseDurationMs / 1000));
    const acquireTime = renewing ? new V1MicroTime(timeOf(lease?.spec?.acquireTime) ?? now.getTime()) : now;
    const transitions = (lease?.spec?.leaseTransitions ?? 0) + (renewing ? 0 : 1);
    const spec = { holderIdentity: identity, leaseDurationSeconds: seconds, acquireTime, renewTime: now, leaseTransitions: lease === undefined ? 0 : transitions };
    try {
      this.written = lease === undefined ? await api.createNamespacedLease(namespace, { metadata: { name, namespace }, spec }) : await api.replaceNamespacedLease(namespace, name, { ...lease, spec });
      return true;
    } catch (e) {
      if (statusOf(e) !== 409) logger.debug('member Lease not written', { lease: name, error: (e as Error).message });
      return false;
    }
  }
}
