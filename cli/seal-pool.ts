/**
 * Bulk `kseal encrypt` across worker threads, pipelined with the parse: the main thread reads the
 * input one document at a time and checks each Secret; once enough values have been read to pay for
 * starting workers (MIN_VALUES_FOR_WORKERS), chunks of checked Secrets go to the least busy worker
 * (cli/seal-worker.ts), which seals and emits them while the main thread parses on; the texts come
 * back into input order. Below the threshold, or for Secrets with escrow recipients (one ephemeral
 * key per recipient per run lives on the main thread), the main thread seals them itself with the
 * same function. Nothing is written here: the caller writes the joined text only when every
 * Secret is in.
 */
import { Worker } from 'node:worker_threads';
import type { OutputFormat } from '../src/manifest/write.js';
import type { SecretInput } from '../src/model/secret.js';
import { receivedError, type SentError } from './worker-errors.js';
import { sealToText, sentSecret, type JobOptions, type RecipientSet, type SealJob } from './seal-jobs.js';
import { bundledWorkerScript } from './worker-script.js';

/**
 * Values below which bulk sealing stays on the main thread: two workers' start (~25-40 ms of CPU
 * each, measured) costs more than they save until a few hundred values (a value's seal and emit is
 * ~0.15 ms of CPU). The 5-value Secret of `kseal encrypt` never starts one.
 */
export const MIN_VALUES_FOR_WORKERS = 400;
/** No more workers than this, however many cores: the main thread's parse feeds about this many. */
const MAX_WORKERS = 4;
/** Secrets per message to a worker: a few ms of work, so the last chunks end together. */
const CHUNK = 8;
/** A turn of the event loop (the global setImmediate: importing timers/promises would load it at every CLI start). */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A message to a worker: a recipient set to keep, or a chunk of jobs. */
export type SealRequest = { readonly type: 'recipients'; readonly id: number; readonly set: RecipientSet } | { readonly type: 'seal'; readonly chunk: number; readonly jobs: readonly SealJob[] };

/** A worker's answer to a chunk: its texts in job order, or the first error. */
export type SealReply = { readonly chunk: number; readonly texts: readonly string[]; readonly error?: undefined } | { readonly chunk: number; readonly error: SentError; readonly texts?: undefined };

/** The bundled worker script, or undefined when not built. */
export function sealWorkerScript(): string | undefined {
  return bundledWorkerScript('seal-worker.cjs');
}

/** How many workers bulk sealing may start: `jobs` as given (1: none), or for `auto` one per core on a multi-core machine. */
export function sealWorkerCount(jobs: number | 'auto', cores: number): number {
  if (jobs !== 'auto') return jobs <= 1 ? 0 : jobs;
  return cores <= 1 ? 0 : Math.min(cores, MAX_WORKERS);
}

/** One checked Secret ready to seal, with the id of its recipient set and whether a worker may seal it. */
export interface ReadySecret {
  readonly secret: SecretInput;
  readonly options: JobOptions;
  readonly recipients: number;
  readonly set: RecipientSet;
}

/** What sealStream needs. */
export interface StreamOptions {
  readonly format: OutputFormat;
  /** Workers to start once `minValues` values are read (0: seal on the main thread). */
  readonly workers: number;
  readonly minValues: number;
  readonly script: string | undefined;
}

/** What sealStream did: the texts in input order, and how many worker threads it started (0: none). */
export interface StreamResult {
  readonly texts: string[];
  readonly workers: number;
}

/**
 * Seals every Secret `ready` yields, in order, and returns their texts (in input order). Throws the
 * first error met (of the input or of a worker); workers are stopped either way.
 */
