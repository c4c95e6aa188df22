/**
 * Fixtures for the controller tests: SealedSecret objects sealed to the public test keys (as the
 * informer would deliver them), key Secrets and SealingKey entries, and a log sink that keeps every
 * line so tests can look for leaked canaries.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { SealingCertificate } from '../../src/crypto/certificate.js';
import { readSecret } from '../../src/model/secret.js';
import { sealSecret } from '../../src/model/sealed-secret.js';
import { keySecretManifest } from '../../src/model/key-secret.js';
import type { Scope } from '../../src/model/scope.js';
import type { SealingKey } from '../../controller/contracts.js';
import type { KubeObject, SecretJson } from '../../controller/kube-client.js';
import { readKeySecret } from '../../controller/key-registry.js';
import { createLogger, type Logger } from '../../controller/logger.js';
import { testKey, type TestKeyName } from '../helpers/keys.js';

export interface SealOptions {
  readonly name: string;
  readonly namespace: string;
  readonly values: Readonly<Record<string, string>>;
  readonly cert?: SealingCertificate;
  readonly scope?: Scope;
  readonly type?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly immutable?: boolean;
  /** Drop the key-id hint (as a Bitnami object has none). */
  readonly noHint?: boolean;
}

/** A kseal.dev/v1alpha1 SealedSecret as plain JSON, sealed to `cert` (the RSA-2048 test key by default). */
export function sealedObject(options: SealOptions): KubeObject & { spec: { encryptedData: Record<string, string>; template?: Record<string, unknown> } } {
  const manifest = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: options.name, namespace: options.namespace, labels: options.labels ?? {}, annotations: options.annotations ?? {} },
    type: options.type ?? 'Opaque',
    stringData: options.values,
    ...(options.immutable === undefined ? {} : { immutable: options.immutable }),
  };
  const secret = readSecret(manifest, {});
  const sealed = sealSecret(secret, options.cert ?? testKey('rsa-2048').certificate, { scope: options.scope ?? 'strict', allowEmptyData: true });
  const json = JSON.parse(JSON.stringify(sealed)) as KubeObject & { spec: { encryptedData: Record<string, string> } };
  if (options.noHint === true) delete json.metadata.annotations?.['kseal.dev/key-id'];
  return json;
}

/** Adds server fields (uid, generation, resourceVersion) as the API server would. */
export function asStored<T extends KubeObject>(obj: T, resourceVersion = '1'): T {
  return { ...obj, metadata: { ...obj.metadata, uid: randomUUID(), generation: 1, resourceVersion } };
}

/** A key Secret (JSON) holding a test key. */
export function keySecret(name: string, key: TestKeyName = 'rsa-2048', namespace = 'kseal-system'): SecretJson {
  const k = testKey(key);
  const manifest = keySecretManifest({ name, namespace, privateKeyPem: k.privateKeyPem, certificatePem: k.certificatePem }) as unknown as SecretJson;
  return { ...manifest, metadata: { ...manifest.metadata, resourceVersion: '1' } };
}

/** The SealingKey of a test key, as the registry would hold it. */
export function sealingKey(key: TestKeyName = 'rsa-2048', secretName = `key-${key}`): SealingKey {
  const r = readKeySecret(keySecret(secretName, key));
  if (!r.ok) throw new Error(r.why);
  return r.key;
}

/** A logger writing JSON lines into `lines` (debug level). */
export function captureLogger(): { logger: Logger; lines: string[]; text: () => string } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { logger: createLogger({ level: 'debug', stream }), lines, text: () => lines.join('') };
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes (then throws naming `what`). */
export async function eventually<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000, intervalMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? ` (last error: ${last.message})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** One turn of the event loop, standing in for I/O in fakes. */
export function ioTick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
