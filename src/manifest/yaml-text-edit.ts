/**
 * Byte-exact edits of a block mapping in YAML source text, located through the syntax tree's source
 * ranges: replace one entry's value, insert an entry on its own line, delete an entry's line, add or
 * drop a whole child mapping, and the header edit of `kseal convert` (apiVersion and annotations)
 * built from those. This is the one text-splicing module: the sealed-file editor, convert and the
 * merge driver all edit through it. The
 * yaml package's own printer normalises layout (flow mappings, spacing before comments, quoting),
 * so re-printing a document would change bytes the user never asked to change; splicing the text
 * changes only the entries named. Returns undefined when the mapping is laid out in a way these
 * edits do not handle (flow style, block scalars, multi-line entries), so the caller can fall back
 * to re-printing.
 */
import { isMap, isScalar, Scalar, type Document, type Pair, type YAMLMap } from 'yaml';

/** Replace text[start, end) with `text`. */
export interface TextEdit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** Applies non-overlapping edits to `text`. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start || b.end - a.end)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/** One `key: scalar` entry of a simple block mapping, with where its line is. */
export interface Entry {
  readonly key: string;
  /** Offset of the first character of the entry's line. */
  readonly lineStart: number;
  /** Offset just past the entry's line (after its newline, or the end of the text). */
  readonly lineEnd: number;
  readonly value: Scalar;
  readonly keyNode: Scalar;
}

// Keys and values written plain: they start with a letter and read back as the same string (annotation
// names such as kseal.dev/scope, base64 ciphertexts, key ids); anything else is double-quoted.
const PLAIN_KEY = /^[A-Za-z_][-._/A-Za-z0-9]*$/;
const PLAIN_VALUE = /^[A-Za-z][-._A-Za-z0-9+/]*=*$/;
// Plain scalars some YAML 1.1 or 1.2 reader takes for something else than a string (as in yaml-emit.ts).
const KEYWORD = /^(y|n|yes|no|on|off|true|false|null|~|\.inf|\.nan|e[-+]?_*[0-9][0-9_]*|\.[0-9_]*(e[-+]?[0-9]+)?)$/i;

/** The entries of a simple block mapping (one `key: scalar` per line), or undefined for other layouts. */
export function blockEntries(text: string, map: YAMLMap): Entry[] | undefined {
  if (map.flow === true) return undefined;
  const out: Entry[] = [];
  for (const pair of map.items) {
    const { key, value } = pair;
    if (!isScalar(key) || !isScalar(value) || key.range == null || value.range == null) return undefined;
    if (value.type !== Scalar.PLAIN && value.type !== Scalar.QUOTE_DOUBLE && value.type !== Scalar.QUOTE_SINGLE) return undefined;
    const lineStart = text.lastIndexOf('\n', key.range[0] - 1) + 1;
    if (text.slice(lineStart, key.range[0]).trim() !== '') return undefined;
    const newline = text.indexOf('\n', value.range[1]);
    if (text.slice(key.range[0], value.range[0]).includes('\n')) return undefined;
    out.push({ key: String(key.value), lineStart, lineEnd: newline < 0 ? text.length : newline + 1, value, keyNode: key });
  }
  return out;
}

/** A value as it is written into a mapping: like the scalar it replaces when given, else plain when that reads back the same, else double-quoted. */
export function valueText(value: string, like: Scalar | undefined): string {
  if (like?.type === Scalar.QUOTE_SINGLE && !value.includes("'")) return `'${value}'`;
  if (like?.type === Scalar.QUOTE_DOUBLE || !PLAIN_VALUE.test(value) || KEYWORD.test(value)) return JSON.stringify(value);
  return value;
}

function keyText(key: string): string {
  return PLAIN_KEY.test(key) && !KEYWORD.test(key) ? key : JSON.stringify(key);
}

/**
 * Edits that set `values` in `map`: existing keys get their value replaced in place (same quoting);
 * new keys get a line each, at `positionOf(existingKeys, key)` (an index into the entries, or -1 for
 * the end). Undefined when the mapping's layout is not simple or it has no entries to align with.
 */
