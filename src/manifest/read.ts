/**
 * Reading Kubernetes manifests as people write them: YAML streams (`---`), a JSON object, concatenated
 * JSON objects (what `kubectl get -o json` loops produce), and `kind: List` (or `*List`) wrappers,
 * whose items are returned one by one. YAML is read as YAML 1.1, as Kubernetes reads it, with alias
 * expansion and nesting bounded so a hostile file cannot exhaust memory or the stack.
 */
import { isScalar, parseAllDocuments } from 'yaml';
import { definedOnly, KsealError, type ErrorLocation } from '../errors.js';

/** Largest input read in one go. */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;
/** Deepest nesting accepted; Kubernetes objects are far shallower. */
export const MAX_DEPTH = 100;
/** Most alias expansions per YAML document (the yaml package's default guard, stated here). */
export const MAX_ALIAS_COUNT = 100;

/** One object read from a manifest, with where it came from. */
export interface ManifestObject {
  readonly value: unknown;
  readonly location: ErrorLocation & { readonly document: number };
}

/** Parses `text` into objects, expanding Lists. Empty documents are skipped. */
export function readManifests(text: string, source: string): ManifestObject[] {
  if (Buffer.byteLength(text, 'utf8') > MAX_INPUT_BYTES) {
    throw new KsealError('INPUT_TOO_LARGE', `the input is larger than ${MAX_INPUT_BYTES / 1024 / 1024} MiB`, { file: source, hint: 'split it into several files' });
  }
  if (text.includes('\0')) {
    throw new KsealError('INVALID_YAML', 'the input is binary, not YAML or JSON', { file: source });
  }
  const json = /^\s*[[{]/.test(text);
  const values = json ? parseJsonStream(text, source) : parseYamlStream(text, source);
  const out: ManifestObject[] = [];
  values.forEach((value, i) => {
    const document = i + 1;
    checkDepth(value, json ? 'INVALID_JSON' : 'INVALID_YAML', { file: source, document });
    if (isList(value)) {
      value.items.forEach((item, j) => out.push({ value: item, location: { file: source, document, item: j + 1 } }));
    } else {
      out.push({ value, location: { file: source, document } });
    }
  });
  return out;
}

function isList(value: unknown): value is { items: unknown[] } {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.kind === 'string' && /^[A-Za-z]*List$/.test(v.kind) && Array.isArray(v.items);
}

function parseYamlStream(text: string, source: string): unknown[] {
  // YAML 1.1 as Kubernetes reads it (yes/no are booleans), but timestamps stay strings as they do there.
  const docs = parseAllDocuments(text, {
    version: '1.1',
    prettyErrors: false,
    uniqueKeys: true,
    strict: true,
    customTags: (tags) => tags.filter((t) => typeof t === 'string' || t.tag !== 'tag:yaml.org,2002:timestamp'),
  });
  const list = Array.isArray(docs) ? docs : [];
  const values: unknown[] = [];
  let document = 0;
  for (const doc of list) {
    // An empty document (a trailing `---`, or one holding only comments) parses as a null scalar: skip it too.
    if (doc.errors.length === 0 && (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null))) continue;
    document++;
    const error = doc.errors[0];
    if (error !== undefined) {
      const line = lineOf(text, error.pos[0]);
      // The parser's own message can quote the input (a secret); only its code and position are shown.
      throw new KsealError('INVALID_YAML', `not valid YAML at line ${line} (${error.code.toLowerCase().replace(/_/g, ' ')})`, { file: source, document, hint: 'check the indentation and quoting near that line' });
    }
    try {
      values.push(doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }));
    } catch (e) {
      const why = e instanceof RangeError ? 'it is nested too deeply' : e instanceof ReferenceError ? 'it expands too many aliases (a YAML alias bomb?)' : 'it cannot be read';
      throw new KsealError('INVALID_YAML', `not valid YAML: ${why}`, { file: source, document });
    }
  }
  return values;
}

/** Splits a stream of JSON values (concatenated or newline-separated) and parses each. */
function parseJsonStream(text: string, source: string): unknown[] {
  const values: unknown[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i] ?? '')) i++;
    if (i >= text.length) break;
    const start = i;
    const end = endOfJsonValue(text, i);
    const document = values.length + 1;
    if (end === undefined) {
      throw new KsealError('INVALID_JSON', `not valid JSON: the value starting at line ${lineOf(text, start)} never ends`, { file: source, document });
    }
    try {
      values.push(JSON.parse(text.slice(start, end)));
    } catch (e) {
      // V8's message quotes the input (a secret); only the position is kept.
      const position = e instanceof SyntaxError ? /position (\d+)/.exec(e.message)?.[1] : undefined;
      const line = position === undefined ? lineOf(text, start) : lineOf(text, start + Number(position));
      throw new KsealError('INVALID_JSON', `not valid JSON at line ${line}`, { file: source, document, hint: 'check the commas, quotes and brackets near that line' });
    }
    i = end;
  }
  return values;
}

/** Index just past the JSON object/array starting at `start`, or undefined if it does not close. */
function endOfJsonValue(text: string, start: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    } else if (depth === 0) {
      // Something other than an object or array at top level: let JSON.parse report it.
      let j = i;
      while (j < text.length && !/\s/.test(text[j] ?? '')) j++;
      return j;
    }
  }
  return undefined;
}

function checkDepth(value: unknown, code: 'INVALID_JSON' | 'INVALID_YAML', location: ErrorLocation): void {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    if (depth > MAX_DEPTH) {
      throw new KsealError(code, `it is nested more than ${MAX_DEPTH} levels deep`, definedOnly(location));
    }
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
}

function lineOf(text: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}
