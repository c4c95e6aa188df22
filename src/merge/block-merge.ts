/**
 * Three-way merge of one simple block mapping of a SealedSecret (spec.encryptedData, a recipient's
 * encryptedData, annotations, labels, template data), key by key, as text: each key's line (with
 * the comment lines above it) is taken byte for byte from the side whose value wins, so both
 * branches' changes come out exactly as they were written. A key changed differently on both sides
 * is a conflict and is written between git's conflict markers, ours above theirs; everything else
 * in the mapping still merges. No value is ever decoded or opened: ciphertexts compare as strings.
 */
import type { Scalar } from 'yaml';
import { valueText, type Entry } from '../manifest/yaml-text-edit.js';
import { compareKeys } from '../model/secret.js';

/** One side's mapping: its entries and the text they are in. */
export interface BlockSide {
  readonly text: string;
  readonly entries: readonly Entry[];
}

/** How conflicts are written. */
export interface MarkerOptions {
  /** Length of the `<<<<<<<` markers (git's %L, default 7). */
  readonly markerSize: number;
  readonly oursLabel: string;
  readonly theirsLabel: string;
}

/** The merged mapping's text (whole lines, ending in a newline) and the keys in conflict. */
export interface BlockResult {
  readonly text: string;
  readonly conflicts: readonly string[];
}

interface Chunk {
  readonly value: string;
  /** The entry's line, with the comment lines between it and the entry before. */
  readonly text: string;
  /** Where the value is in `text`, for rewriting it (key-id hints). */
  readonly valueStart: number;
  readonly valueEnd: number;
  readonly scalar: Scalar;
}

/**
 * Merges `ours` and `theirs` against `base` (any may be absent: a mapping added or deleted).
 * Keys in `unionKeys` hold comma-separated lists (the key-id hint) and are merged as the union of
 * both sides' lists instead of conflicting.
 */
export function mergeBlock(base: BlockSide | undefined, ours: BlockSide | undefined, theirs: BlockSide | undefined, options: MarkerOptions & { readonly unionKeys?: ReadonlySet<string> }): BlockResult {
  const indent = ours === undefined ? undefined : indentOf(ours);
  const o = chunks(base, undefined);
  const a = chunks(ours, undefined);
  const b = chunks(theirs, indent);
  const out: string[] = [];
  const conflicts: string[] = [];
  for (const key of mergedOrder([...a.keys()], [...b.keys()])) {
    const [oc, ac, bc] = [o.get(key), a.get(key), b.get(key)];
    const [ov, av, bv] = [oc?.value, ac?.value, bc?.value];
    let pick: string | undefined;
    if (av === bv) pick = ac !== undefined && bc !== undefined && ac.text === oc?.text ? bc.text : ac?.text;
    else if (av === ov) pick = bc?.text;
    else if (bv === ov) pick = ac?.text;
    else if (ac !== undefined && av !== undefined && bv !== undefined && options.unionKeys?.has(key) === true) pick = withValue(ac, union(av, bv));
    else {
      conflicts.push(key);
      pick = `${'<'.repeat(options.markerSize)} ${options.oursLabel}\n${ac?.text ?? ''}${'='.repeat(options.markerSize)}\n${bc?.text ?? ''}${'>'.repeat(options.markerSize)} ${options.theirsLabel}\n`;
    }
    if (pick !== undefined) out.push(pick);
  }
  return { text: out.join(''), conflicts };
}

/** True when the two mappings hold the same keys with the same values (layout aside). */
export function sameValues(x: BlockSide | undefined, y: BlockSide | undefined): boolean {
  const cx = chunks(x, undefined);
  const cy = chunks(y, undefined);
  return cx.size === cy.size && [...cx].every(([k, c]) => cy.get(k)?.value === c.value);
}

/**
 * Our keys in our order, with keys only theirs has inserted: in sorted position when our keys are
 * sorted (as kseal writes them), else after the key they follow on their side.
 */
function mergedOrder(ours: readonly string[], theirs: readonly string[]): string[] {
  const order = [...ours];
  const sorted = order.every((k, i) => i === 0 || compareKeys(order[i - 1] ?? '', k) <= 0);
  const present = new Set(order);
  theirs.forEach((key, i) => {
    if (present.has(key)) return;
    let at: number;
    if (sorted && order.length > 0) {
      at = order.findIndex((k) => compareKeys(k, key) > 0);
      if (at < 0) at = order.length;
    } else {
      const before = theirs.slice(0, i).reverse().find((k) => present.has(k));
      at = before === undefined ? 0 : order.indexOf(before) + 1;
    }
    order.splice(at, 0, key);
    present.add(key);
  });
  return order;
}

function indentOf(side: BlockSide): string | undefined {
  const first = side.entries[0];
  return first === undefined ? undefined : side.text.slice(first.lineStart, first.keyNode.range?.[0] ?? first.lineStart);
}

/** Each entry as a chunk; lines re-indented to `indent` when the side uses another indentation. */
function chunks(side: BlockSide | undefined, indent: string | undefined): Map<string, Chunk> {
  const out = new Map<string, Chunk>();
  if (side === undefined) return out;
  const own = indentOf(side) ?? '';
  side.entries.forEach((entry, i) => {
    const start = i === 0 ? entry.lineStart : (side.entries[i - 1] as Entry).lineEnd;
    let text = side.text.slice(start, entry.lineEnd);
    if (!text.endsWith('\n')) text += '\n';
    const range = entry.value.range as [number, number, number];
    if (indent !== undefined && indent !== own) text = text.replace(new RegExp(`^${own}`, 'gm'), indent);
    out.set(entry.key, { value: String(entry.value.value), text, valueStart: range[0] - start, valueEnd: range[1] - start, scalar: entry.value });
  });
  return out;
}

function withValue(chunk: Chunk, value: string): string {
  return `${chunk.text.slice(0, chunk.valueStart)}${valueText(value, chunk.scalar)}${chunk.text.slice(chunk.valueEnd)}`;
}

function union(x: string, y: string): string {
  return [...new Set([...x.split(','), ...y.split(',')].map((s) => s.trim()).filter((s) => s !== ''))].join(',');
}
