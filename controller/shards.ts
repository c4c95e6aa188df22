/**
 * Sharding arithmetic: which shard an object belongs to, what the shard Leases are called, and how
 * many shards a replica should hold. Pure functions, so every replica computes the same answers.
 *
 * An object's shard is a stable hash of its `namespace/name` (FNV-1a, 32 bits, with MurmurHash3's
 * finaliser) modulo the shard
 * count: it never changes while the object exists, and objects spread evenly over the shards.
 */

/** The shard (0 ≤ shard < shards) of a `namespace/name` key. */
export function shardOf(key: string, shards: number): number {
  if (shards <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  // MurmurHash3's finaliser: FNV's low bits alone spread similar names unevenly over small counts.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b) >>> 0;
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35) >>> 0;
  hash ^= hash >>> 16;
  return (hash >>> 0) % shards;
}

/**
 * The Lease of one shard. The count is part of the name, so replicas started with another
 * `--shards` never share a Lease with a different meaning.
 */
export function shardLeaseName(leaseName: string, shard: number, shards: number): string {
  return `${leaseName}-shard-${shard}-of-${shards}`;
}

/** The fair share of `shards` among `members` replicas: every replica holds between floor and ceil. */
export function fairShare(shards: number, members: number): { readonly floor: number; readonly ceil: number } {
  const m = Math.max(1, members);
  return { floor: Math.floor(shards / m), ceil: Math.ceil(shards / m) };
}

/** What one replica sees of the shard Leases: holder and hand-over request of each shard. */
export interface ShardView {
  readonly holder: string | undefined;
  readonly wantedBy: string | undefined;
}

/** What a replica should do on this tick (see ShardCoordinator). */
export interface ShardPlan {
  /** Members counted: this replica, every live holder and every replica asking for a shard. */
  readonly members: number;
  /** May this replica take a free or expired shard? */
  readonly mayAcquire: boolean;
  /** A held shard to give up now (it holds more than its share, or someone with too few asked). */
  readonly handOver: number | undefined;
  /** A shard held by another replica to ask for (this replica holds fewer than its share). */
  readonly request: number | undefined;
}

/**
 * Decides one tick for replica `self` from its view of every shard. Replicas converge to holding
 * floor or ceil of shards/members each: a replica below floor asks the busiest holder for one shard;
 * a holder above ceil, or above floor with a request on one of its shards, hands that shard over.
 */
export function planShards(self: string, view: readonly ShardView[]): ShardPlan {
  const members = new Set<string>([self]);
  const held = new Map<string, number[]>();
  view.forEach((v, shard) => {
    if (v.holder !== undefined) {
      members.add(v.holder);
      held.set(v.holder, [...(held.get(v.holder) ?? []), shard]);
    }
    if (v.wantedBy !== undefined) members.add(v.wantedBy);
  });
  const { floor, ceil } = fairShare(view.length, members.size);
  const mine = held.get(self) ?? [];
  const free = view.some((v) => v.holder === undefined);
  let handOver: number | undefined;
  if (mine.length > ceil) handOver = mine.find((s) => view[s]?.wantedBy !== undefined) ?? mine[mine.length - 1];
  else if (mine.length > floor) handOver = mine.find((s) => view[s]?.wantedBy !== undefined && view[s]?.wantedBy !== self);
  let request: number | undefined;
  if (mine.length < floor && !free) {
    // Ask the replica holding the most shards, for the last of them (no request already pending).
    let busiest: number[] = [];
    for (const [holder, shards] of held) if (holder !== self && shards.length > busiest.length) busiest = shards;
    if (busiest.length > floor) request = [...busiest].reverse().find((s) => view[s]?.wantedBy === undefined) ?? busiest[busiest.length - 1];
  }
  return { members: members.size, mayAcquire: mine.length < ceil, handOver, request };
}
