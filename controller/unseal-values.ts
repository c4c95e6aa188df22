/**
 * The main thread's share of an unseal (unseal-pool.ts): framing the sealed values before their
 * wrapped session keys go to a worker, and opening the AES-GCM payloads with the session keys the
 * workers return (AES of a small value costs microseconds, less than moving it to a thread and back).
 */
import { KsealError } from '../src/errors.js';
import { openPayload, splitSealed, type SealedParts } from '../src/crypto/hybrid.js';
import { decodeValues } from '../src/model/sealed-secret.js';

/** One sealed value, split into its wrapped session key and payload. */
export interface FramedValue {
  readonly key: string;
  readonly parts: SealedParts;
}

/** Decodes and frames every value of one ciphertext set. Throws MALFORMED_CIPHERTEXT naming the key. */
export function splitAll(encryptedData: Readonly<Record<string, string>>): FramedValue[] {
  return decodeValues(encryptedData).map(({ key, bytes }) => {
    try {
      return { key, parts: splitSealed(bytes) };
    } catch (e) {
      throw e instanceof KsealError ? e.at({ key }) : e;
    }
  });
}

/** Opens every AES-GCM payload with its session key (zeroed after use); the first failure is returned, not thrown. */
export function openAll(values: readonly FramedValue[], sessionKeys: readonly Uint8Array[]): Map<string, Buffer> | KsealError {
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
