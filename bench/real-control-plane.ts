/**
 * Workload 13: cold sync, warm restart and memory against the real control plane
 * (control-plane/: etcd, kube-apiserver, kube-controller-manager built from Go), so those figures
 * are not an artefact of the in-repo API, with Bitnami's own controller (built from its Go module,
 * `npm run peer:build`) as a peer in the same run: kseal/Bitnami ratios for each.
 *
 * Two control planes, one after the other, each controller alone on it while measured:
 * - A: N x V values RSA-4096 (default 1,000 x 5, as workload 2) per controller, in 50 namespaces
 *   each. Cold sync: spawn to every object's condition True (kseal Ready, Bitnami Synced), seen
 *   through a watch. Warm restart: spawn to the start-up pass done (bench/real-controllers.ts),
 *   with the writes of that restart read from the audit log.
 * - B (memory): idle RSS, then M x 1 value RSA-4096 (default 10,000) per controller: RSS 2 s
 *   after its cold sync. Bitnami goes first, so its cache of every Secret holds only its own.
 * Each controller seals and unseals with its own key (kseal: the committed test key; Bitnami: the
 * key it generates on first start); kseal's library seals both sets, Bitnami's with
 * `apiVersion: bitnami.com/v1alpha1` for the certificate Bitnami serves.
 * Skipped with a message when the control plane binaries are missing; kseal alone when the peer is.
 * KSEAL_BENCH_REAL_COUNT, KSEAL_BENCH_REAL_VALUES and KSEAL_BENCH_REAL_MEMORY change the sizes.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bitnamiUnavailable, bitnamiVersion } from '../control-plane/bitnami.js';
import { parseCertificate } from '../src/crypto/certificate.js';
import { keySecretManifest } from '../src/model/key-secret.js';
import type { AuditSummary } from './audit-summary.js';
import { STEADY_MS } from './memory.js';
import { samplePeak } from './process-stats.js';
import { RealCluster } from './real-cluster.js';
import { bitnamiKind, ksealKind, type ControllerKind } from './real-controllers.js';
import type { Figure } from './report.js';
import { fixedKey, plainValue, sealObjects, type ScaleKey } from './scale.js';

const W = '13 real control plane';
const envInt = (name: string, fallback: number): number => Number.parseInt(process.env[name] ?? '', 10) || fallback;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round = (n: number): number => Math.round(n * 10) / 10;

/** Why workload 13 cannot run ('' when it can). */
function controlPlaneMissing(): string {
  const dir = process.env.KUBEBUILDER_ASSETS || 'test/envtest/bin';
  const missing = ['etcd', 'kube-apiserver', 'kube-controller-manager'].filter((b) => !existsSync(join(dir, b)));
  return missing.length === 0 ? '' : `real control plane binaries missing in ${dir} (${missing.join(', ')}): run \`npm run envtest:build\` or set KUBEBUILDER_ASSETS`;
}

interface Cold { readyMs: number; cpuSeconds: number; work: number; rssPeakMiB: number; rssSteadyMiB: number; writes: Record<string, number>; api: AuditSummary; cpuWaitSeconds: number; mainCpuWaitSeconds: number }
interface Warm { syncMs: number; cpuSeconds: number; work: number; writes: Record<string, number> }

const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

/** Seals `count` x `values` for `key` into `namespaces` and creates them. */
async function load(cluster: RealCluster, kind: ControllerKind, key: ScaleKey, count: number, values: number, prefix: string): Promise<void> {
  const namespaces = Array.from({ length: 50 }, (_, i) => `${prefix}-${i}`);
  await cluster.createNamespaces(namespaces);
  const { objects } = sealObjects({ count, values, namespaces, keys: [key], prefix, hint: kind.name === 'kseal', ...(kind.name === 'Bitnami' ? { apiVersion: 'bitnami.com/v1alpha1' as const } : {}) });
  await cluster.createAll(objects);
}

/** Spot-checks that the first objects' Secrets hold the sealed plaintexts (a fast wrong answer is no answer). */
async function checkValues(cluster: RealCluster, prefix: string, values: number): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const s = await cluster.clients.core.readNamespacedSecret({ name: `${prefix}-${i}`, namespace: `${prefix}-${i}` });
    for (let v = 0; v < values; v++) {
      if (Buffer.from(s.data?.[`key-${v}`] ?? '', 'base64').toString('utf8') !== plainValue(prefix, i, v)) throw new Error(`Secret ${prefix}-${i}/${prefix}-${i} key-${v} does not hold the sealed value`);
    }
  }
}

/**
 * Spawn to every object's condition True; RSS `steadyMs` after that (the memory phase waits
 * STEADY_MS, as workload 8 does, so V8's memory reducer has run: bench/memory.ts). The log line
 * also gives what the audit log says about the sync window: answers that were not 2xx (429:
 * throttled by priority and fairness) and the mean number of the controller's requests in the
 * server at once (near 0: the controller waited on itself or the CPU, not on the API server).
 */
