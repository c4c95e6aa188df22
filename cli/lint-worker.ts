/**
 * The worker thread of `kseal lint` (bundled as dist/lint-worker.cjs): reads and lints the files
 * the main thread sends, a chunk at a time, with the contexts it got at start, and sends back each
 * file's result or error. It holds nothing between chunks but the contexts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FileContext } from '../src/lint/lint-file.js';
import { lintTask } from './lint-jobs.js';
import { sendableError } from './worker-errors.js';
import type { ChunkReply, ChunkRequest, LintWorkerData } from './lint-pool.js';

const data = workerData as LintWorkerData;
const contexts: readonly FileContext[] = data.contexts;
parentPort?.on('message', (request: ChunkRequest) => {
  const outcomes: ChunkReply['outcomes'] = [];
  for (const task of request.tasks) {
    try {
      outcomes.push({ result: lintTask(task, contexts) });
    } catch (e) {
      outcomes.push({ error: sendableError(e) });
      break; // the main thread stops at a file's error, as the single-threaded run does
    }
  }
  parentPort?.postMessage({ chunk: request.chunk, outcomes } satisfies ChunkReply);
});