export function setEntriesEdits(text: string, map: YAMLMap, values: ReadonlyMap<string, string>, positionOf: (keys: readonly string[], key: string) => number): TextEdit[] | undefined {
  const list = blockEntries(text, map);
  if (list === undefined || list.length === 0) return undefined;
  const first = list[0] as Entry;
  const indent = text.slice(first.lineStart, first.keyNode.range?.[0] ?? first.lineStart);
  const edits: TextEdit[] = [];
  const keys = list.map((e) => e.key);
  const inserts = new Map<number, string[]>();
  for (const [key, value] of values) {
    const at = keys.indexOf(key);
    if (at >= 0) {
      const entry = list[at] as Entry;
      const range = entry.value.range as [number, number, number];
      edits.push({ start: range[0], end: range[1], text: valueText(value, entry.value) });
      continue;
    }
    const position = positionOf(keys, key);
    const line = `${indent}${keyText(key)}: ${valueText(value, undefined)}\n`;
    inserts.set(position, [...(inserts.get(position) ?? []), line]);
  }
  for (const [position, lines] of inserts) {
    const before = position < 0 ? undefined : list[position];
    if (before !== undefined) {
      // Above the comment lines that belong to the entry it goes before, not between them and it.
      const at = insertionPoint(list, position);
      edits.push({ start: at, end: at, text: lines.join('') });
    }
    else {
      const last = list[list.length - 1] as Entry;
      const needsNewline = last.lineEnd === text.length && !text.endsWith('\n');
      edits.push({ start: last.lineEnd, end: last.lineEnd, text: `${needsNewline ? '\n' : ''}${lines.join('')}` });
    }
  }
  return edits;
}

/** Edits that delete the lines of `keys` from `map`, or undefined when the layout is not simple. */
export function removeEntriesEdits(text: string, map: YAMLMap, keys: readonly string[]): TextEdit[] | undefined {
  const list = blockEntries(text, map);
  if (list === undefined || list.length === keys.length) return undefined;
  return deleteLines(list, keys);
}

/** Where a line goes to stand before entry `position`: after the entry above it, so comments stay with the entry below. */
function insertionPoint(list: readonly Entry[], position: number): number {
  const previous = list[position - 1];
  return previous === undefined ? (list[position] as Entry).lineStart : previous.lineEnd;
}

function deleteLines(list: readonly Entry[], keys: readonly string[]): TextEdit[] {
  return list.filter((e) => keys.includes(e.key)).map((e) => ({ start: e.lineStart, end: e.lineEnd, text: '' }));
}

/**
 * Edits that rename `from` to `to`: in place when `position` is undefined, else by deleting the
 * line and inserting it (value source unchanged) before the entry at `position` (-1: the end).
 */
export function renameEntryEdits(text: string, map: YAMLMap, from: string, to: string, position: number | undefined): TextEdit[] | undefined {
  const list = blockEntries(text, map);
  const entry = list?.find((e) => e.key === from);
  if (list === undefined || entry === undefined) return undefined;
  const keyRange = entry.keyNode.range as [number, number, number];
  if (position === undefined) return [{ start: keyRange[0], end: keyRange[1], text: keyText(to) }];
  const line = `${text.slice(entry.lineStart, keyRange[0])}${keyText(to)}${text.slice(keyRange[1], entry.lineEnd)}`;
  const rest = list.filter((e) => e !== entry);
  const before = position < 0 ? undefined : rest[position];
  const last = rest[rest.length - 1];
  if (last === undefined) return [{ start: keyRange[0], end: keyRange[1], text: keyText(to) }];
  const at = before === undefined ? last.lineEnd : insertionPoint(rest, position);
  const text2 = before === undefined && last.lineEnd === text.length && !text.endsWith('\n') ? `\n${line.replace(/\n$/, '')}` : line.endsWith('\n') ? line : `${line}\n`;
  return [
    { start: entry.lineStart, end: entry.lineEnd, text: '' },
    { start: at, end: at, text: text2 },
  ];
}

