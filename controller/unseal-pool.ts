/**
 * The Unsealer of the controller: a pool of worker threads (unseal-worker.ts) that do the RSA
 * private-key operations, sized to the cores. The main thread checks the framing, sends each worker
 * the key PEMs once (and again when the key set changes), sends (label, wrapped session keys, key
 * order) per object and opens the AES-GCM payloads itself with the returned session keys: AES of a
 * small value costs microseconds, less than moving the payload to a thread and back.
 *
 * All or nothing: the first value that does not open fails the whole object with a KsealError naming
 * its key (MALFORMED_CIPHERTEXT, DECRYPT_FAILED, AUTH_FAILED); NO_PRIVATE_KEYS when there is no key.
 *
 * Scheduling: each worker runs one job at a time; waiting jobs sit in a two-level queue where
 * reconciles always go before HTTP work (verify, rotate). HTTP jobs run in chunks of a few values and
 * go to the back of their level between chunks, so a reconcile waits for at most one chunk per worker
 * and big requests share the workers. A job whose AbortSignal fires is dropped if it waits, and stops
 * before its next value if it runs (a shared cancel cell the worker reads between values); it rejects
 * with the signal's reason.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { KsealError } from '../src/errors.js';
import { openPayload, splitSealed, type SealedParts } from '../src/crypto/hybrid.js';
import { orderKeysById } from '../src/model/key-choice.js';
import { clusterCiphertextSets, decodeValues, mostSpecificError, sealedSecretLabel, type CiphertextSet, type SealedSecret } from '../src/model/sealed-secret.js';
import type { KeyView, SealingKey, UnsealOptions, UnsealOutcome, Unsealer } from './contracts.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import { TwoLevelQueue } from './two-level-queue.js';
import { UNSEAL_WORKER_MARKER, type UnsealWorkerData, type WorkerReply, type WorkerRequest } from './unseal-worker.js';

export interface UnsealPoolOptions {
  readonly keys: KeyView;
  /** Worker threads (default: available parallelism). */
  readonly workers?: number | undefined;
  /** The worker script; default: unseal-worker.mjs beside the bundle, or dist/ when running from source. */
  readonly workerUrl?: URL;
  /** Called with the RSA private-key operations of every unseal, failed ones included. */
  readonly onPrivateOps?: (ops: number) => void;
  /** Values an HTTP job sends a worker at a time (default 16); reconcile jobs go whole. */
  readonly httpChunkValues?: number;
  readonly logger?: Logger;
  /**
   * Start the workers when this resolves (or at the first unseal, if sooner) instead of at once: at
   * start-up their isolates would take the cores from loading the keys (issue 15, start-up).
   */
  readonly spawnWhen?: Promise<void>;
}

/** What the workers gave back for a whole job. */
type JobResult = { readonly ok: true; readonly sessionKeys: Uint8Array[]; readonly keyIds: string[]; readonly ops: number } | { readonly ok: false; readonly failedIndex: number; readonly ops: number };

/** One unseal waiting for, or running on, a worker. */
interface Job {
  readonly keys: readonly SealingKey[];
  readonly label: Buffer;
  readonly wrapped: readonly Buffer[];
  /** Key ids to try, the one that opened the last value first. */
  order: string[];
  /** Index of the next value to send. */
  next: number;
  readonly sessionKeys: Uint8Array[];
  readonly keyIds: string[];
  ops: number;
  readonly priority: 'reconcile' | 'http';
  readonly signal: AbortSignal | undefined;
  readonly resolve: (result: JobResult) => void;
  readonly reject: (error: unknown) => void;
  /** Where it runs now. */
  slot: Slot | undefined;
  /** Values in the chunk that runs. */
  chunk: number;
}

interface Slot {
  worker: Worker;
  /** The key list (by identity) this worker holds. */
  keys: readonly SealingKey[] | undefined;
  /** Cell 0: the id of a request the worker must stop. */
  readonly cancel: Int32Array;
  /** The job it runs, and that request's id. */
  job: Job | undefined;
  requestId: number;
}

/** Queue and run counters (for tests and diagnostics). */
export interface UnsealPoolStats {
  readonly queuedReconcile: number;
  readonly queuedHttp: number;
  readonly running: number;
  /** Jobs dropped from the queue, or stopped while running, because their signal fired. */
  readonly aborted: number;
}

