/**
 * Validation shared by every kind: decode-time checks the real server fails with 400 (wrong JSON
 * types in metadata, bad base64, MicroTime without exactly six fractional digits) and ObjectMeta
 * validation that fails with 422 (apimachinery/pkg/api/validation/objectmeta.go).
 */
import { badRequest, fieldError } from './errors.js';
import type { ApiError, FieldError } from './errors.js';
import { isObject, text } from './json.js';
import type { JsonObject, JsonValue } from './json.js';
import { nameErrors, qualifiedNameError, isValidLabelValue, dns1123LabelErrors } from './names.js';

/** The 400 a typed decode failure produces: `Lease in version "v1" cannot be handled as a Lease: <why>`. */
export function decodeError(kind: string, version: string, why: string): ApiError {
  return badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: ${why}`);
}

function jsonTypeName(v: JsonValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : typeof v;
}

/** Go's json error for a value of the wrong type: `json: cannot unmarshal number into Go struct field X of type string`. */
export function typeMismatch(v: JsonValue, goField: string, goType: string): string {
  return `json: cannot unmarshal ${jsonTypeName(v)} into Go struct field ${goField} of type ${goType}`;
}

/** Checks that `o[key]`, when present and not null, is a map of strings. Returns the error text or undefined. */
export function checkStringMap(o: JsonObject, key: string, goField: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) return typeMismatch(v, goField, 'map[string]string');
  for (const inner of Object.values(v)) if (typeof inner !== 'string') return typeMismatch(inner, goField, 'string');
  return undefined;
}

/** Decode-time type checks on metadata; throws 400 like the typed decoder. */
export function checkMetadataTypes(obj: JsonObject, kind: string, version: string): void {
  const meta = obj['metadata'];
  if (meta === undefined || meta === null) return;
  if (!isObject(meta)) throw decodeError(kind, version, typeMismatch(meta, `${kind}.metadata`, 'v1.ObjectMeta'));
  for (const k of ['name', 'generateName', 'namespace', 'uid', 'resourceVersion'] as const) {
    const v = meta[k];
    if (v !== undefined && v !== null && typeof v !== 'string') throw decodeError(kind, version, typeMismatch(v, `ObjectMeta.metadata.${k}`, 'string'));
  }
  for (const k of ['labels', 'annotations'] as const) {
    const err = checkStringMap(meta, k, `ObjectMeta.metadata.${k}`);
    if (err) throw decodeError(kind, version, err);
  }
  const fin = meta['finalizers'];
  if (fin !== undefined && fin !== null) {
    if (!Array.isArray(fin)) throw decodeError(kind, version, typeMismatch(fin, 'ObjectMeta.metadata.finalizers', '[]string'));
    for (const f of fin) if (typeof f !== 'string') throw decodeError(kind, version, typeMismatch(f, 'ObjectMeta.metadata.finalizers', 'string'));
  }
  const refs = meta['ownerReferences'];
  if (refs !== undefined && refs !== null) {
    if (!Array.isArray(refs)) throw decodeError(kind, version, typeMismatch(refs, 'ObjectMeta.metadata.ownerReferences', '[]v1.OwnerReference'));
    for (const r of refs) if (!isObject(r)) throw decodeError(kind, version, typeMismatch(r, 'ObjectMeta.metadata.ownerReferences', 'v1.OwnerReference'));
  }
}

const MICRO_LAYOUT = '2006-01-02T15:04:05.000000Z07:00';
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/;
const ZONE = /^(Z|[+-]\d{2}:\d{2})$/;

/**
 * The error Go's time.Parse(RFC3339Micro) gives for a MicroTime string, or undefined when valid.
 * The layout's `.000000` demands exactly six fractional digits, so `toISOString()` (three) fails.
 */
function microTimeError(v: string): string | undefined {
  const prefix = `parsing time ${JSON.stringify(v)} as ${JSON.stringify(MICRO_LAYOUT)}: `;
  if (!DATE_TIME.test(v)) return `${prefix}cannot parse ${JSON.stringify(v)} as "2006"`;
  const rest = v.slice(19);
  if (!/^\.\d{6}/.test(rest)) return `${prefix}cannot parse ${JSON.stringify(rest)} as ".000000"`;
  const zone = rest.slice(7);
  if (!ZONE.test(zone)) return `${prefix}cannot parse ${JSON.stringify(zone)} as "Z07:00"`;
  if (Number.isNaN(Date.parse(v))) return `${prefix}month out of range`;
  return undefined;
}

/** Throws the 400 decode error when a MicroTime field holds anything but null or RFC3339 micro. */
export function checkMicroTime(value: JsonValue | undefined, kind: string, version: string): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'string') throw decodeError(kind, version, typeMismatch(value, `${kind}.eventTime`, 'v1.MicroTime'));
  const err = microTimeError(value);
  if (err) throw decodeError(kind, version, err);
}

const B64 = /^[A-Za-z0-9+/]$/;
const CANONICAL_B64 = /^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Go's base64.StdEncoding decode check (CR and LF ignored, padding required): the byte offset of
 * the first error, or undefined when the string decodes.
 */
function base64ErrorOffset(s: string): number | undefined {
  if (s.length % 4 === 0 && CANONICAL_B64.test(s)) return undefined;
  const chars: { c: string; i: number }[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\r' || c === '\n') continue;
    chars.push({ c, i });
  }
  for (let q = 0; q < chars.length; q += 4) {
    const quantum = chars.slice(q, q + 4);
    if (quantum.length < 4) return quantum[0]!.i;
    for (let j = 0; j < 4; j++) {
      const { c, i } = quantum[j]!;
      if (c === '=') {
        if (j < 2) return i;
        if (j === 2 && quantum[3]!.c !== '=') return quantum[3]!.i;
        if (q + 4 < chars.length) return chars[q + 4]!.i;
        break;
      }
      if (!B64.test(c)) return i;
    }
  }
  return undefined;
}

/** Decoded byte length of a valid base64 string. */
export function base64DecodedLength(s: string): number {
  const clean = s.includes('\n') || s.includes('\r') ? s.replace(/[\r\n]/g, '') : s;
  const pad = clean.endsWith('==') ? 2 : clean.endsWith('=') ? 1 : 0;
  return (clean.length / 4) * 3 - pad;
}

/** Checks a `map[string][]byte` field (Secret.data, ConfigMap.binaryData); throws 400 on bad values. */
export function checkBytesMap(obj: JsonObject, key: string, kind: string, version: string): void {
  const v = obj[key];
  if (v === undefined || v === null) return;
  if (!isObject(v)) throw decodeError(kind, version, typeMismatch(v, `${kind}.${key}`, 'map[string][]uint8'));
  for (const inner of Object.values(v)) {
    if (inner === null) continue;
    if (typeof inner !== 'string') throw decodeError(kind, version, typeMismatch(inner, `${kind}.${key}`, '[]uint8'));
    const off = base64ErrorOffset(inner);
    if (off !== undefined) throw decodeError(kind, version, `illegal base64 data at input byte ${off}`);
  }
}

/** Options for ObjectMeta validation. */
export interface MetaValidationOptions {
  namespaced: boolean;
  nameKind: 'subdomain' | 'label';
}

const STANDARD_FINALIZERS = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);
const TOTAL_ANNOTATION_LIMIT = 256 * 1024;

/** ValidateObjectMeta: name/generateName, namespace, labels, annotations, ownerReferences, finalizers. */
export function validateObjectMeta(meta: JsonObject, opts: MetaValidationOptions): FieldError[] {
  const errs: FieldError[] = [];
  const name = typeof meta['name'] === 'string' ? meta['name'] : '';
  const generateName = typeof meta['generateName'] === 'string' ? meta['generateName'] : '';
  if (generateName) {
    for (const msg of nameErrors(opts.nameKind, generateName, true)) errs.push(fieldError.invalid('metadata.generateName', generateName, msg));
  }
  if (!name) {
    errs.push(fieldError.required('metadata.name', 'name or generateName is required'));
  } else {
    for (const msg of nameErrors(opts.nameKind, name)) errs.push(fieldError.invalid('metadata.name', name, msg));
  }
  const ns = typeof meta['namespace'] === 'string' ? meta['namespace'] : '';
  if (opts.namespaced) {
    if (!ns) errs.push(fieldError.required('metadata.namespace'));
    else for (const msg of dns1123LabelErrors(ns)) errs.push(fieldError.invalid('metadata.namespace', ns, msg));
  } else if (ns) {
    errs.push(fieldError.forbidden('metadata.namespace', 'not allowed on this type'));
  }
  const labels = meta['labels'];
  if (isObject(labels)) {
    for (const [k, v] of Object.entries(labels)) {
      const kerr = qualifiedNameError(k);
      if (kerr) errs.push(fieldError.invalid('metadata.labels', k, kerr));
      if (typeof v === 'string' && !isValidLabelValue(v)) {
        errs.push(
          fieldError.invalid(
            'metadata.labels',
            v,
            v.length > 63
              ? 'must be no more than 63 characters'
              : "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
          ),
        );
      }
    }
  }
  const annotations = meta['annotations'];
  if (isObject(annotations)) {
    let total = 0;
    for (const [k, v] of Object.entries(annotations)) {
      const kerr = qualifiedNameError(k.toLowerCase());
      if (kerr) errs.push(fieldError.invalid('metadata.annotations', k, kerr));
      total += Buffer.byteLength(k) + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
    }
    if (total > TOTAL_ANNOTATION_LIMIT) errs.push(fieldError.tooLong('metadata.annotations', TOTAL_ANNOTATION_LIMIT));
  }
  const refs = meta['ownerReferences'];
  if (Array.isArray(refs)) {
    const controllers: string[] = [];
    refs.forEach((r, i) => {
      if (!isObject(r)) return;
      const p = `metadata.ownerReferences[${i}]`;
      const gvk = typeof r['apiVersion'] === 'string' ? r['apiVersion'] : '';
      if (!gvk) errs.push(fieldError.invalid(`${p}.apiVersion`, gvk, 'version must not be empty'));
      if (!r['kind']) errs.push(fieldError.invalid(`${p}.kind`, '', 'kind must not be empty'));
      if (!r['name']) errs.push(fieldError.invalid(`${p}.name`, '', 'name must not be empty'));
      if (!r['uid']) errs.push(fieldError.invalid(`${p}.uid`, '', 'uid must not be empty'));
      if (r['controller'] === true) controllers.push(`${text(r['kind'])}/${text(r['name'])}`);
    });
    if (controllers.length > 1) {
      errs.push(
        fieldError.invalid(
          'metadata.ownerReferences',
          'array',
          `Only one reference can have Controller set to true. Found "true" in references for ${controllers.join(' and ')}`,
        ),
      );
    }
  }
  const fins = meta['finalizers'];
  if (Array.isArray(fins)) {
    fins.forEach((f, i) => {
      if (typeof f !== 'string' || STANDARD_FINALIZERS.has(f)) return;
      const ferr = qualifiedNameError(f);
      if (ferr) errs.push(fieldError.invalid(`metadata.finalizers[${i}]`, f, ferr));
    });
    if (fins.includes('orphan') && fins.includes('foregroundDeletion')) {
      errs.push(fieldError.invalid('metadata.finalizers', 'array', 'finalizer orphan and foregroundDeletion cannot be both set'));
    }
  }
  return errs;
}

/** ValidateObjectMetaUpdate: identity is immutable; no new finalizers while being deleted. */
export function validateObjectMetaUpdate(meta: JsonObject, old: JsonObject): FieldError[] {
  const errs: FieldError[] = [];
  for (const k of ['name', 'namespace', 'uid', 'creationTimestamp'] as const) {
    const a = meta[k] ?? '';
    const b = old[k] ?? '';
    if (a !== b) errs.push(fieldError.invalid(`metadata.${k}`, a, 'field is immutable'));
  }
  if (old['deletionTimestamp']) {
    const before = new Set(Array.isArray(old['finalizers']) ? old['finalizers'] : []);
    const added = (Array.isArray(meta['finalizers']) ? meta['finalizers'] : []).filter((f) => !before.has(f));
    if (added.length > 0) {
      errs.push(
        fieldError.forbidden(
          'metadata.finalizers',
          `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`,
        ),
      );
    }
  }
  return errs;
}
