/**
 * The SealedSecret object: building one from a Secret (sealing) and opening one back into the Secret
 * the controller would write (unsealing).
 *
 * Two API versions are understood: kseal's own `kseal.dev/v1alpha1` (scope in `kseal.dev/scope`) and
 * Bitnami's `bitnami.com/v1alpha1` (scope in `sealedsecrets.bitnami.com/*-wide` annotations), so
 * objects move both ways. Scope, name and namespace always come from the object's own metadata, never
 * from its template: a template cannot widen the scope or redirect the Secret.
 */
import { definedOnly, KsealError, type ErrorLocation } from '../errors.js';
import { decodeBase64, encodeBase64 } from '../crypto/base64.js';
import { unsealBytes } from '../crypto/hybrid.js';
import type { SealingCertificate } from '../crypto/certificate.js';
import type { PrivateKeyEntry } from '../crypto/private-key.js';
import { readScopeAnnotations, SCOPE_ANNOTATIONS, scopeFromAnnotations, scopeLabel, type Scope } from './scope.js';
import { checkSecretContent, checkSecretNames, compareKeys, sortedRecord, type SecretInput } from './secret.js';
import { asRecord, describeKind, optionalBoolean, optionalString, stringMap, userRecord } from './fields.js';
import { invalidSecretKey } from './names.js';
import { KeyTrialOrder, orderKeysById } from './key-choice.js';
import { PRIMARY_RECIPIENT, readRecipientEntries, recipientEntries, sealForRecipients, uniqueRecipients, type RecipientEntry, type SealingRecipient } from './recipients.js';
import { BITNAMI_API_VERSION, BITNAMI_CLUSTER_WIDE, BITNAMI_NAMESPACE_WIDE, KEY_ID_ANNOTATION, KSEAL_API_VERSION, SCOPE_ANNOTATION } from '../wire.js';

export const API_VERSIONS = [KSEAL_API_VERSION, BITNAMI_API_VERSION] as const;
export type SealedApiVersion = (typeof API_VERSIONS)[number];

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface SecretTemplate {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  type?: string;
  immutable?: boolean;
  /** Bitnami only: extra plain data for the Secret; values that are Go templates are not supported. */
  data?: Record<string, string>;
}

/** A SealedSecret as kseal writes and reads it (unknown fields of read objects are dropped). */
export interface SealedSecret {
  apiVersion: SealedApiVersion;
  kind: 'SealedSecret';
  metadata: ObjectMeta;
  spec: { encryptedData: Record<string, string>; template?: SecretTemplate; recipients?: RecipientEntry[] };
}

/** The plain Secret an unsealed SealedSecret becomes. */
export interface SecretObject {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  type: string;
  immutable?: boolean;
  data: Record<string, string>;
}

export interface SealOptions {
  readonly scope: Scope;
  readonly apiVersion?: SealedApiVersion | undefined;
  readonly allowEmptyData?: boolean | undefined;
  /** Recipients besides `cert` (more clusters, escrow identities); kseal.dev/v1alpha1 only. */
  readonly recipients?: readonly SealingRecipient[] | undefined;
}

/**
 * Seals every value of `secret` to `cert` under `scope` and returns the SealedSecret, with sorted
 * keys so that output is stable. Checks names, content and that the scope has what it needs.
 * Only the certificate's key and key id are used (a worker thread gets just those).
 */
export function sealSecret(secret: SecretInput, cert: Pick<SealingCertificate, 'publicKey' | 'keyId'>, options: SealOptions): SealedSecret {
  const { name, namespace, label } = checkSealable(secret, options);
  const others = uniqueRecipients(options.recipients ?? []).filter((r) => r.keyId !== cert.keyId);
  const sealed = sealForRecipients(cert, others, label, secret.data);
  return assembleSealedSecret({
    name,
    namespace,
    secret,
    scope: options.scope,
    keyId: cert.keyId,
    encryptedData: sealed.primary,
    apiVersion: options.apiVersion ?? KSEAL_API_VERSION,
    recipients: recipientEntries(sealed.others),
  });
}

/**
 * Every check sealing makes, without sealing: name and namespace present for the scope and valid,
 * content within limits. Lets a command reject bad input before it fetches a certificate.
 */
