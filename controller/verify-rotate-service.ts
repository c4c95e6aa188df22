/**
 * The verify/rotate service behind `POST /v1/verify` and `POST /v1/rotate`: reads the one SealedSecret
 * of a request body, unseals it through the Unsealer (the worker pool, at HTTP priority, cancellable)
 * and, for rotate, re-seals it to the newest key. No HTTP here: handlers (http-handlers.ts) turn the
 * outcomes and KsealErrors into statuses.
 *
 * Plaintext exists only inside `rotate`, between the Unsealer and `resealSealedSecret`, and is zeroed
 * afterwards; `verify` zeroes it at once. Each unseal counts in kseal_unseal_requests_total; its RSA
 * operations count once, in the pool, in kseal_private_key_operations_total.
 */
import type { KeyObject } from 'node:crypto';
import { ERROR_CODES, isKsealError, KsealError, type ErrorCode } from '../src/errors.js';
import { parseCertificate } from '../src/crypto/certificate.js';
import { writeManifests } from '../src/manifest/write.js';
import { resealSealedSecret } from '../src/model/reseal.js';
import { readSealedSecret, sealedSecretLabel, secretFromTemplate, type SealedSecret } from '../src/model/sealed-secret.js';
import type { KeyView, SealingKey, UnsealOptions, Unsealer, UnsealOutcome } from './contracts.js';
import type { ControllerMetrics } from './metrics.js';
import type { Format } from './http-transport.js';
import { parseRequestBody } from './body-parser.js';

/** Codes that mean "this controller cannot unseal it" (answered 409 without a reason). */
export const DECRYPT_CODES: ReadonlySet<ErrorCode> = new Set(
  (Object.keys(ERROR_CODES) as ErrorCode[]).filter((c) => ERROR_CODES[c] === 'decrypt' || c === 'NO_PRIVATE_KEYS'),
);

/** One SealedSecret read from a request body, with the format it came in. */
export interface ParsedSealed {
  readonly sealed: SealedSecret;
  readonly format: Format;
  /** Number of sealed values: each costs at least one RSA private-key operation. */
  readonly values: number;
}

/** JSON when the first byte after whitespace (and a UTF-8 byte order mark) opens an object or array. */
function formatOf(body: Buffer): Format {
  const lead = body.findIndex((b) => b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0xef && b !== 0xbb && b !== 0xbf);
  return body[lead] === 0x7b || body[lead] === 0x5b ? 'json' : 'yaml';
}

/** What the service needs from the controller. */
export interface VerifyRotateDeps {
  readonly keys: KeyView;
  readonly unsealer: Unsealer;
  readonly metrics: ControllerMetrics;
}

/** Verify and rotate, independent of HTTP. */
export class VerifyRotateService {
  private readonly publicKeys = new PublicKeyCache();

  constructor(private readonly deps: VerifyRotateDeps) {}

  /**
   * Reads exactly one SealedSecret from a body (YAML or JSON, UTF-8) and checks that its scope is
   * complete, before any key is tried. Rejects with input KsealErrors (PARSE_TIMEOUT past the
   * deadline), or with the signal's reason when it aborts. A large body is parsed in a worker thread
   * (body-parser.ts), so the event loop is not blocked by it.
   */
  async parse(body: Buffer, options: { readonly signal?: AbortSignal | undefined } = {}): Promise<ParsedSealed> {
    const objects = await parseRequestBody(body, options);
    const first = objects[0];
    if (first === undefined) throw new KsealError('NO_DOCUMENTS', 'the request body holds no object; send one SealedSecret');
    if (objects.length > 1 || first.location.item !== undefined) {
      throw new KsealError('USAGE', 'the request body holds more than one object; send exactly one SealedSecret per request');
    }
    const sealed = readSealedSecret(first.value, {});
    sealedSecretLabel(sealed);
    return { sealed, format: formatOf(body), values: countValues(sealed) };
  }

  /** True once there is a key to re-seal to. */
  hasKey(): boolean {
    return this.deps.keys.newest() !== undefined;
  }

  /**
   * Checks that every value unseals (and that the template makes a Secret, before any private-key
   * work). Throws a decrypt or input KsealError when not; returns the RSA operations spent.
   */
  async verify(sealed: SealedSecret, options: UnsealOptions = {}): Promise<number> {
    secretFromTemplate(sealed, new Map());
    const outcome = await this.unseal(sealed, options);
    wipe(outcome);
    return outcome.privateOps;
  }

  /**
   * Re-seals the SealedSecret to the newest key (same scope, name, namespace), serialised in `format`.
   * Throws a decrypt or input KsealError when it does not unseal, NO_PRIVATE_KEYS without a key.
   */
  async rotate(sealed: SealedSecret, format: Format, options: UnsealOptions = {}): Promise<{ body: string; privateOps: number }> {
    const newest = this.deps.keys.newest();
    if (newest === undefined) throw new KsealError('NO_PRIVATE_KEYS', 'the controller has no sealing key yet');
    const outcome = await this.unseal(sealed, options);
    let rotated: SealedSecret;
    try {
      rotated = resealSealedSecret(sealed, outcome.data, { publicKey: this.publicKeys.get(newest), keyId: newest.keyId }, outcome.recipient);
    } finally {
      wipe(outcome);
    }
    return { body: writeManifests([rotated], format), privateOps: outcome.privateOps };
  }

  private async unseal(sealed: SealedSecret, options: UnsealOptions): Promise<UnsealOutcome> {
    this.deps.metrics.unsealRequests.inc();
    // RSA operations are counted once, by the pool that does them (onPrivateOps), not here again.
    return this.deps.unsealer.unseal(sealed, { priority: 'http', ...options });
  }
}

/** True when a KsealError means "cannot be unsealed here" (409) rather than a bad request (400). */
export function isUnsealFailure(e: unknown): boolean {
  return isKsealError(e) && DECRYPT_CODES.has(e.code);
}

/** Number of sealed values of a SealedSecret (encryptedData entries). */
function countValues(sealed: SealedSecret): number {
  return Object.keys(sealed.spec.encryptedData).length;
}

/** Overwrites plaintext buffers once they are no longer needed. */
function wipe(outcome: UnsealOutcome): void {
  for (const bytes of outcome.data.values()) bytes.fill(0);
}

/** The public key of the newest certificate, parsed once per key id. */
class PublicKeyCache {
  private keyId: string | undefined;
  private key: KeyObject | undefined;

  get(sealingKey: SealingKey): KeyObject {
    if (this.key === undefined || this.keyId !== sealingKey.keyId) {
      this.key = parseCertificate(sealingKey.certificatePem, { skipValidity: true }).publicKey;
      this.keyId = sealingKey.keyId;
    }
    return this.key;
  }
}
