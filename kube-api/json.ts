/**
 * JSON value types and small helpers shared by the in-repo Kubernetes API server (kube-api/).
 * Objects held by the store are plain JSON; nothing here depends on Kubernetes semantics.
 */

/** Any JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

/** A JSON object (a Kubernetes object, a metadata map, a patch...). */
export interface JsonObject {
  [key: string]: JsonValue;
}

/** True when `v` is a non-array, non-null object. */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Structural equality of two JSON values (key order does not matter). */
export function deepEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    for (const k of ka) {
      if (!Object.prototype.hasOwnProperty.call(b, k) || !deepEqual(a[k], b[k])) return false;
    }
    return true;
  }
  return false;
}

/** A deep copy of a JSON value. */
export function clone<T extends JsonValue>(v: T): T {
  return structuredClone(v);
}

/** Parses JSON text into a JsonValue (throws SyntaxError on bad input). */
export function parseJson(text: string): JsonValue {
  return JSON.parse(text) as JsonValue;
}

/** A value as text: strings as they are, undefined as '', anything else as JSON. */
export function text(v: JsonValue | undefined): string {
  if (v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}
