/**
 * Mixed `--shards` values during a rollout. Replicas started with different shard counts N and M use
 * different Lease names (`<lease>-shard-<i>-of-<N>`), so their elections never meet, yet shard i of N
 * and shard j of M hold the same objects whenever i ≡ j (mod gcd(N, M)). A replica therefore reads
 * the shard Leases of every other count in its namespace and treats a live one as a claim (held, and
 * its holder or renewTime changed within its duration by this replica's clock, as client-go judges
 * Leases, so clock skew between nodes does not matter): it does not take a shard that overlaps a live foreign Lease, and it hands
 * over a shard it holds when an overlapping foreign Lease was acquired before its own (the older
 * holder keeps reconciling until it is gone; its Lease then expires or is released).
 *
 * An unsharded leader (--shards 1, the default) reconciles every object under the main Lease
 * `<lease>`, which sharded replicas also use (its holder generates keys). Each holder writes its
 * shard count on it (SHARDS_ANNOTATION), so a live main Lease marked "1" counts as a foreign
 * `shard 0 of 1`: it overlaps every shard, and sharded replicas take none until it is gone. A main
 * Lease without the mark (a controller older than the mark) is not counted.
 */
import type { V1Lease } from '@kubernetes/client-node';
import { SHARDS_ANNOTATION } from './leader-election.js';

/** A foreign shard Lease seen live. */
export interface ForeignShard {
  readonly shard: number;
  readonly of: number;
  readonly holder: string;
  /** When it was acquired (ms since the epoch; 0 when unknown, which counts as oldest). */
  readonly acquiredAt: number;
}

function greatestCommonDivisor(a: number, b: number): number {
  return b === 0 ? a : greatestCommonDivisor(b, a % b);
}

function millis(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string') {
    const t = Date.parse(value);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

/**
 * The live shard Leases of `leaseName` for a shard count other than `shards`. `lastChange(name, stamp)`
 * returns when this replica first saw the Lease `name` with this holder-and-renewTime stamp (ms).
 */
export function liveForeignShards(leases: readonly V1Lease[], leaseName: string, shards: number, lastChange: (name: string, stamp: string) => number, nowMs: number): ForeignShard[] {
  const pattern = new RegExp(`^${leaseName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-shard-(\\d+)-of-(\\d+)$`);
  const out: ForeignShard[] = [];
  for (const lease of leases) {
    const name = lease.metadata?.name ?? '';
    const m = pattern.exec(name);
    const unshardedLeader = name === leaseName && lease.metadata?.annotations?.[SHARDS_ANNOTATION] === '1';
    if (m === null && !unshardedLeader) continue;
    const shard = m === null ? 0 : Number(m[1]);
    const of = m === null ? 1 : Number(m[2]);
    if (of === shards || of < 1 || shard >= of) continue;
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder === '') continue;
    const stamp = `${holder} ${String(millis(lease.spec?.renewTime) ?? '')}`;
    const durationMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    if (lastChange(name, stamp) + durationMs <= nowMs) continue;
    out.push({ shard, of, holder, acquiredAt: millis(lease.spec?.acquireTime) ?? 0 });
  }
  return out;
}

/** True when shard `shard` of `shards` and shard `other.shard` of `other.of` can hold the same object. */
export function overlaps(shard: number, shards: number, other: { readonly shard: number; readonly of: number }): boolean {
  const g = greatestCommonDivisor(shards, other.of);
  return shard % g === other.shard % g;
}

/** The foreign Leases that overlap shard `shard` of `shards`. */
export function overlapping(shard: number, shards: number, foreign: readonly ForeignShard[]): ForeignShard[] {
  return foreign.filter((f) => overlaps(shard, shards, f));
}