/** Finds the bundled worker script. */
function defaultWorkerUrl(): URL {
  const candidates = [new URL('./unseal-worker.mjs', import.meta.url), new URL('../dist/unseal-worker.mjs', import.meta.url)];
  const found = candidates.find((url) => existsSync(fileURLToPath(url)));
  if (found === undefined) throw new Error('unseal-worker.mjs not found beside the controller or in dist/ (run npm run build)');
  return found;
}

/** A pool of unseal worker threads implementing Unsealer. */
export class UnsealPool implements Unsealer {
  private readonly slots: Slot[] = [];
  private readonly queue = new TwoLevelQueue<Job>();
  private readonly workerUrl: URL;
  private readonly logger: Logger;
  private readonly chunkValues: number;
  private nextId = 1;
  private closed = false;
  private opsDone = 0;
  private abortedJobs = 0;
  private readonly workers: number;

  constructor(private readonly options: UnsealPoolOptions) {
    this.workerUrl = options.workerUrl ?? defaultWorkerUrl();
    this.logger = options.logger ?? silentLogger;
    this.chunkValues = Math.max(1, options.httpChunkValues ?? 16);
    this.workers = Math.max(1, options.workers ?? availableParallelism());
    if (options.spawnWhen === undefined) this.spawnAll();
    else options.spawnWhen.then(() => this.spawnAll(), () => this.spawnAll());
  }

  /** Starts the workers, once. */
  private spawnAll(): void {
    if (this.closed || this.slots.length > 0) return;
    for (let i = 0; i < this.workers; i++) this.slots.push(this.spawn(i));
    this.schedule();
  }

  /** RSA private-key operations done since start (what kseal_private_key_operations_total must equal). */
  get privateOps(): number {
    return this.opsDone;
  }

  /** Number of worker threads. */
  get size(): number {
    return this.workers;
  }

  /** Jobs waiting per level, running, and aborted so far. */
  stats(): UnsealPoolStats {
    return { queuedReconcile: this.queue.size('first'), queuedHttp: this.queue.size('second'), running: this.slots.filter((s) => s.job !== undefined).length, aborted: this.abortedJobs };
  }

  /**
   * Unseals all values of `sealed` (see the module comment for the errors). With spec.recipients,
   * tries the cluster ciphertext sets whose id names one of its keys first, then the others
   * (clusterCiphertextSets); one set must open completely. Escrow entries are never looked at.
   * `options` set the priority and the cancel signal (module comment).
   */
  async unseal(sealed: SealedSecret, options: UnsealOptions = {}): Promise<UnsealOutcome> {
    if (this.closed) throw new Error('the unseal pool is closed');
    options.signal?.throwIfAborted();
    const label = sealedSecretLabel(sealed);
    const keys = this.options.keys.list();
    const sets = clusterCiphertextSets(sealed, keys.map((k) => k.keyId));
    const errors: KsealError[] = [];
    const decoded: Array<{ set: CiphertextSet; values: Array<{ key: string; parts: SealedParts }> }> = [];
    for (const set of sets) {
      try {
        decoded.push({ set, values: splitAll(set.encryptedData) });
      } catch (e) {
        // With one set (no further recipients) a damaged value fails at once, as it always has.
        if (sets.length === 1 || !(e instanceof KsealError)) throw e;
        errors.push(e);
      }
    }
    if (keys.length === 0) throw new KsealError('NO_PRIVATE_KEYS', 'the controller has no sealing key yet');
    let ops = 0;
    for (const { set, values } of decoded) {
      const order = orderKeysById(set.hint, keys).map((k) => k.keyId);
      // Counted per chunk as the workers answer (this.opsDone, onPrivateOps), also when aborted.
      const reply = await this.submit(keys, label, values.map((v) => v.parts.wrappedKey), order, options);
      ops += reply.ops;
      if (!reply.ok) {
        const failed = values[reply.failedIndex];
        errors.push(
          new KsealError('DECRYPT_FAILED', `no key could decrypt it (tried ${keys.length} key${keys.length === 1 ? '' : 's'}${sets.length > 1 ? ` on ${sets.length} cluster recipients` : ''})`, {
            ...(failed === undefined ? {} : { key: failed.key }),
            hint: 'it was sealed with another key, or for another name, namespace or scope',
          }),
        );
        continue;
      }
      const opened = openAll(values, reply.sessionKeys);
      if (opened instanceof KsealError) {
        errors.push(opened);
        continue;
      }
      const keyIds = new Map<string, string>();
      values.forEach(({ key }, i) => keyIds.set(key, reply.keyIds[i] ?? ''));
      return { data: opened, keyIds, privateOps: ops, recipient: set.recipient };
    }
    throw mostSpecificError(errors) ?? new KsealError('DECRYPT_FAILED', 'no key could decrypt it');
  }

