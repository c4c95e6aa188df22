/**
 * `kseal lint` across worker threads (cli/lint-pool.ts) gives exactly the single-threaded report:
 * the same findings in the same order, duplicates found across files that different workers read,
 * and no workers at all for a handful of files.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { chunkSize, lintWorkerCount, MIN_FILES_FOR_WORKERS } from '../../cli/lint-jobs.js';
import { lintWorkerScript } from '../../cli/lint-pool.js';
import { runCli, tempDir } from '../helpers/cli.js';

const CORPUS = fileURLToPath(new URL('../lint/corpus/', import.meta.url));
const BIN = resolve('dist/kseal.cjs');
const now = new Date('2026-06-01T00:00:00Z');

describe('kseal lint --jobs', () => {
  it('finds the built worker script, so the in-process runs below use worker threads', () => {
    expect(lintWorkerScript()).toMatch(/lint-worker\.cjs$/);
  });

  for (const output of ['json', 'sarif', 'text']) {
    it(`writes the same ${output} report over the whole lint corpus with 3 workers as on the main thread`, async () => {
      const one = await runCli(['lint', '-o', output, '.', '--jobs', '1'], { cwd: CORPUS, now });
      const three = await runCli(['lint', '-o', output, '.', '--jobs', '3'], { cwd: CORPUS, now });
      expect(one.code).toBe(8);
      expect(one.stdout.length).toBeGreaterThan(1000);
      expect(three).toEqual(one);
    });
  }

  it('gives the same report from the built binary with workers (auto) and without', () => {
    const run = (jobs: string): { status: number | null; stdout: string } => {
      const r = spawnSync(process.execPath, [BIN, 'lint', '-o', 'json', '.', '--jobs', jobs], { cwd: CORPUS, encoding: 'utf8' });
      return { status: r.status, stdout: r.stdout };
    };
    const one = run('1');
    expect(one.status).toBe(8);
    expect(run('2')).toEqual(one);
  });

  it('finds the same ciphertext in two files that two different workers read', async () => {
    const dir = tempDir();
    try {
      const value = Buffer.concat([Buffer.from([1, 0]), randomBytes(256 + 40)]).toString('base64');
      const sealed = (name: string): string => `apiVersion: kseal.dev/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: ${name}\n  namespace: app\nspec:\n  encryptedData:\n    password: ${value}\n`;
      dir.write('a.yaml', sealed('one'));
      dir.write('b.yaml', sealed('two'));
      // Two files, two workers: one file per chunk, handed out round-robin.
      expect(chunkSize(2, 2)).toBe(1);
      const one = await runCli(['lint', '-o', 'json', '.', '--jobs', '1'], { cwd: dir.path, now });
      const two = await runCli(['lint', '-o', 'json', '.', '--jobs', '2'], { cwd: dir.path, now });
      expect(two).toEqual(one);
      expect((JSON.parse(two.stdout) as { findings: Array<{ ruleId: string; file: string }> }).findings.map((f) => [f.ruleId, f.file])).toEqual([['KS601', 'b.yaml']]);
    } finally {
      dir.remove();
    }
  });

  it('starts no workers for a few files, on one core, or with --jobs 1', () => {
    expect(lintWorkerCount(5, 'auto', 8)).toBe(0);
    expect(lintWorkerCount(MIN_FILES_FOR_WORKERS - 1, 'auto', 2)).toBe(0);
    expect(lintWorkerCount(10_000, 'auto', 1)).toBe(0);
    expect(lintWorkerCount(10_000, 1, 8)).toBe(0);
    expect(lintWorkerCount(10_000, 'auto', 2)).toBe(2);
    expect(lintWorkerCount(10_000, 'auto', 64)).toBe(8);
    expect(lintWorkerCount(2, 4, 8)).toBe(2);
  });

  it('refuses a --jobs that is not a whole number of threads as a usage error', async () => {
    for (const jobs of ['0', 'two', '1.5']) expect((await runCli(['lint', '.', '--jobs', jobs], { cwd: CORPUS, now })).code).toBe(2);
  });
});
