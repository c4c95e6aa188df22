/**
 * Key choice: every policy for which sealing key to use or try, in one place, so the CLI's
 * `decrypt`, the controller's unseal workers, its HTTP API and its key manager agree.
 *
 * - The newest key seals: newest by certificate NotBefore (ties: Secret name), as Bitnami.
 * - Unsealing tries the key named by the object's key-id hint first, then the others newest first.
 * - Within one object, the key that opened the previous value is tried first for the next one (the
 *   values of one object are nearly always sealed with the same key), so a missing or stale hint costs
 *   extra private-key operations only on the first value.
 * - Keys from several sources (Bitnami adoption: Bitnami's active keys, its compromised ones, then
 *   kseal's own) are tried source by source, each newest first, each key once (`trialOrderOfSources`):
 *   Bitnami's first, because kubeseal objects carry no key-id hint.
 * - A new key is due when there is none, when the newest is older than the renewal period, or when
 *   a cut-off time has passed and the newest key predates it.
 */
import { KEY_ID_ANNOTATION } from '../wire.js';

/** What key choice needs to know of a key. */
export interface ChoosableKey {
  readonly keyId: string;
}

/** What the age-based policies need: when the certificate starts, and a name to break ties. */
export interface DatedKey extends ChoosableKey {
  readonly notBefore: Date;
  readonly secretName?: string;
}

/** Orders keys newest first (NotBefore descending, then Secret name ascending). */
export function newestFirst(a: DatedKey, b: DatedKey): number {
  const an = a.secretName ?? '';
  const bn = b.secretName ?? '';
  return b.notBefore.getTime() - a.notBefore.getTime() || (an < bn ? -1 : an > bn ? 1 : 0);
}

/** Orders keys so that the one named by the object's key-id hint is tried first; the rest keep their order. */
export function orderKeysByHint<T extends ChoosableKey>(sealed: { readonly metadata: { readonly annotations?: Readonly<Record<string, string>> | undefined } }, keys: readonly T[]): T[] {
  return orderKeysById(sealed.metadata.annotations?.[KEY_ID_ANNOTATION], keys);
}

/**
 * Orders keys so that the ones named by `hint` are tried first, in its order; the rest keep theirs.
 * The hint is one key id, or several separated by commas when values were sealed with different
 * certificates (`encrypt --merge-into` with a newer certificate).
 */
export function orderKeysById<T extends ChoosableKey>(hint: string | undefined, keys: readonly T[]): T[] {
  if (hint === undefined) return [...keys];
  const named = hint.split(',').map((h) => h.trim()).filter((h) => h !== '');
  const first = named.flatMap((id) => keys.filter((k) => k.keyId === id));
  return [...first, ...keys.filter((k) => !named.includes(k.keyId))];
}

/**
 * Tries keys for the values of one object: the first value in the given order, every later value
 * with the key that last succeeded first (sticky last-success order).
 */
export class KeyTrialOrder<T> {
  private last: T | undefined;

  constructor(private readonly ordered: readonly T[]) {}

  /** The keys to try for the next value, in order. */
  tries(): readonly T[] {
    const last = this.last;
    return last === undefined ? this.ordered : [last, ...this.ordered.filter((k) => k !== last)];
  }

  /** Records the key that opened a value. */
  succeeded(key: T): void {
    this.last = key;
  }
}

/** Why a new key is due. */
export type KeyDue = 'none' | 'renewal' | 'cutoff';

/**
 * Decides whether a new key is due for `keys` (newest first) at `now`: none yet; the newest is
 * older than `renewPeriodMs` (0 never renews); or `cutoff` has passed and the newest predates it.
 */
export function keyDue(keys: readonly DatedKey[], now: Date, renewPeriodMs: number, cutoff: Date | undefined): KeyDue | undefined {
  const newest = keys[0];
  if (newest === undefined) return 'none';
  if (cutoff !== undefined && cutoff.getTime() <= now.getTime() && newest.notBefore.getTime() < cutoff.getTime()) return 'cutoff';
  if (renewPeriodMs > 0 && now.getTime() - newest.notBefore.getTime() >= renewPeriodMs) return 'renewal';
  return undefined;
}

/** Milliseconds until the next renewal of the newest key is due (negative when overdue); undefined when renewal is off or there is no key. */
export function renewalDueInMs(keys: readonly DatedKey[], now: Date, renewPeriodMs: number): number | undefined {
  const newest = keys[0];
  if (newest === undefined || renewPeriodMs <= 0) return undefined;
  return newest.notBefore.getTime() + renewPeriodMs - now.getTime();
}

/**
 * The keys of `sources` in trial order: source by source as given, each newest first, a key that
 * appears in several sources only at its first place. The one rule behind the adoption mode's
 * combined key list (controller/bitnami-keys.ts).
 */
export function trialOrderOfSources<T extends DatedKey>(sources: readonly (readonly T[])[]): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const source of sources) {
    for (const key of [...source].sort(newestFirst)) {
      if (seen.has(key.keyId)) continue;
      seen.add(key.keyId);
      out.push(key);
    }
  }
  return out;
}
