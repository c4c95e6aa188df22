/**
 * The key registry: every replica's view of the sealing keys, fed live by a watch on the key Secrets
 * (`kubernetes.io/tls` Secrets labelled `kseal.dev/sealing-key: active` in the controller's
 * namespace). Keys added, changed, relabelled or deleted by people take effect at once, without a
 * restart (Bitnami #414). Implements KeyView for the HTTP API and the unseal pool.
 *
 * A key Secret that does not hold a usable pair (no tls.key/tls.crt, unparsable, certificate not
 * matching the key) is left out with a warning naming the Secret, never its content. The same key in
 * two Secrets counts once. Newest first by certificate NotBefore; the newest seals. A Secret written
 * from a SealedSecret (managed-by label, owner-uid annotation or a SealedSecret ownerReference) is
 * never a key, whatever its labels (key-guard.ts): a SealedSecret cannot plant a sealing key.
 */
import { decodeBase64 } from '../src/crypto/base64.js';
import { parseCertificate } from '../src/crypto/certificate.js';
import { parsePrivateKeysPem } from '../src/crypto/private-key.js';
import { isKsealError } from '../src/errors.js';
import { newestFirst } from '../src/model/key-choice.js';
import type { KeyView, SealingKey } from './contracts.js';
import { writtenFromSealedSecret } from './key-guard.js';
import type { SecretJson } from './kube-client.js';
import type { Logger } from './logger.js';

/** Result of reading one key Secret. */
export type KeySecretResult = { readonly ok: true; readonly key: SealingKey } | { readonly ok: false; readonly why: string };

/** Reads the sealing key held by a key Secret. Never throws; never puts key material in `why`. */
export function readKeySecret(secret: SecretJson): KeySecretResult {
  const name = secret.metadata.name;
  if (writtenFromSealedSecret(secret)) return { ok: false, why: 'it was written by the controller from a SealedSecret, so it is not a sealing key' };
  const crtText = secret.data?.['tls.crt'];
  const keyText = secret.data?.['tls.key'];
  if (crtText === undefined || keyText === undefined) return { ok: false, why: 'it has no tls.crt and tls.key' };
  const crt = decodeBase64(crtText);
  const pem = decodeBase64(keyText);
  if (crt === undefined || pem === undefined) return { ok: false, why: 'tls.crt or tls.key is not valid base64' };
  try {
    const certificate = parseCertificate(crt, { skipValidity: true, source: name });
    const [entry] = parsePrivateKeysPem(pem.toString('utf8'), name);
    if (entry === undefined) return { ok: false, why: 'tls.key holds no private key' };
    if (entry.keyId !== certificate.keyId) return { ok: false, why: 'the certificate in tls.crt is not for the key in tls.key' };
    return {
      ok: true,
      key: {
        keyId: entry.keyId,
        privateKey: entry.key,
        privateKeyPem: pem.toString('utf8'),
        certificatePem: certificate.pem,
        notBefore: certificate.notBefore,
        notAfter: certificate.notAfter,
        secretName: name,
      },
    };
  } catch (e) {
    return { ok: false, why: isKsealError(e) ? `${e.code}: ${e.message}` : 'it cannot be parsed' };
  }
}

/** The live key set (see the module comment). */
export class KeyRegistry implements KeyView {
  private readonly bySecret = new Map<string, { readonly resourceVersion: string | undefined; readonly key: SealingKey | undefined }>();
  private current: readonly SealingKey[] = Object.freeze([]);
  private readonly listeners = new Set<(keys: readonly SealingKey[]) => void>();

  constructor(private readonly logger: Logger) {}

  /** Adds or updates the key held by a key Secret. */
  upsert(secret: SecretJson): void {
    const name = secret.metadata.name;
    const rv = secret.metadata.resourceVersion;
    const known = this.bySecret.get(name);
    if (known !== undefined && rv !== undefined && known.resourceVersion === rv) return;
    const result = readKeySecret(secret);
    if (!result.ok) this.logger.warn('key Secret ignored', { secret: name, why: result.why });
    this.bySecret.set(name, { resourceVersion: rv, key: result.ok ? result.key : undefined });
    this.rebuild();
  }

  /** Forgets the key held by a deleted (or relabelled) key Secret. */
  remove(secret: SecretJson): void {
    if (this.bySecret.delete(secret.metadata.name)) this.rebuild();
  }

  /** All usable keys, newest first. The same array is returned until the set changes. */
  list(): readonly SealingKey[] {
    return this.current;
  }

  newest(): SealingKey | undefined {
    return this.current[0];
  }

  /** The key with this id. */
  get(keyId: string): SealingKey | undefined {
    return this.current.find((k) => k.keyId === keyId);
  }

  /** Calls `listener` after every change of the key set; returns an unsubscribe function. */
  onChange(listener: (keys: readonly SealingKey[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private rebuild(): void {
    const byId = new Map<string, SealingKey>();
    const ordered = [...this.bySecret.values()].flatMap((e) => (e.key === undefined ? [] : [e.key])).sort(newestFirst);
    for (const key of ordered) if (!byId.has(key.keyId)) byId.set(key.keyId, key);
    const next = [...byId.values()];
    const same = next.length === this.current.length && next.every((k, i) => k === this.current[i]);
    if (same) return;
    this.current = Object.freeze(next);
    this.logger.info('sealing keys changed', { keys: next.length, newest: next[0]?.keyId.slice(0, 16) ?? null });
    for (const listener of this.listeners) listener(this.current);
  }
}
