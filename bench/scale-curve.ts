/**
 * Workload 12, scale: cold sync, warm restart and RSS at 10,000 and 100,000 SealedSecrets x 1 value
 * (RSA-2048) in 500 namespaces, so the cost per object can be compared between the two sizes (it must
 * stay flat: nothing on the path may be quadratic). Time is a ratio against the RSA-2048 private-key
 * limit on all cores, measured right before and after each cold sync (their mean). The points also feed the SVG chart
 * (bench/chart.ts) next to latest.json.
 *
 * `npm run bench -- scale` runs it (about 3 GiB for the API server at 100,000; the cold-sync deadline
 * scales with the limit measured in the same run, see coldTimeoutMs).
 * KSEAL_BENCH_SCALE_COUNTS=small,large changes the two sizes (the figure names follow).
 */
import { readFileSync } from 'node:fs';
import { privateOpsRate } from './limit.js';
import { fmt, type Figure } from './report.js';
import { measureControllerScale } from './scale.js';

const KEY_2048 = 'test/vectors/keys/test-rsa-2048.key.pem';

/**
 * How long a cold sync may take, from the limit measured in the same run: `count / limit` is the
 * private-key work alone, and with one RSA-2048 value per object the per-object work beside it (three
 * API requests, watch events, JSON) dominates (10-20x the RSA time measured here), so
 * the margin is wide. A floor covers small counts; a stall check (no status patch for STALL_MS) ends a
 * hung run long before the deadline.
 */
const COLD_MARGIN = 40;
const COLD_FLOOR_MS = 300_000;
const STALL_MS = 120_000;
const PROGRESS_EVERY_MS = 15_000;

/** The cold-sync deadline for `count` objects at `limit` private ops per second (see COLD_MARGIN). */
export function coldTimeoutMs(count: number, limit: number): number {
  const scaled = (count / Math.max(limit, 1)) * 1000 * COLD_MARGIN;
  return Math.round(Math.max(COLD_FLOOR_MS, scaled));
}

/** One size's measurements, for the table and the chart. */
export interface ScalePoint {
  readonly count: number;
  readonly readyMs: number;
  readonly idealMs: number;
  /** RSA-2048 private ops per second on all cores: mean of before and after the cold sync. */
  readonly limit: number;
  readonly rssSteadyMiB: number;
  readonly rssPeakMiB: number;
  readonly warmSyncMs: number;
  /** CPU seconds of the warm restart (spawn to initial sync done): controller, its main thread, API server. */
  readonly warmCpuSeconds: number;
  readonly warmMainCpuSeconds: number;
  readonly warmApiServerCpuSeconds: number;
  readonly warmPrivateOps: number;
  readonly warmWrites: number;
  readonly requestsPerObject: number;
  /** CPU ms per object over the cold sync: controller main thread, whole controller, API server (this process). */
  readonly mainCpuMsPerObject: number;
  readonly controllerCpuMsPerObject: number;
  readonly apiServerCpuMsPerObject: number;
  /** Cores busy with other processes during the cold sync (inflates every time here). */
  readonly foreignCpuCores: number;
  /** Objects Ready over time during the cold sync: [ms since spawn, objects]. */
  readonly readyCurve: ReadonlyArray<readonly [number, number]>;
  /** RSS against objects Ready during the cold sync: [objects, MiB]. */
  readonly rssCurve: ReadonlyArray<readonly [number, number]>;
}