  /** Terminates the workers; pending unseals reject. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.drain()) this.finish(job, new Error('the unseal pool is closed'));
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  /** Queues a job at its priority and resolves with what the workers found. */
  private submit(keys: readonly SealingKey[], label: Buffer, wrapped: Buffer[], order: string[], options: UnsealOptions): Promise<JobResult> {
    return new Promise<JobResult>((resolve, reject) => {
      const job: Job = { keys, label, wrapped, order, next: 0, sessionKeys: [], keyIds: [], ops: 0, priority: options.priority ?? 'reconcile', signal: options.signal, resolve, reject, slot: undefined, chunk: 0 };
      if (wrapped.length === 0) return resolve({ ok: true, sessionKeys: [], keyIds: [], ops: 0 });
      options.signal?.addEventListener('abort', () => this.abort(job), { once: true });
      this.queue.push(job.priority === 'reconcile' ? 'first' : 'second', job);
      this.spawnAll();
      this.schedule();
    });
  }

  /** The job's signal fired: drop it if it waits, tell its worker to stop if it runs. */
  private abort(job: Job): void {
    if (this.queue.remove(job)) {
      this.abortedJobs++;
      this.finish(job, job.signal?.reason);
    } else if (job.slot !== undefined) {
      Atomics.store(job.slot.cancel, 0, job.slot.requestId);
    }
  }

  /** Settles a job that failed or was aborted, wiping what it had opened. */
  private finish(job: Job, error: unknown): void {
    for (const k of job.sessionKeys) k.fill(0);
    job.reject(error);
  }

  /** Gives every idle worker the next job, reconciles first. */
  private schedule(): void {
    for (const slot of this.slots) {
      if (slot.job !== undefined) continue;
      const job = this.queue.shift();
      if (job === undefined) return;
      this.send(slot, job);
    }
  }

  private send(slot: Slot, job: Job): void {
    if (slot.keys !== job.keys) {
      slot.worker.postMessage({ type: 'keys', keys: job.keys.map((k) => ({ keyId: k.keyId, pem: k.privateKeyPem })) } satisfies WorkerRequest);
      slot.keys = job.keys;
    }
    const remaining = job.wrapped.length - job.next;
    const chunk = job.priority === 'reconcile' ? remaining : Math.min(this.chunkValues, remaining);
    const wrapped = job.wrapped.slice(job.next, job.next + chunk);
    // Small Buffers are views into Node's shared 8 KiB pool, and postMessage copies the whole
    // underlying ArrayBuffer of a view: pack the values into one exact-size buffer and transfer it.
    const total = wrapped.reduce((n, w) => n + w.length, job.label.length);
    const packed = new Uint8Array(total);
    packed.set(job.label, 0);
    let offset = job.label.length;
    const views: Uint8Array[] = [];
    for (const w of wrapped) {
      packed.set(w, offset);
      views.push(packed.subarray(offset, offset + w.length));
      offset += w.length;
    }
    const id = this.nextId++;
    slot.job = job;
    slot.requestId = id;
    job.slot = slot;
    job.chunk = chunk;
    // A worker keeps the process alive only while it has work.
    slot.worker.ref();
    slot.worker.postMessage({ type: 'unwrap', id, label: packed.subarray(0, job.label.length), wrapped: views, order: job.order } satisfies WorkerRequest, [packed.buffer]);
  }

