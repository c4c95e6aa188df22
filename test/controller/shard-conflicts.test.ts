// Mixed --shards values during a rollout: the overlap arithmetic, which foreign shard Leases count as
// live, and, against the in-repo API, a replica that leaves alone every shard a live Lease of another
// shard count overlaps until that Lease is released.
import { afterEach, describe, expect, it } from 'vitest';
import type { V1Lease } from '@kubernetes/client-node';
import type { KubeApiServer } from '../../kube-api/server.js';
import { SHARDS_ANNOTATION } from '../../controller/leader-election.js';
import { liveForeignShards, overlaps } from '../../controller/shard-conflicts.js';
import { applySealed, metricValue, readyOf, startCluster, startController, waitForReason, type TestController } from './harness.js';
import { eventually, sealedObject } from './fixtures.js';

function lease(name: string, holder: string, renewTime = '2026-01-01T00:00:00.000000Z', acquireTime = renewTime): V1Lease {
  return { metadata: { name }, spec: { holderIdentity: holder, leaseDurationSeconds: 15, renewTime: new Date(renewTime), acquireTime: new Date(acquireTime) } };
}

describe('shard overlap', () => {
  it('overlaps every shard when the counts are coprime, and only the congruent ones otherwise', () => {
    expect([0, 1, 2].map((i) => overlaps(i, 3, { shard: 1, of: 2 }))).toEqual([true, true, true]);
    expect([0, 1, 2, 3, 4, 5].map((i) => overlaps(i, 6, { shard: 1, of: 4 }))).toEqual([false, true, false, true, false, true]);
  });

  it('counts held shard Leases of another count as live until their duration passes without a renewal', () => {
    const leases = [lease('kseal-controller-shard-1-of-2', 'old'), lease('kseal-controller-shard-0-of-3', 'me'), lease('kseal-controller-shard-0-of-2', ''), lease('kseal-controller', 'old'), lease('other-shard-0-of-2', 'x')];
    const firstSeen = 1_000_000;
    const seen = (): number => firstSeen;
    expect(liveForeignShards(leases, 'kseal-controller', 3, seen, firstSeen + 14_000).map((f) => `${f.shard}-of-${f.of}@${f.holder}`)).toEqual(['1-of-2@old']);
    expect(liveForeignShards(leases, 'kseal-controller', 3, seen, firstSeen + 15_000)).toEqual([]);
  });

  it('counts a live main Lease marked --shards 1 as shard 0 of 1, and not one marked with another count', () => {
    const marked = (shards: string): V1Lease => {
      const l = lease('kseal-controller', 'unsharded');
      return { ...l, metadata: { ...l.metadata, annotations: { [SHARDS_ANNOTATION]: shards } } };
    };
    const seen = (): number => 1_000_000;
    expect(liveForeignShards([marked('1')], 'kseal-controller', 3, seen, 1_001_000).map((f) => `${f.shard}-of-${f.of}@${f.holder}`)).toEqual(['0-of-1@unsharded']);
    expect(liveForeignShards([marked('3')], 'kseal-controller', 3, seen, 1_001_000)).toEqual([]);
    expect([0, 1, 2].map((i) => overlaps(i, 3, { shard: 0, of: 1 }))).toEqual([true, true, true]);
  });
});

describe('a replica started with another --shards value', () => {
  let server: KubeApiServer | undefined;
  let replica: TestController | undefined;
  let unsharded: TestController | undefined;
  afterEach(async () => {
    await unsharded?.stop();
    unsharded = undefined;
    await replica?.stop();
    await server?.close();
    replica = undefined;
    server = undefined;
  });

  it('reconciles nothing a live shard Lease of another count overlaps, logs it and reports it, then takes over once it is released', async () => {
    server = await startCluster({ withKey: true });
    const now = new Date().toISOString().replace(/Z$/, '000Z'); // MicroTime: six fractional digits
    const foreign = server.store.create({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'kseal-controller-shard-0-of-1', namespace: 'kseal-system' },
      spec: { holderIdentity: 'replica-of-the-old-rollout', leaseDurationSeconds: 3600, acquireTime: now, renewTime: now },
    });
    replica = startController(server, { identity: 'new', leaderElection: { enabled: true, leaseName: 'kseal-controller', leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 100, shards: 2 } });
    applySealed(server, sealedObject({ name: 'db', namespace: 'app', values: { a: 'x' } }));
    const r = replica;
    await eventually('foreign Lease reported', async () => (await metricValue(r.options.metrics.foreignShardLeases)) === 1);
    // Several planning rounds with the shards free: none is taken, the object stays unreconciled.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(r.controller.shards()).toEqual([]);
    expect(readyOf(server, 'app', 'db')).toBeUndefined();
    server.store.update({ ...foreign, spec: { ...(foreign['spec'] as object), holderIdentity: '' } });
    await waitForReason(server, 'app', 'db', 'Unsealed', 20_000);
    await eventually('both shards held', () => r.controller.shards().length === 2);
    expect(await metricValue(r.options.metrics.foreignShardLeases)).toBe(0);
  }, 40_000);

  it('stands back from an unsharded leader (--shards 1) until it is gone, so nothing is reconciled twice', async () => {
    server = await startCluster({ withKey: true });
    const election = { enabled: true, leaseName: 'kseal-controller', leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 100 };
    unsharded = startController(server, { identity: 'unsharded', leaderElection: election });
    applySealed(server, sealedObject({ name: 'db', namespace: 'app', values: { a: 'x' } }));
    await waitForReason(server, 'app', 'db', 'Unsealed', 20_000);
    const u = unsharded;
    replica = startController(server, { identity: 'sharded', leaderElection: { ...election, shards: 2 } });
    const r = replica;
    await eventually('unsharded leader reported', async () => (await metricValue(r.options.metrics.foreignShardLeases)) === 1);
    applySealed(server, sealedObject({ name: 'api', namespace: 'app', values: { b: 'y' } }));
    await waitForReason(server, 'app', 'api', 'Unsealed', 20_000);
    // Several planning rounds with the shards free: the sharded replica takes none and unseals nothing.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(r.controller.shards()).toEqual([]);
    expect(await metricValue(r.options.metrics.privateKeyOperations)).toBe(0);
    expect(await metricValue(u.options.metrics.privateKeyOperations)).toBe(2);
    expect(r.logs()).toContain('shard Leases of another --shards value are live');
    // The unsharded leader leaves (its Lease is released): the sharded replica takes every shard.
    await u.stop();
    unsharded = undefined;
    await eventually('both shards held', () => r.controller.shards().length === 2, 20_000);
    applySealed(server, sealedObject({ name: 'late', namespace: 'app', values: { c: 'z' } }));
    await waitForReason(server, 'app', 'late', 'Unsealed', 20_000);
    expect(await metricValue(r.options.metrics.privateKeyOperations)).toBe(1);
    expect(await metricValue(r.options.metrics.foreignShardLeases)).toBe(0);
  }, 60_000);
});
