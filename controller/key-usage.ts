/**
 * Which SealedSecrets each key unseals (Bitnami #638): the reconciler records, per object, the ids of
 * the keys that opened its values; the counts feed the `kseal_key_usage` metric and the usage log line
 * after the initial sync, so an old key can be retired once nothing uses it.
 *
 * Memory (issue 15): thousands of objects are opened by the same key or keys, and each unseal result
 * brings its own copies of the 64-character key ids. Objects with the same ids share one frozen list
 * (heap snapshot at 2,000 objects: the per-object lists and ids were ~190 bytes of each object's
 * ~2.3 KiB), and a list no object uses any more is dropped.
 */
import type { SealingKey } from './contracts.js';
import type { ControllerMetrics } from './metrics.js';

/** One shared key-id list and how many objects use it. */
interface SharedList {
  readonly ids: readonly string[];
  users: number;
}

/** Per-object key ids and per-key counts. */
export class KeyUsage {
  private readonly byObject = new Map<string, SharedList>();
  /** By the ids joined with a space: the list every object opened by exactly those keys shares. */
  private readonly lists = new Map<string, SharedList>();
  private readonly counts = new Map<string, number>();

  constructor(private readonly metrics?: ControllerMetrics) {}

  /** Records the keys that opened the object `key` (replacing what it used before). */
  set(key: string, keyIds: Iterable<string>): void {
    const sorted = [...new Set(keyIds)].sort();
    const joined = sorted.join(' ');
    const previous = this.byObject.get(key);
    if (previous !== undefined && previous === this.lists.get(joined)) return;
    if (previous !== undefined) this.release(previous);
    let list = this.lists.get(joined);
    if (list === undefined) {
      // Flat copies: an id sliced from a larger string (a log line, a message) would keep it alive.
      list = { ids: Object.freeze(sorted.map((id) => Buffer.from(id, 'utf8').toString('utf8'))), users: 0 };
      this.lists.set(list.ids.join(' '), list);
    }
    list.users++;
    this.byObject.set(key, list);
    for (const id of list.ids) this.bump(id, 1);
  }

  /** Forgets a deleted (or failed) object. */
  delete(key: string): void {
    const previous = this.byObject.get(key);
    if (previous === undefined) return;
    this.byObject.delete(key);
    this.release(previous);
  }

  /** The ids of the keys that opened `key` (sorted; shared with every object opened by the same keys). */
  keyIdsOf(key: string): readonly string[] | undefined {
    return this.byObject.get(key)?.ids;
  }

  /** How many distinct key-id lists are held (one per combination of keys in use). */
  get distinctLists(): number {
    return this.lists.size;
  }

  private release(list: SharedList): void {
    for (const id of list.ids) this.bump(id, -1);
    if (--list.users === 0) this.lists.delete(list.ids.join(' '));
  }

  /** SealedSecrets unsealed by `keyId`. */
  count(keyId: string): number {
    return this.counts.get(keyId) ?? 0;
  }

  /** Usage of every key held (unused ones with 0), newest first, as the log line reports it. */
  report(keys: readonly SealingKey[]): Array<{ keyId: string; secretName: string; notBefore: string; sealedSecrets: number }> {
    for (const k of keys) this.metrics?.keyUsage.set({ key_id: k.keyId }, this.count(k.keyId));
    return keys.map((k) => ({ keyId: k.keyId, secretName: k.secretName, notBefore: k.notBefore.toISOString(), sealedSecrets: this.count(k.keyId) }));
  }

  private bump(id: string, delta: number): void {
    const n = (this.counts.get(id) ?? 0) + delta;
    if (n <= 0) this.counts.delete(id);
    else this.counts.set(id, n);
    this.metrics?.keyUsage.set({ key_id: id }, Math.max(0, n));
  }
}
