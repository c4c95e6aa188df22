/**
 * The worker threads of the unseal pool (unseal-pool.ts): starting them, sending one a chunk of
 * wrapped session keys, telling it to stop, and replacing a thread that dies. Each thread has a slot
 * that records the job it runs and at most one job sent ahead (`next`): the worker takes that one from
 * its message queue the moment it answers the first, so it does not sit idle while the main thread is
 * busy with API writes before it can hand out more work (issue 15, cold sync). The pool decides what
 * runs where (unseal-scheduler.ts).
 *
 * Threads that have all been idle for `idleExitMs` (default IDLE_EXIT_MS) exit, which returns their
 * isolates (about 6 MiB of RSS each, measured); the next job starts them again through `spawnAll()`
 * (a thread starts in 30-180 ms on a loaded 2-core machine, before its key import).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SealingKey } from './contracts.js';
import type { Logger } from './logger.js';
import { UNSEAL_WORKER_MARKER, type UnsealWorkerData, type WorkerReply, type WorkerRequest } from './unseal-worker.js';

/** All threads exit after this long with no work (a controller in steady state unseals rarely). */
export const IDLE_EXIT_MS = 60_000;

/** A request sent to a thread that has not started it yet (it runs after the current one). */
export interface QueuedRequest<J> {
  readonly job: J;
  readonly requestId: number;
  /** The cancel cell it watches. */
  readonly cell: number;
}

/** One worker thread and what it runs. */
export interface ThreadSlot<J> {
  readonly index: number;
  worker: Worker;
  /** The key list (by identity) this worker holds. */
  keys: readonly SealingKey[] | undefined;
  /** Cells 0 and 1: the id of a request the worker must stop (one cell per request it holds). */
  readonly cancel: Int32Array;
  /** The job it runs, that request's id and cancel cell, and when it started (ms: when sent, or when the one before it answered). */
  job: J | undefined;
  requestId: number;
  cell: number;
  sentAt: number;
  /** The job sent ahead, which the worker starts as soon as it answers `job`. */
  next: QueuedRequest<J> | undefined;
}

/** One chunk of work for a thread. */
export interface ThreadRequest {
  readonly keys: readonly SealingKey[];
  readonly label: Buffer;
  readonly wrapped: readonly Buffer[];
  /** Key ids to try, in order. */
  readonly order: string[];
}

export interface UnsealThreadsOptions<J> {
  readonly count: number;
  /** The worker script; default: unseal-worker.mjs beside the bundle, or dist/ when running from source. */
  readonly workerUrl?: URL | undefined;
  readonly logger: Logger;
  /** A thread answered the request it runs. */
  readonly onReply: (slot: ThreadSlot<J>, reply: WorkerReply) => void;
  /** A thread died with `job` on it (already cleared from the slot); a new thread is started after. */
  readonly onLost: (slot: ThreadSlot<J>, job: J, why: string) => void;
  /** A dead thread was replaced and is idle. */
  readonly onReplaced: () => void;
  /** Idle time after which every thread exits (module comment); 0 keeps them. */
  readonly idleExitMs?: number | undefined;
}

/** Finds the bundled worker script. */
function defaultWorkerUrl(): URL {
  const candidates = [new URL('./unseal-worker.mjs', import.meta.url), new URL('../dist/unseal-worker.mjs', import.meta.url)];
  const found = candidates.find((url) => existsSync(fileURLToPath(url)));
  if (found === undefined) throw new Error('unseal-worker.mjs not found beside the controller or in dist/ (run npm run build)');
  return found;
}

/** The pool's threads (module comment). */
export class UnsealThreads<J> {
  readonly slots: Array<ThreadSlot<J>> = [];
  private readonly workerUrl: URL;
  private nextId = 1;
  private closed = false;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Workers ended by an idle exit: their exit is not a failure to replace. */
  private readonly retired = new WeakSet<Worker>();

  constructor(private readonly options: UnsealThreadsOptions<J>) {
    this.workerUrl = options.workerUrl ?? defaultWorkerUrl();
  }

  /** Starts every thread, once; true when it started them now. */
  spawnAll(): boolean {
    if (this.closed || this.slots.length > 0) return false;
    for (let index = 0; index < this.options.count; index++) {
      const cancel = new Int32Array(new SharedArrayBuffer(8));
      const slot: ThreadSlot<J> = { index, worker: this.startWorker(cancel), keys: undefined, cancel, job: undefined, requestId: 0, cell: 0, sentAt: 0, next: undefined };
      this.attach(slot);
      this.slots.push(slot);
    }
    return true;
  }

