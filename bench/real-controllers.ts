/**
 * kseal's controller and Bitnami's, behind one interface, so the real-control-plane workloads
 * (bench/real-control-plane.ts) measure both the same way: spawn time, RSS and CPU from /proc
 * (bench/process-stats.ts), private-key work from each one's own metrics, and "warm restart
 * done" by each one's own signal:
 * - kseal: its "initial sync done" log line (every object reconciled), through ControllerRun
 *   (bench/scale.ts), the same process wrapper as the in-repo API workloads;
 * - Bitnami: its `sealed_secrets_controller_unseal_requests_total` reaching the object count
 *   (it unseals every SealedSecret again on each start; the counter goes up as each one starts,
 *   so the figure is early by at most one object's work).
 * Bitnami runs with `--kubeclient-qps=-1` (no client-side rate limit): its default of 5 requests
 * a second, burst 10, with 4 requests per object would measure the throttle, not the controller.
 */
import { bitnamiIdentity, startBitnami, type BitnamiController } from '../control-plane/bitnami.js';
import { processCpu, rssMiBOf, runQueueWait, scrapeMetrics } from './process-stats.js';
import { BITNAMI_SEALED, KSEAL_SEALED, type RealCluster, type ResourceRef } from './real-cluster.js';
import { ControllerRun } from './scale.js';

/** One running controller process. */
export interface RunningController {
  readonly pid: number;
  /** Date.now() just before the spawn. */
  readonly spawnedAt: number;
  rssMiB(): number;
  cpuSeconds(): number;
  /** Seconds its threads were runnable but waited for a CPU (all live threads; the main thread). */
  cpuWait(): { process: number; main: number };
  /** kseal: private-key operations; Bitnami: unseal requests (one per SealedSecret processed). */
  work(): Promise<number>;
  /** Resolves with the time (Date.now()) at which its start-up pass over `count` objects was done. */
  startUpDone(count: number, timeoutMs: number): Promise<number>;
  stop(): Promise<void>;
}

/** How to start one kind of controller on a RealCluster. */
export interface ControllerKind {
  readonly name: 'kseal' | 'Bitnami';
  readonly resource: ResourceRef;
  /** The condition that says an object is done: Ready (kseal), Synced (Bitnami). */
  readonly condition: string;
  /** Its ServiceAccount user name (for the audit log). */
  readonly username: string;
  /** What `work()` counts. */
  readonly workUnit: string;
  start(): Promise<RunningController>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** kseal's controller as the deploy's ServiceAccount in kseal-system (where ControllerRun points it). */
export async function ksealKind(cluster: RealCluster, keySize: number): Promise<ControllerKind> {
  const id = await cluster.ksealIdentity('kseal-system');
  return {
    name: 'kseal',
    resource: KSEAL_SEALED,
    condition: 'Ready',
    username: id.username,
    workUnit: 'private-key operations',
    start() {
      const run = new ControllerRun(id.kubeconfigPath, { keySize });
      return Promise.resolve({
        pid: run.pid,
        spawnedAt: run.spawnedAt,
        rssMiB: () => run.rssMiB(),
        cpuSeconds: () => run.cpu().process,
        cpuWait: () => runQueueWait(run.pid),
        work: () => run.metric('kseal_private_key_operations_total'),
        startUpDone: (_count, timeoutMs) => run.waitForLog('initial sync done', timeoutMs),
        stop: () => run.stop(),
      });
    },
  };
}

/** Bitnami's controller (control-plane/bitnami.ts) as its ServiceAccount in `namespace`. */
export async function bitnamiKind(cluster: RealCluster, keySize: number, namespace = 'bitnami-system'): Promise<ControllerKind & { certificatePem(): Promise<string> }> {
  const id = await bitnamiIdentity(cluster.clients, namespace);
  let certificatePem = '';
  const kind: ControllerKind = {
    name: 'Bitnami',
    resource: BITNAMI_SEALED,
    condition: 'Synced',
    username: id.username,
    workUnit: 'unseal requests',
    async start() {
      const spawnedAt = Date.now();
      const peer: BitnamiController = await startBitnami({
        apiServerUrl: cluster.apiServer.url,
        caPem: cluster.apiServer.caPem,
        token: id.token,
        namespace,
        dir: cluster.path(`bitnami-${spawnedAt}`),
        keySize,
        args: ['--kubeclient-qps=-1'],
      });
      certificatePem = await peer.certificatePem();
      const unsealRequests = async (): Promise<number> => (await scrapeMetrics(`http://127.0.0.1:${peer.metricsPort}/metrics`)).get('sealed_secrets_controller_unseal_requests_total') ?? 0;
      return {
        pid: peer.pid,
        spawnedAt,
        rssMiB: () => rssMiBOf(peer.pid),
        cpuSeconds: () => processCpu(peer.pid).process,
        cpuWait: () => runQueueWait(peer.pid),
        work: unsealRequests,
        async startUpDone(count, timeoutMs) {
          const deadline = Date.now() + timeoutMs;
          while ((await unsealRequests()) < count) {
            if (!peer.process.running()) throw new Error(`Bitnami's controller exited:\n${peer.process.tail()}`);
            if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: Bitnami unsealed ${await unsealRequests()} of ${count}`);
            await sleep(100);
          }
          return Date.now();
        },
        stop: () => peer.process.stop(),
      };
    },
  };
  return {
    ...kind,
    /** Its certificate, as served by its last start (start it once first). */
    certificatePem() {
      if (certificatePem === '') return Promise.reject(new Error('start Bitnami\'s controller once before asking for its certificate'));
      return Promise.resolve(certificatePem);
    },
  };
}
