/**
 * Git's own line merge (`git merge-file`), for the parts of a file the merge driver merges as git
 * would. The driver runs under git, so git is there; the three texts go through a private
 * temporary directory (they hold ciphertexts only, never plaintext) that is removed afterwards.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KsealError } from '../src/errors.js';
import type { LineMerge } from '../src/merge/sealed-merge.js';

/** A LineMerge that runs `git merge-file -p` with these marker labels and size. */
export function gitMergeFile(labels: { readonly ours: string; readonly theirs: string }, markerSize: number): LineMerge {
  return (ours, base, theirs) => {
    const dir = mkdtempSync(join(tmpdir(), 'kseal-merge-'));
    try {
      const paths = (['ours', 'base', 'theirs'] as const).map((name, i) => {
        const path = join(dir, name);
        writeFileSync(path, [ours, base, theirs][i] ?? '', { mode: 0o600 });
        return path;
      });
      const r = spawnSync('git', ['merge-file', '-p', '-q', `--marker-size=${markerSize}`, '-L', labels.ours, '-L', 'base', '-L', labels.theirs, ...paths], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
      // The exit status is the number of conflicts (at most 127); negative (255) or a signal is a failure.
      if (r.error !== undefined || r.status === null || r.status > 127) {
        throw new KsealError('MERGE_FAILED', `git merge-file failed${r.error === undefined ? ` (exit ${r.status ?? r.signal})` : ` (${(r.error as NodeJS.ErrnoException).code ?? 'error'})`}`, { hint: 'kseal merge-driver needs git on PATH' });
      }
      return { text: r.stdout, conflicts: r.status };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
