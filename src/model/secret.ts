/**
 * Input Secrets: reading a `v1/Secret` manifest into the bytes to seal and the metadata to keep, with
 * the checks the API server would make at apply time done up front (names, key names, base64, the
 * 1 MiB limit, the keys each built-in type requires).
 *
 * Bytes follow Kubernetes: `data` values are base64-decoded, `stringData` values are taken as UTF-8,
 * and `stringData` wins when a key is in both (kubectl and Bitnami do the same; a warning says so).
 */
import { KsealError, type ErrorLocation } from '../errors.js';
import { decodeBase64 } from '../crypto/base64.js';
import { invalidNamespace, invalidObjectName, invalidSecretKey } from './names.js';
import { asRecord, describeKind, optionalBoolean, optionalString, stringMap } from './fields.js';
import { INTEGRITY_ANNOTATION, MANAGED_BY_LABEL, OWNER_UID_ANNOTATION, SPEC_HASH_ANNOTATION, UNSEALED_WITH_ANNOTATION } from '../wire.js';

/** etcd's object limit as the API server applies it to a Secret's values (`MaxSecretSize`). */
export const MAX_SECRET_BYTES = 1024 * 1024;

/**
 * Annotations never carried into a sealed object: the first two hold the whole Secret in plaintext
 * (Bitnami strips the same two); the others are the controller's own bookkeeping on the Secrets it
 * writes, which `kubectl get secret X -o yaml | kseal encrypt` would otherwise copy into the template.
 */
const DROPPED_ANNOTATIONS: readonly string[] = [
  'kubectl.kubernetes.io/last-applied-configuration',
  'kubecfg.ksonnet.io/last-applied-configuration',
  INTEGRITY_ANNOTATION,
  OWNER_UID_ANNOTATION,
  SPEC_HASH_ANNOTATION,
  UNSEALED_WITH_ANNOTATION,
];

/** Labels never carried into a sealed object: the controller sets them on the Secrets it writes. */
const DROPPED_LABELS: readonly string[] = [MANAGED_BY_LABEL];

/** Keys each built-in Secret type requires (k8s.io/api/core/v1 types.go); for basic-auth, one of the two. */
export const REQUIRED_KEYS: Readonly<Record<string, { readonly all?: readonly string[]; readonly oneOf?: readonly string[] }>> = {
  'kubernetes.io/tls': { all: ['tls.crt', 'tls.key'] },
  'kubernetes.io/dockerconfigjson': { all: ['.dockerconfigjson'] },
  'kubernetes.io/dockercfg': { all: ['.dockercfg'] },
  'kubernetes.io/basic-auth': { oneOf: ['username', 'password'] },
  'kubernetes.io/ssh-auth': { all: ['ssh-privatekey'] },
};

/** A Secret read from a manifest: everything sealing needs, values as bytes, maps sorted by key. */
export interface SecretInput {
  readonly name: string | undefined;
  readonly namespace: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly type: string;
  readonly immutable: boolean | undefined;
  /** Key to plaintext bytes, sorted by key. */
  readonly data: ReadonlyMap<string, Buffer>;
  /** Things worth telling the user that are not errors. */
  readonly warnings: readonly string[];
  readonly location: ErrorLocation;
}

/** Reads and checks one manifest object as a Secret. Throws NOT_A_SECRET for other kinds. */
export function readSecret(value: unknown, location: ErrorLocation): SecretInput {
  const obj = asRecord(value, 'the document', location);
  if (obj.kind !== 'Secret') {
    throw new KsealError('NOT_A_SECRET', `expected a Secret but found ${describeKind(obj)}`, { ...location, hint: 'kseal encrypt seals kind: Secret (v1) documents' });
  }
  if (obj.apiVersion !== 'v1') {
    throw new KsealError('INVALID_FIELD', `a Secret's apiVersion must be "v1", not ${JSON.stringify(obj.apiVersion ?? null)}`, location);
  }
  const metadata = obj.metadata === undefined ? {} : asRecord(obj.metadata, 'metadata', location);
  const name = optionalString(metadata.name, 'metadata.name', location);
  const namespace = optionalString(metadata.namespace, 'metadata.namespace', location);
  const labels = stringMap(metadata.labels, 'metadata.labels', location);
  for (const dropped of DROPPED_LABELS) delete labels[dropped];
  const annotations = stringMap(metadata.annotations, 'metadata.annotations', location);
  for (const dropped of DROPPED_ANNOTATIONS) delete annotations[dropped];
  const type = optionalString(obj.type, 'type', location) ?? 'Opaque';
  const immutable = optionalBoolean(obj.immutable, 'immutable', location);

  const warnings: string[] = [];
  const bytes = new Map<string, Buffer>();
  const data = stringMap(obj.data, 'data', location);
  for (const [key, encoded] of Object.entries(data)) {
    checkKey(key, location);
    const decoded = decodeBase64(encoded);
    if (decoded === undefined) {
      throw new KsealError('INVALID_BASE64', 'the value in data is not valid base64', { ...location, key, hint: 'put plain text under stringData instead, or encode it with base64 -w0' });
    }
    bytes.set(key, decoded);
  }
  const stringData = stringMap(obj.stringData, 'stringData', location);
  for (const [key, text] of Object.entries(stringData)) {
    checkKey(key, location);
    if (bytes.has(key)) warnings.push(`key ${JSON.stringify(key)} is in both data and stringData; the stringData value is sealed, as Kubernetes would keep it`);
    bytes.set(key, Buffer.from(text, 'utf8'));
    if (/\{\{.*\}\}/s.test(text)) warnings.push(`stringData key ${JSON.stringify(key)} holds a {{ … }} template placeholder, which is sealed literally (kseal lint rule KS301)`);
  }
  return {
    name,
    namespace,
    labels: sortedRecord(labels),
    annotations: sortedRecord(annotations),
    type,
    immutable,
    data: new Map([...bytes.entries()].sort(([a], [b]) => compareKeys(a, b))),
    warnings,
    location,
  };
}