/** The header change of `kseal convert`: apiVersion, and annotations to set and to remove. */
export interface HeaderChange {
  readonly apiVersion: string;
  readonly set: Readonly<Record<string, string>>;
  readonly remove: readonly string[];
}

/**
 * Edits that apply `change` to `doc` (parsed from `text`): the apiVersion value replaced in place;
 * annotations set, added (a new `annotations:` mapping under metadata when there is none) and
 * removed (the `annotations:` line too when none is left). Undefined for layouts these edits do
 * not handle (flow maps, multi-line entries, an empty metadata).
 */
export function headerEdits(text: string, doc: Document, change: HeaderChange): TextEdit[] | undefined {
  const root = doc.contents;
  if (!isMap(root) || root.flow === true) return undefined;
  const api = pairOf(root, 'apiVersion');
  if (api === undefined || !isScalar(api.value) || api.value.range == null || !PLAIN_VALUE.test(change.apiVersion) || KEYWORD.test(change.apiVersion)) return undefined;
  const out: TextEdit[] = [];
  if (String(api.value.value) !== change.apiVersion) out.push({ start: api.value.range[0], end: api.value.range[1], text: change.apiVersion });
  const meta = pairOf(root, 'metadata')?.value;
  if (!isMap(meta) || meta.flow === true || meta.items.length === 0) return undefined;
  const fresh = new Map(Object.entries(change.set));
  const annotations = pairOf(meta, 'annotations');
  if (annotations === undefined || annotations.value === null || (isScalar(annotations.value) && annotations.value.value === null)) {
    if (fresh.size === 0) return out;
    const added = annotations === undefined ? addMapEdits(text, meta, 'annotations', fresh) : undefined;
    return added === undefined ? undefined : [...out, ...added];
  }
  if (!isMap(annotations.value)) return undefined;
  const list = blockEntries(text, annotations.value);
  if (list === undefined || list.length === 0) return undefined;
  const gone = change.remove.filter((k) => !fresh.has(k) && list.some((e) => e.key === k));
  const left = list.filter((e) => !gone.includes(e.key)).length + [...fresh.keys()].filter((k) => !list.some((e) => e.key === k)).length;
  if (left === 0) {
    const dropped = dropMapEdits(text, meta, 'annotations');
    return dropped === undefined ? undefined : [...out, ...dropped];
  }
  const set = fresh.size === 0 ? [] : setEntriesEdits(text, annotations.value, fresh, () => -1);
  return set === undefined ? undefined : [...out, ...deleteLines(list, gone), ...set];
}

/** Edits that add `key:` with `values` as a new block mapping after the last entry of `parent`, indented two more. */
export function addMapEdits(text: string, parent: YAMLMap, key: string, values: ReadonlyMap<string, string>): TextEdit[] | undefined {
  const first = parent.items[0];
  const last = parent.items[parent.items.length - 1];
  if (first === undefined || last === undefined || !isScalar(first.key) || first.key.range == null) return undefined;
  const end = (last.value as { range?: [number, number, number] | null } | null)?.range?.[1];
  if (end == null) return undefined;
  const indent = first.key.range[0] - (text.lastIndexOf('\n', first.key.range[0] - 1) + 1);
  const newline = text.indexOf('\n', end);
  const at = newline < 0 ? text.length : newline;
  const lines = [...values].map(([k, v]) => `\n${' '.repeat(indent + 2)}${keyText(k)}: ${valueText(v, undefined)}`).join('');
  return [{ start: at, end: at, text: `\n${' '.repeat(indent)}${keyText(key)}:${lines}` }];
}

/** Edits that delete `key:` of `parent` and its whole simple block mapping. */
export function dropMapEdits(text: string, parent: YAMLMap, key: string): TextEdit[] | undefined {
  const pair = pairOf(parent, key);
  if (pair === undefined || !isScalar(pair.key) || pair.key.range == null || !isMap(pair.value)) return undefined;
  const list = blockEntries(text, pair.value);
  const last = list?.[list.length - 1];
  if (last === undefined) return undefined;
  return [{ start: text.lastIndexOf('\n', pair.key.range[0] - 1) + 1, end: last.lineEnd, text: '' }];
}

function pairOf(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === key);
}
