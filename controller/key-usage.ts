/**
 * Which SealedSecrets each key unseals (Bitnami #638): the reconciler records, per object, the ids of
 * the keys that opened its values; the counts feed the `kseal_key_usage` metric and the usage log line
 * after the initial sync, so an old key can be retired once nothing uses it.
 */
import type { SealingKey } from './contracts.js';
import type { ControllerMetrics } from './metrics.js';

/** Per-object key ids and per-key counts. */
export class KeyUsage {
  private readonly byObject = new Map<string, readonly string[]>();
  private readonly counts = new Map<string, number>();

  constructor(private readonly metrics?: ControllerMetrics) {}

  /** Records the keys that opened the object `key` (replacing what it used before). */
  set(key: string, keyIds: Iterable<string>): void {
    const next = [...new Set(keyIds)].sort();
    const previous = this.byObject.get(key);
    if (previous !== undefined && previous.length === next.length && previous.every((id, i) => id === next[i])) return;
    if (previous !== undefined) for (const id of previous) this.bump(id, -1);
    this.byObject.set(key, next);
    for (const id of next) this.bump(id, 1);
  }

  /** Forgets a deleted (or failed) object. */
  delete(key: string): void {
    const previous = this.byObject.get(key);
    if (previous === undefined) return;
    this.byObject.delete(key);
    for (const id of previous) this.bump(id, -1);
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
