/**
 * What makes a restart free: each Secret the controller writes carries the hash of the SealedSecret
 * content it came from (`kseal.dev/spec-hash`) and an HMAC over what was written
 * (`kseal.dev/integrity`). When both still match, the Secret already holds exactly what unsealing
 * would produce, and the reconcile costs no private-key operation and no write. A hand-edited value
 * fails the HMAC and is restored.
 *
 * The HMAC key is derived (HKDF-SHA256) from a sealing key's private key, so every replica and every
 * restart computes the same one and nobody without the private key can forge it; the annotation
 * names the sealing key it was derived from (first 16 hex digits of its id), so adding keys changes
 * nothing and only retiring that key costs a fresh unseal. No extra Secret to store or lose.
 */
import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { sortedRecord } from '../src/model/secret.js';
import { isKsealError, type KsealError } from '../src/errors.js';
import { readSealedSecret, sealedSecretScope, type SealedSecret } from '../src/model/sealed-secret.js';
import type { SealingKey } from './contracts.js';

const HKDF_INFO = 'kseal.dev/secret-integrity/v1';
const derived = new WeakMap<SealingKey, Buffer>();

/** Length of the key id prefix that names the HMAC key. */
const KEY_REF_LENGTH = 16;

/**
 * SHA-256 (hex) of everything in a SealedSecret that shapes its Secret: API version, name,
 * namespace, scope, encrypted values (of every cluster recipient) and template. Key order does not matter.
 */
export function specHash(sealed: SealedSecret): string {
  const template = sealed.spec.template ?? {};
  const canonical = {
    apiVersion: sealed.apiVersion,
    name: sealed.metadata.name,
    namespace: sealed.metadata.namespace ?? '',
    scope: sealedSecretScope(sealed),
    encryptedData: sortedRecord(sealed.spec.encryptedData),
    template: {
      labels: sortedRecord(template.metadata?.labels ?? {}),
      annotations: sortedRecord(template.metadata?.annotations ?? {}),
      type: template.type ?? null,
      immutable: template.immutable ?? null,
      data: sortedRecord(template.data ?? {}),
    },
    // Only when present, so the hash of a one-recipient object is what it always was. Escrow
    // entries do not shape the Secret and are left out.
    ...(sealed.spec.recipients?.some((r) => r.kind === 'cluster') === true
      ? { recipients: sealed.spec.recipients.filter((r) => r.kind === 'cluster').map((r) => ({ id: r.id, encryptedData: sortedRecord(r.encryptedData) })) }
      : {}),
  };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

/** The HMAC key derived from a sealing key (cached per key object). */
function integrityKey(key: SealingKey): Buffer {
  let secret = derived.get(key);
  if (secret === undefined) {
    const der = key.privateKey.export({ type: 'pkcs1', format: 'der' });
    secret = Buffer.from(hkdfSync('sha256', der, Buffer.alloc(0), HKDF_INFO, 32));
    derived.set(key, secret);
  }
  return secret;
}

/** What the HMAC covers. `data` holds base64 values as they are in the Secret. */
export interface IntegrityInput {
  readonly specHash: string;
  readonly ownerUid: string;
  /** Ids of the keys that opened the values. */
  readonly keyIds: readonly string[];
  /** The keys the controller wrote, with their base64 values. */
  readonly data: Readonly<Record<string, string>>;
}

function mac(secret: Buffer, input: IntegrityInput): Buffer {
  const h = createHmac('sha256', secret);
  h.update(`kseal-integrity-v1\n${input.specHash}\n${input.ownerUid}\n${[...input.keyIds].sort().join(',')}\n`);
  for (const key of Object.keys(input.data).sort()) h.update(`${key}\0${input.data[key] ?? ''}\n`);
  return h.digest();
}

/** The `kseal.dev/integrity` annotation value, keyed by `key` (normally the newest). */
export function integrityAnnotation(key: SealingKey, input: IntegrityInput): string {
  return `${key.keyId.slice(0, KEY_REF_LENGTH)}:${mac(integrityKey(key), input).toString('hex')}`;
}

/** True when `annotation` is a valid HMAC of `input` under one of `keys`. */
export function verifyIntegrity(annotation: string | undefined, keys: readonly SealingKey[], input: IntegrityInput): boolean {
  if (annotation === undefined) return false;
  const colon = annotation.indexOf(':');
  if (colon !== KEY_REF_LENGTH) return false;
  const ref = annotation.slice(0, colon);
  const given = Buffer.from(annotation.slice(colon + 1), 'hex');
  const key = keys.find((k) => k.keyId.startsWith(ref));
  if (key === undefined || given.length !== 32) return false;
  return timingSafeEqual(given, mac(integrityKey(key), input));
}

/**
 * Reads a watched SealedSecret and its spec hash, returning the input error instead of throwing, so
 * both reconcilers (kseal's and the Bitnami adoption's) turn a bad spec into InvalidSpec the same way.
 */
export function readSealedSpec(obj: unknown): { readonly sealed: SealedSecret; readonly hash: string } | { readonly error: KsealError } {
  try {
    const sealed = readSealedSecret(obj, {});
    return { sealed, hash: specHash(sealed) };
  } catch (e) {
    if (!isKsealError(e)) throw e;
    return { error: e };
  }
}
