/**
 * Sealing one Secret of `kseal encrypt` into its output text, as plain data so that it runs the same
 * on the main thread or in a worker thread (cli/seal-pool.ts, cli/seal-worker.ts): a job is the
 * checked Secret, its seal options and which recipient set it is sealed for; the result is the
 * SealedSecret's text in the output format, from the library's one seal (sealSecret) and one
 * emitter (writeManifest). Texts join into the stream with joinManifests.
 */
import type { KeyObject } from 'node:crypto';
import type { ErrorLocation } from '../src/errors.js';
import { writeManifest, type OutputFormat } from '../src/manifest/write.js';
import { userRecord } from '../src/model/fields.js';
import { sealSecret, type SealOptions } from '../src/model/sealed-secret.js';
import type { SealingRecipient } from '../src/model/recipients.js';
import type { SecretInput } from '../src/model/secret.js';

/** Who a Secret is sealed for: the primary certificate's key and the other recipients. */
export interface RecipientSet {
  readonly primary: { readonly publicKey: KeyObject; readonly keyId: string };
  readonly others: readonly SealingRecipient[];
}

/** What a Secret's seal options are, besides its recipients. */
export type JobOptions = Omit<SealOptions, 'recipients'>;

/** Seals one checked Secret for `recipients` and returns its text in `format`. */
export function sealToText(secret: SecretInput, options: JobOptions, recipients: RecipientSet, format: OutputFormat): string {
  return writeManifest(sealSecret(secret, recipients.primary, { ...options, recipients: recipients.others }), format);
}

/**
 * A Secret as it crosses to a worker: the structured clone makes Buffers Uint8Arrays and
 * null-prototype records plain objects, so records travel as entries and are rebuilt.
 */
export interface SentSecret {
  readonly name: string | undefined;
  readonly namespace: string | undefined;
  readonly labels: ReadonlyArray<readonly [string, string]>;
  readonly annotations: ReadonlyArray<readonly [string, string]>;
  readonly type: string;
  readonly immutable: boolean | undefined;
  readonly data: ReadonlyArray<readonly [string, Uint8Array]>;
  readonly location: ErrorLocation;
}

/** One Secret to seal: the Secret, its options, and the id of its recipient set (sent once per worker). */
export interface SealJob {
  readonly secret: SentSecret;
  readonly options: JobOptions;
  readonly recipients: number;
}

/** The sendable form of a Secret (warnings stay on the main thread, which prints them). */
export function sentSecret(secret: SecretInput): SentSecret {
  return {
    name: secret.name,
    namespace: secret.namespace,
    labels: Object.entries(secret.labels),
    annotations: Object.entries(secret.annotations),
    type: secret.type,
    immutable: secret.immutable,
    data: [...secret.data],
    location: secret.location,
  };
}

/** The Secret back from its sendable form. */
export function receivedSecret(sent: SentSecret): SecretInput {
  const record = (entries: ReadonlyArray<readonly [string, string]>): Record<string, string> => {
    const out = userRecord();
    for (const [k, v] of entries) out[k] = v;
    return out;
  };
  const data = new Map<string, Buffer>();
  for (const [k, v] of sent.data) data.set(k, Buffer.from(v.buffer, v.byteOffset, v.byteLength));
  return { name: sent.name, namespace: sent.namespace, labels: record(sent.labels), annotations: record(sent.annotations), type: sent.type, immutable: sent.immutable, data, warnings: [], location: sent.location };
}
