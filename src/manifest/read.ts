/**
 * Reading Kubernetes manifests as people write them: YAML streams (`---`), a JSON object, concatenated
 * JSON objects (what `kubectl get -o json` loops produce), and `kind: List` (or `*List`) wrappers,
 * whose items are returned one by one. Parsing goes through the one parse entry (parse.ts,
 * parse-json.ts): YAML 1.1 as Kubernetes reads it, duplicate keys refused, and alias expansion,
 * nesting, documents and mapping entries bounded so a hostile file cannot exhaust time, memory or
 * the stack.
 */
import { definedOnly, KsealError, type ErrorLocation } from '../errors.js';
import { documentValue, PARSE_LIMITS, parseYamlDocuments, streamYamlDocuments } from './parse.js';
import { parseJsonValues } from './parse-json.js';

/** Largest input read in one go. */
export const MAX_INPUT_BYTES = PARSE_LIMITS.maxInputBytes;
/** Deepest nesting accepted; Kubernetes objects are far shallower. */
export const MAX_DEPTH = PARSE_LIMITS.maxDepth;

/** One object read from a manifest, with where it came from. */
export interface ManifestObject {
  readonly value: unknown;
  readonly location: ErrorLocation & { readonly document: number };
}

/** Parses `text` into objects, expanding Lists. Empty documents are skipped. */
export function readManifests(text: string, source: string): ManifestObject[] {
  const json = checkInput(text, source);
  const values = json ? parseJsonValues(text, source) : parseYamlDocuments(text, source).documents.map((d) => documentValue(d, source));
  return values.flatMap((value, i) => objectsOf(value, i + 1, json, source));
}

/**
 * The objects of readManifests one document at a time, as the YAML parse reaches each (JSON is
 * read whole first). The same objects in the same order; on an invalid input the error can differ
 * from readManifests' when the input has several problems (this one stops at the first it reaches),
 * so a caller that must report what readManifests would report runs readManifests after a failure.
 */
export function* streamManifests(text: string, source: string): Generator<ManifestObject, void, undefined> {
  if (checkInput(text, source)) {
    yield* parseJsonValues(text, source).flatMap((value, i) => objectsOf(value, i + 1, true, source));
    return;
  }
  for (const parsed of streamYamlDocuments(text, source)) yield* objectsOf(documentValue(parsed, source), parsed.document, false, source);
}

/** Refuses an input too large or binary; true when it is JSON. */
function checkInput(text: string, source: string): boolean {
  if (Buffer.byteLength(text, 'utf8') > MAX_INPUT_BYTES) {
    throw new KsealError('INPUT_TOO_LARGE', `the input is larger than ${MAX_INPUT_BYTES / 1024 / 1024} MiB`, { file: source, hint: 'split it into several files' });
  }
  if (text.includes('\0')) {
    throw new KsealError('INVALID_YAML', 'the input is binary, not YAML or JSON', { file: source });
  }
  return /^\s*[[{]/.test(text);
}

/** The objects of document number `document`: its List items, or itself. */
function objectsOf(value: unknown, document: number, json: boolean, source: string): ManifestObject[] {
  // JSON depth was checked while scanning; YAML aliases can nest what they expand, so check the result.
  if (!json) checkDepth(value, { file: source, document });
  if (isList(value)) return value.items.map((item, j) => ({ value: item, location: { file: source, document, item: j + 1 } }));
  return [{ value, location: { file: source, document } }];
}

function isList(value: unknown): value is { items: unknown[] } {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.kind === 'string' && /^[A-Za-z]*List$/.test(v.kind) && Array.isArray(v.items);
}

function checkDepth(value: unknown, location: ErrorLocation): void {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    if (depth > MAX_DEPTH) {
      throw new KsealError('INVALID_YAML', `not valid YAML: it is nested more than ${MAX_DEPTH} levels deep`, definedOnly(location));
    }
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
}