async function point(count: number, idleMiB: number, log: (line: string) => void): Promise<ScalePoint> {
  const key = readFileSync(KEY_2048, 'utf8');
  const before = await privateOpsRate(key);
  let after = Number.NaN;
  const timeout = coldTimeoutMs(count, before);
  log(`scale ${count}: limit ${Math.round(before)} RSA-2048 private ops/s on all cores; cold-sync deadline ${Math.round(timeout / 1000)} s (or ${STALL_MS / 1000} s without a status patch)`);
  const r = await measureControllerScale({
    count,
    values: 1,
    keySize: 2048,
    namespaces: 500,
    probe: false,
    log,
    coldTimeoutMs: timeout,
    coldStallMs: STALL_MS,
    warmTimeoutMs: Math.max(120_000, count * 3),
    progressEveryMs: PROGRESS_EVERY_MS,
    afterCold: async () => {
      after = await privateOpsRate(key);
    },
  });
  const limit = Number.isFinite(after) ? (before + after) / 2 : before;
  const warmWrites = Object.values(r.warm.writes).reduce((a, b) => a + b, 0);
  const p: ScalePoint = {
    count,
    readyMs: r.cold.readyMs,
    idealMs: (count / limit) * 1000,
    limit,
    rssSteadyMiB: r.cold.rssSteadyMiB,
    rssPeakMiB: r.cold.rssPeakMiB,
    warmSyncMs: r.warm.syncMs,
    warmCpuSeconds: r.warm.cpuSeconds,
    warmMainCpuSeconds: r.warm.mainThreadCpuSeconds,
    warmApiServerCpuSeconds: r.warm.apiServerCpuSeconds,
    warmPrivateOps: r.warm.privateOps,
    warmWrites,
    requestsPerObject: r.cold.requestsPerObject,
    mainCpuMsPerObject: (r.cold.mainThreadCpuSeconds * 1000) / count,
    controllerCpuMsPerObject: (r.cold.cpuSeconds * 1000) / count,
    apiServerCpuMsPerObject: (r.cold.apiServerCpuSeconds * 1000) / count,
    foreignCpuCores: r.cold.foreignCpuCores,
    readyCurve: r.cold.curve.map(([t, n]) => [t, n] as const),
    rssCurve: r.cold.curve.map(([, n, rss]) => [n, rss] as const),
  };
  log(
    `scale ${count} per object: cold sync ${fmt(p.readyMs / count)} ms (${fmt(p.readyMs / p.idealMs)}x the limit of ${Math.round(limit)} ops/s), ` +
      `CPU ms main thread ${fmt(p.mainCpuMsPerObject)} / controller ${fmt(p.controllerCpuMsPerObject)} / API server ${fmt(p.apiServerCpuMsPerObject)}, ` +
      `RSS ${fmt(perObjectKiB(p, idleMiB))} KiB over idle (steady ${p.rssSteadyMiB} MiB, peak ${p.rssPeakMiB} MiB), ${fmt(p.requestsPerObject)} API requests; ` +
      `warm restart ${fmt(p.warmSyncMs / 1000)} s (CPU ms per object: controller ${fmt((p.warmCpuSeconds * 1000) / count)}, main thread ${fmt((p.warmMainCpuSeconds * 1000) / count)}, API server ${fmt((p.warmApiServerCpuSeconds * 1000) / count)}), ${p.warmPrivateOps} private ops, ${p.warmWrites} writes; other processes ${fmt(p.foreignCpuCores)} cores`,
  );
  return p;
}

/** RSS per object over the idle controller's, KiB. */
function perObjectKiB(p: ScalePoint, idleMiB: number): number {
  return ((p.rssSteadyMiB - idleMiB) * 1024) / p.count;
}

