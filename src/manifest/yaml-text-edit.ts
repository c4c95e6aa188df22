/**
 * Byte-exact edits of a block mapping in YAML source text, located through the syntax tree's source
 * ranges: replace one entry's value, insert an entry on its own line, delete an entry's line. The
 * yaml package's own printer normalises layout (flow mappings, spacing before comments, quoting),
 * so re-printing a document would change bytes the user never asked to change; splicing the text
 * changes only the entries named. Returns undefined when the mapping is laid out in a way these
 * edits do not handle (flow style, block scalars, multi-line entries), so the caller can fall back
 * to re-printing.
 */
import { isScalar, Scalar, type YAMLMap } from 'yaml';

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

const PLAIN_KEY = /^[A-Za-z_][-._A-Za-z0-9]*$/;
const PLAIN_VALUE = /^[A-Za-z][A-Za-z0-9+/]*=*$/;
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
    if (before !== undefined) edits.push({ start: before.lineStart, end: before.lineStart, text: lines.join('') });
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
  const at = before?.lineStart ?? last.lineEnd;
  const text2 = before === undefined && last.lineEnd === text.length && !text.endsWith('\n') ? `\n${line.replace(/\n$/, '')}` : line.endsWith('\n') ? line : `${line}\n`;
  return [
    { start: entry.lineStart, end: entry.lineEnd, text: '' },
    { start: at, end: at, text: text2 },
  ];
}