export function checkSealable(secret: SecretInput, options: SealOptions): { name: string; namespace: string | undefined; label: Buffer } {
  const location = secret.location;
  const { name, namespace } = secret;
  if (name === undefined || name === '') {
    throw new KsealError('MISSING_NAME', 'the Secret has no metadata.name', { ...location, hint: 'set metadata.name or pass --name' });
  }
  if ((namespace === undefined || namespace === '') && options.scope !== 'cluster-wide') {
    throw new KsealError('MISSING_NAMESPACE', `the Secret has no metadata.namespace, which ${options.scope} scope binds into the ciphertext`, {
      ...location,
      hint: 'set metadata.namespace, pass --namespace, or pass --scope cluster-wide',
    });
  }
  checkSecretNames(name, namespace, location);
  checkSecretContent(secret, definedOnly({ allowEmptyData: options.allowEmptyData }));
  checkRecipientsAllowed(options.apiVersion ?? KSEAL_API_VERSION, (options.recipients?.length ?? 0) > 0, location);
  return { name, namespace, label: scopeLabel(options.scope, namespace, name) };
}

/** What a SealedSecret is assembled from. */
export interface SealedSecretParts {
  readonly name: string;
  readonly namespace: string | undefined;
  readonly secret: Pick<SecretInput, 'labels' | 'annotations' | 'type' | 'immutable'>;
  readonly scope: Scope;
  readonly keyId: string;
  readonly encryptedData: Readonly<Record<string, string>>;
  readonly apiVersion: SealedApiVersion;
  readonly recipients?: RecipientEntry[] | undefined;
  /** An existing object's template, kept as it is (re-sealing); without it one is built from `secret`. */
  readonly template?: SecretTemplate | undefined;
}

/**
 * Lays out a SealedSecret around already sealed values: scope annotations for the API version, the
 * key-id hint, sorted keys, the template and further recipients. The one assembly behind `encrypt`
 * and `/v1/rotate`.
 */
export function assembleSealedSecret(parts: SealedSecretParts): SealedSecret {
  const { name, namespace, secret, scope, apiVersion } = parts;
  const userAnnotations = withoutScopeAnnotations(secret.annotations);
  const annotations: Record<string, string> = { ...userAnnotations, [KEY_ID_ANNOTATION]: parts.keyId };
  if (apiVersion === KSEAL_API_VERSION) annotations[SCOPE_ANNOTATION] = scope;
  else if (scope === 'cluster-wide') annotations[BITNAMI_CLUSTER_WIDE] = 'true';
  else if (scope === 'namespace-wide') annotations[BITNAMI_NAMESPACE_WIDE] = 'true';

  const metadata: ObjectMeta = { name };
  if (namespace !== undefined && namespace !== '') metadata.namespace = namespace;
  metadata.annotations = sortedRecord(annotations);
  if (Object.keys(secret.labels).length > 0) metadata.labels = sortedRecord(secret.labels);

  const spec: SealedSecret['spec'] = { encryptedData: sortedRecord(parts.encryptedData) };
  if ('template' in parts) {
    if (parts.template !== undefined) spec.template = parts.template;
  } else spec.template = buildTemplate(parts, userAnnotations, metadata.namespace);
  if (parts.recipients !== undefined && parts.recipients.length > 0) {
    checkRecipientsAllowed(apiVersion, true, {});
    spec.recipients = parts.recipients;
  }
  return { apiVersion, kind: 'SealedSecret', metadata, spec };
}

/** The template encrypt writes: the Secret's labels, annotations (no scope ones), type and immutability. */
function buildTemplate(parts: SealedSecretParts, userAnnotations: Record<string, string>, namespace: string | undefined): SecretTemplate {
  const { name, secret, apiVersion } = parts;
  const templateMeta: NonNullable<SecretTemplate['metadata']> = {};
  if (apiVersion === BITNAMI_API_VERSION) {
    // kubeseal writes name and namespace into the template; Bitnami's controller overrides them anyway.
    templateMeta.name = name;
    if (namespace !== undefined) templateMeta.namespace = namespace;
  }
  if (Object.keys(secret.labels).length > 0) templateMeta.labels = sortedRecord(secret.labels);
  if (Object.keys(userAnnotations).length > 0) templateMeta.annotations = sortedRecord(userAnnotations);
  const template: SecretTemplate = {};
  if (Object.keys(templateMeta).length > 0) template.metadata = templateMeta;
  template.type = secret.type;
  if (secret.immutable !== undefined) template.immutable = secret.immutable;
  return template;
}

