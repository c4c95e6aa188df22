/**
 * The worker thread of bulk `kseal encrypt` (bundled as dist/seal-worker.cjs): keeps the recipient
 * sets the main thread sends (public keys only), seals each chunk of jobs with the library's seal
 * and emitter (cli/seal-jobs.ts) and sends back the texts in job order, or the first error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { OutputFormat } from '../src/manifest/write.js';
import { sendableError } from './worker-errors.js';
import { receivedSecret, sealToText, type RecipientSet } from './seal-jobs.js';
import type { SealReply, SealRequest } from './seal-pool.js';

const format = (workerData as { format: OutputFormat }).format;
const sets = new Map<number, RecipientSet>();
parentPort?.on('message', (request: SealRequest) => {
  if (request.type === 'recipients') {
    sets.set(request.id, request.set);
    return;
  }
  let reply: SealReply;
  try {
    reply = {
      chunk: request.chunk,
      texts: request.jobs.map((job) => {
        const set = sets.get(job.recipients);
        if (set === undefined) throw new Error(`recipient set ${job.recipients} was not sent`);
        return sealToText(receivedSecret(job.secret), job.options, set, format);
      }),
    };
  } catch (e) {
    reply = { chunk: request.chunk, error: sendableError(e) };
  }
  parentPort?.postMessage(reply);
});
