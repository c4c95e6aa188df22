/**
 * A small YAML emitter for plain data (what JSON can hold), about ten times faster than the yaml
 * package's stringify on SealedSecrets, and deliberately conservative: a string is written plain
 * only when it reads back as the same string under YAML 1.1 (what Kubernetes uses) and YAML 1.2;
 * anything else is written double-quoted with JSON escapes, which are valid YAML escapes.
 * Block style, two-space indentation, sequences indented under their key, as kubectl prints.
 */

/** Plain-safe: starts with a letter, `_` or `.letter`, holds only `[A-Za-z0-9_./+=-]`, and is not a YAML keyword. */
const PLAIN = /^\.?[A-Za-z_][A-Za-z0-9_./+=-]*$/;
// `e5` is a float to some YAML 1.1 readers (an exponent with no mantissa), and so are `._`, `._1`
// and `.e5`: YAML 1.1's float pattern allows an empty integer part and `_` among the digits.
const KEYWORDS = /^(y|n|yes|no|on|off|true|false|null|\.inf|\.nan|e[-+]?_*[0-9][0-9_]*|\.[0-9_]*(e[-+]?[0-9]+)?)$/i;

/** A string as a YAML scalar: plain when that reads back the same under YAML 1.1 and 1.2, else double-quoted. */
export function scalar(value: string): string {
  return PLAIN.test(value) && !KEYWORDS.test(value) ? value : JSON.stringify(value);
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function leaf(value: unknown): string {
  if (typeof value === 'string') return scalar(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : JSON.stringify(String(value));
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return '[]';
  return '{}';
}

function isEmptyCollection(value: unknown): boolean {
  return (Array.isArray(value) && value.length === 0) || (isMapping(value) && Object.keys(value).every((k) => value[k] === undefined));
}

function emitInto(out: string[], value: unknown, indent: string): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      if ((isMapping(item) || Array.isArray(item)) && !isEmptyCollection(item)) {
        // The first line of a nested collection shares the dash's line.
        const nested: string[] = [];
        emitInto(nested, item, `${indent}  `);
        out.push(`${indent}- ${(nested[0] ?? '').trimStart()}`, ...nested.slice(1));
      } else out.push(`${indent}- ${leaf(item)}`);
    }
    return;
  }
  if (isMapping(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      if (isMapping(item) && !isEmptyCollection(item)) {
        out.push(`${indent}${scalar(key)}:`);
        emitInto(out, item, `${indent}  `);
      } else if (Array.isArray(item) && item.length > 0) {
        out.push(`${indent}${scalar(key)}:`);
        emitInto(out, item, `${indent}  `);
      } else out.push(`${indent}${scalar(key)}: ${leaf(item)}`);
    }
    return;
  }
  out.push(`${indent}${leaf(value)}`);
}

/** Emits one YAML document (without a `---` marker), ending in a newline. */
export function emitYaml(value: unknown): string {
  if (isEmptyCollection(value)) return `${leaf(value)}\n`;
  const out: string[] = [];
  emitInto(out, value, '');
  return `${out.join('\n')}\n`;
}
