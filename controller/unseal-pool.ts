/**
 * The Unsealer of the controller: a pool of worker threads (unseal-threads.ts, unseal-worker.ts) that do
 * the RSA private-key operations, sized to the cores. The main thread checks the framing, sends a
 * worker (label, wrapped session keys, key order) per job or chunk, and opens the AES-GCM payloads
 * itself with the returned session keys (unseal-values.ts).
 *
 * All or nothing: the first value that does not open fails the whole object with a KsealError naming
 * its key (MALFORMED_CIPHERTEXT, DECRYPT_FAILED, AUTH_FAILED); NO_PRIVATE_KEYS when there is no key.
 *
 * Scheduling (unseal-scheduler.ts): each worker runs one job at a time, and a busy worker is sent one
 * more reconcile job ahead (unseal-threads.ts) so that it starts it the moment it answers, without
 * waiting for the main thread to be free from API writes; reconciles go before HTTP work
 * (verify, rotate), which runs in chunks and, while reconciles are pending, within its share of the
 * pool. A job whose AbortSignal fires is dropped if it waits, and stops before its next value if it runs
 * (a shared cancel cell the worker reads between values); it rejects with the signal's reason.
 */
import { availableParallelism } from 'node:os';
import { KsealError } from '../src/errors.js';
import { orderKeysById } from '../src/model/key-choice.js';
import { clusterCiphertextSets, mostSpecificError, sealedSecretLabel, type CiphertextSet, type SealedSecret } from '../src/model/sealed-secret.js';
import type { KeyView, SealingKey, UnsealOptions, UnsealOutcome, Unsealer } from './contracts.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import { DEFAULT_HTTP_UNSEAL_SHARE, UnsealScheduler } from './unseal-scheduler.js';
import type { WorkerReply } from './unseal-worker.js';
import { openAll, splitAll, type FramedValue } from './unseal-values.js';
import { type ThreadSlot, UnsealThreads } from './unseal-threads.js';

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
  /** Share of the pool HTTP work may use while reconciles are pending (default 0.1; unseal-scheduler.ts). */
  readonly httpShare?: number;
  /** True while the controller has reconciles waiting or running (its work queue), not only in the pool. */
  readonly reconcileBacklog?: () => boolean;
  /** Milliseconds clock of the scheduler (tests). */
  readonly now?: () => number;
  readonly logger?: Logger;
  /**
   * Start the workers when this resolves (or at the first unseal, if sooner) instead of at once: at
   * start-up their isolates would take the cores from loading the keys (issue 15, start-up).
   */
  readonly spawnWhen?: Promise<void>;
  /** Idle time after which the worker threads exit until the next unseal (default 60 s; 0: never). */
  readonly idleExitMs?: number | undefined;
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
  /** Number of values, and the index of the next one to send. */
  readonly total: number;
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

type Slot = ThreadSlot<Job>;

/** Queue and run counters (for tests and diagnostics). */
export interface UnsealPoolStats {
  readonly queuedReconcile: number;
  readonly queuedHttp: number;
  readonly running: number;
  /** Reconcile jobs sent ahead to a busy worker (they start when it answers its current job). */
  readonly sentAhead: number;
  /** True when HTTP work waits because its share of the pool is spent while reconciles are pending. */
  readonly httpHeld: boolean;
  /** Jobs dropped from the queue, or stopped while running, because their signal fired. */
  readonly aborted: number;
}

/** A pool of unseal worker threads implementing Unsealer. */
export class UnsealPool implements Unsealer {
  private readonly threads: UnsealThreads<Job>;
  private readonly queue: UnsealScheduler<Job>;
  private readonly now: () => number;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private opsDone = 0;
  private abortedJobs = 0;
  private readonly workers: number;

  constructor(private readonly options: UnsealPoolOptions) {
    this.workers = Math.max(1, options.workers ?? availableParallelism());
    this.now = options.now ?? (() => performance.now());
    this.queue = new UnsealScheduler<Job>({
      workers: this.workers,
      chunkValues: Math.max(1, options.httpChunkValues ?? 16),
      httpShare: options.httpShare ?? DEFAULT_HTTP_UNSEAL_SHARE,
      now: this.now,
      ...(options.reconcileBacklog === undefined ? {} : { reconcileBacklog: options.reconcileBacklog }),
    });
    this.threads = new UnsealThreads<Job>({
      count: this.workers,
      workerUrl: options.workerUrl,
      idleExitMs: options.idleExitMs,
      logger: options.logger ?? silentLogger,
      onReply: (slot, reply) => this.received(slot, reply),
      onLost: (_slot, job, why) => {
        job.slot = undefined;
        this.queue.done(job.priority, job.chunk, 0, 0);
        this.finish(job, new Error(why));
      },
      onReplaced: () => this.schedule(),
    });
    if (options.spawnWhen === undefined) this.spawnAll();
    else options.spawnWhen.then(() => this.spawnAll(), () => this.spawnAll());
  }

