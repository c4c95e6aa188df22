/**
 * Workload 11, sharded reconcile: 2 and 3 controller processes with `--shards 6` against one in-repo
 * API, 1,000 SealedSecrets x 1 value (RSA-2048). Reported:
 * - double unseals: private-key operations summed over the replicas, minus one per object (0 means
 *   every object was unsealed by exactly one replica);
 * - the split: the busiest replica's share of the private-key operations (60/40 at worst for 2);
 * - how long the shards took to reach a fair share from the first one taken (context for the split:
 *   the replicas start together, and whatever one reconciles before the share is fair skews it),
 *   with each replica's shard timeline and writes per shard in the log (bench/sharding-timeline.ts);
 * - failover: after a SIGKILL of one replica, the time until the others hold every shard Lease,
 *   against the lease duration + 2 s;
 * - lost updates: with 3 replicas, one is killed a third of the way into the sync; afterwards every
 *   Secret must hold exactly its values.
 */
import { sleep } from '../net/backoff.js';
import { ControllerRun, ScaleCluster, fixedKey, plainValue, sealObjects, type SealedRef } from './scale.js';
import type { Figure } from './report.js';
import { ShardTimeline, shardHolders } from './sharding-timeline.js';

const COUNT = 1000;
const SHARDS = 6;
const LEASE_MS = 4000;

function start(cluster: ScaleCluster, replicas: number): ControllerRun[] {
  return Array.from(
    { length: replicas },
    (_, i) =>
      new ControllerRun(cluster.kubeconfigPath, {
        keySize: 2048,
        workers: 1,
        args: ['--shards', String(SHARDS), '--identity', `replica-${i}`, '--lease-duration', `${LEASE_MS / 1000}s`, '--renew-deadline', '3s', '--retry-period', '500ms'],
      }),
  );
}

function wrongValues(cluster: ScaleCluster, refs: readonly SealedRef[]): number {
  return refs.filter((r) => cluster.secretValues(r)?.['key-0'] !== plainValue('s', r.index, 0)).length;
}

async function privateOps(runs: readonly ControllerRun[]): Promise<number[]> {
  return Promise.all(runs.map((r) => r.metric('kseal_private_key_operations_total')));
}

async function twoOrThree(replicas: number, log: (line: string) => void): Promise<Figure[]> {
  const key = fixedKey(2048);
  const cluster = await ScaleCluster.start({ namespaces: 50, keys: [key] });
  const { objects, refs } = sealObjects({ count: COUNT, values: 1, namespaces: cluster.namespaces, keys: [key] });
  cluster.load(objects);
  const spawnedAt = Date.now();
  const runs = start(cluster, replicas);
  const timeline = new ShardTimeline(cluster, SHARDS, spawnedAt);
  try {
    const syncedMs = (await cluster.waitReady(refs, COUNT, 300_000)) - spawnedAt;
    timeline.stop();
    const identities = runs.map((_, i) => `replica-${i}`);
    for (const line of timeline.report(runs, identities, refs)) log(`sharding x${replicas}: ${line}`);
    const { firstTakenMs, fairMs } = timeline.fairness(identities);
    const ops = await privateOps(runs);
    const total = ops.reduce((a, b) => a + b, 0);
    const busiest = Math.max(...ops) / total;
    const writes = cluster.stats();
    log(`sharding x${replicas}: private ops per replica ${ops.join(' ')}, Secret writes ${JSON.stringify(writes.byResource['secrets'] ?? {})}`);
    // Failover: kill the last replica; the others must hold every shard within lease + 2 s.
    const victim = runs[replicas - 1] as ControllerRun;
    const killedAt = Date.now();
    victim.kill();
    let failoverMs = Number.NaN;
    for (;;) {
      const h = shardHolders(cluster, SHARDS);
      if (h.every((x) => x !== undefined && x !== `replica-${replicas - 1}`)) {
        failoverMs = Date.now() - killedAt;
        break;
      }
      if (Date.now() - killedAt > 60_000) break;
      await sleep(50);
    }
    return [
      { workload: '11 sharding', metric: `${replicas} replicas, ${SHARDS} shards, 1,000 x 1 RSA-2048: double unseals (private ops - objects)`, value: total - COUNT, unit: '', target: '0', met: total === COUNT, detail: { opsPerReplica: ops.join(' ') } },
      { workload: '11 sharding', metric: `${replicas} replicas: busiest replica's share of private ops`, value: busiest * 100, unit: '%', target: replicas === 2 ? '<= 60%' : '<= 40%', met: busiest <= (replicas === 2 ? 0.6 : 0.4) },
      {
        workload: '11 sharding',
        metric: `${replicas} replicas: first shard taken to every replica at its fair share (sync done ${(syncedMs / 1000).toFixed(1)} s after spawn)`,
        value: (fairMs - firstTakenMs) / 1000,
        unit: 's',
        target: '(context)',
        met: undefined,
        detail: { firstTakenMs, fairMs, syncedMs },
      },
      { workload: '11 sharding', metric: `${replicas} replicas: SIGKILL to every shard held by the others (lease ${LEASE_MS / 1000} s)`, value: failoverMs / 1000, unit: 's', target: `<= ${LEASE_MS / 1000 + 2} s`, met: failoverMs <= LEASE_MS + 2000 },
    ];
  } finally {
    timeline.stop();
    await Promise.all(runs.map((r) => r.stop()));
    await cluster.close();
  }
}

async function killMidSync(log: (line: string) => void): Promise<Figure[]> {
  const key = fixedKey(2048);
  const cluster = await ScaleCluster.start({ namespaces: 50, keys: [key] });
  const { objects, refs } = sealObjects({ count: COUNT, values: 1, namespaces: cluster.namespaces, keys: [key] });
  cluster.load(objects);
  const runs = start(cluster, 3);
  try {
    while (cluster.statusPatches() < COUNT / 3) await sleep(20);
    (runs[2] as ControllerRun).kill();
    const deadline = Date.now() + 300_000;
    let pending = refs;
    while (pending.length > 0 && Date.now() < deadline) {
      await sleep(250);
      pending = cluster.notReady(pending);
    }
    const wrong = wrongValues(cluster, refs);
    log(`sharding kill mid-sync: ${pending.length} not Ready, ${wrong} Secrets with wrong values`);
    return [{ workload: '11 sharding', metric: '3 replicas, one SIGKILLed a third into the sync: objects not Ready or with wrong values after', value: pending.length + wrong, unit: '', target: '0', met: pending.length + wrong === 0 }];
  } finally {
    await Promise.all(runs.map((r) => r.stop()));
    await cluster.close();
  }
}

/** Every sharding figure. */
export async function shardingFigures(log: (line: string) => void): Promise<Figure[]> {
  return [...(await twoOrThree(2, log)), ...(await twoOrThree(3, log)), ...(await killMidSync(log))];
}