async function coldSync(cluster: RealCluster, kind: ControllerKind, count: number, log: (l: string) => void, steadyMs = 2000): Promise<Cold> {
  const watch = await cluster.whenAllTrue(kind.resource, kind.condition, count, 1_800_000);
  const run = await kind.start();
  const rss = samplePeak(() => run.rssMiB());
  try {
    const readyAt = await watch.done;
    const wait = run.cpuWait();
    const cold = { readyMs: readyAt - run.spawnedAt, cpuSeconds: round(run.cpuSeconds()), cpuWaitSeconds: round(wait.process), mainCpuWaitSeconds: round(wait.main), work: await run.work() };
    await sleep(steadyMs);
    const result = { ...cold, rssPeakMiB: Math.round(rss.stop()), rssSteadyMiB: Math.round(run.rssMiB()), writes: cluster.writesBy(kind.username, run.spawnedAt), api: cluster.requestsBy(kind.username, run.spawnedAt, readyAt) };
    log(`real ${kind.name} cold sync: ${count} Ready in ${result.readyMs} ms, ${result.cpuSeconds} CPU s (runnable waiting for a CPU: ${result.cpuWaitSeconds} thread-s, main thread ${result.mainCpuWaitSeconds} s), ${result.work} ${kind.workUnit}, RSS ${result.rssSteadyMiB} MiB ${steadyMs / 1000} s after, writes ${JSON.stringify(result.writes)}; API requests ${result.api.requests}, not 2xx ${JSON.stringify(result.api.notOk)}, mean in the server at once ${result.api.meanInServer}`);
    return result;
  } finally {
    rss.stop();
    watch.stop();
    await run.stop();
  }
}

async function warmRestart(cluster: RealCluster, kind: ControllerKind, count: number, log: (l: string) => void): Promise<Warm> {
  const run = await kind.start();
  try {
    const doneAt = await run.startUpDone(count, 1_800_000);
    const syncMs = doneAt - run.spawnedAt;
    await sleep(2000);
    const result = { syncMs, cpuSeconds: round(run.cpuSeconds()), work: await run.work(), writes: cluster.writesBy(kind.username, run.spawnedAt) };
    log(`real ${kind.name} warm restart: done in ${syncMs} ms, ${result.cpuSeconds} CPU s, ${result.work} ${kind.workUnit}, writes ${JSON.stringify(result.writes)}`);
    return result;
  } finally {
    await run.stop();
  }
}

/**
 * Idle RSS: started with nothing to reconcile, STEADY_MS after its start-up pass, as workload 8
 * reads it. At 2 s V8's memory reducer has not run yet: kseal measured 96 MiB at 2 s and 5 s,
 * 82 MiB from 10 s on, on this control plane (the start-up's garbage, not what it holds).
 */
async function idle(kind: ControllerKind): Promise<number> {
  const run = await kind.start();
  try {
    await run.startUpDone(0, 120_000);
    await sleep(STEADY_MS);
    return Math.round(run.rssMiB());
  } finally {
    await run.stop();
  }
}

/** kseal's key Secret (the committed RSA-4096 test key) in kseal-system. */
async function ksealKey(cluster: RealCluster): Promise<ScaleKey> {
  const key = fixedKey(4096);
  await cluster.createAll([keySecretManifest({ name: key.name, namespace: 'kseal-system', privateKeyPem: key.privateKeyPem, certificatePem: key.certificatePem })]);
  return key;
}

/** Bitnami's key as a ScaleKey (certificate only: its private key stays in its Secret). */
async function bitnamiKey(kind: Awaited<ReturnType<typeof bitnamiKind>>): Promise<ScaleKey> {
  const certificatePem = await kind.certificatePem();
  return { name: 'bitnami', privateKeyPem: '', certificatePem, certificate: parseCertificate(certificatePem, { skipValidity: true }) };
}

const ratio = (k: number, b: number | undefined): number => (b === undefined || b === 0 ? Number.NaN : k / b);

