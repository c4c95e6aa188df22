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
import { orderKeysByHint } from '../src/model/key-choice.js';
import { sealedSecretLabel, sealedValues, type SealedSecret } from '../src/model/sealed-secret.js';
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

  constructor(private readonly options: UnsealPoolOptions) {
    this.workerUrl = options.workerUrl ?? defaultWorkerUrl();
    this.logger = options.logger ?? silentLogger;
    const size = Math.max(1, options.workers ?? availableParallelism());
    for (let i = 0; i < size; i++) this.slots.push(this.spawn(i));
  }

  /** RSA private-key operations done since start (what kseal_private_key_operations_total must equal). */
  get privateOps(): number {
    return this.opsDone;
  }

  /** Number of worker threads. */
  get size(): number {
    return this.slots.length;
  }

  /** Unseals all values of `sealed` (see the module comment for the errors). */
  async unseal(sealed: SealedSecret): Promise<UnsealOutcome> {
    if (this.closed) throw new Error('the unseal pool is closed');
    const label = sealedSecretLabel(sealed);
    const values: Array<{ key: string; parts: SealedParts }> = sealedValues(sealed).map(({ key, bytes }) => {
      try {
        return { key, parts: splitSealed(bytes) };
      } catch (e) {
        throw e instanceof KsealError ? e.at({ key }) : e;
      }
    });
    const keys = this.options.keys.list();
    if (keys.length === 0) throw new KsealError('NO_PRIVATE_KEYS', 'the controller has no sealing key yet');
    const order = orderKeysByHint(sealed, keys).map((k) => k.keyId);
    const reply = await this.request(keys, label, values.map((v) => v.parts.wrappedKey), order);
    this.opsDone += reply.ops;
    this.options.onPrivateOps?.(reply.ops);
    if (!reply.ok) {
      const failed = values[reply.failedIndex];
      throw new KsealError('DECRYPT_FAILED', `no key could decrypt it (tried ${keys.length} key${keys.length === 1 ? '' : 's'})`, {
        ...(failed === undefined ? {} : { key: failed.key }),
        hint: 'it was sealed with another key, or for another name, namespace or scope',
      });
    }
    const data = new Map<string, Buffer>();
    const keyIds = new Map<string, string>();
    values.forEach(({ key, parts }, i) => {
      const sessionKey = reply.sessionKeys[i] as Uint8Array;
      try {
        data.set(key, openPayload(Buffer.from(sessionKey.buffer, sessionKey.byteOffset, sessionKey.byteLength), parts.payload));
      } catch (e) {
        throw e instanceof KsealError ? e.at({ key }) : e;
      } finally {
        sessionKey.fill(0);
      }
      keyIds.set(key, reply.keyIds[i] ?? '');
    });
    return { data, keyIds, privateOps: reply.ops };
  }

  /** Terminates the workers; pending unseals reject. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  private request(keys: readonly SealingKey[], label: Buffer, wrapped: Buffer[], order: string[]): Promise<WorkerReply> {
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
