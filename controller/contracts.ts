/**
 * Interfaces between the controller's parts, so each part (key registry, unseal pool, reconciler,
 * HTTP API) can be built and tested alone.
 */
import type { KeyObject } from 'node:crypto';
import type { SealedSecret } from '../src/model/sealed-secret.js';

/** One sealing key the controller holds. */
export interface SealingKey {
  readonly keyId: string;
  readonly privateKey: KeyObject;
  /** PKCS#1 PEM of the private key (what unseal workers receive). */
  readonly privateKeyPem: string;
  readonly certificatePem: string;
  /** Certificate NotBefore: the newest key seals. */
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Name of the Secret it is stored in. */
  readonly secretName: string;
}

/** Read access to the current keys; every replica has one, fed by its own watch. */
export interface KeyView {
  /** All usable keys, newest first (by certificate NotBefore). */
  list(): readonly SealingKey[];
  /** The key that seals (newest), or undefined before the first key exists. */
  newest(): SealingKey | undefined;
}

/** Outcome of unsealing all values of one SealedSecret. */
export interface UnsealOutcome {
  /** Key to plaintext bytes, sorted by key. */
  readonly data: ReadonlyMap<string, Buffer>;
  /** Key to the id of the sealing key that opened it. */
  readonly keyIds: ReadonlyMap<string, string>;
  /** RSA private-key operations spent (attempts, including failed ones). */
  readonly privateOps: number;
  /** Whose ciphertexts opened: `encryptedData`, or the spec.recipients id (docs/FORMAT.md §9.2). */
  readonly recipient: string;
}

/**
 * Unseals SealedSecrets off the main event loop. Rejects with a KsealError (MALFORMED_CIPHERTEXT,
 * DECRYPT_FAILED or AUTH_FAILED, with `key` set) when any value does not open: all or nothing.
 */
export interface Unsealer {
  unseal(sealed: SealedSecret, options?: UnsealOptions): Promise<UnsealOutcome>;
}

/** Who asks for an unseal, and until when the answer is wanted. */
export interface UnsealOptions {
  /**
   * `reconcile` (the default) always goes before `http` work in the pool, so a flood of verify and
   * rotate requests cannot delay a SealedSecret being applied.
   */
  readonly priority?: 'reconcile' | 'http';
  /** Aborted when the answer is no longer wanted (the client went away): queued work is dropped, running work stops between values. */
  readonly signal?: AbortSignal;
}