/** Runs workload 13; `limit` is the all-cores RSA-4096 private-op rate measured at the start of the run. */
export async function realControlPlaneFigures(limit: number, log: (line: string) => void): Promise<Figure[]> {
  const missing = controlPlaneMissing();
  if (missing !== '') {
    log(`${W}: skipped: ${missing}`);
    return [{ workload: W, metric: `skipped: ${missing}`, value: Number.NaN, unit: '', target: '', met: undefined }];
  }
  const peerMissing = bitnamiUnavailable();
  if (peerMissing !== '') log(`${W}: Bitnami peer skipped: ${peerMissing}`);
  const peer = peerMissing === '' ? bitnamiVersion() : '';
  const count = envInt('KSEAL_BENCH_REAL_COUNT', 1000);
  const values = envInt('KSEAL_BENCH_REAL_VALUES', 5);
  const memCount = envInt('KSEAL_BENCH_REAL_MEMORY', 10_000);

  // A: cold sync and warm restart.
  let a = await RealCluster.start();
  const coldK: Cold[] = [];
  const warmK: Warm[] = [];
  let coldB: Cold | undefined;
  let warmB: Warm | undefined;
  try {
    const kseal = await ksealKind(a, 4096);
    await load(a, kseal, await ksealKey(a), count, values, 'k');
    if (peer !== '') {
      const bitnami = await bitnamiKind(a, 4096);
      await (await bitnami.start()).stop(); // first start: generates its key
      await load(a, bitnami, await bitnamiKey(bitnami), count, values, 'b');
      log(`real: ${count} x ${values} sealed for each controller; Bitnami ${peer} first`);
      coldB = await coldSync(a, bitnami, count, log);
      await checkValues(a, 'b', values);
      warmB = await warmRestart(a, bitnami, count, log);
    }
    coldK.push(await coldSync(a, kseal, count, log));
    await checkValues(a, 'k', values);
    warmK.push(await warmRestart(a, kseal, count, log));
  } finally {
    await a.close();
  }

  // B: memory.
  a = await RealCluster.start();
  let idleK = Number.NaN;
  let idleB: number | undefined;
  let memK: Cold | undefined;
  let memB: Cold | undefined;
  try {
    const kseal = await ksealKind(a, 4096);
    const key = await ksealKey(a);
    idleK = await idle(kseal);
    await load(a, kseal, key, memCount, 1, 'm');
    if (peer !== '') {
      const bitnami = await bitnamiKind(a, 4096);
      idleB = await idle(bitnami); // also generates its key
      await load(a, bitnami, await bitnamiKey(bitnami), memCount, 1, 'n');
      memB = await coldSync(a, bitnami, memCount, log, STEADY_MS);
    }
    memK = await coldSync(a, kseal, memCount, log, STEADY_MS);
  } finally {
    await a.close();
  }

  const ck = coldK[0] as Cold;
  const wk = warmK[0] as Warm;
  const ideal = ((count * values) / limit) * 1000;
  const vs = peer === '' ? '' : ` (Bitnami ${peer})`;
  const figures: Figure[] = [
    { workload: W, metric: `kseal cold sync ${count.toLocaleString('en-US')} x ${values} RSA-4096: start to all Ready / (ops / limit)`, value: ck.readyMs / ideal, unit: 'x', target: '<= 1.3x', met: ck.readyMs / ideal <= 1.3, detail: { readyMs: ck.readyMs, idealMs: Math.round(ideal), cpuSeconds: ck.cpuSeconds, privateOps: ck.work, rssPeakMiB: ck.rssPeakMiB, ...ck.writes } },
    { workload: W, metric: 'kseal warm restart: private ops + writes (audit log; Leases left out)', value: wk.work + sum(wk.writes), unit: '', target: '0', met: wk.work === 0 && sum(wk.writes) === 0, detail: { syncMs: wk.syncMs, cpuSeconds: wk.cpuSeconds, ...wk.writes } },
    { workload: W, metric: `kseal RSS idle ${idleK} MiB; with ${memCount.toLocaleString('en-US')} x 1 (steady)`, value: memK.rssSteadyMiB, unit: 'MiB', target: '', met: undefined, detail: { idleMiB: idleK, perObjectKiB: round(((memK.rssSteadyMiB - idleK) * 1024) / memCount), coldSyncMs: memK.readyMs } },
  ];
  if (coldB !== undefined && warmB !== undefined && memB !== undefined && idleB !== undefined) {
    figures.push(
      { workload: W, metric: `kseal/Bitnami cold sync time${vs}: ${ck.readyMs} / ${coldB.readyMs} ms`, value: ratio(ck.readyMs, coldB.readyMs), unit: 'x', target: '', met: undefined, detail: { bitnami: JSON.stringify(coldB) } },
      { workload: W, metric: `kseal/Bitnami cold sync CPU: ${ck.cpuSeconds} / ${coldB.cpuSeconds} CPU s`, value: ratio(ck.cpuSeconds, coldB.cpuSeconds), unit: 'x', target: '', met: undefined },
      { workload: W, metric: `kseal/Bitnami warm restart time: ${wk.syncMs} / ${warmB.syncMs} ms (Bitnami: ${warmB.work} unseals, ${sum(warmB.writes)} writes)`, value: ratio(wk.syncMs, warmB.syncMs), unit: 'x', target: '', met: undefined, detail: { bitnami: JSON.stringify(warmB) } },
      { workload: W, metric: `kseal/Bitnami warm restart CPU: ${wk.cpuSeconds} / ${warmB.cpuSeconds} CPU s`, value: ratio(wk.cpuSeconds, warmB.cpuSeconds), unit: 'x', target: '', met: undefined },
      { workload: W, metric: `kseal/Bitnami RSS idle: ${idleK} / ${idleB} MiB`, value: ratio(idleK, idleB), unit: 'x', target: '', met: undefined },
      { workload: W, metric: `kseal/Bitnami RSS with ${memCount.toLocaleString('en-US')} x 1: ${memK.rssSteadyMiB} / ${memB.rssSteadyMiB} MiB`, value: ratio(memK.rssSteadyMiB, memB.rssSteadyMiB), unit: 'x', target: '', met: undefined, detail: { bitnamiPerObjectKiB: round(((memB.rssSteadyMiB - idleB) * 1024) / memCount), bitnamiColdSyncMs: memB.readyMs } },
    );
  }
  return figures;
}