/** The scale figures, and the points behind them. */
export async function scaleFigures(log: (line: string) => void, idleMiB: number): Promise<{ figures: Figure[]; points: ScalePoint[] }> {
  // KSEAL_BENCH_SCALE_COUNTS=2000,20000 runs smaller sizes (a quick check of the workload itself).
  const [smallCount, largeCount] = (process.env.KSEAL_BENCH_SCALE_COUNTS ?? '10000,100000').split(',').map(Number);
  const small = await point(smallCount ?? 10_000, idleMiB, log);
  const large = await point(largeCount ?? 100_000, idleMiB, log);
  const n = (p: ScalePoint): string => p.count.toLocaleString('en-US');
  const L = n(large);
  const perObjectMs = (p: ScalePoint): number => p.readyMs / p.count;
  const perLimit = (p: ScalePoint): number => p.readyMs / p.idealMs;
  const round1 = (x: number): number => Math.round(x * 100) / 100;
  const figures: Figure[] = [
    { workload: '12 scale', metric: `${L} x 1 RSA-2048 in 500 namespaces: start to all Ready / (${L} ops / limit)`, value: perLimit(large), unit: 'x', target: '<= 1.3x', met: perLimit(large) <= 1.3, detail: { readyMs: large.readyMs, idealMs: Math.round(large.idealMs), limitOpsPerSecond: Math.round(large.limit), foreignCpuCores: large.foreignCpuCores } },
    { workload: '12 scale', metric: `${L}: controller RSS after the cold sync`, value: large.rssSteadyMiB, unit: 'MiB', target: '<= 450 MiB', met: large.rssSteadyMiB <= 450, detail: { rssPeakMiB: large.rssPeakMiB } },
    { workload: '12 scale', metric: `${L}: warm restart, spawn to initial sync done`, value: large.warmSyncMs / 1000, unit: 's', target: '<= 20 s', met: large.warmSyncMs <= 20_000, detail: { controllerCpuSeconds: large.warmCpuSeconds, mainThreadCpuSeconds: large.warmMainCpuSeconds, apiServerCpuSeconds: large.warmApiServerCpuSeconds, syncMsSmall: small.warmSyncMs, controllerCpuSecondsSmall: small.warmCpuSeconds } },
    { workload: '12 scale', metric: `${L}: warm restart private-key operations + writes`, value: large.warmPrivateOps + large.warmWrites, unit: '', target: '0', met: large.warmPrivateOps + large.warmWrites === 0 },
    { workload: '12 scale', metric: `API requests per object in the cold sync, ${n(small)} and ${L}`, value: large.requestsPerObject, unit: '', target: '<= 3', met: large.requestsPerObject <= 3 && small.requestsPerObject <= 3, detail: { requestsPerObjectSmall: small.requestsPerObject, requestsPerObjectLarge: large.requestsPerObject } },
    { workload: '12 scale', metric: `RSS per object, ${n(small)} -> ${L} (idle ${Math.round(idleMiB)} MiB)`, value: perObjectKiB(large, idleMiB), unit: 'KiB', target: 'flat', met: perObjectKiB(large, idleMiB) <= perObjectKiB(small, idleMiB) * 1.25, detail: { perObjectKiBSmall: round1(perObjectKiB(small, idleMiB)), perObjectKiBLarge: round1(perObjectKiB(large, idleMiB)) } },
    { workload: '12 scale', metric: `cold-sync time per object, ${L} / ${n(small)}`, value: perObjectMs(large) / perObjectMs(small), unit: 'x', target: '<= 1.25x', met: perObjectMs(large) / perObjectMs(small) <= 1.25, detail: { msPerObjectSmall: round1(perObjectMs(small)), msPerObjectLarge: round1(perObjectMs(large)), perLimitSmall: round1(perLimit(small)), perLimitLarge: round1(perLimit(large)) } },
    { workload: '12 scale', metric: `controller CPU per object, ${L} / ${n(small)} (load-independent)`, value: large.controllerCpuMsPerObject / small.controllerCpuMsPerObject, unit: 'x', target: '<= 1.25x', met: large.controllerCpuMsPerObject / small.controllerCpuMsPerObject <= 1.25, detail: { cpuMsPerObjectSmall: round1(small.controllerCpuMsPerObject), cpuMsPerObjectLarge: round1(large.controllerCpuMsPerObject), mainThreadMsSmall: round1(small.mainCpuMsPerObject), mainThreadMsLarge: round1(large.mainCpuMsPerObject), apiServerMsSmall: round1(small.apiServerCpuMsPerObject), apiServerMsLarge: round1(large.apiServerCpuMsPerObject) } },
  ];
  return { figures, points: [small, large] };
}
