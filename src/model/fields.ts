/** Typed access to fields of parsed manifests, throwing INVALID_FIELD that names the field and document. */
import { KsealError, type ErrorLocation } from '../errors.js';

/**
 * A new, empty map for keys that come from user input (Secret keys, labels, annotations): a
 * null-prototype object, so `__proto__`, `constructor` or `toString` are keys like any other instead
 * of being dropped or resolved on Object.prototype.
 */
export function userRecord<T = string>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** Returns `value` as a plain object, or throws naming `what`. */
export function asRecord(value: unknown, what: string, location: ErrorLocation): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new KsealError('INVALID_FIELD', `${what} must be a mapping (an object), not ${describe(value)}`, location);
  }
  return value as Record<string, unknown>;
}

/** A string field that may be absent (or null). */
export function optionalString(value: unknown, field: string, location: ErrorLocation): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new KsealError('INVALID_FIELD', `${field} must be a string, not ${describe(value)}`, { ...location, hint: 'quote the value in YAML' });
  return value;
}

/** A boolean field that may be absent (or null). */
export function optionalBoolean(value: unknown, field: string, location: ErrorLocation): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new KsealError('INVALID_FIELD', `${field} must be true or false, not ${describe(value)}`, location);
  return value;
}

/**
 * A map of string to string (labels, annotations, data, stringData); absent or null gives {}.
 * A non-string value is named by key but never shown, since it may be a secret.
 */
export function stringMap(value: unknown, field: string, location: ErrorLocation): Record<string, string> {
  if (value === undefined || value === null) return {};
  const record = asRecord(value, field, location);
  const out = userRecord();
  for (const [key, v] of Object.entries(record)) {
    if (typeof v !== 'string') {
      throw new KsealError('INVALID_FIELD', `${field}.${key} must be a string, not ${describe(v)}`, { ...location, key, hint: 'quote the value in YAML (numbers, true/false, yes/no and null are not strings)' });
    }
    out[key] = v;
  }
  return out;
}

/** The type of a value in words, never the value itself. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a timestamp';
  switch (typeof value) {
    case 'object':
      return 'a mapping';
    case 'string':
      return 'a string';
    case 'number':
    case 'bigint':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    default:
      return typeof value;
  }
}

/** Names the kind of a parsed document for messages: `kind ConfigMap`, or what is there instead. */
export function describeKind(value: unknown): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return describe(value);
  const kind = (value as Record<string, unknown>).kind;
  if (kind === undefined || kind === null) return 'an object without a kind';
  if (typeof kind !== 'string') return `a kind that is ${describe(kind)}`;
  return /^[A-Za-z0-9]{1,63}$/.test(kind) ? `kind ${kind}` : `kind ${JSON.stringify(kind.slice(0, 63))}`;
}
