/**
 * The per-file work of `kseal lint`, as plain data so it runs the same on the main thread or in
 * worker threads (cli/lint-pool.ts): a task names a file and the index of its context (the
 * certificates its `.kseal.yaml` knows, the key ids of its creation rule, the expiry window); the
 * result is the file's findings and ciphertexts. Cross-file checks (KS601, the same ciphertext in
 * two objects) run afterwards on the main thread over every result in file order, so the report is
 * the same however the files were shared out.
 */
// Synchronous reads on purpose: a repo is thousands of small files, and one await per file costs more
// in thread-pool round trips than the reads themselves (the lint bench workload measured it).
import { readFileSync } from 'node:fs';
import { KsealError } from '../src/errors.js';
import { lintFile, type FileContext, type FileResult } from '../src/lint/lint-file.js';

/** One file to lint: its path, the path shown in findings, and its context's index. */
export interface LintTask {
  readonly file: string;
  readonly shown: string;
  readonly context: number;
}

/** A file's text, or FILE_READ naming it. */
export function readText(file: string, shown: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new KsealError('FILE_READ', `cannot read the file: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, { file: shown });
  }
}

/** Reads and lints one file. Throws FILE_READ when it cannot be read. */
export function lintTask(task: LintTask, contexts: readonly FileContext[]): FileResult {
  return lintFile(readText(task.file, task.shown), task.shown, contexts[task.context] as FileContext);
}

/** Lints every task on this thread, in order; throws the first file's error. */
export function lintInThread(tasks: readonly LintTask[], contexts: readonly FileContext[]): FileResult[] {
  return tasks.map((t) => lintTask(t, contexts));
}

/** Below this many files the workers' start-up (~50 ms each) costs more than they save. */
export const MIN_FILES_FOR_WORKERS = 300;
/** No more workers than this, however many cores (each holds its own parser and heap). */
const MAX_WORKERS = 8;

/**
 * How many worker threads lint `files` files: `jobs` as given (`1`: none, the main thread lints),
 * or for `auto` one per core when there are enough files to pay for them, else none.
 */
export function lintWorkerCount(files: number, jobs: number | 'auto', cores: number): number {
  if (jobs !== 'auto') return jobs <= 1 ? 0 : Math.min(jobs, Math.max(1, files));
  if (cores <= 1 || files < MIN_FILES_FOR_WORKERS) return 0;
  return Math.min(cores, MAX_WORKERS, Math.ceil(files / (MIN_FILES_FOR_WORKERS / 2)));
}

/** Files per message to a worker: small enough that the last ones finish together, large enough to keep messages few. */
export function chunkSize(files: number, workers: number): number {
  return Math.max(1, Math.min(64, Math.ceil(files / (workers * 4))));
}
