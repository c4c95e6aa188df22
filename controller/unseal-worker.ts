/**
 * The unseal worker thread: holds the controller's private keys and does the RSA-OAEP unwrapping of
 * session keys, the only expensive step of an unseal (~4 ms per value with RSA-4096), so the main
 * event loop stays free for probes, the HTTP API and lease renewal.
 *
 * Bundled on its own by scripts/build.mjs to dist/unseal-worker.mjs (unseal-pool.ts finds it).
 * Protocol (see WorkerRequest/WorkerReply): the pool sends the key PEMs once and again on every key
 * change, then requests carrying the scope label, the wrapped session keys and the key order; the
 * worker answers with the session keys and the id of the key that opened each, or the index of the
 * first value no key opens. A request whose cell in the shared cancel array (workerData.cancel; the
 * request names its cell, one per request the pool may have sent this worker) is set to its id stops
 * before its next value and answers `aborted` (the client went away). Requests queue in the worker's
 * message port and run in the order sent, so the pool can send the next one before this one is done. The key that
 * opened one value is tried first for the next one (the values
 * of one object are nearly always sealed with the same key), so a missing hint costs extra private
 * operations only on the first value. The worker never sees a payload or a plaintext.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { unwrapSessionKey } from '../src/crypto/hybrid.js';
import { KeyTrialOrder } from '../src/model/key-choice.js';
import { lowerThreadPriority } from './thread-priority.js';

/** Messages the pool sends. */
export type WorkerRequest =
  | { readonly type: 'keys'; readonly keys: ReadonlyArray<{ readonly keyId: string; readonly pem: string }> }
  | { readonly type: 'unwrap'; readonly id: number; readonly cell: number; readonly label: Uint8Array; readonly wrapped: readonly Uint8Array[]; readonly order: readonly string[] };

/** Replies to `unwrap`. */
export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly sessionKeys: Uint8Array[]; readonly keyIds: string[]; readonly ops: number }
  | { readonly id: number; readonly ok: false; readonly failedIndex: number; readonly ops: number; readonly aborted?: true };

/**
 * Unwraps every session key, trying `order` with the key that opened the previous value first
 * (src/model/key-choice.ts). `cancelled` is asked before each value; when it says yes the loop stops
 * there and answers `aborted` with the operations spent so far.
 */
export function unwrapAll(
  keys: ReadonlyMap<string, KeyObject>,
  label: Uint8Array,
  wrapped: readonly Uint8Array[],
  order: readonly string[],
  id: number,
  cancelled: () => boolean = () => false,
): WorkerReply {
  const trials = new KeyTrialOrder(order.filter((keyId) => keys.has(keyId)));
  const labelBuffer = Buffer.from(label);
  const sessionKeys: Uint8Array[] = [];
  const keyIds: string[] = [];
  let ops = 0;
  for (let i = 0; i < wrapped.length; i++) {
    if (cancelled()) {
      for (const k of sessionKeys) k.fill(0);
      return { id, ok: false, failedIndex: i, ops, aborted: true };
    }
    const value = wrapped[i] as Uint8Array;
    let opened: Buffer | undefined;
    let opener: string | undefined;
    for (const keyId of trials.tries()) {
      ops++;
      opened = unwrapSessionKey(keys.get(keyId) as KeyObject, labelBuffer, Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      if (opened !== undefined) {
        opener = keyId;
        break;
      }
    }
    if (opened === undefined || opener === undefined) return { id, ok: false, failedIndex: i, ops };
    trials.succeeded(opener);
    sessionKeys.push(opened);
    keyIds.push(opener);
  }
  // One exact-size buffer for all session keys, so the reply can transfer it instead of copying.
  const packed = new Uint8Array(sessionKeys.reduce((n, k) => n + k.length, 0));
  let offset = 0;
  const views = sessionKeys.map((k) => {
    packed.set(k, offset);
    k.fill(0);
    offset += k.length;
    return packed.subarray(offset - k.length, offset);
  });
  return { id, ok: true, sessionKeys: views, keyIds, ops };
}

/** Parses the key PEMs; a key that does not parse is left out (the registry already checked them). */
function loadKeys(list: ReadonlyArray<{ readonly keyId: string; readonly pem: string }>): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  for (const { keyId, pem } of list) {
    try {
      keys.set(keyId, createPrivateKey(pem));
    } catch {
      // Left out: requests naming it then fail as "no key could decrypt".
    }
  }
  return keys;
}

/** Marker in `workerData` so that importing this module anywhere else starts nothing. */
export const UNSEAL_WORKER_MARKER = 'kseal-unseal-worker';

/** What the pool passes as workerData. */
export interface UnsealWorkerData {
  readonly marker: typeof UNSEAL_WORKER_MARKER;
  /** Cells 0 and 1 hold the id of a request to stop (Int32Array over a SharedArrayBuffer). */
  readonly cancel: Int32Array;
}

if (parentPort !== null && (workerData as { marker?: unknown } | null)?.marker === UNSEAL_WORKER_MARKER) {
  lowerThreadPriority();
  const port = parentPort;
  const cancel = (workerData as UnsealWorkerData).cancel;
  let keys = new Map<string, KeyObject>();
  port.on('message', (message: WorkerRequest) => {
    if (message.type === 'keys') keys = loadKeys(message.keys);
    else {
      const id = message.id;
      const cell = message.cell;
      const reply = unwrapAll(keys, message.label, message.wrapped, message.order, id, () => Atomics.load(cancel, cell) === id);
      port.postMessage(reply, reply.ok && reply.sessionKeys[0] !== undefined ? [reply.sessionKeys[0].buffer as ArrayBuffer] : []);
    }
  });
}
