/**
 * What workload 11 prints to explain its split: per replica, when it started, which shards it held
 * over the sync (from the shard Leases in the API server's store, sampled every 25 ms) and how many
 * objects of each shard it wrote (its `Secret written` log lines), plus how the 1,000 names hash
 * over the shards. Without it a skewed split cannot be told apart from uneven hashing.
 */
import { shardOf } from '../controller/shards.js';
import type { ControllerRun, ScaleCluster, SealedRef } from './scale.js';

const NAMESPACE = 'kseal-system';

/** A change of a shard Lease's holder, `t` ms after the replicas were spawned. */
interface Transition {
  readonly t: number;
  readonly shard: number;
  readonly holder: string | undefined;
}

/** Holder of every shard Lease, from the API server's store. */
export function shardHolders(cluster: ScaleCluster, shards: number): Array<string | undefined> {
  const leases = cluster.server.store.list('coordination.k8s.io/v1', 'Lease', NAMESPACE) as Array<{ metadata: { name: string }; spec?: { holderIdentity?: string } }>;
  return Array.from({ length: shards }, (_, s) => {
    const holder = leases.find((l) => l.metadata.name === `kseal-controller-shard-${s}-of-${shards}`)?.spec?.holderIdentity;
    return holder === '' ? undefined : holder;
  });
}

/** Samples the shard Leases' holders until `stop()`; `report()` prints the timeline. */
export class ShardTimeline {
  private readonly transitions: Transition[] = [];
  private readonly last: Array<string | undefined>;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly cluster: ScaleCluster,
    private readonly shards: number,
    private readonly t0: number,
  ) {
    this.last = Array.from({ length: shards }, () => undefined);
    this.timer = setInterval(() => this.sample(), 25);
    this.sample();
  }

  private sample(): void {
    const now = Date.now() - this.t0;
    shardHolders(this.cluster, this.shards).forEach((holder, shard) => {
      if (holder === this.last[shard]) return;
      this.last[shard] = holder;
      this.transitions.push({ t: now, shard, holder });
    });
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  /**
   * When (ms after spawn) the shards became fair for good: every shard held, every replica holding
   * floor or ceil of shards/replicas, and no change after; and when the first shard was taken.
   */
  fairness(identities: readonly string[]): { firstTakenMs: number; fairMs: number } {
    const holders: Array<string | undefined> = Array.from({ length: this.shards }, () => undefined);
    const floor = Math.floor(this.shards / identities.length);
    const ceil = Math.ceil(this.shards / identities.length);
    const fair = (): boolean => holders.every((h) => h !== undefined) && identities.every((id) => {
      const n = holders.filter((h) => h === id).length;
      return n >= floor && n <= ceil;
    });
    let firstTakenMs = Number.NaN;
    let fairMs = Number.NaN;
    for (const tr of this.transitions) {
      holders[tr.shard] = tr.holder;
      if (tr.holder !== undefined && Number.isNaN(firstTakenMs)) firstTakenMs = tr.t;
      fairMs = fair() ? (Number.isNaN(fairMs) ? tr.t : fairMs) : Number.NaN;
    }
    return { firstTakenMs, fairMs };
  }

  /** Lines: the hash spread, then per replica its start, its shard changes and its writes per shard. */
  report(runs: readonly ControllerRun[], identities: readonly string[], refs: readonly SealedRef[]): string[] {
    const s = (ms: number): string => `${(ms / 1000).toFixed(2)}s`;
    const perShard = Array.from({ length: this.shards }, () => 0);
    for (const r of refs) perShard[shardOf(`${r.namespace}/${r.name}`, this.shards)] = (perShard[shardOf(`${r.namespace}/${r.name}`, this.shards)] ?? 0) + 1;
    const lines = [`objects per shard (hash of namespace/name): ${perShard.join(' ')}`];
    runs.forEach((run, i) => {
      const id = identities[i] ?? '';
      const started = run.firstSeenAt('started');
      const writes = run.lines('Secret written');
      const byShard = Array.from({ length: this.shards }, () => 0);
      for (const w of writes) {
        const shard = shardOf(String(w['object']), this.shards);
        byShard[shard] = (byShard[shard] ?? 0) + 1;
      }
      const times = writes.map((w) => Date.parse(String(w['time'])) - this.t0).filter((t) => Number.isFinite(t));
      const changes: string[] = [];
      const held = new Set<number>();
      for (const tr of this.transitions) {
        if (tr.holder === id && !held.has(tr.shard)) {
          held.add(tr.shard);
          changes.push(`+${tr.shard}@${s(tr.t)}`);
        } else if (tr.holder !== id && held.has(tr.shard)) {
          held.delete(tr.shard);
          changes.push(`-${tr.shard}@${s(tr.t)}`);
        }
      }
      lines.push(
        `${id}: started ${started === undefined ? '?' : s(started - this.t0)}, shards ${changes.join(' ') || 'none'}; ` +
          `Secrets written ${writes.length} (per shard ${byShard.join(' ')})` +
          (times.length > 0 ? `, first ${s(Math.min(...times))}, last ${s(Math.max(...times))}` : ''),
      );
    });
    return lines;
  }
}
