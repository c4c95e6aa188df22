/**
 * `kseal lint` across worker threads: the main thread has found the files and their contexts;
 * workers (cli/lint-worker.ts) read, parse and check them in chunks handed out in file order, one
 * or two chunks in flight per worker, and the results come back into file order. A file's error
 * stops the hand-out; the first error in file order is thrown, as the single-threaded run throws it.
 */
import { Worker } from 'node:worker_threads';
import type { FileContext, FileResult } from '../src/lint/lint-file.js';
import { chunkSize, type LintTask } from './lint-jobs.js';
import { receivedError, type SentError } from './worker-errors.js';
import { bundledWorkerScript } from './worker-script.js';

/** What a worker starts with. */
export interface LintWorkerData {
  readonly contexts: readonly FileContext[];
}

/** A chunk of tasks for a worker. */
export interface ChunkRequest {
  readonly chunk: number;
  readonly tasks: readonly LintTask[];
}

/** A worker's answer: one outcome per task, in order, ending early at a task's error. */
export interface ChunkReply {
  readonly chunk: number;
  readonly outcomes: Array<{ readonly result: FileResult; readonly error?: undefined } | { readonly error: SentError; readonly result?: undefined }>;
}

/** The bundled worker script: beside the CLI bundle, or in dist/ when running from source; undefined when not built. */
export function lintWorkerScript(): string | undefined {
  return bundledWorkerScript('lint-worker.cjs');
}

/** Lints `tasks` on `workers` worker threads running `script`; results in task order. */
export async function lintInWorkers(tasks: readonly LintTask[], contexts: readonly FileContext[], workers: number, script: string): Promise<FileResult[]> {
  const size = chunkSize(tasks.length, workers);
  const chunks: LintTask[][] = [];
  for (let i = 0; i < tasks.length; i += size) chunks.push(tasks.slice(i, i + size));
  const results: FileResult[] = [];
  const errors: Array<{ index: number; error: SentError }> = [];
  const pool = Array.from({ length: Math.min(workers, chunks.length) }, () => new Worker(script, { workerData: { contexts } satisfies LintWorkerData }));
  try {
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let inFlight = 0;
      const send = (worker: Worker): void => {
        if (next >= chunks.length || errors.length > 0) {
          if (inFlight === 0) resolve();
          return;
        }
        const chunk = next++;
        inFlight++;
        worker.postMessage({ chunk, tasks: chunks[chunk] as LintTask[] } satisfies ChunkRequest);
      };
      for (const worker of pool) {
        worker.on('message', (reply: ChunkReply) => {
          inFlight--;
          reply.outcomes.forEach((o, i) => {
            const index = reply.chunk * size + i;
            if (o.error !== undefined) errors.push({ index, error: o.error });
            else results[index] = o.result;
          });
          send(worker);
        });
        worker.on('error', reject);
        worker.on('exit', (code) => {
          if (code !== 0) reject(new Error(`a lint worker stopped (exit ${code})`));
        });
      }
      // Round-robin first, so neighbouring chunks go to different workers; then a second chunk each.
      for (let round = 0; round < 2; round++) for (const worker of pool) send(worker);
    });
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  if (errors.length > 0) throw receivedError(errors.reduce((a, b) => (b.index < a.index ? b : a)).error);
  return results;
}