export async function sealStream(ready: AsyncIterable<ReadySecret>, options: StreamOptions): Promise<StreamResult> {
  const texts: string[] = [];
  let pool: WorkerPool | undefined;
  const waiting: Array<{ index: number; item: ReadySecret }> = [];
  let values = 0;
  let index = 0;
  try {
    for await (const item of ready) {
      const i = index++;
      if (item.set.others.some((r) => r.kind === 'escrow')) {
        texts[i] = sealToText(item.secret, item.options, item.set, options.format);
        continue;
      }
      waiting.push({ index: i, item });
      values += item.secret.data.size;
      if (pool === undefined && options.workers > 0 && options.script !== undefined && values >= options.minValues) pool = new WorkerPool(options.script, options.workers, options.format);
      if (pool !== undefined && waiting.length >= CHUNK) {
        pool.send(waiting.splice(0));
        // Let the workers' answers in, so the next chunk goes to the least busy one.
        await nextTurn();
      }
    }
    if (pool === undefined) {
      for (const { index: i, item } of waiting) texts[i] = sealToText(item.secret, item.options, item.set, options.format);
      return { texts, workers: 0 };
    }
    if (waiting.length > 0) pool.send(waiting.splice(0));
    for (const [i, text] of await pool.results()) texts[i] = text;
    return { texts, workers: pool.size };
  } finally {
    await pool?.close();
  }
}

/** The workers of one sealStream call. */
class WorkerPool {
  private readonly workers: Worker[];
  private readonly busy: number[];
  private readonly sent = new Map<Worker, Set<number>>();
  private readonly chunks: Array<{ readonly indexes: readonly number[]; readonly values: number }> = [];
  private readonly done = new Map<number, string>();
  private pending = 0;
  private failure: Error | undefined;
  private settle: (() => void) | undefined;

  get size(): number {
    return this.workers.length;
  }

  constructor(script: string, count: number, format: OutputFormat) {
    this.workers = Array.from({ length: count }, () => new Worker(script, { workerData: { format } }));
    this.busy = this.workers.map(() => 0);
    this.workers.forEach((worker, w) => {
      this.sent.set(worker, new Set());
      worker.on('message', (reply: SealReply) => this.received(w, reply));
      worker.on('error', (e) => this.fail(e));
      worker.on('exit', (code) => {
        if (this.pending > 0) this.fail(new Error(`a seal worker stopped (exit ${code})`));
      });
    });
  }

  /** Sends a chunk to the worker with the fewest values in hand (and the recipient sets it lacks). */
  send(items: ReadonlyArray<{ index: number; item: ReadySecret }>): void {
    const w = this.busy.indexOf(Math.min(...this.busy));
    const worker = this.workers[w] as Worker;
    const known = this.sent.get(worker) as Set<number>;
    for (const { item } of items) {
      if (known.has(item.recipients)) continue;
      known.add(item.recipients);
      worker.postMessage({ type: 'recipients', id: item.recipients, set: { primary: { publicKey: item.set.primary.publicKey, keyId: item.set.primary.keyId }, others: item.set.others } } satisfies SealRequest);
    }
    const chunk = this.chunks.length;
    const jobs = items.map(({ item }) => ({ secret: sentSecret(item.secret), options: item.options, recipients: item.recipients }));
    const values = jobs.reduce((n, j) => n + j.secret.data.length, 0);
    this.chunks.push({ indexes: items.map((x) => x.index), values });
    this.busy[w] = (this.busy[w] ?? 0) + values;
    this.pending++;
    worker.postMessage({ type: 'seal', chunk, jobs } satisfies SealRequest);
  }

  /** Every text sent back, by input index, once all chunks are in; rejects with the first failure. */
  results(): Promise<Map<number, string>> {
    return new Promise((resolve, reject) => {
      this.settle = () => (this.failure !== undefined ? reject(this.failure) : this.pending === 0 ? resolve(this.done) : undefined);
      this.settle();
    });
  }

  private received(w: number, reply: SealReply): void {
    this.pending--;
    const { indexes, values } = this.chunks[reply.chunk] ?? { indexes: [], values: 0 };
    if (reply.error !== undefined) this.fail(receivedError(reply.error));
    else reply.texts.forEach((text, i) => this.done.set(indexes[i] as number, text));
    this.busy[w] = (this.busy[w] ?? 0) - values;
    this.settle?.();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.settle?.();
  }

  async close(): Promise<void> {
    this.pending = 0;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
