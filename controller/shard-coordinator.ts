/**
 * Sharded reconciling across replicas (Bitnami can run one replica only, its #62): the SealedSecrets
 * are split into `shards` by a stable hash of namespace/name (controller/shards.ts), each shard has
 * its own `coordination.k8s.io` Lease, and each replica holds a fair share of the Leases. A replica
 * reconciles exactly the objects of the shards it holds, so every object has one reconciler.
 *
 * Each replica first announces itself on a member Lease (controller/shard-members.ts) and takes no
 * shard until it has held it for a retry period, so replicas that start together count each other.
 * Each shard Lease runs the ordinary leader-election loop (controller/leader-election.ts), gated by a
 * plan made every retry period from what the loops last read and the live members
 * (controller/shards.ts `planShards`):
 * - a replica takes free or expired shards up to its share (floor or ceil of shards/members);
 * - a holder above the ceil (a member joined) drains the work of every shard above it and hands
 *   them over at once (released, so the new member takes them on its next attempts);
 * - a replica below the floor asks the busiest holder for one shard (an annotation on that Lease),
 *   and a holder above the floor hands the asked-for shard over;
 * - a replica that dies stops renewing: it stops counting as a member after the renew deadline and
 *   its Leases expire after the lease duration, when the others take them, as with the leader Lease;
 * - a shard left free for a whole lease duration (a member that never takes its share) may be
 *   taken by any replica, and is rebalanced from there.
 * Safety does not depend on the plan: a shard is reconciled only by the holder of its Lease, and a
 * holder stops reconciling (renew deadline) before its Lease can expire for others.
 */
import type { V1Lease } from '@kubernetes/client-node';
import { sleep } from '../net/backoff.js';
import type { KubeApi } from './kube-client.js';
import { LeaderElector, WANTED_AT_ANNOTATION, WANTED_BY_ANNOTATION } from './leader-election.js';
import { planShards, shardLeaseName } from './shards.js';
import { liveForeignShards, overlapping, type ForeignShard } from './shard-conflicts.js';
import { ShardMembers, type ShardMembersOptions } from './shard-members.js';

/** The member Lease's options (namespace, base name, shards, identity, durations, logger) and the shard Leases' own. */
export interface ShardCoordinatorOptions extends ShardMembersOptions {
  readonly api: Pick<KubeApi, 'readNamespacedLease' | 'listNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'>;
  readonly retryPeriodMs: number;
  /** This replica now holds `shard`: start reconciling its objects. */
  readonly onAcquired: (shard: number) => void;
  /** This replica no longer holds `shard`: stop reconciling it; resolve when its work in flight is done. */
  readonly onLost: (shard: number) => Promise<void>;
  /** Called every retry period with the number of live shard Leases of another shard count. */
  readonly onForeign?: (count: number) => void;
}

/** Holds this replica's share of the shard Leases (see the module comment). */
export class ShardCoordinator {
  private readonly electors: LeaderElector[];
  private readonly members: ShardMembers;
  /** How many shards this replica may hold (planShards), recomputed every retry period. */
  private limit = 0;
  /** Shard → when this replica first saw it free (own clock), while it stays free. */
  private readonly freeSince = new Map<number, number>();
  /** Shards that overlap a live shard Lease of another shard count (shard-conflicts.ts). */
  private blocked = new Set<number>();
  private foreign: ForeignShard[] = [];
  /** Lease name → [holder-and-renewTime stamp, when this replica first saw it]. */
  private readonly foreignSeen = new Map<string, [string, number]>();
  private conflictKey = '';
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly stopController = new AbortController();

  constructor(private readonly options: ShardCoordinatorOptions) {
    this.members = new ShardMembers(options);
    this.electors = Array.from(
      { length: options.shards },
      (_, shard) =>
        new LeaderElector({
          api: options.api,
          namespace: options.namespace,
          name: shardLeaseName(options.leaseName, shard, options.shards),
          identity: options.identity,
          leaseDurationMs: options.leaseDurationMs,
          renewDeadlineMs: options.renewDeadlineMs,
          retryPeriodMs: options.retryPeriodMs,
          logger: options.logger,
          mayAcquire: () => this.mayAcquire(shard),
          onStartedLeading: () => options.onAcquired(shard),
          onStoppedLeading: () => options.onLost(shard),
        }),
    );
  }

  /** The shards this replica holds now. */
  held(): number[] {
    return this.electors.flatMap((e, shard) => (e.isLeader() ? [shard] : []));
  }

  /** Starts the planning loop and, once it has looked for other shard counts' Leases, every shard's election loop. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops; held Leases are released (`release`) after their work is drained, or left to expire. */
  async stop(release = true): Promise<void> {
    this.stopped = true;
    this.stopController.abort();
    await this.loop;
    await Promise.all(this.electors.map((e) => e.stop(release)));
    if (release) await this.members.release();
  }