  /**
   * Sends a thread a chunk of `job` (the keys first when its key set changed): it runs at once on an
   * idle thread, or right after the current job on a busy one that has nothing sent ahead yet.
   */
  send(slot: ThreadSlot<J>, job: J, request: ThreadRequest, now: number): void {
    if (slot.next !== undefined) throw new Error('unseal worker already has a job sent ahead');
    if (slot.keys !== request.keys) {
      slot.worker.postMessage({ type: 'keys', keys: request.keys.map((k) => ({ keyId: k.keyId, pem: k.privateKeyPem })) } satisfies WorkerRequest);
      slot.keys = request.keys;
    }
    // Small Buffers are views into Node's shared 8 KiB pool, and postMessage copies the whole
    // underlying ArrayBuffer of a view: pack the values into one exact-size buffer and transfer it.
    const { label, wrapped } = request;
    const packed = new Uint8Array(wrapped.reduce((n, w) => n + w.length, label.length));
    packed.set(label, 0);
    let offset = label.length;
    const views: Uint8Array[] = [];
    for (const w of wrapped) {
      packed.set(w, offset);
      views.push(packed.subarray(offset, offset + w.length));
      offset += w.length;
    }
    const id = this.nextId++;
    clearTimeout(this.idleTimer);
    let cell = 0;
    if (slot.job === undefined) {
      slot.job = job;
      slot.requestId = id;
      slot.cell = cell;
      slot.sentAt = now;
    } else {
      cell = 1 - slot.cell;
      slot.next = { job, requestId: id, cell };
    }
    // A worker keeps the process alive only while it has work.
    slot.worker.ref();
    slot.worker.postMessage({ type: 'unwrap', id, cell, label: packed.subarray(0, label.length), wrapped: views, order: request.order } satisfies WorkerRequest, [packed.buffer]);
  }

  /** The thread answered its current job (at `now`, ms): the job sent ahead, if any, is the current one now, else the thread is idle. */
  release(slot: ThreadSlot<J>, now: number): void {
    const next = slot.next;
    slot.next = undefined;
    if (next !== undefined) {
      slot.job = next.job;
      slot.requestId = next.requestId;
      slot.cell = next.cell;
      slot.sentAt = now;
      return;
    }
    slot.job = undefined;
    slot.worker.unref();
    this.exitWhenIdle();
  }

  /** Arms the idle exit when no thread has work (module comment). */
  private exitWhenIdle(): void {
    const idleExitMs = this.options.idleExitMs ?? IDLE_EXIT_MS;
    if (idleExitMs <= 0 || this.closed || this.slots.some((s) => s.job !== undefined)) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.closed || this.slots.some((s) => s.job !== undefined)) return;
      for (const slot of this.slots.splice(0)) {
        this.retired.add(slot.worker);
        void slot.worker.terminate();
      }
    }, idleExitMs);
    this.idleTimer.unref();
  }

  /** Tells the thread to stop `job` (the one it runs, before its next value, or the one sent ahead, before it starts). */
  cancel(slot: ThreadSlot<J>, job: J): void {
    if (slot.next?.job === job) Atomics.store(slot.cancel, slot.next.cell, slot.next.requestId);
    else if (slot.job === job) Atomics.store(slot.cancel, slot.cell, slot.requestId);
  }

  /** Terminates every thread; none is replaced after. */
  async terminate(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  private startWorker(cancel: Int32Array): Worker {
    return new Worker(this.workerUrl, { workerData: { marker: UNSEAL_WORKER_MARKER, cancel } satisfies UnsealWorkerData });
  }

  private attach(slot: ThreadSlot<J>): void {
    const { worker } = slot;
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      if (slot.job !== undefined && reply.id === slot.requestId) this.options.onReply(slot, reply);
    });
    const fail = (why: string): void => {
      if (slot.worker !== worker || this.retired.has(worker)) return;
      const lost = [slot.job, slot.next?.job];
      slot.job = undefined;
      slot.next = undefined;
      for (const job of lost) if (job !== undefined) this.options.onLost(slot, job, `unseal worker ${slot.index} ${why}`);
      if (this.closed) return;
      this.options.logger.error('unseal worker stopped; starting a new one', { worker: slot.index, why });
      slot.worker = this.startWorker(slot.cancel);
      slot.keys = undefined;
      this.attach(slot);
      this.options.onReplaced();
    };
    worker.on('error', (e: Error) => fail(`failed: ${e.name}`));
    worker.on('exit', (code) => fail(`exited with code ${code}`));
  }
}