  /** A worker answered the chunk it ran: count, then finish the job or queue its next chunk. */
  private received(slot: Slot, reply: WorkerReply): void {
    const job = slot.job;
    if (job === undefined || reply.id !== slot.requestId) return;
    slot.job = undefined;
    job.slot = undefined;
    slot.worker.unref();
    this.opsDone += reply.ops;
    job.ops += reply.ops;
    this.options.onPrivateOps?.(reply.ops);
    if (reply.ok) {
      job.sessionKeys.push(...reply.sessionKeys);
      job.keyIds.push(...reply.keyIds);
    }
    if (job.signal?.aborted === true || (!reply.ok && reply.aborted === true)) {
      if (reply.ok) for (const k of reply.sessionKeys) k.fill(0);
      this.abortedJobs++;
      this.finish(job, job.signal?.reason);
    } else if (!reply.ok) {
      for (const k of job.sessionKeys) k.fill(0);
      job.resolve({ ok: false, failedIndex: job.next + reply.failedIndex, ops: job.ops });
    } else if (job.next + job.chunk < job.wrapped.length) {
      job.next += job.chunk;
      const opener = job.keyIds[job.keyIds.length - 1];
      if (opener !== undefined) job.order = [opener, ...job.order.filter((k) => k !== opener)];
      this.queue.push(job.priority === 'reconcile' ? 'first' : 'second', job);
    } else {
      job.resolve({ ok: true, sessionKeys: job.sessionKeys, keyIds: job.keyIds, ops: job.ops });
    }
    this.schedule();
  }

  private spawn(index: number): Slot {
    const cancel = new Int32Array(new SharedArrayBuffer(4));
    const slot: Slot = { worker: this.startWorker(cancel), keys: undefined, cancel, job: undefined, requestId: 0 };
    this.attach(slot, index);
    return slot;
  }

  private startWorker(cancel: Int32Array): Worker {
    return new Worker(this.workerUrl, { workerData: { marker: UNSEAL_WORKER_MARKER, cancel } satisfies UnsealWorkerData });
  }

  private attach(slot: Slot, index: number): void {
    const { worker } = slot;
    worker.unref();
    worker.on('message', (reply: WorkerReply) => this.received(slot, reply));
    const fail = (why: string): void => {
      if (slot.worker !== worker) return;
      const job = slot.job;
      slot.job = undefined;
      if (job !== undefined) {
        job.slot = undefined;
        this.finish(job, new Error(`unseal worker ${index} ${why}`));
      }
      if (this.closed) return;
      this.logger.error('unseal worker stopped; starting a new one', { worker: index, why });
      slot.worker = this.startWorker(slot.cancel);
      slot.keys = undefined;
      this.attach(slot, index);
      this.schedule();
    };
    worker.on('error', (e: Error) => fail(`failed: ${e.name}`));
    worker.on('exit', (code) => fail(`exited with code ${code}`));
  }
}

/** Decodes and frames every value of one ciphertext set. Throws MALFORMED_CIPHERTEXT naming the key. */
function splitAll(encryptedData: Readonly<Record<string, string>>): Array<{ key: string; parts: SealedParts }> {
  return decodeValues(encryptedData).map(({ key, bytes }) => {
    try {
      return { key, parts: splitSealed(bytes) };
    } catch (e) {
      throw e instanceof KsealError ? e.at({ key }) : e;
    }
  });
}

/** Opens every AES-GCM payload with its session key (zeroed after use); the first failure is returned, not thrown. */
function openAll(values: ReadonlyArray<{ key: string; parts: SealedParts }>, sessionKeys: readonly Uint8Array[]): Map<string, Buffer> | KsealError {
  const data = new Map<string, Buffer>();
  let failure: KsealError | undefined;
  values.forEach(({ key, parts }, i) => {
    const sessionKey = sessionKeys[i] as Uint8Array;
    try {
      if (failure === undefined) data.set(key, openPayload(Buffer.from(sessionKey.buffer, sessionKey.byteOffset, sessionKey.byteLength), parts.payload));
    } catch (e) {
      if (!(e instanceof KsealError)) throw e;
      failure = e.at({ key });
    } finally {
      sessionKey.fill(0);
    }
  });
  if (failure === undefined) return data;
  for (const bytes of data.values()) bytes.fill(0);
  return failure;
}