/** Why a Secret's name or namespace (when present) is not valid, or undefined when both are. */
export function secretNamesError(name: string | undefined, namespace: string | undefined, location: ErrorLocation): KsealError | undefined {
  const badName = name === undefined ? undefined : invalidObjectName(name);
  if (badName !== undefined) return new KsealError('INVALID_NAME', `the name ${JSON.stringify(name)} is not valid: it ${badName}`, location);
  const badNamespace = namespace === undefined ? undefined : invalidNamespace(namespace);
  if (badNamespace !== undefined) return new KsealError('INVALID_NAMESPACE', `the namespace ${JSON.stringify(namespace)} is not valid: it ${badNamespace}`, location);
  return undefined;
}

/** Checks a Secret's name and namespace syntax (when present); throws secretNamesError's error. */
export function checkSecretNames(name: string | undefined, namespace: string | undefined, location: ErrorLocation): void {
  const error = secretNamesError(name, namespace, location);
  if (error !== undefined) throw error;
}

/** Why a Secret's contents cannot be sealed (empty unless allowed, over 1 MiB, a required key of its type missing), or undefined. */
export function secretContentError(secret: SecretInput, options: { readonly allowEmptyData?: boolean } = {}): KsealError | undefined {
  const location = secret.location;
  if (secret.data.size === 0 && options.allowEmptyData !== true) {
    return new KsealError('EMPTY_DATA', 'the Secret has no data or stringData to seal', { ...location, hint: 'add values, or pass --allow-empty-data to seal it empty on purpose' });
  }
  let total = 0;
  for (const value of secret.data.values()) total += value.length;
  if (total > MAX_SECRET_BYTES) {
    return new KsealError('SECRET_TOO_LARGE', `the Secret's values add up to ${total} bytes; Kubernetes allows at most ${MAX_SECRET_BYTES} (1 MiB)`, { ...location, hint: 'split it into several Secrets' });
  }
  const required = Object.hasOwn(REQUIRED_KEYS, secret.type) ? REQUIRED_KEYS[secret.type] : undefined;
  if (required !== undefined) {
    for (const key of required.all ?? []) {
      if (!secret.data.has(key)) return new KsealError('MISSING_REQUIRED_KEY', `a ${secret.type} Secret needs the key ${JSON.stringify(key)}`, { ...location, hint: `add ${key} under data or stringData` });
    }
    if (required.oneOf !== undefined && !required.oneOf.some((k) => secret.data.has(k))) {
      return new KsealError('MISSING_REQUIRED_KEY', `a ${secret.type} Secret needs at least one of the keys ${required.oneOf.map((k) => JSON.stringify(k)).join(', ')}`, location);
    }
  }
  return undefined;
}

/** Checks the contents of a Secret; throws secretContentError's error. */
export function checkSecretContent(secret: SecretInput, options: { readonly allowEmptyData?: boolean } = {}): void {
  const error = secretContentError(secret, options);
  if (error !== undefined) throw error;
}

function checkKey(key: string, location: ErrorLocation): void {
  const why = invalidSecretKey(key);
  if (why) throw new KsealError('INVALID_KEY_NAME', `the key name is not valid: it ${why}`, { ...location, key });
}

/** Code-point order, the same on every machine (what Go's sort and kubectl's output use). */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Returns a copy of `record` with its keys in sorted order. */
export function sortedRecord<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  // fromEntries defines own properties, so a key named `__proto__` stays a key.
  return Object.fromEntries(Object.keys(record).sort(compareKeys).map((key) => [key, record[key] as T]));
}
