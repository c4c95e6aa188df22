/**
 * Parsing controller request bodies (POST /v1/verify, /v1/rotate) without blocking the event loop.
 * The yaml parser costs about 0.3 s per MiB for many small nodes on an idle core (far more under
 * load), so only small bodies (INLINE_PARSE_BYTES) are parsed on the main thread; larger ones go
 * to a worker thread (body-parse-worker.ts) with a deadline, and an AbortSignal (the client went
 * away) cancels them. A parse that overruns or is cancelled kills its worker, since a synchronous
 * parse cannot be interrupted otherwise; the next body starts a fresh one. Worker memory is capped,
 * and a worker that runs out answers INPUT_LIMIT. The worker starts on the first large body and exits
 * after IDLE_EXIT_MS without one, which returns its heap (measured: about 5 MiB of RSS after ordinary
 * bodies, up to its cap after a flood of large ones); the next large body starts a fresh one (its
 * start-up is not counted in the deadline).
 *
 * One async function for the handlers: `parseRequestBody(body, { signal, deadlineMs })`.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ERROR_CODES, KsealError, type ErrorCode } from '../src/errors.js';
import type { ManifestObject } from '../src/manifest/read.js';
import { BODY_PARSE_WORKER_MARKER, parseBody, type ParseFailure, type ParseReply, type ParseRequest } from './body-parse-worker.js';

/** Bodies up to this size are parsed on the main thread (well under a millisecond on an idle core). */
export const INLINE_PARSE_BYTES = 4 * 1024;
/** Time a body may take to parse, queueing included, before it is refused with PARSE_TIMEOUT. */
/** How long one body's parse may run in the worker (`--http-parse-timeout`). */
export const DEFAULT_PARSE_DEADLINE_MS = 2000;
/** Heap of the parse worker: a 1 MiB body of the worst shapes needs well under this. */
const WORKER_HEAP_MB = 256;
/** An idle parse worker exits after this long without a body (`idleExitMs` option). */
export const IDLE_EXIT_MS = 30_000;
/** What the errors name as the file. */
const SOURCE = '<request>';

/** How one parse may be bounded. */
export interface BodyParseOptions {
  /** Aborted when the client goes away: the parse stops and the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
  /** Deadline in milliseconds (default DEFAULT_PARSE_DEADLINE_MS). */
  readonly deadlineMs?: number | undefined;
}

interface Job {
  readonly id: number;
  readonly body: Uint8Array;
  readonly resolve: (objects: ManifestObject[]) => void;
  readonly reject: (error: unknown) => void;
  readonly deadlineMs: number;
  /** The deadline timer, set once the job runs in a started worker. */
  timer?: NodeJS.Timeout;
  /** Undoes the timer and the abort listener. */
  cleanup: () => void;
}

/** Finds the bundled worker script. */
function defaultWorkerUrl(): URL {
  const candidates = [new URL('./body-parse-worker.mjs', import.meta.url), new URL('../dist/body-parse-worker.mjs', import.meta.url)];
  const found = candidates.find((url) => existsSync(fileURLToPath(url)));
  if (found === undefined) throw new Error('body-parse-worker.mjs not found beside the controller or in dist/ (run npm run build)');
  return found;
}

function toError(failure: ParseFailure): KsealError {
  const code: ErrorCode = Object.hasOwn(ERROR_CODES, failure.code) ? (failure.code as ErrorCode) : 'INTERNAL';
  const { document, item, key, hint } = failure;
  return new KsealError(code, failure.message, {
    file: SOURCE,
    ...(document === undefined ? {} : { document }),
    ...(item === undefined ? {} : { item }),
    ...(key === undefined ? {} : { key }),
    ...(hint === undefined ? {} : { hint }),
  });
}

function reasonOf(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('the request was aborted', 'AbortError');
}

