/**
 * The controller workloads (2-5, 8, 9): the real controller bundle (dist/kseal-controller.mjs) as a
 * child process against the in-repo API server in this process (bench/scale.ts).
 * Each group runs on its own cluster; a group that fails (a timeout, a crash) becomes one MISSED row
 * with the error instead of ending the run.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { coldSyncFigures } from './cold-sync.js';
import { fanOutFigures, fanOutKeys } from './fan-out.js';
import { settleHarness } from './harness-settle.js';
import type { Limits } from './limit.js';
import { idleRss, memoryFigures } from './memory.js';
import { scaleChart } from './chart.js';
import { scaleFigures } from './scale-curve.js';
import { shardingFigures } from './sharding.js';
import { startUpFigures } from './start-up.js';
import type { Figure } from './report.js';

const KEY_PEM = 'test/vectors/keys/test-rsa-4096.key.pem';

function log(line: string): void {
  process.stderr.write(`  ${line}\n`);
}

async function guarded(workload: string, run: () => Promise<Figure[]>): Promise<Figure[]> {
  // Each workload starts from a settled bench process (bench/harness-settle.ts).
  const settled = await settleHarness();
  log(`${workload}: bench process heap ${Math.round(settled.heapBeforeMiB)} -> ${Math.round(settled.heapAfterMiB)} MiB before it${settled.controllersKilled > 0 ? `, ${settled.controllersKilled} leftover controllers killed` : ''}`);
  const started = Date.now();
  try {
    const figures = await run();
    log(`${workload}: ${((Date.now() - started) / 1000).toFixed(0)} s`);
    return figures;
  } catch (e) {
    log(`${workload} failed: ${(e as Error).stack ?? String(e)}`);
    return [{ workload, metric: `failed: ${(e as Error).message.split('\n')[0]?.slice(0, 100) ?? ''}`, value: Number.NaN, unit: '', target: 'runs', met: false }];
  }
}

/** Every controller figure; `only` selects groups by name (cold, fanout, memory, startup, sharding, scale, real, abuse), empty for all. */
export async function controllerFigures(limits: Limits, only: readonly string[] = []): Promise<Figure[]> {
  const wants = (name: string): boolean => only.length === 0 || only.includes(name);
  const keyPem = readFileSync(KEY_PEM, 'utf8');
  const figures: Figure[] = [];
  if (wants('cold')) figures.push(...(await guarded('2 cold sync', () => coldSyncFigures(keyPem, limits.privateOpsPerSecond, log))));
  // The fan-out keys are generated while the memory workload runs (it measures RSS, not time).
  const keys = wants('fanout') ? fanOutKeys() : undefined;
  if (wants('memory')) figures.push(...(await guarded('8 memory', () => memoryFigures(log))));
  if (wants('startup')) figures.push(...(await guarded('10 start-up', () => startUpFigures(log))));
  if (wants('sharding')) figures.push(...(await guarded('11 sharding', () => shardingFigures(log))));
  if (wants('scale')) {
    figures.push(
      ...(await guarded('12 scale', async () => {
        const { figures: scale, points } = await scaleFigures(log, await idleRss());
        mkdirSync('bench/results', { recursive: true });
        writeFileSync('bench/results/latest.svg', scaleChart(points, `kseal-controller, ${new Date().toISOString().slice(0, 10)}, ${availableParallelism()} cores, in-repo API on the same cores`));
        return scale;
      })),
    );
  }
  if (wants('real')) figures.push(...(await guarded('13 real control plane', async () => (await import('./real-control-plane.js')).realControlPlaneFigures(limits.privateOpsPerSecond, log))));
  if (wants('abuse')) figures.push(...(await guarded('22 abuse', async () => (await import('./abuse.js')).abuseFigures(log))));
  if (keys !== undefined) figures.push(...(await guarded('4 key fan-out', () => fanOutFigures(limits.privateOpsPerSecond, log, keys))));
  return figures;
}
