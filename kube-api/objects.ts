/** Accessors for the metadata of stored Kubernetes objects (plain JSON). */
import { isObject } from './json.js';
import type { JsonObject, JsonValue } from './json.js';

/** The metadata map of an object (created when missing). */
export function metaOf(obj: JsonObject): JsonObject {
  const m = obj['metadata'];
  if (isObject(m)) return m;
  const created: JsonObject = {};
  obj['metadata'] = created;
  return created;
}

function metaString(obj: JsonObject, key: string): string {
  const m = obj['metadata'];
  const v = isObject(m) ? m[key] : undefined;
  return typeof v === 'string' ? v : '';
}

/** metadata.name ('' when unset). */
export function nameOf(obj: JsonObject): string {
  return metaString(obj, 'name');
}

/** metadata.namespace ('' when unset). */
export function namespaceOf(obj: JsonObject): string {
  return metaString(obj, 'namespace');
}

/** metadata.uid ('' when unset). */
export function uidOf(obj: JsonObject): string {
  return metaString(obj, 'uid');
}

/** metadata.resourceVersion ('' when unset). */
export function resourceVersionOf(obj: JsonObject): string {
  return metaString(obj, 'resourceVersion');
}

/** metadata.deletionTimestamp ('' when unset). */
export function deletionTimestampOf(obj: JsonObject): string {
  return metaString(obj, 'deletionTimestamp');
}

/** metadata.finalizers (strings only). */
export function finalizersOf(obj: JsonObject): string[] {
  const m = obj['metadata'];
  const f = isObject(m) ? m['finalizers'] : undefined;
  return Array.isArray(f) ? f.filter((x): x is string => typeof x === 'string') : [];
}

/** metadata.labels as a string map. */
export function labelsOf(obj: JsonObject): Record<string, string> {
  const m = obj['metadata'];
  const l = isObject(m) ? m['labels'] : undefined;
  const out: Record<string, string> = {};
  if (isObject(l)) for (const [k, v] of Object.entries(l)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** An ownerReference. */
export interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: boolean;
  blockOwnerDeletion: boolean;
}

/** metadata.ownerReferences, typed. */
export function ownerRefsOf(obj: JsonObject): OwnerRef[] {
  const m = obj['metadata'];
  const refs = isObject(m) ? m['ownerReferences'] : undefined;
  if (!Array.isArray(refs)) return [];
  return refs.filter(isObject).map((r) => ({
    apiVersion: typeof r['apiVersion'] === 'string' ? r['apiVersion'] : '',
    kind: typeof r['kind'] === 'string' ? r['kind'] : '',
    name: typeof r['name'] === 'string' ? r['name'] : '',
    uid: typeof r['uid'] === 'string' ? r['uid'] : '',
    controller: r['controller'] === true,
    blockOwnerDeletion: r['blockOwnerDeletion'] === true,
  }));
}

/** A metav1.Time as the server writes it: RFC3339 with second precision. */
export function nowTimestamp(now = Date.now()): string {
  return new Date(Math.floor(now / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Sets or replaces a condition in `status.conditions` (by type); returns true when something changed. */
export function setCondition(status: JsonObject, cond: { type: string; status: string; reason: string; message: string }, now = Date.now()): boolean {
  const list: JsonValue[] = Array.isArray(status['conditions']) ? [...status['conditions']] : [];
  const idx = list.findIndex((c) => isObject(c) && c['type'] === cond.type);
  const existing = idx >= 0 ? (list[idx] as JsonObject) : undefined;
  if (existing && existing['status'] === cond.status && existing['reason'] === cond.reason && existing['message'] === cond.message) return false;
  const lastTransitionTime = existing && existing['status'] === cond.status && typeof existing['lastTransitionTime'] === 'string'
    ? existing['lastTransitionTime']
    : nowTimestamp(now);
  const next: JsonObject = { type: cond.type, status: cond.status, lastTransitionTime, reason: cond.reason, message: cond.message };
  if (idx >= 0) list[idx] = next;
  else list.push(next);
  status['conditions'] = list;
  return true;
}