/** One worker thread parsing bodies in turn; started on the first large body, replaced after a kill. */
export class BodyParser {
  private worker: Worker | undefined;
  private readonly queue: Job[] = [];
  private running: Job | undefined;
  private nextId = 1;
  private closed = false;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: { readonly workerUrl?: URL; readonly inlineBytes?: number; readonly deadlineMs?: number; readonly idleExitMs?: number } = {},
  ) {}

  /** The worker's thread id while one is running (started on the first large body, gone after an idle exit). */
  get workerThreadId(): number | undefined {
    return this.worker?.threadId;
  }

  /** Parses `body` (UTF-8 YAML or JSON) into its objects; rejects with a KsealError, or the signal's reason when aborted. */
  parse(body: Uint8Array, options: BodyParseOptions = {}): Promise<ManifestObject[]> {
    const { signal } = options;
    if (signal?.aborted === true) return Promise.reject(reasonOf(signal));
    if (this.closed) return Promise.reject(new Error('the body parser is closed'));
    const id = this.nextId++;
    if (body.byteLength <= (this.options.inlineBytes ?? INLINE_PARSE_BYTES)) {
      const reply = parseBody({ id, body, source: SOURCE });
      return reply.ok ? Promise.resolve(reply.objects) : Promise.reject(toError(reply.error));
    }
    const deadlineMs = options.deadlineMs ?? this.options.deadlineMs ?? DEFAULT_PARSE_DEADLINE_MS;
    return new Promise<ManifestObject[]>((resolve, reject) => {
      const job: Job = { id, body, resolve, reject, deadlineMs, cleanup: () => undefined };
      const onAbort = (): void => this.cancel(job, signal === undefined ? undefined : reasonOf(signal));
      signal?.addEventListener('abort', onAbort, { once: true });
      job.cleanup = () => {
        clearTimeout(job.timer);
        signal?.removeEventListener('abort', onAbort);
      };
      this.queue.push(job);
      this.pump();
    });
  }

  /** Stops the worker; queued and running parses reject. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    for (const job of this.queue.splice(0)) this.settle(job, new Error('the body parser is closed'));
    if (this.running !== undefined) this.settle(this.running, new Error('the body parser is closed'));
    this.running = undefined;
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private settle(job: Job, error: unknown, objects?: ManifestObject[]): void {
    job.cleanup();
    if (objects !== undefined) job.resolve(objects);
    else job.reject(error);
  }

  /** Removes a queued job, or kills the worker running it. */
  private cancel(job: Job, error: unknown): void {
    const at = this.queue.indexOf(job);
    if (at >= 0) {
      this.queue.splice(at, 1);
      this.settle(job, error);
      return;
    }
    if (this.running !== job) return;
    this.running = undefined;
    this.settle(job, error);
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
    this.pump();
  }

  private pump(): void {
    if (this.running !== undefined || this.closed) return;
    const job = this.queue.shift();
    if (job === undefined) {
      this.worker?.unref();
      this.exitWhenIdle();
      return;
    }
    clearTimeout(this.idleTimer);
    this.running = job;
    const fresh = this.worker === undefined;
    const worker = this.worker ?? this.spawn();
    worker.ref();
    // The deadline counts this body's parse only: not the wait behind other bodies (bounded by the
    // in-flight cap and cancelled when the client leaves) nor a new worker's start-up.
    if (fresh) worker.once('online', () => this.startDeadline(job));
    else this.startDeadline(job);
    // Copy into an exact-size buffer (a small Buffer is a view into a shared pool) and transfer it.
    const copy = new Uint8Array(job.body);
    worker.postMessage({ id: job.id, body: copy, source: SOURCE } satisfies ParseRequest, [copy.buffer]);
  }

  /** Terminates the worker if no body arrives for `idleExitMs`. */
  private exitWhenIdle(): void {
    clearTimeout(this.idleTimer);
    const worker = this.worker;
    if (worker === undefined) return;
    this.idleTimer = setTimeout(() => {
      if (this.worker !== worker || this.running !== undefined) return;
      this.worker = undefined;
      void worker.terminate();
    }, this.options.idleExitMs ?? IDLE_EXIT_MS);
    this.idleTimer.unref();
  }

  private startDeadline(job: Job): void {
    if (this.running !== job) return;
    job.timer = setTimeout(() => this.cancel(job, new KsealError('PARSE_TIMEOUT', `the request body took longer than ${job.deadlineMs} ms to parse`, { file: SOURCE, hint: 'send one SealedSecret of ordinary shape' })), job.deadlineMs);
    job.timer.unref();
  }

  private spawn(): Worker {
    const worker = new Worker(this.options.workerUrl ?? defaultWorkerUrl(), {
      workerData: { marker: BODY_PARSE_WORKER_MARKER },
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    });
    this.worker = worker;
    worker.on('message', (reply: ParseReply) => {
      const job = this.running;
      if (job === undefined || job.id !== reply.id || this.worker !== worker) return;
      this.running = undefined;
      if (reply.ok) this.settle(job, undefined, reply.objects);
      else this.settle(job, toError(reply.error));
      this.pump();
    });
    const stopped = (error: Error | undefined): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      const job = this.running;
      this.running = undefined;
      if (job !== undefined) {
        const outOfMemory = (error as { code?: string } | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
        this.settle(job, outOfMemory ? new KsealError('INPUT_LIMIT', 'the request body needs too much memory to parse', { file: SOURCE, hint: 'send one SealedSecret of ordinary shape' }) : new KsealError('INTERNAL', 'the body-parse worker stopped'));
      }
      this.pump();
    };
    worker.on('error', (e: Error) => stopped(e));
    worker.on('exit', () => stopped(undefined));
    return worker;
  }
}

let shared: BodyParser | undefined;

/**
 * Parses a request body into its objects without blocking the event loop for more than a small
 * body's parse: see the module comment. Rejects with a KsealError (INVALID_YAML, INVALID_JSON,
 * INPUT_LIMIT, PARSE_TIMEOUT, ...) or, when `signal` aborts, with its reason.
 */
export function parseRequestBody(body: Uint8Array, options: BodyParseOptions = {}): Promise<ManifestObject[]> {
  shared ??= new BodyParser();
  return shared.parse(body, options);
}
