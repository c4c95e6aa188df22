/**
 * The resource bounds of the verify/rotate endpoints, each a controller flag (controller/main.ts) and
 * each answered with its own status so a client knows what to do:
 *
 * - body size (`--http-max-body`, 1 MiB): 413 INPUT_TOO_LARGE, the rest of the body is not read;
 * - values per request (`--http-max-values`, 500): 413 TOO_MANY_VALUES, before any private-key work;
 * - requests in flight (`--http-max-in-flight`, 8, verify and rotate together, from the first byte of
 *   the body to the answer): 503 with Retry-After, before the body is read;
 * - RSA private-key operations (`--http-values-per-second` 50, `--http-values-burst` 500): one token
 *   bucket for both endpoints. Before the body is read it must hold the values a body of the declared
 *   length likely holds (else 429 with Retry-After, the body never read or parsed); after the parse
 *   it is charged per sealed value, and after the unseal for every extra key tried.
 *
 * - parse time of one body in the worker thread (`--http-parse-timeout`, 2 s): 400 PARSE_TIMEOUT.
 * - a 503 or early 429 is answered after a 1 s hold, at most 64 held at once (http-refusal-hold.ts).
 *
 * A request's work is also cancelled when its client goes away (http-transport.ts clientGoneSignal),
 * and runs after every reconcile in the unseal pool (unseal-pool.ts).
 */
import { KsealError } from '../src/errors.js';
import type { SealingKey } from './contracts.js';
import { DEFAULT_PARSE_DEADLINE_MS } from './body-parser.js';
import { DEFAULT_MAX_HELD_REFUSALS, DEFAULT_REFUSAL_HOLD_MS } from './http-refusal-hold.js';
import { DEFAULT_MAX_BODY_BYTES } from './http-transport.js';
import { TokenBucket, type TakeResult } from './rate-limit.js';

/** The bounds; see the module comment for the defaults and flags. */
export interface HttpLimitsConfig {
  readonly maxBodyBytes: number;
  readonly maxValues: number;
  readonly maxInFlight: number;
  readonly valuesPerSecond: number;
  readonly valuesBurst: number;
  /** Milliseconds one large body may take to parse in the worker thread. */
  readonly parseTimeoutMs: number;
  /** Milliseconds a 503/429 refusal is held before it is answered (http-refusal-hold.ts), and how many at once. */
  readonly refusalHoldMs: number;
  readonly maxHeldRefusals: number;
}

/** Safe defaults: ~50 RSA-4096 operations a second is a fifth of one core. */
export const DEFAULT_HTTP_LIMITS: HttpLimitsConfig = { maxBodyBytes: DEFAULT_MAX_BODY_BYTES, maxValues: 500, maxInFlight: 8, valuesPerSecond: 50, valuesBurst: 500, parseTimeoutMs: DEFAULT_PARSE_DEADLINE_MS, refusalHoldMs: DEFAULT_REFUSAL_HOLD_MS, maxHeldRefusals: DEFAULT_MAX_HELD_REFUSALS };

/**
 * Bytes a sealed value takes in a body (base64 of the 2-byte length, the RSA-wrapped key and the
 * 16-byte GCM tag; an empty value): 368 for RSA-2048, 708 for RSA-4096.
 */
export function sealedValueBytes(modulusBits: number): number {
  return Math.ceil((2 + Math.ceil(modulusBits / 8) + 16) / 3) * 4;
}

/** The default key size's value (RSA-4096). */
export const TYPICAL_SEALED_VALUE_BYTES = sealedValueBytes(4096);

/**
 * Bytes of the largest value one of `keys` opens (the largest key held): the early check counts the
 * values of a body as its length over this, an estimate that is exact for values sealed to that key
 * and low for values sealed to a smaller one (those are charged in full after the parse).
 */
export function sealedValueBytesOf(keys: readonly SealingKey[]): number {
  const bits = keys.map((k) => k.privateKey.asymmetricKeyDetails?.modulusLength ?? 4096);
  return bits.length === 0 ? TYPICAL_SEALED_VALUE_BYTES : sealedValueBytes(Math.max(...bits));
}

/** Seconds a client told 503 waits before retrying (requests in flight end within the request timeout). */
export const IN_FLIGHT_RETRY_AFTER_SECONDS = 1;

/** The live state of the bounds: the in-flight count and the token bucket. */
export class HttpLimits {
  readonly config: HttpLimitsConfig;
  private readonly bucket: TokenBucket;
  private active = 0;

  constructor(config: Partial<HttpLimitsConfig> = {}, now?: () => number) {
    this.config = { ...DEFAULT_HTTP_LIMITS, ...definedOnly(config) };
    this.bucket = new TokenBucket({ perSecond: this.config.valuesPerSecond, burst: this.config.valuesBurst, ...(now === undefined ? {} : { now }) });
  }

  /** Requests being handled now. */
  get inFlight(): number {
    return this.active;
  }

  /** Takes an in-flight slot; false when all are taken (answer 503). Pair each true with `leave`. */
  tryEnter(): boolean {
    if (this.active >= this.config.maxInFlight) return false;
    this.active++;
    return true;
  }

  /** Gives the slot back. */
  leave(): void {
    this.active = Math.max(0, this.active - 1);
  }

  /** Whether at least one token is there. */
  peek(): TakeResult {
    return this.bucket.check(1);
  }

  /**
   * Whether the bucket could pay, before the body is read, for the values a body of `bodyBytes`
   * likely holds (its length over `valueBytes`, sealedValueBytesOf; all of --http-max-values when the
   * length is not declared): a request it cannot pay for is refused without reading or parsing its
   * body. Takes nothing: `take` charges the real count after the parse.
   */
  admits(bodyBytes: number | undefined, valueBytes = TYPICAL_SEALED_VALUE_BYTES): TakeResult {
    const most = bodyBytes === undefined || !Number.isFinite(bodyBytes) ? this.config.maxValues : Math.floor(bodyBytes / Math.max(1, valueBytes));
    return this.bucket.check(Math.max(1, Math.min(this.config.maxValues, most)));
  }

  /** Charges `values` tokens for a request about to be unsealed. */
  take(values: number): TakeResult {
    return this.bucket.take(values);
  }

  /** Charges operations found after the fact (keys tried beyond the first). */
  charge(ops: number): void {
    this.bucket.charge(ops);
  }

  /** TOO_MANY_VALUES when a request holds more values than allowed. */
  checkValues(values: number): void {
    if (values > this.config.maxValues) {
      throw new KsealError('TOO_MANY_VALUES', `the SealedSecret holds ${values} sealed values; this controller accepts at most ${this.config.maxValues} per request (kseal-controller --http-max-values)`, {
        hint: 'split the SealedSecret, or raise --http-max-values on the controller',
      });
    }
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
