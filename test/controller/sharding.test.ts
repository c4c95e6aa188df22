// Sharded reconciling (--shards): replicas against the in-repo API split the SealedSecrets by shard
// Lease, every object is unsealed by exactly one replica, and the shards of a replica that is cut
// off move to the others.
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeApiServer } from '../../kube-api/server.js';
import { shardOf } from '../../controller/shards.js';
import { applySealed, metricValue, startCluster, startController, waitForReason, type TestController } from './harness.js';
import { eventually, sealedObject } from './fixtures.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

const SHARDS = 6;

describe('sharded reconciling', () => {
  let server: KubeApiServer | undefined;
  let replicas: TestController[] = [];
  let proxies: TcpProxy[] = [];

  afterEach(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await Promise.all(proxies.map((p) => p.close()));
    await server?.close();
    replicas = [];
    proxies = [];
    server = undefined;
  });

  async function startReplicas(count: number, viaProxy = false): Promise<void> {
    server = await startCluster({ withKey: true });
    for (let i = 0; i < count; i++) {
      let url: string | undefined;
      if (viaProxy) {
        const proxy = await startTcpProxy(Number(new URL(server.url).port));
        proxies.push(proxy);
        url = proxy.url;
      }
      const s = server;
      replicas.push(startController(s, { identity: `replica-${i}`, leaderElection: { enabled: true, leaseName: 'kseal-controller', leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 100, shards: SHARDS } }, url === undefined ? {} : { url }));
    }
    await eventually('every shard held, fairly', () => {
      const held = replicas.map((r) => r.controller.shards());
      const all = held.flat();
      return all.length === SHARDS && new Set(all).size === SHARDS && held.every((h) => h.length === SHARDS / count);
    }, 20_000);
  }

  async function sealMany(count: number, prefix: string): Promise<string[]> {
    const names = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
    for (const name of names) applySealed(server!, sealedObject({ name, namespace: 'app', values: { v: `value-${name}` } }));
    for (const name of names) await waitForReason(server!, 'app', name, 'Unsealed', 30_000);
    return names;
  }

  it('gives each of three replicas two of six shards', async () => {
    await startReplicas(3);
    expect(replicas.map((r) => r.controller.shards().length)).toEqual([2, 2, 2]);
  }, 40_000);

  it('unseals every object exactly once across two replicas: one Secret write and one private-key operation each', async () => {
    await startReplicas(2);
    server!.stats.reset();
    await sealMany(40, 'once');
    expect(server!.stats.count({ verb: 'create', resource: 'secrets' })).toBe(40);
    const ops = await Promise.all(replicas.map((r) => metricValue(r.options.metrics.privateKeyOperations)));
    expect(ops.reduce((a, b) => a + b, 0)).toBe(40);
    expect(ops.every((n) => n > 0)).toBe(true);
  }, 60_000);

  it('reconciles each object on the replica that holds its shard', async () => {
    await startReplicas(2);
    const names = await sealMany(20, 'owner');
    const series = await Promise.all(replicas.map(async (r) => (await r.options.metrics.conditionInfo.get()).values.map((v) => `${String(v.labels.namespace)}/${String(v.labels.name)}`)));
    for (const name of names) {
      const shard = shardOf(`app/${name}`, SHARDS);
      const owners = replicas.map((r, i) => (series[i]?.includes(`app/${name}`) ? r.controller.shards().includes(shard) : undefined)).filter((x) => x !== undefined);
      expect(owners).toEqual([true]);
    }
  }, 60_000);

  it('moves the shards of a replica cut off from the API to the others, which then unseal new objects in them', async () => {
    await startReplicas(3, true);
    const lost = replicas[2]!.controller.shards();
    await proxies[2]!.close();
    await eventually('the cut-off replica stops reconciling', () => replicas[2]!.controller.shards().length === 0, 10_000);
    await eventually('its shards taken by the others', () => {
      const held = [replicas[0]!.controller.shards(), replicas[1]!.controller.shards()].flat();
      return lost.every((s) => held.includes(s)) && held.length === SHARDS;
    }, 15_000);
    const names = await sealMany(12, 'after');
    expect(names.some((n) => lost.includes(shardOf(`app/${n}`, SHARDS)))).toBe(true);
  }, 60_000);

  it('hands shards to a replica that joins later, without double unseals', async () => {
    await startReplicas(1);
    await sealMany(10, 'before');
    const s = server!;
    replicas.push(startController(s, { identity: 'late', leaderElection: { enabled: true, leaseName: 'kseal-controller', leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 100, shards: SHARDS } }));
    await eventually('shards split 3/3', () => replicas.every((r) => r.controller.shards().length === SHARDS / 2), 20_000);
    s.stats.reset();
    await sealMany(10, 'later');
    expect(s.stats.count({ verb: 'create', resource: 'secrets' })).toBe(10);
    // The objects that were already unsealed are not unsealed again by the replica that took them over.
    expect(s.stats.count({ verb: 'update', resource: 'secrets' })).toBe(0);
  }, 60_000);
});
