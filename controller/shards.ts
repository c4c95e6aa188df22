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
  /** Members counted: this replica, every announced member, every live holder and every replica asking for a shard. */
  readonly members: number;
  /** How many shards this replica may hold: the floor of its share, or the ceil while fewer than shards mod members others hold the ceil. */
  readonly limit: number;
  /** May this replica take a free or expired shard now (it holds fewer than `limit`)? */
  readonly mayAcquire: boolean;
  /** Held shards to give up now: every one above the ceil of the share at once, or one someone with too few asked for. */
  readonly handOver: readonly number[];
  /** A shard held by another replica to ask for (this replica holds fewer than the floor of its share). */
  readonly request: number | undefined;
}

/**
 * Decides one tick for replica `self` from its view of every shard and the replicas that announced
 * themselves (`announced`, the member Leases: controller/shard-members.ts). Replicas converge to
 * holding floor or ceil of shards/members each:
 * - a holder above the ceil hands every shard above it over at once, so a replica that joins gets
 *   its share in one step instead of one shard per request;
 * - a holder above the floor hands over a shard that a replica below the floor asked for;
 * - a replica below the floor with no shard free asks the busiest holder for one.
 */
export function planShards(self: string, view: readonly ShardView[], announced: Iterable<string> = []): ShardPlan {
  const members = new Set<string>([self, ...announced]);
  const held = new Map<string, number[]>();
  view.forEach((v, shard) => {
    if (v.holder !== undefined) {
      members.add(v.holder);
      held.set(v.holder, [...(held.get(v.holder) ?? []), shard]);
    }
    if (v.wantedBy !== undefined) members.add(v.wantedBy);
  });
  const { floor, ceil } = fairShare(view.length, members.size);
  // Only shards mod members replicas can hold the ceil; the others stop at the floor.
  const atCeil = [...held].filter(([holder, shards]) => holder !== self && shards.length >= ceil).length;
  const limit = atCeil < view.length - floor * members.size ? ceil : floor;
  const mine = held.get(self) ?? [];
  const free = view.some((v) => v.holder === undefined);
  const requested = (s: number): boolean => view[s]?.wantedBy !== undefined && view[s]?.wantedBy !== self;
  let handOver: number[] = [];
  if (mine.length > ceil) handOver = [...mine.filter(requested), ...[...mine].reverse().filter((s) => !requested(s))].slice(0, mine.length - ceil);
  else if (mine.length > floor) handOver = mine.filter(requested).slice(0, 1);
  let request: number | undefined;
  if (mine.length < floor && !free) {
    // Ask the replica holding the most shards, for the last of them (no request already pending).
    let busiest: number[] = [];
    for (const [holder, shards] of held) if (holder !== self && shards.length > busiest.length) busiest = shards;
    if (busiest.length > floor) request = [...busiest].reverse().find((s) => view[s]?.wantedBy === undefined) ?? busiest[busiest.length - 1];
  }
  return { members: members.size, limit, mayAcquire: mine.length < limit, handOver, request };
}