  /** Starts the workers, once. */
  private spawnAll(): void {
    if (!this.closed && this.threads.spawnAll()) this.schedule();
  }

  /** RSA private-key operations done since start (what kseal_private_key_operations_total must equal). */
  get privateOps(): number {
    return this.opsDone;
  }

  /** Worker threads running now (0 before the first start and after an idle exit). */
  get runningThreads(): number {
    return this.threads.slots.length;
  }

  /** Number of worker threads. */
  get size(): number {
    return this.workers;
  }

  /** Jobs waiting per level, running, and aborted so far. */
  stats(): UnsealPoolStats {
    const waiting = this.queue.waiting();
    return { queuedReconcile: waiting.reconcile, queuedHttp: waiting.http, running: this.threads.slots.filter((s) => s.job !== undefined).length, sentAhead: this.threads.slots.filter((s) => s.next !== undefined).length, httpHeld: this.queue.httpHeld, aborted: this.abortedJobs };
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
    const decoded: Array<{ set: CiphertextSet; values: FramedValue[] }> = [];
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
    clearTimeout(this.retryTimer);
    for (const job of this.queue.drain()) this.finish(job, new Error('the unseal pool is closed'));
    await this.threads.terminate();
  }

  /** Queues a job at its priority and resolves with what the workers found. */
  private submit(keys: readonly SealingKey[], label: Buffer, wrapped: Buffer[], order: string[], options: UnsealOptions): Promise<JobResult> {
    return new Promise<JobResult>((resolve, reject) => {
      const job: Job = { keys, label, wrapped, order, total: wrapped.length, next: 0, sessionKeys: [], keyIds: [], ops: 0, priority: options.priority ?? 'reconcile', signal: options.signal, resolve, reject, slot: undefined, chunk: 0 };
      if (wrapped.length === 0) return resolve({ ok: true, sessionKeys: [], keyIds: [], ops: 0 });
      options.signal?.addEventListener('abort', () => this.abort(job), { once: true });
      this.queue.push(job);
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
      this.threads.cancel(job.slot, job);
    }
  }

  /** Settles a job that failed or was aborted, wiping what it had opened. */
  private finish(job: Job, error: unknown): void {
    for (const k of job.sessionKeys) k.fill(0);
    job.reject(error);
  }

  /**
   * Gives every idle worker the next job (unseal-scheduler.ts), then every busy worker with nothing
   * sent ahead one more reconcile job; asks again later for HTTP work held back.
   */
  private schedule(): void {
    for (const slot of this.threads.slots) {
      if (slot.job !== undefined) continue;
      const next = this.queue.next();
      if (next === undefined) break;
      this.send(slot, next.job, next.chunk);
    }
    for (const slot of this.threads.slots) {
      if (slot.job === undefined || slot.next !== undefined) continue;
      const next = this.queue.nextReconcile();
      if (next === undefined) break;
      this.send(slot, next.job, next.chunk);
    }
    if (this.queue.httpHeld && this.retryTimer === undefined && !this.closed) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.schedule();
      }, this.queue.retryInMs());
    }
  }

  private send(slot: Slot, job: Job, chunk: number): void {
    job.slot = slot;
    job.chunk = chunk;
    this.threads.send(slot, job, { keys: job.keys, label: job.label, wrapped: job.wrapped.slice(job.next, job.next + chunk), order: job.order }, this.now());
  }

  /** A worker answered the chunk it ran: count, then finish the job or queue its next chunk. */
  private received(slot: Slot, reply: WorkerReply): void {
    const job = slot.job as Job;
    const ms = this.now() - slot.sentAt;
    this.threads.release(slot, this.now());
    job.slot = undefined;
    this.opsDone += reply.ops;
    job.ops += reply.ops;
    this.options.onPrivateOps?.(reply.ops);
    this.queue.done(job.priority, job.chunk, reply.ops, ms);
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
      this.queue.push(job);
    } else {
      job.resolve({ ok: true, sessionKeys: job.sessionKeys, keyIds: job.keyIds, ops: job.ops });
    }
    this.schedule();
  }
}
