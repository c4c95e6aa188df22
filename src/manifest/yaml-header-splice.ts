/**
 * Text splices for a header edit (apiVersion and metadata.annotations) of one YAML document, so that
 * `kseal convert` changes exactly those lines and nothing else: the syntax tree's source ranges say
 * where each node is, and the file's own text is patched there. Comments (also trailing ones),
 * quoting, blank lines and every other byte stay where they were. Shapes this does not handle
 * (flow maps, multi-line values, aliases) return undefined, and the caller re-prints the document
 * from its syntax tree instead (comments kept, layout normalised).
 */
import { isMap, isPair, isScalar, type Document, type Pair, type YAMLMap } from 'yaml';

/** Replace text[start, end) with `text`. */
export interface Splice {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** The header change to make. */
export interface HeaderChange {
  readonly apiVersion: string;
  readonly set: Readonly<Record<string, string>>;
  readonly remove: readonly string[];
}

const PLAIN_SAFE = /^[A-Za-z0-9][A-Za-z0-9./_-]*$/;

/** The splices that apply `change` to `doc` (parsed from `text`), or undefined when the shape is not simple. */
export function headerSplices(text: string, doc: Document, change: HeaderChange): Splice[] | undefined {
  const root = doc.contents;
  if (!isMap(root) || root.flow === true) return undefined;
  const out: Splice[] = [];
  const api = findPair(root, 'apiVersion');
  if (api === undefined || !isScalar(api.value) || api.value.range == null || !PLAIN_SAFE.test(change.apiVersion)) return undefined;
  if (String(api.value.value) !== change.apiVersion) out.push({ start: api.value.range[0], end: api.value.range[1], text: change.apiVersion });

  const metaPair = findPair(root, 'metadata');
  if (metaPair === undefined || !isMap(metaPair.value) || metaPair.value.flow === true || metaPair.value.items.length === 0) return undefined;
  const meta = metaPair.value;
  const annPair = findPair(meta, 'annotations');
  const keys = Object.keys(change.set);
  if (annPair === undefined || annPair.value === null || (isScalar(annPair.value) && annPair.value.value === null)) {
    if (change.remove.length > 0) return undefined;
    if (keys.length === 0) return out;
    if (annPair !== undefined) return undefined;
    const indent = columnOf(text, startOf(meta.items[0]!));
    const at = lineEnd(text, endOf(meta.items[meta.items.length - 1]!));
    if (at === undefined) return undefined;
    const lines = keys.map((k) => `\n${' '.repeat(indent + 2)}${k}: ${scalarText(change.set[k] ?? '')}`).join('');
    out.push({ start: at, end: at, text: `\n${' '.repeat(indent)}annotations:${lines}` });
    return out;
  }
  if (!isMap(annPair.value) || annPair.value.flow === true) return undefined;
  const ann: YAMLMap = annPair.value;
  const removed = new Set(change.remove);
  const kept = ann.items.filter((p) => !removed.has(keyOf(p)));
  if (kept.length === 0 && keys.every((k) => !ann.items.some((p) => keyOf(p) === k))) {
    // Every annotation goes: the `annotations:` line goes too, or the new ones take their place.
    if (keys.length === 0) {
      const start = lineStart(text, startOf(annPair));
      const end = lineEnd(text, endOf(ann.items[ann.items.length - 1]!));
      if (end === undefined || !singleLine(text, ann.items)) return undefined;
      out.push({ start, end: Math.min(text.length, end + 1), text: '' });
      return out;
    }
  }
  if (ann.items.length === 0 || !singleLine(text, ann.items)) return undefined;
  const indent = columnOf(text, startOf(ann.items[0]!));
  for (const pair of ann.items) {
    const key = keyOf(pair);
    if (removed.has(key)) {
      const end = lineEnd(text, endOf(pair));
      if (end === undefined) return undefined;
      out.push({ start: lineStart(text, startOf(pair)), end: Math.min(text.length, end + 1), text: '' });
    } else if (key in change.set) {
      if (!isScalar(pair.value) || pair.value.range == null) return undefined;
      out.push({ start: pair.value.range[0], end: pair.value.range[1], text: scalarText(change.set[key] ?? '') });
    }
  }
  const fresh = keys.filter((k) => !ann.items.some((p) => keyOf(p) === k));
  if (fresh.length > 0) {
    const at = lineEnd(text, endOf(ann.items[ann.items.length - 1]!));
    if (at === undefined) return undefined;
    out.push({ start: at, end: at, text: fresh.map((k) => `\n${' '.repeat(indent)}${k}: ${scalarText(change.set[k] ?? '')}`).join('') });
  }
  return out;
}

/** A value as YAML: plain when it reads back as that same string under YAML 1.1 and 1.2, else double-quoted. */
function scalarText(value: string): string {
  const special = /^(?:true|false|yes|no|on|off|y|n|null|~|[-+.0-9].*)$/i.test(value);
  return PLAIN_SAFE.test(value) && !special ? value : JSON.stringify(value);
}

function findPair(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p): p is Pair => isPair(p) && keyOf(p) === key);
}

function keyOf(pair: Pair): string {
  return isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
}

function startOf(pair: Pair): number {
  return isScalar(pair.key) && pair.key.range != null ? pair.key.range[0] : -1;
}

function endOf(pair: Pair): number {
  const v = pair.value as { range?: [number, number, number] | null } | null;
  return v?.range != null ? v.range[1] : -1;
}

/** True when every pair is a plain key and a scalar value on one line. */
function singleLine(text: string, pairs: readonly Pair[]): boolean {
  return pairs.every((p) => {
    const start = startOf(p);
    const end = endOf(p);
    return start >= 0 && end >= start && isScalar(p.value) && !text.slice(start, end).includes('\n');
  });
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** Offset of the newline ending the line at `offset` (text.length on the last line); undefined when unknown. */
function lineEnd(text: string, offset: number): number | undefined {
  if (offset < 0) return undefined;
  const nl = text.indexOf('\n', offset);
  return nl < 0 ? text.length : nl;
}

function columnOf(text: string, offset: number): number {
  return offset - lineStart(text, offset);
}