/** Refuses further recipients on a Bitnami object: Bitnami's controller would prune or reject them. */
export function checkRecipientsAllowed(apiVersion: SealedApiVersion, hasRecipients: boolean, location: ErrorLocation): void {
  if (hasRecipients && apiVersion === BITNAMI_API_VERSION) {
    throw new KsealError('RECIPIENTS_UNSUPPORTED', `${BITNAMI_API_VERSION} objects hold one cluster recipient only; further recipients (--cert after the first, --recipient) need ${KSEAL_API_VERSION}`, {
      ...location,
      hint: `drop --api-version ${BITNAMI_API_VERSION}, or seal a separate object per cluster`,
    });
  }
}

function withoutScopeAnnotations(annotations: Readonly<Record<string, string>>): Record<string, string> {
  const out = userRecord();
  for (const [k, v] of Object.entries(annotations)) if (!SCOPE_ANNOTATIONS.includes(k)) out[k] = v;
  return out;
}

/**
 * Reads and checks one manifest object as a SealedSecret of either API version. Throws
 * NOT_A_SEALED_SECRET for other kinds, UNSUPPORTED_API_VERSION, or INVALID_FIELD.
 */
export function readSealedSecret(value: unknown, location: ErrorLocation): SealedSecret {
  const obj = asRecord(value, 'the document', location);
  if (obj.kind !== 'SealedSecret') {
    throw new KsealError('NOT_A_SEALED_SECRET', `expected a SealedSecret but found ${describeKind(obj)}`, location);
  }
  const apiVersion = obj.apiVersion;
  if (apiVersion !== KSEAL_API_VERSION && apiVersion !== BITNAMI_API_VERSION) {
    throw new KsealError('UNSUPPORTED_API_VERSION', `apiVersion ${JSON.stringify(apiVersion ?? null)} is not one kseal reads`, { ...location, hint: `use ${API_VERSIONS.join(' or ')}` });
  }
  const meta = asRecord(obj.metadata ?? {}, 'metadata', location);
  const name = optionalString(meta.name, 'metadata.name', location);
  if (name === undefined || name === '') throw new KsealError('MISSING_NAME', 'the SealedSecret has no metadata.name', location);
  const namespace = optionalString(meta.namespace, 'metadata.namespace', location);
  checkSecretNames(name, namespace, location);
  const metadata: ObjectMeta = { name };
  if (namespace !== undefined && namespace !== '') metadata.namespace = namespace;
  const labels = stringMap(meta.labels, 'metadata.labels', location);
  const annotations = stringMap(meta.annotations, 'metadata.annotations', location);
  if (Object.keys(labels).length > 0) metadata.labels = labels;
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;

  const spec = asRecord(obj.spec, 'spec', location);
  if (spec.encryptedData === undefined && spec.data !== undefined) {
    throw new KsealError('UNSUPPORTED_TEMPLATE', "spec.data is Bitnami's pre-2018 whole-Secret format, which kseal does not read", { ...location, hint: 're-seal the Secret with kseal encrypt' });
  }
  const encryptedData = stringMap(spec.encryptedData, 'spec.encryptedData', location);
  for (const key of Object.keys(encryptedData)) {
    const why = invalidSecretKey(key);
    if (why) throw new KsealError('INVALID_KEY_NAME', `the key name is not valid: it ${why}`, { ...location, key });
  }
  const sealed: SealedSecret = { apiVersion, kind: 'SealedSecret', metadata, spec: { encryptedData } };
  if (spec.template !== undefined && spec.template !== null) sealed.spec.template = readTemplate(spec.template, location);
  const recipients = readRecipientEntries(spec.recipients, Object.keys(encryptedData), location);
  if (recipients.length > 0) {
    checkRecipientsAllowed(apiVersion, true, location);
    sealed.spec.recipients = recipients;
  }
  return sealed;
}

function readTemplate(value: unknown, location: ErrorLocation): SecretTemplate {
  const t = asRecord(value, 'spec.template', location);
  const template: SecretTemplate = {};
  if (t.metadata !== undefined && t.metadata !== null) {
    const m = asRecord(t.metadata, 'spec.template.metadata', location);
    const meta: NonNullable<SecretTemplate['metadata']> = {};
    const name = optionalString(m.name, 'spec.template.metadata.name', location);
    const namespace = optionalString(m.namespace, 'spec.template.metadata.namespace', location);
    if (name !== undefined) meta.name = name;
    if (namespace !== undefined) meta.namespace = namespace;
    const labels = stringMap(m.labels, 'spec.template.metadata.labels', location);
    const annotations = stringMap(m.annotations, 'spec.template.metadata.annotations', location);
    if (Object.keys(labels).length > 0) meta.labels = labels;
    if (Object.keys(annotations).length > 0) meta.annotations = annotations;
    template.metadata = meta;
  }
  const type = optionalString(t.type, 'spec.template.type', location);
  if (type !== undefined) template.type = type;
  const immutable = optionalBoolean(t.immutable, 'spec.template.immutable', location);
  if (immutable !== undefined) template.immutable = immutable;
  const data = stringMap(t.data, 'spec.template.data', location);
  if (Object.keys(data).length > 0) template.data = data;
  return template;
}

