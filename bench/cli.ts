/**
 * Workloads 6 and 7: the CLI as a whole process. Latency of `kseal encrypt --cert` on a 5-value
 * Secret against `node -e 0` measured alternately in the same run, and bulk sealing of 1,000 Secrets
 * x 5 values in one process against the raw seal rate.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Figure } from './report.js';
import { median } from './report.js';

const BIN = resolve('dist/kseal.cjs');

function time(args: string[], input?: string): number {
  const start = performance.now();
  const r = spawnSync(process.execPath, args, { input, stdio: ['pipe', 'ignore', 'pipe'] });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr.toString()}`);
  return ms;
}

function secret(i: number): string {
  return `apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-${i}\n  namespace: ns-${i % 50}\nstringData:\n${[1, 2, 3, 4, 5].map((k) => `  key${k}: value-${i}-${k}-${'x'.repeat(24)}`).join('\n')}\n`;
}

/** Runs both CLI workloads with the certificate at `certPath`. */
export function cliFigures(certPath: string, sealsPerSecond: number, runs = 15): Figure[] {
  const dir = mkdtempSync(join(tmpdir(), 'kseal-bench-'));
  try {
    const one = secret(0);
    const baseline: number[] = [];
    const kseal: number[] = [];
    time([BIN, 'encrypt', '--cert', certPath], one); // warm the file cache
    for (let i = 0; i < runs; i++) {
      baseline.push(time(['-e', '0']));
      kseal.push(time([BIN, 'encrypt', '--cert', certPath], one));
    }
    const ratio = median(kseal) / median(baseline);

    const bulk = Array.from({ length: 1000 }, (_, i) => secret(i)).join('---\n');
    const file = join(dir, 'bulk.yaml');
    writeFileSync(file, bulk);
    const bulkMs = median([0, 1, 2].map(() => time([BIN, 'encrypt', '--cert', certPath, '-f', file])));
    const valuesPerSecond = 5000 / (bulkMs / 1000);
    return [
      {
        workload: '6 CLI latency',
        metric: 'kseal encrypt --cert (5 values) / node -e 0, medians',
        value: ratio,
        unit: 'x',
        target: '<= 1.5x',
        met: ratio <= 1.5,
        detail: { ksealMedianMs: median(kseal), nodeMedianMs: median(baseline), runs },
      },
      {
        workload: '7 bulk seal',
        metric: '1,000 Secrets x 5 values in one process / raw seal rate',
        value: (valuesPerSecond / sealsPerSecond) * 100,
        unit: '%',
        target: '>= 50%',
        met: valuesPerSecond / sealsPerSecond >= 0.5,
        detail: { processMs: bulkMs, valuesPerSecond, rawSealsPerSecond: sealsPerSecond },
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
