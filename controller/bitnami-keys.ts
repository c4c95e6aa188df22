/**
 * Bitnami's sealing keys, read live and never written: `kubernetes.io/tls` Secrets in
 * `--bitnami-key-namespace` (kube-system by default) labelled
 * `sealedsecrets.bitnami.com/sealed-secrets-key` — `active` keys open and may seal, `compromised`
 * keys only open (Bitnami's rule). The controller only lists and watches them; it never relabels,
 * updates or deletes one, so Bitnami's controller finds them as it left them.
 *
 * CombinedKeys is the key view the rest of the controller uses: kseal's own keys plus Bitnami's.
 * Which one seals (and is served at /v1/cert.pem) is `--sealing-key-source`:
 * - `kseal` (default): kseal's newest key. kseal renews it; values sealed after the move open only
 *   where kseal's keys are (copy them to Bitnami's namespace before going back).
 * - `bitnami`: Bitnami's newest active key. Everything sealed stays openable by Bitnami's controller
 *   (the way back is free), but nobody renews that key while Bitnami is scaled down.
 * For opening, Bitnami's keys are tried first (objects sealed by kubeseal carry no key-id hint, and
 * kseal's own objects name their key), so an adopted object costs one private-key operation per value.
 */
import { trialOrderOfSources } from '../src/model/key-choice.js';
import { BITNAMI_SEALING_KEY_LABEL, SEALING_KEY_ACTIVE } from '../src/wire.js';
import type { KeyView, SealingKey } from './contracts.js';
import { KeyRegistry } from './key-registry.js';
import type { SecretJson } from './kube-client.js';
import type { Logger } from './logger.js';

/** Bitnami's label value for a key that opens but never seals. */
const BITNAMI_KEY_COMPROMISED = 'compromised';
/** Label selector of the Bitnami key informer (every value; routed by value). */
export const BITNAMI_KEY_SELECTOR = BITNAMI_SEALING_KEY_LABEL;

export type SealingKeySource = 'kseal' | 'bitnami';
export const SEALING_KEY_SOURCES: readonly SealingKeySource[] = ['kseal', 'bitnami'];

/** Bitnami's key Secrets, split by label value. */
export class BitnamiKeys {
  readonly active: KeyRegistry;
  readonly compromised: KeyRegistry;

  constructor(logger: Logger) {
    this.active = new KeyRegistry(logger.child({ keys: 'bitnami-active' }));
    this.compromised = new KeyRegistry(logger.child({ keys: 'bitnami-compromised' }));
  }

  /** Adds, updates or (on a label change) moves the key of a Bitnami key Secret. */
  upsert(secret: SecretJson): void {
    const value = secret.metadata.labels?.[BITNAMI_SEALING_KEY_LABEL];
    if (value === SEALING_KEY_ACTIVE) {
      this.compromised.remove(secret);
      this.active.upsert(secret);
    } else if (value === BITNAMI_KEY_COMPROMISED) {
      this.active.remove(secret);
      this.compromised.upsert(secret);
    } else this.remove(secret);
  }

  remove(secret: SecretJson): void {
    this.active.remove(secret);
    this.compromised.remove(secret);
  }
}

/** kseal's keys and (when adopting) Bitnami's, as one KeyView (see the module comment). */
export class CombinedKeys implements KeyView {
  private current: readonly SealingKey[] = Object.freeze([]);
  private readonly listeners = new Set<(keys: readonly SealingKey[]) => void>();

  constructor(
    readonly own: KeyRegistry,
    readonly bitnami: BitnamiKeys | undefined,
    private readonly source: SealingKeySource = 'kseal',
  ) {
    const rebuild = (): void => this.rebuild();
    own.onChange(rebuild);
    bitnami?.active.onChange(rebuild);
    bitnami?.compromised.onChange(rebuild);
    this.rebuild();
  }

  /** Every key that may open a value: Bitnami active, Bitnami compromised, then kseal's (each newest first). */
  list(): readonly SealingKey[] {
    return this.current;
  }

  /** The key that seals and is served (never a compromised one). */
  newest(): SealingKey | undefined {
    return this.source === 'bitnami' ? this.bitnami?.active.newest() : this.own.newest();
  }

  get(keyId: string): SealingKey | undefined {
    return this.current.find((k) => k.keyId === keyId);
  }

  /** Calls `listener` after every change of the key set; returns an unsubscribe function. */
  onChange(listener: (keys: readonly SealingKey[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private rebuild(): void {
    // Bitnami's keys first (kubeseal objects carry no hint): the policy lives in key-choice.ts.
    const next = trialOrderOfSources([this.bitnami?.active.list() ?? [], this.bitnami?.compromised.list() ?? [], this.own.list()]);
    const same = next.length === this.current.length && next.every((k, i) => k === this.current[i]);
    if (same) return;
    this.current = Object.freeze(next);
    for (const listener of this.listeners) listener(this.current);
  }
}