  /**
   * Whether the elector of `shard` may take it when free or expired: after the start-up grace and
   * below this replica's share, or when it has been free for a whole lease duration; never while a
   * live Lease of another shard count overlaps it.
   */
  private mayAcquire(shard: number): boolean {
    if (this.blocked.has(shard)) return false;
    const freeSince = this.freeSince.get(shard);
    if (freeSince !== undefined && Date.now() - freeSince > this.options.leaseDurationMs) return true;
    return this.members.settled() && this.held().length < this.limit;
  }

  private async run(): Promise<void> {
    const { retryPeriodMs, logger } = this.options;
    await this.checkForeign(await this.listLeases());
    if (!this.stopped) for (const e of this.electors) e.start();
    while (!this.stopped) {
      try {
        const leases = await this.listLeases();
        await this.checkForeign(leases);
        if (leases !== undefined) await this.members.update(leases);
        await this.tick();
      } catch (e) {
        logger.debug('shard planning failed', { error: (e as Error).message });
      }
      await sleep(retryPeriodMs, this.stopController.signal);
    }
  }

  /** Every Lease of the namespace, or undefined when the list failed (the last findings stand). */
  private async listLeases(): Promise<V1Lease[] | undefined> {
    try {
      return await this.options.api.listNamespacedLease(this.options.namespace);
    } catch (e) {
      this.options.logger.debug('leases not listed', { error: (e as Error).message });
      return undefined;
    }
  }

  /** One planning step: recompute the share, hand over what is above it, ask for at most one shard. */
  private async tick(): Promise<void> {
    const observations = this.electors.map((e) => e.observation());
    const now = Date.now();
    observations.forEach((o, shard) => {
      if (o.holder !== undefined) this.freeSince.delete(shard);
      else if (!this.freeSince.has(shard)) this.freeSince.set(shard, now);
    });
    const plan = planShards(
      this.options.identity,
      observations.map((o) => ({ holder: o.holder, wantedBy: o.wantedBy })),
      this.members.others(),
    );
    this.limit = plan.limit;
    if (plan.handOver.length > 0) {
      this.options.logger.info('handing shards over', { shards: plan.handOver.join(','), members: plan.members, held: this.held().length, share: plan.limit });
      await Promise.all(plan.handOver.map((shard) => this.electors[shard]?.handOver() ?? Promise.resolve()));
    }
    if (plan.request !== undefined) {
      const lease = observations[plan.request]?.lease;
      if (lease !== undefined) await this.request(lease);
    }
  }

  /**
   * Reads the Leases of the namespace for live shard Leases of another shard count (a rollout that
   * changes --shards), blocks the shards they overlap, and hands over a held shard that overlaps one
   * acquired before it. A failed read keeps what the last one found.
   */
  private async checkForeign(leases: readonly V1Lease[] | undefined): Promise<void> {
    const { leaseName, shards, logger } = this.options;
    if (leases === undefined) return;
    const now = Date.now();
    const lastChange = (name: string, stamp: string): number => {
      const seen = this.foreignSeen.get(name);
      if (seen !== undefined && seen[0] === stamp) return seen[1];
      this.foreignSeen.set(name, [stamp, now]);
      return now;
    };
    this.foreign = liveForeignShards(leases, leaseName, shards, lastChange, now);
    this.blocked = new Set(Array.from({ length: shards }, (_, i) => i).filter((i) => overlapping(i, shards, this.foreign).length > 0));
    this.options.onForeign?.(this.foreign.length);
    const key = this.foreign.map((f) => `${f.shard}-of-${f.of}@${f.holder}`).sort().join(',');
    if (key !== this.conflictKey) {
      this.conflictKey = key;
      if (this.foreign.length > 0) {
        logger.warn('shard Leases of another --shards value are live; not reconciling the shards they overlap until they expire or are released', {
          shards,
          foreign: key,
          blocked: [...this.blocked].join(','),
        });
      } else {
        logger.info('no shard Leases of another --shards value are live');
      }
    }
    for (const shard of this.held()) {
      const own = this.electors[shard]?.observation().lease?.spec?.acquireTime;
      const ownAt = own instanceof Date ? own.getTime() : typeof own === 'string' ? Date.parse(own) : Number.POSITIVE_INFINITY;
      if (overlapping(shard, shards, this.foreign).some((f) => f.acquiredAt < ownAt)) {
        logger.warn('handing over a shard that overlaps an older shard Lease of another --shards value', { shard });
        await this.electors[shard]?.handOver();
      }
    }
  }

  /** Asks the holder of `lease` to hand it over (a conflicting write just means: try next tick). */
  private async request(lease: V1Lease): Promise<void> {
    const { api, namespace, identity, logger } = this.options;
    const name = lease.metadata?.name ?? '';
    try {
      await api.replaceNamespacedLease(namespace, name, {
        ...lease,
        metadata: { ...lease.metadata, annotations: { ...lease.metadata?.annotations, [WANTED_BY_ANNOTATION]: identity, [WANTED_AT_ANNOTATION]: new Date().toISOString() } },
      });
      logger.debug('asked for a shard', { lease: name });
    } catch (e) {
      logger.debug('shard request not written', { lease: name, error: (e as Error).message });
    }
  }
}
