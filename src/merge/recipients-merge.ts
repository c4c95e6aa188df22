/**
 * Three-way merge of a SealedSecret's `spec.recipients` list by recipient id, as text (part of
 * `kseal merge-driver`). Git's line merge conflicted whenever two branches each added a recipient,
 * because both append at the end of the list; here the list is merged entry by entry, matched by
 * `id`: an entry added, removed or changed on one side only is taken from that side, byte for byte;
 * an entry changed on both sides merges its `encryptedData` key by key (block-merge.ts) when its
 * other fields (kind, publicKey, comments) changed on at most one side; anything else is a conflict,
 * written between git's markers around just that entry. Nothing is decoded or opened.
 */
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import { blockEntries, type Entry } from '../manifest/yaml-text-edit.js';
import { mergeBlock, sameValues, type BlockSide, type MarkerOptions } from './block-merge.js';

/** One entry of the list as it is written. */
interface RecipientText {
  readonly id: string;
  /** The entry's lines, with the comment lines between it and the entry before; ends in a newline. */
  readonly chunk: string;
  /** Its encryptedData mapping (offsets into the file's text), when it is a simple block mapping. */
  readonly data: BlockSide | undefined;
  /** Where that mapping's lines are in `chunk`. */
  readonly dataStart: number;
  readonly dataEnd: number;
  /** `chunk` without the encryptedData lines: the entry's other fields and comments, compared as text. */
  readonly rest: string;
}

/** One side's `spec.recipients`: where its lines are in the file, their layout and the entries in order. */
export interface RecipientsSide {
  /** Offset of the first entry's line, and just past the last entry's line. */
  readonly start: number;
  readonly end: number;
  /** What precedes the first key of an entry on its line (e.g. `    - `): sides laid out differently are not merged as text. */
  readonly layout: string;
  readonly entries: readonly RecipientText[];
}

/** A conflict inside the list: the recipient id, and the key when only one key conflicts. */
export interface RecipientConflict {
  readonly id: string;
  readonly key?: string;
  readonly reason: string;
}

/** The merged list's lines and its conflicts. */
export interface RecipientsResult {
  readonly text: string;
  readonly conflicts: readonly RecipientConflict[];
}

/**
 * The list at `node` in `text` as entries; undefined when it cannot be merged as text (flow style,
 * an entry that is not a block mapping with a string id, a duplicated id).
 */
export function recipientsSide(text: string, node: Node): RecipientsSide | undefined {
  if (!isSeq(node) || node.flow === true || node.items.length === 0) return undefined;
  const entries: RecipientText[] = [];
  let layout: string | undefined;
  let previousEnd: number | undefined;
  let start = 0;
  const ids = new Set<string>();
  for (const item of node.items) {
    if (!isMap(item) || item.flow === true || item.range == null) return undefined;
    const id = item.get('id');
    if (typeof id !== 'string' || ids.has(id)) return undefined;
    ids.add(id);
    const lineStart = text.lastIndexOf('\n', item.range[0] - 1) + 1;
    const lead = text.slice(lineStart, item.range[0]);
    if (!/^[ ]*-[ ]+$/.test(lead) || (layout !== undefined && lead !== layout)) return undefined;
    layout = lead;
    const newline = text.indexOf('\n', Math.max(item.range[0], item.range[1] - 1));
    const lineEnd = newline < 0 ? text.length : newline + 1;
    const chunkStart = previousEnd ?? lineStart;
    if (previousEnd === undefined) start = lineStart;
    previousEnd = lineEnd;
    let chunk = text.slice(chunkStart, lineEnd);
    if (!chunk.endsWith('\n')) chunk += '\n';
    const dataNode = item.get('encryptedData', true);
    const dataEntries = isMap(dataNode) ? blockEntries(text, dataNode) : undefined;
    let data: BlockSide | undefined;
    let dataStart = chunk.length;
    let dataEnd = chunk.length;
    if (dataEntries !== undefined && dataEntries.length > 0) {
      data = { text, entries: dataEntries };
      dataStart = (dataEntries[0] as Entry).lineStart - chunkStart;
      dataEnd = Math.min(chunk.length, (dataEntries[dataEntries.length - 1] as Entry).lineEnd - chunkStart);
    } else if (dataNode !== undefined && !(isScalar(dataNode) && dataNode.value === null)) return undefined;
    entries.push({ id, chunk, data, dataStart, dataEnd, rest: chunk.slice(0, dataStart) + chunk.slice(dataEnd) });
  }
  return { start, end: previousEnd ?? start, layout: layout ?? '', entries };
}