/** The scope a SealedSecret's values are bound to, from its own annotations (strict when none). */
export function sealedSecretScope(sealed: SealedSecret): Scope {
  return scopeFromAnnotations(sealed.metadata.annotations) ?? 'strict';
}

/**
 * Why a SealedSecret cannot become a Secret although it was read (contradicting or unknown scope
 * annotations, a Go template in `spec.template.data`), or undefined when it can: the controller's
 * InvalidSpec check, returned rather than thrown.
 */
export function sealedSecretSpecError(sealed: SealedSecret): KsealError | undefined {
  const scope = readScopeAnnotations(sealed.metadata.annotations);
  if (scope.error !== undefined) return scope.error;
  return templateDataError(sealed.spec.template?.data);
}

/** The UNSUPPORTED_TEMPLATE error for the first template value holding a Go template, or undefined. */
function templateDataError(data: Readonly<Record<string, string>> | undefined, location: ErrorLocation = {}): KsealError | undefined {
  for (const [key, value] of Object.entries(data ?? {})) {
    if (value.includes('{{')) return new KsealError('UNSUPPORTED_TEMPLATE', 'spec.template.data uses a Go template, which kseal does not evaluate', { ...location, key, hint: 'seal the final value instead' });
  }
  return undefined;
}

/** The OAEP label of a SealedSecret's values, from its own scope, namespace and name. */
export function sealedSecretLabel(sealed: SealedSecret): Buffer {
  return scopeLabel(sealedSecretScope(sealed), sealed.metadata.namespace, sealed.metadata.name);
}

/** Decodes every encryptedData value to bytes (sorted by key). Throws MALFORMED_CIPHERTEXT naming the key. */
export function sealedValues(sealed: SealedSecret, location: ErrorLocation = {}): Array<{ key: string; bytes: Buffer }> {
  return decodeValues(sealed.spec.encryptedData, location);
}

/** Decodes a map of stored values to bytes (sorted by key). Throws MALFORMED_CIPHERTEXT naming the key. */
export function decodeValues(encryptedData: Readonly<Record<string, string>>, location: ErrorLocation = {}): Array<{ key: string; bytes: Buffer }> {
  return Object.keys(encryptedData)
    .sort(compareKeys)
    .map((key) => {
      const bytes = decodeBase64(encryptedData[key] ?? '');
      if (bytes === undefined) throw new KsealError('MALFORMED_CIPHERTEXT', 'the sealed value is not valid base64', { ...location, key, hint: 'the value was damaged; seal it again' });
      return { key, bytes };
    });
}

/**
 * The key-id hint after sealing some values with `keyId`: that id alone when it sealed every value,
 * else it first and the earlier ones after; undefined (leave the object as it is) when the other
 * values' certificates are unknown (no hint before).
 */
export function mergedKeyIdHint(previous: string | undefined, keyId: string, replacesAll: boolean): string | undefined {
  if (replacesAll) return keyId;
  if (previous === undefined || previous === '') return undefined;
  const ids = [keyId, ...previous.split(',').map((h) => h.trim())].filter((h) => h !== '');
  return [...new Set(ids)].join(',');
}

/** One set of cluster (RSA) ciphertexts of an object: spec.encryptedData, or one cluster entry of spec.recipients. */
export interface CiphertextSet {
  /** `encryptedData` for the primary set, else the entry's id. */
  readonly recipient: string;
  /** The key id the set names (the key-id annotation, or the entry id); a hint only. */
  readonly hint: string | undefined;
  readonly encryptedData: Readonly<Record<string, string>>;
}

/**
 * The cluster ciphertext sets of an object, to try in order: those whose id names one of
 * `heldKeyIds` first, then the rest (primary first, then entries in order). Escrow entries are not
 * cluster ciphertexts and are never included.
 */
