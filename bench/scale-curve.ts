/**
 * Workload 12, scale: cold sync, warm restart and RSS at 10,000 and 100,000 SealedSecrets x 1 value
 * (RSA-2048) in 500 namespaces, so the cost per object can be compared between the two sizes (it must
 * stay flat: nothing on the path may be quadratic). Time is a ratio against the RSA-2048 private-key
 * limit on all cores, measured right before each cold sync. The points also feed the SVG chart
 * (bench/chart.ts) next to latest.json.
 *
 * `npm run bench -- scale` runs it; it takes several minutes and about 3 GiB for the API server.
 * The figure names say 100,000; with KSEAL_BENCH_SCALE_COUNTS set they describe the larger count given.
 */
import { readFileSync } from 'node:fs';
import { privateOpsRate } from './limit.js';
import type { Figure } from './report.js';
import { measureControllerScale } from './scale.js';

const KEY_2048 = 'test/vectors/keys/test-rsa-2048.key.pem';

/** One size's measurements, for the table and the chart. */
export interface ScalePoint {
  readonly count: number;
  readonly readyMs: number;
  readonly idealMs: number;
  readonly rssSteadyMiB: number;
  readonly warmSyncMs: number;
  readonly warmPrivateOps: number;
  readonly warmWrites: number;
  readonly requestsPerObject: number;
  /** Objects Ready over time during the cold sync: [ms since spawn, objects]. */
  readonly readyCurve: ReadonlyArray<readonly [number, number]>;
  /** RSS against objects Ready during the cold sync: [objects, MiB]. */
  readonly rssCurve: ReadonlyArray<readonly [number, number]>;
}

async function point(count: number, log: (line: string) => void): Promise<ScalePoint> {
  const limit = await privateOpsRate(readFileSync(KEY_2048, 'utf8'));
  const r = await measureControllerScale({ count, values: 1, keySize: 2048, namespaces: 500, probe: false, log });
  const warmWrites = Object.values(r.warm.writes).reduce((a, b) => a + b, 0);
  return {
    count,
    readyMs: r.cold.readyMs,
    idealMs: (count / limit) * 1000,
    rssSteadyMiB: r.cold.rssSteadyMiB,
    warmSyncMs: r.warm.syncMs,
    warmPrivateOps: r.warm.privateOps,
    warmWrites,
    requestsPerObject: r.cold.requestsPerObject,
    readyCurve: r.cold.curve.map(([t, n]) => [t, n] as const),
    rssCurve: r.cold.curve.map(([, n, rss]) => [n, rss] as const),
  };
}

/** The scale figures, and the points behind them. */
export async function scaleFigures(log: (line: string) => void, idleMiB: number): Promise<{ figures: Figure[]; points: ScalePoint[] }> {
  // KSEAL_BENCH_SCALE_COUNTS=2000,20000 runs smaller sizes (a quick check of the workload itself).
  const [smallCount, largeCount] = (process.env.KSEAL_BENCH_SCALE_COUNTS ?? '10000,100000').split(',').map(Number);
  const small = await point(smallCount ?? 10_000, log);
  const large = await point(largeCount ?? 100_000, log);
  const perObject = (p: ScalePoint): number => ((p.rssSteadyMiB - idleMiB) * 1024) / p.count;
  const perObjectMs = (p: ScalePoint): number => p.readyMs / p.count;
  const figures: Figure[] = [
    { workload: '12 scale', metric: '100,000 x 1 RSA-2048 in 500 namespaces: start to all Ready / (100,000 ops / limit)', value: large.readyMs / large.idealMs, unit: 'x', target: '<= 1.3x', met: large.readyMs / large.idealMs <= 1.3, detail: { readyMs: large.readyMs, idealMs: Math.round(large.idealMs) } },
    { workload: '12 scale', metric: '100,000: controller RSS after the cold sync', value: large.rssSteadyMiB, unit: 'MiB', target: '<= 450 MiB', met: large.rssSteadyMiB <= 450 },
    { workload: '12 scale', metric: '100,000: warm restart, spawn to initial sync done', value: large.warmSyncMs / 1000, unit: 's', target: '<= 20 s', met: large.warmSyncMs <= 20_000 },
    { workload: '12 scale', metric: '100,000: warm restart private-key operations + writes', value: large.warmPrivateOps + large.warmWrites, unit: '', target: '0', met: large.warmPrivateOps + large.warmWrites === 0 },
    { workload: '12 scale', metric: '100,000: API requests per object in the cold sync', value: large.requestsPerObject, unit: '', target: '<= 3', met: large.requestsPerObject <= 3 },
    { workload: '12 scale', metric: `RSS per object, 10,000 -> 100,000 (idle ${Math.round(idleMiB)} MiB)`, value: perObject(large), unit: 'KiB', target: 'flat', met: perObject(large) <= perObject(small) * 1.25, detail: { perObjectKiB10k: Math.round(perObject(small) * 10) / 10, perObjectKiB100k: Math.round(perObject(large) * 10) / 10 } },
    { workload: '12 scale', metric: 'cold-sync time per object, 100,000 / 10,000', value: perObjectMs(large) / perObjectMs(small), unit: 'x', target: '<= 1.25x', met: perObjectMs(large) / perObjectMs(small) <= 1.25, detail: { msPerObject10k: perObjectMs(small), msPerObject100k: perObjectMs(large) } },
  ];
  return { figures, points: [small, large] };
}
