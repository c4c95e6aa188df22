/**
 * The Unsealer of the controller: a pool of worker threads (unseal-worker.ts) that do the RSA
 * private-key operations, sized to the cores. The main thread checks the framing, sends each worker
 * the key PEMs once (and again when the key set changes), sends (label, wrapped session keys, key
 * order) per object and opens the AES-GCM payloads itself with the returned session keys: AES of a
 * small value costs microseconds, less than moving the payload to a thread and back.
 *
 * All or nothing: the first value that does not open fails the whole object with a KsealError naming
 * its key (MALFORMED_CIPHERTEXT, DECRYPT_FAILED, AUTH_FAILED); NO_PRIVATE_KEYS when there is no key.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { KsealError } from '../src/errors.js';
import { openPayload, splitSealed, type SealedParts } from '../src/crypto/hybrid.js';
import { orderKeysById } from '../src/model/key-choice.js';
import { clusterCiphertextSets, decodeValues, mostSpecificError, sealedSecretLabel, type CiphertextSet, type SealedSecret } from '../src/model/sealed-secret.js';
import type { KeyView, SealingKey, UnsealOutcome, Unsealer } from './contracts.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import { UNSEAL_WORKER_MARKER, type WorkerReply, type WorkerRequest } from './unseal-worker.js';

export interface UnsealPoolOptions {
  readonly keys: KeyView;
  /** Worker threads (default: available parallelism). */
  readonly workers?: number | undefined;
  /** The worker script; default: unseal-worker.mjs beside the bundle, or dist/ when running from source. */
  readonly workerUrl?: URL;
  /** Called with the RSA private-key operations of every unseal, failed ones included. */
  readonly onPrivateOps?: (ops: number) => void;
  readonly logger?: Logger;
  /**
   * Start the workers when this resolves (or at the first unseal, if sooner) instead of at once: at
   * start-up their isolates would take the cores from loading the keys (issue 15, start-up).
   */
  readonly spawnWhen?: Promise<void>;
}

interface Pending {
  readonly resolve: (reply: WorkerReply) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  /** The key list (by identity) this worker holds. */
  keys: readonly SealingKey[] | undefined;
  readonly pending: Map<number, Pending>;
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
  private readonly workerUrl: URL;
  private readonly logger: Logger;
  private nextId = 1;
  private closed = false;
  private opsDone = 0;
  private readonly workers: number;

  constructor(private readonly options: UnsealPoolOptions) {
    this.workerUrl = options.workerUrl ?? defaultWorkerUrl();
    this.logger = options.logger ?? silentLogger;
    this.workers = Math.max(1, options.workers ?? availableParallelism());
    if (options.spawnWhen === undefined) this.spawnAll();
    else options.spawnWhen.then(() => this.spawnAll(), () => this.spawnAll());
  }

  /** Starts the workers, once. */
  private spawnAll(): void {
    if (this.closed || this.slots.length > 0) return;
    for (let i = 0; i < this.workers; i++) this.slots.push(this.spawn(i));
  }

  /** RSA private-key operations done since start (what kseal_private_key_operations_total must equal). */
  get privateOps(): number {
    return this.opsDone;
  }

  /** Number of worker threads. */
  get size(): number {
    return this.workers;
  }

  /**
   * Unseals all values of `sealed` (see the module comment for the errors). With spec.recipients,
   * tries the cluster ciphertext sets whose id names one of its keys first, then the others
   * (clusterCiphertextSets); one set must open completely. Escrow entries are never looked at.
   */
  async unseal(sealed: SealedSecret): Promise<UnsealOutcome> {
    if (this.closed) throw new Error('the unseal pool is closed');
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
    try {
      for (const { set, values } of decoded) {
        const order = orderKeysById(set.hint, keys).map((k) => k.keyId);
        const reply = await this.request(keys, label, values.map((v) => v.parts.wrappedKey), order);
        ops += reply.ops;
        this.opsDone += reply.ops;
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
    } finally {
      this.options.onPrivateOps?.(ops);
    }
    throw mostSpecificError(errors) ?? new KsealError('DECRYPT_FAILED', 'no key could decrypt it');
  }

  /** Terminates the workers; pending unseals reject. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  private request(keys: readonly SealingKey[], label: Buffer, wrapped: Buffer[], order: string[]): Promise<WorkerReply> {
    this.spawnAll();
    const slot = this.slots.reduce((best, s) => (s.pending.size < best.pending.size ? s : best));
    if (slot.keys !== keys) {
      slot.worker.postMessage({ type: 'keys', keys: keys.map((k) => ({ keyId: k.keyId, pem: k.privateKeyPem })) } satisfies WorkerRequest);
      slot.keys = keys;
    }
    const id = this.nextId++;
    // Small Buffers are views into Node's shared 8 KiB pool, and postMessage copies the whole
    // underlying ArrayBuffer of a view: pack the values into one exact-size buffer and transfer it.
    const total = wrapped.reduce((n, w) => n + w.length, label.length);
    const packed = new Uint8Array(total);
    packed.set(label, 0);
    let offset = label.length;
    const views: Uint8Array[] = [];
    for (const w of wrapped) {
      packed.set(w, offset);
      views.push(packed.subarray(offset, offset + w.length));
      offset += w.length;
    }
    const labelView = packed.subarray(0, label.length);
    return new Promise<WorkerReply>((resolve, reject) => {
      // A worker keeps the process alive only while it has work.
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ type: 'unwrap', id, label: labelView, wrapped: views, order } satisfies WorkerRequest, [packed.buffer]);
    });
  }

  private spawn(index: number): Slot {
    const slot: Slot = { worker: new Worker(this.workerUrl, { workerData: { marker: UNSEAL_WORKER_MARKER } }), keys: undefined, pending: new Map() };
    this.attach(slot, index);
    return slot;
  }

  private attach(slot: Slot, index: number): void {
    const { worker } = slot;
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      const pending = slot.pending.get(reply.id);
      slot.pending.delete(reply.id);
      if (slot.pending.size === 0) worker.unref();
      pending?.resolve(reply);
    });
    const fail = (why: string): void => {
      for (const p of slot.pending.values()) p.reject(new Error(`unseal worker ${index} ${why}`));
      slot.pending.clear();
      if (this.closed || slot.worker !== worker) return;
      this.logger.error('unseal worker stopped; starting a new one', { worker: index, why });
      slot.worker = new Worker(this.workerUrl, { workerData: { marker: UNSEAL_WORKER_MARKER } });
      slot.keys = undefined;
      this.attach(slot, index);
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
