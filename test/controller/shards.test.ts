import { describe, expect, it } from 'vitest';
import { fairShare, planShards, shardLeaseName, shardOf, type ShardView } from '../../controller/shards.js';

/**
 * Runs planShards for every replica in turn, applying hand-overs and requests, until nothing changes.
 * `announced`: the replicas counted as members from their member Leases (all of them by default; none
 * models replicas that are seen only once they hold or ask for a shard).
 */
function converge(replicas: readonly string[], shards: number, start: ReadonlyArray<string | undefined>, announced: readonly string[] = replicas): Array<string | undefined> {
  const holders = [...start];
  const wanted: Array<string | undefined> = Array.from({ length: shards }, () => undefined);
  for (let round = 0; round < 100; round++) {
    let changed = false;
    for (const self of replicas) {
      const view: ShardView[] = holders.map((holder, i) => ({ holder, wantedBy: wanted[i] }));
      const plan = planShards(self, view, announced.filter((r) => r !== self));
      for (const shard of plan.handOver) {
        holders[shard] = undefined;
        wanted[shard] = undefined;
        changed = true;
      }
      if (plan.request !== undefined && wanted[plan.request] === undefined) {
        wanted[plan.request] = self;
        changed = true;
      }
      const free = holders.findIndex((h) => h === undefined);
      if (plan.mayAcquire && free >= 0) {
        holders[free] = self;
        wanted[free] = undefined;
        changed = true;
      }
    }
    if (!changed) break;
  }
  return holders;
}

function counts(holders: ReadonlyArray<string | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const h of holders) if (h !== undefined) out[h] = (out[h] ?? 0) + 1;
  return out;
}

describe('shardOf', () => {
  it('puts every object in shard 0 when there is one shard', () => {
    expect(shardOf('app/db', 1)).toBe(0);
  });

  it('gives the same key the same shard every time', () => {
    expect(shardOf('app/db', 12)).toBe(shardOf('app/db', 12));
  });

  it('spreads 10,000 keys over 12 shards within 15% of even (about 4 standard deviations)', () => {
    const n = Array.from({ length: 12 }, () => 0);
    for (let i = 0; i < 10_000; i++) n[shardOf(`ns-${i % 500}/s-${i}`, 12)]! += 1;
    for (const c of n) expect(Math.abs(c - 10_000 / 12)).toBeLessThan((10_000 / 12) * 0.15);
  });

  it('splits 10,000 keys over 2 shards within 55/45', () => {
    let first = 0;
    for (let i = 0; i < 10_000; i++) if (shardOf(`ns-${i % 500}/s-${i}`, 2) === 0) first++;
    expect(first).toBeGreaterThan(4500);
    expect(first).toBeLessThan(5500);
  });
});

describe('shardLeaseName', () => {
  it('names the shard count, so Leases of another --shards are never shared', () => {
    expect(shardLeaseName('kseal-controller', 3, 12)).toBe('kseal-controller-shard-3-of-12');
  });
});

describe('fairShare', () => {
  it('splits 12 shards among 5 replicas into 2 or 3 each', () => {
    expect(fairShare(12, 5)).toEqual({ floor: 2, ceil: 3 });
  });
});

describe('planShards', () => {
  it('lets a lone replica take every shard', () => {
    expect(counts(converge(['a'], 6, Array.from({ length: 6 }, () => undefined)))).toEqual({ a: 6 });
  });

  it('moves shards from a replica that holds them all to a new one until both hold half', () => {
    expect(counts(converge(['a', 'b'], 6, Array.from({ length: 6 }, () => 'a')))).toEqual({ a: 3, b: 3 });
  });

  it('balances three replicas over 12 shards at 4 each', () => {
    expect(counts(converge(['a', 'b', 'c'], 12, Array.from({ length: 12 }, (_, i) => (i < 10 ? 'a' : 'b'))))).toEqual({ a: 4, b: 4, c: 4 });
  });

  it('gives the shards of a replica that died to the replicas left', () => {
    const start = Array.from({ length: 6 }, (_, i) => (i % 3 === 0 ? 'a' : i % 3 === 1 ? 'b' : undefined));
    expect(counts(converge(['a', 'b'], 6, start))).toEqual({ a: 3, b: 3 });
  });

  it('never asks for a shard when holding the floor of the share', () => {
    const view: ShardView[] = [{ holder: 'a', wantedBy: undefined }, { holder: 'a', wantedBy: undefined }, { holder: 'b', wantedBy: undefined }];
    expect(planShards('b', view)).toMatchObject({ request: undefined, handOver: [] });
  });

  it('hands over the shard another replica asked for when above the floor', () => {
    const view: ShardView[] = [{ holder: 'a', wantedBy: undefined }, { holder: 'a', wantedBy: 'b' }];
    expect(planShards('a', view).handOver).toEqual([1]);
  });

  it('counts a member that announced itself but holds nothing yet, and hands it half of the shards at once', () => {
    const view: ShardView[] = Array.from({ length: 6 }, () => ({ holder: 'a', wantedBy: undefined }));
    const plan = planShards('a', view, ['b']);
    expect(plan.members).toBe(2);
    expect(plan.handOver).toHaveLength(3);
    expect(new Set(plan.handOver).size).toBe(3);
  });

  it('hands over the shard someone asked for first when shedding shards above the ceil', () => {
    const view: ShardView[] = Array.from({ length: 6 }, (_, i) => ({ holder: 'a', wantedBy: i === 1 ? 'c' : undefined }));
    expect(planShards('a', view, ['b', 'c']).handOver).toEqual([1, 5, 4, 3]);
  });

  it('lets only shards-mod-members replicas hold the ceil, so a member still at zero gets the free shard', () => {
    const view: ShardView[] = ['a', 'a', 'b', 'b', 'c', undefined].map((holder) => ({ holder, wantedBy: undefined }));
    expect(planShards('c', view, ['a', 'b', 'd'])).toMatchObject({ members: 4, limit: 1, mayAcquire: false });
    expect(planShards('d', view, ['a', 'b', 'c'])).toMatchObject({ members: 4, limit: 1, mayAcquire: true });
  });

  it('balances three announced replicas over 6 shards at 2 each, starting from one holding them all', () => {
    expect(counts(converge(['a', 'b', 'c'], 6, Array.from({ length: 6 }, () => 'a')))).toEqual({ a: 2, b: 2, c: 2 });
  });

  it('still balances replicas that are seen only once they ask for a shard (no member Leases)', () => {
    expect(counts(converge(['a', 'b', 'c'], 6, Array.from({ length: 6 }, () => 'a'), []))).toEqual({ a: 2, b: 2, c: 2 });
  });
});