/** True when both lists hold the same entries with the same fields and values (comments and layout count; value order does not). */
export function sameRecipients(x: RecipientsSide | undefined, y: RecipientsSide | undefined): boolean {
  if (x === undefined || y === undefined) return x === y;
  return x.entries.length === y.entries.length && x.entries.every((e, i) => sameEntry(e, y.entries[i]));
}

/** Merges the lists by id (any may be absent: the list added or removed on a side). */
export function mergeRecipients(base: RecipientsSide | undefined, ours: RecipientsSide | undefined, theirs: RecipientsSide | undefined, options: MarkerOptions): RecipientsResult {
  const byId = (side: RecipientsSide | undefined): Map<string, RecipientText> => new Map((side?.entries ?? []).map((e) => [e.id, e]));
  const [o, a, b] = [byId(base), byId(ours), byId(theirs)];
  const out: string[] = [];
  const conflicts: RecipientConflict[] = [];
  const marked = (x: string, y: string): string => `${'<'.repeat(options.markerSize)} ${options.oursLabel}\n${x}${'='.repeat(options.markerSize)}\n${y}${'>'.repeat(options.markerSize)} ${options.theirsLabel}\n`;
  for (const id of mergedOrder([...a.keys()], [...b.keys()])) {
    const [oe, ae, be] = [o.get(id), a.get(id), b.get(id)];
    if (ae !== undefined && be !== undefined && ae.chunk === be.chunk) out.push(ae.chunk);
    else if (sameEntry(ae, oe)) out.push(be?.chunk ?? '');
    else if (sameEntry(be, oe)) out.push(ae?.chunk ?? '');
    else if (ae === undefined || be === undefined) {
      conflicts.push({ id, reason: `${ae === undefined ? 'we' : 'they'} removed this recipient and the other side changed it` });
      out.push(marked(ae?.chunk ?? '', be?.chunk ?? ''));
    } else {
      // Changed on both sides: the other fields from the side that changed them, the values key by key.
      const host = ae.rest === be.rest || (oe !== undefined && be.rest === oe.rest) ? ae : oe !== undefined && ae.rest === oe.rest ? be : undefined;
      if (host === undefined || ae.data === undefined || be.data === undefined) {
        conflicts.push({ id, reason: 'this recipient was changed differently on both sides' });
        out.push(marked(ae.chunk, be.chunk));
        continue;
      }
      const values = mergeBlock(oe?.data, ae.data, be.data, options);
      for (const key of values.conflicts) conflicts.push({ id, key, reason: 'changed differently on both sides' });
      out.push(`${host.chunk.slice(0, host.dataStart)}${values.text}${host.chunk.slice(host.dataEnd)}`);
    }
  }
  return { text: out.join(''), conflicts };
}

function sameEntry(x: RecipientText | undefined, y: RecipientText | undefined): boolean {
  if (x === undefined || y === undefined) return x === y;
  return x.rest === y.rest && (x.data === undefined ? y.data === undefined : sameValues(x.data, y.data));
}

/**
 * Our ids in our order, with ids only theirs has inserted after the id they follow there (else
 * first) and after the ids only we added there: two branches that each append a recipient give ours, then theirs.
 */
function mergedOrder(ours: readonly string[], theirs: readonly string[]): string[] {
  const order = [...ours];
  const present = new Set(order);
  const inTheirs = new Set(theirs);
  theirs.forEach((id, i) => {
    if (present.has(id)) return;
    const before = theirs.slice(0, i).reverse().find((x) => present.has(x));
    let at = before === undefined ? 0 : order.indexOf(before) + 1;
    while (at < order.length && !inTheirs.has(order[at] as string)) at++;
    order.splice(at, 0, id);
    present.add(id);
  });
  return order;
}
