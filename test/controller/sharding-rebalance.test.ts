// Rebalancing the shard Leases when replicas join (controller/shard-members.ts, shards.ts planShards):
// a replica that joins later ends with a fair share, and no shard is ever reconciled by two replicas
// at once while shards move. In-process replicas against the in-repo API.
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeApiServer } from '../../kube-api/server.js';
import { memberLeaseName } from '../../controller/shard-members.js';
import { applySealed, metricValue, startCluster, startController, waitForReason, type TestController } from './harness.js';
import { eventually, sealedObject } from './fixtures.js';

const SHARDS = 6;

describe('rebalancing shards when replicas join', () => {
  let server: KubeApiServer | undefined;
  let replicas: TestController[] = [];
  let sampler: NodeJS.Timeout | undefined;

  afterEach(async () => {
    clearInterval(sampler);
    await Promise.all(replicas.map((r) => r.stop()));
    await server?.close();
    replicas = [];
    server = undefined;
  });

  function join(identity: string): TestController {
    const replica = startController(server!, { identity, leaderElection: { enabled: true, leaseName: 'kseal-controller', leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 100, shards: SHARDS } });
    replicas.push(replica);
    return replica;
  }

  function counts(): number[] {
    return replicas.map((r) => r.controller.shards().length);
  }

  /**
   * Samples every replica's held shards every millisecond (one event loop: each sample is a
   * consistent snapshot) and records any shard two replicas hold at once, and the most shards any
   * replica held.
   */
  function watchOverlaps(): { overlaps: string[]; most: () => number } {
    const overlaps: string[] = [];
    let most = 0;
    sampler = setInterval(() => {
      const owner = new Map<number, string>();
      for (const r of replicas) {
        const held = r.controller.shards();
        most = Math.max(most, held.length);
        for (const shard of held) {
          const other = owner.get(shard);
          if (other !== undefined) overlaps.push(`shard ${shard}: ${other} and ${r.controller.identity}`);
          owner.set(shard, r.controller.identity);
        }
      }
    }, 1);
    return { overlaps, most: () => most };
  }

  async function sealMany(count: number, prefix: string): Promise<void> {
    const names = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
    for (const name of names) applySealed(server!, sealedObject({ name, namespace: 'app', values: { v: `value-${name}` } }));
    for (const name of names) await waitForReason(server!, 'app', name, 'Unsealed', 30_000);
  }

  it('gives a replica that joins a running pair a fair share: two shards each of six', async () => {
    server = await startCluster({ withKey: true });
    join('first');
    join('second');
    await eventually('two replicas at three shards each', () => counts().join(' ') === '3 3', 20_000);
    join('late');
    await eventually('three replicas at two shards each', () => counts().join(' ') === '2 2 2', 20_000);
    expect(new Set(replicas.flatMap((r) => r.controller.shards())).size).toBe(SHARDS);
  }, 60_000);

  it('never lets two replicas hold the same shard while shards move to replicas that join one after another', async () => {
    server = await startCluster({ withKey: true });
    const seen = watchOverlaps();
    join('first');
    await eventually('the first replica holds every shard', () => counts().join(' ') === '6', 20_000);
    await sealMany(12, 'before');
    join('second');
    await eventually('3 and 3', () => counts().join(' ') === '3 3', 20_000);
    join('third');
    await eventually('2, 2 and 2', () => counts().join(' ') === '2 2 2', 20_000);
    server.stats.reset();
    await sealMany(12, 'after');
    clearInterval(sampler);
    expect(seen.most()).toBe(SHARDS);
    expect(seen.overlaps).toEqual([]);
    // Every new object unsealed once, and the objects taken over not unsealed again.
    const ops = await Promise.all(replicas.map((r) => metricValue(r.options.metrics.privateKeyOperations)));
    expect(ops.reduce((a, b) => a + b, 0)).toBe(24);
    expect(server.stats.count({ verb: 'create', resource: 'secrets' })).toBe(12);
    expect(server.stats.count({ verb: 'update', resource: 'secrets' })).toBe(0);
  }, 90_000);

  it('announces each replica on a member Lease and gives it up on a clean stop', async () => {
    server = await startCluster({ withKey: true });
    join('first');
    join('second');
    await eventually('3 and 3', () => counts().join(' ') === '3 3', 20_000);
    const holder = (slot: number): string | undefined =>
      (server!.store.get('coordination.k8s.io/v1', 'Lease', memberLeaseName('kseal-controller', slot, SHARDS), 'kseal-system') as { spec?: { holderIdentity?: string } } | undefined)?.spec?.holderIdentity;
    expect([holder(0), holder(1)].sort()).toEqual(['first', 'second']);
    const second = replicas.find((r) => r.controller.identity === 'second')!;
    const slot = holder(0) === 'second' ? 0 : 1;
    await second.stop();
    replicas = replicas.filter((r) => r !== second);
    expect(holder(slot)).toBe('');
    await eventually('the first replica holds every shard again', () => counts().join(' ') === '6', 20_000);
  }, 60_000);
});