export function clusterCiphertextSets(sealed: SealedSecret, heldKeyIds: Iterable<string>): CiphertextSet[] {
  const held = new Set(heldKeyIds);
  const sets: CiphertextSet[] = [
    { recipient: PRIMARY_RECIPIENT, hint: sealed.metadata.annotations?.[KEY_ID_ANNOTATION], encryptedData: sealed.spec.encryptedData },
    ...(sealed.spec.recipients ?? []).filter((r) => r.kind === 'cluster').map((r) => ({ recipient: r.id, hint: r.id, encryptedData: r.encryptedData })),
  ];
  const named = (s: CiphertextSet): boolean => s.hint !== undefined && held.has(s.hint);
  return [...sets.filter(named), ...sets.filter((s) => !named(s))];
}

/** Of the errors met trying several ciphertext sets, the one to report: a tampered or damaged value over "no key". */
export function mostSpecificError(errors: readonly KsealError[]): KsealError | undefined {
  return errors.find((e) => e.code === 'AUTH_FAILED') ?? errors.find((e) => e.code === 'MALFORMED_CIPHERTEXT') ?? errors[0];
}

/** Result of unsealing: the Secret, per key which key id opened it, and which recipient's ciphertexts. */
export interface UnsealResult {
  readonly secret: SecretObject;
  readonly keyIds: ReadonlyMap<string, string>;
  /** `encryptedData` or the spec.recipients id whose ciphertexts opened. */
  readonly recipient: string;
}

/**
 * Unseals every value with the given private keys and builds the Secret the controller would write.
 * Tries each cluster ciphertext set (clusterCiphertextSets), each with its named key first and then
 * the key that opened the previous value (key-choice.ts); one set
 * must open completely. Throws the most specific failure naming the first key that did not open.
 */
export function unsealSealedSecret(sealed: SealedSecret, keys: readonly PrivateKeyEntry[], location: ErrorLocation = {}): UnsealResult {
  if (keys.length === 0) throw new KsealError('NO_PRIVATE_KEYS', 'no private keys were given', location);
  const label = sealedSecretLabel(sealed);
  const errors: KsealError[] = [];
  for (const set of clusterCiphertextSets(sealed, keys.map((k) => k.keyId))) {
    const order = new KeyTrialOrder(orderKeysById(set.hint, keys));
    const data = new Map<string, Buffer>();
    const keyIds = new Map<string, string>();
    try {
      for (const { key, bytes } of decodeValues(set.encryptedData, location)) {
        try {
          const tries = order.tries();
          const { plaintext, keyIndex } = unsealBytes(tries.map((k) => k.key), label, bytes);
          const opener = tries[keyIndex];
          if (opener !== undefined) order.succeeded(opener);
          data.set(key, plaintext);
          keyIds.set(key, opener?.keyId ?? '');
        } catch (e) {
          throw e instanceof KsealError ? e.at({ ...location, key }) : e;
        }
      }
    } catch (e) {
      if (!(e instanceof KsealError)) throw e;
      for (const bytes of data.values()) bytes.fill(0);
      errors.push(e);
      continue;
    }
    return { secret: secretFromTemplate(sealed, data, location), keyIds, recipient: set.recipient };
  }
  throw mostSpecificError(errors) ?? new KsealError('DECRYPT_FAILED', 'no key could decrypt it', location);
}

/** Builds the Secret for a SealedSecret from unsealed bytes: name/namespace from the object, the rest from the template. */
export function secretFromTemplate(sealed: SealedSecret, data: ReadonlyMap<string, Buffer>, location: ErrorLocation = {}): SecretObject {
  const template = sealed.spec.template ?? {};
  const metadata: SecretObject['metadata'] = { name: sealed.metadata.name };
  if (sealed.metadata.namespace !== undefined) metadata.namespace = sealed.metadata.namespace;
  const labels = template.metadata?.labels;
  const annotations = template.metadata?.annotations;
  if (labels !== undefined && Object.keys(labels).length > 0) metadata.labels = sortedRecord(labels);
  if (annotations !== undefined && Object.keys(annotations).length > 0) metadata.annotations = sortedRecord(annotations);
  const templateError = templateDataError(template.data, location);
  if (templateError !== undefined) throw templateError;
  const out = userRecord();
  for (const [key, value] of Object.entries(template.data ?? {})) out[key] = encodeBase64(Buffer.from(value, 'utf8'));
  for (const [key, bytes] of data) out[key] = encodeBase64(bytes);
  const secret: SecretObject = { apiVersion: 'v1', kind: 'Secret', metadata, type: template.type ?? 'Opaque', data: sortedRecord(out) };
  if (template.immutable !== undefined) secret.immutable = template.immutable;
  return secret;
}
