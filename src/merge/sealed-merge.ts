/**
 * The three-way merge behind `kseal merge-driver`: two branches' changes to one file of
 * SealedSecrets, merged without any key or plaintext.
 *
 * Git's line merge conflicts whenever two branches touch neighbouring lines, and kseal keeps keys
 * sorted, so two branches adding `password` and `token` to the same SealedSecret always collided.
 * Here every simple block mapping of every SealedSecret that holds key/value pairs (see
 * MERGED_FIELDS), and its spec.recipients list, is masked by one placeholder line on all three
 * sides, the rest of the file is merged line by line as git does (`lineMerge`), and each
 * placeholder is then filled with the key-by-key merge of its mapping (block-merge.ts) or the
 * by-id merge of the recipients (recipients-merge.ts, each entry's encryptedData key by key).
 * So: different keys, and different recipients, merge cleanly, byte for byte; the same key (or
 * recipient) changed differently on both sides is a conflict marked as git marks one; edits
 * elsewhere (other documents, comments, template fields) merge as git would merge them. A mapping one side deleted while the other changed its keys, or a
 * file that does not parse, gets git's plain line merge of the whole file.
 */
import { randomBytes } from 'node:crypto';
import { isMap, isNode, type Document } from 'yaml';
import { parseYamlDocuments, type ParsedYamlStream } from '../manifest/parse.js';
import { KEY_ID_ANNOTATION } from '../wire.js';
import { blockEntries, type Entry } from '../manifest/yaml-text-edit.js';
import { mergeBlock, sameValues, type BlockSide, type MarkerOptions } from './block-merge.js';
import { checkMerged } from './merge-check.js';
import { mergeRecipients, recipientsSide, sameRecipients, type RecipientsSide } from './recipients-merge.js';

/** A line-based three-way merge (git merge-file): the merged text and how many conflicts it marked. */
export type LineMerge = (ours: string, base: string, theirs: string) => { readonly text: string; readonly conflicts: number };

/** One conflict, named by place and key (never by value). */
export interface MergeConflict {
  /** The document (1-based, in our version) and the object, when the conflict is inside one. */
  readonly document?: number;
  readonly object?: string;
  /** The field path, e.g. `spec.encryptedData`. */
  readonly field?: string;
  readonly key?: string;
  readonly reason: string;
}

export interface MergeResult {
  /** The merged file; with conflict markers where `conflicts` says. */
  readonly text: string;
  readonly conflicts: readonly MergeConflict[];
}

export interface MergeOptions extends MarkerOptions {
  readonly lineMerge: LineMerge;
}

/** The key/value mappings of a SealedSecret that merge key by key. */
const MERGED_FIELDS: ReadonlyArray<readonly string[]> = [
  ['metadata', 'labels'],
  ['metadata', 'annotations'],
  ['spec', 'encryptedData'],
  ['spec', 'template', 'metadata', 'labels'],
  ['spec', 'template', 'metadata', 'annotations'],
  ['spec', 'template', 'data'],
];

/** One mapping, or the recipients list, in one side's text. */
interface Site {
  readonly document: number;
  readonly object: string;
  readonly field: string;
  /** Offsets of the first line and just past the last line the placeholder replaces. */
  readonly start: number;
  readonly end: number;
  /** The placeholder's indentation (the first line's). */
  readonly indent: string;
  /** What must be equal on every side for the text merge (the recipients list's layout). */
  readonly layout: string;
  readonly block?: BlockSide;
  readonly recipients?: RecipientsSide;
}

interface Sides {
  readonly sites: Map<string, Site>;
  /** Mappings whose layout cannot be merged as text on this side. */
  readonly complex: Set<string>;
}

/** Merges `ours` and `theirs` against `base`. */
export function mergeSealedText(base: string, ours: string, theirs: string, options: MergeOptions): MergeResult {
  const plain = (reason: string, extra: MergeConflict[] = []): MergeResult => {
    const merged = options.lineMerge(ours, base, theirs);
    return { text: merged.text, conflicts: [...extra, ...(merged.conflicts > 0 ? [{ reason }] : [])] };
  };
  const parsed = [base, ours, theirs].map(sitesOf);
  const [o, a, b] = parsed;
  if (o === undefined || a === undefined || b === undefined) return plain('lines changed on both sides (one version is not valid YAML, so it was merged line by line)');
  const layouts = (id: string): Set<string> => new Set(parsed.map((p) => p?.sites.get(id)?.layout).filter((l) => l !== undefined));
  const ids = [...new Set([...o.sites.keys(), ...a.sites.keys(), ...b.sites.keys()])].filter((id) => !parsed.some((p) => p?.complex.has(id)) && layouts(id).size <= 1);
  const tag = placeholderTag([base, ours, theirs]);
  const mask = (text: string, sides: Sides): string => {
    const sites = ids.map((id, n) => [n, sides.sites.get(id)] as const).filter((x): x is readonly [number, Site] => x[1] !== undefined);
    sites.sort(([, x], [, y]) => y.start - x.start);
    let out = text;
    for (const [n, site] of sites) {
      const newline = text.slice(0, site.end).endsWith('\n') ? '\n' : '';
      out = `${out.slice(0, site.start)}${site.indent}${tag}${n}${newline}${out.slice(site.end)}`;
    }
    return out;
  };
  const merged = options.lineMerge(mask(ours, a), mask(base, o), mask(theirs, b));
  const placeholder = new RegExp(`^[ \\t]*${tag}(\\d+)(\\n|$)`, 'gm');
  const present = new Set([...merged.text.matchAll(placeholder)].map((m) => Number(m[1])));
  const conflicts: MergeConflict[] = [];
  const deleted: MergeConflict[] = [];
  const blocks = ids.map((id, n) => {
    const [os, as, bs] = [o.sites.get(id), a.sites.get(id), b.sites.get(id)];
    const site = (as ?? bs ?? os) as Site;
    if (!present.has(n)) {
      // Gone from the merge: fine when the side that kept it did not change it.
      const kept = as ?? bs;
      if (os !== undefined && kept !== undefined && !sameSite(os, kept)) deleted.push({ document: site.document, object: site.object, field: site.field, reason: `${as === undefined ? 'we' : 'they'} deleted it and the other side changed its keys` });
      return '';
    }
    if (site.recipients !== undefined) {
      const result = mergeRecipients(os?.recipients, as?.recipients, bs?.recipients, options);
      for (const c of result.conflicts) conflicts.push({ document: site.document, object: site.object, field: `spec.recipients[${c.id.slice(0, 12)}…]${c.key === undefined ? '' : '.encryptedData'}`, ...(c.key === undefined ? {} : { key: c.key }), reason: c.reason });
      return result.text;
    }
    const result = mergeBlock(os?.block, as?.block, bs?.block, { ...options, unionKeys: new Set(site.field === 'metadata.annotations' ? [KEY_ID_ANNOTATION] : []) });
    for (const key of result.conflicts) conflicts.push({ document: site.document, object: site.object, field: site.field, key, reason: 'changed differently on both sides' });
    return result.text;
  });
  if (deleted.length > 0) return plain('lines changed on both sides', deleted);
  const text = merged.text.replace(placeholder, (_m, n: string, newline: string) => {
    const block = blocks[Number(n)] ?? '';
    return newline === '' ? block.replace(/\n$/, '') : block;
  });
  if (merged.conflicts > 0) conflicts.push({ reason: 'lines outside the sealed values changed on both sides' });
  conflicts.push(...staleRecipients(o, a, b));
  if (conflicts.length > 0) return { text, conflicts };
  return { text, conflicts: checkMerged(text) };
}

/** Every mergeable mapping of every SealedSecret in `text`, by identity; undefined when it does not parse. */
function sitesOf(text: string): Sides | undefined {
  let parsed: ParsedYamlStream;
  try {
    parsed = parseYamlDocuments(text, 'merge');
  } catch {
    return undefined; // beyond the parse limits
  }
  if (parsed.documents.some((d) => d.problem !== undefined)) return undefined;
  const list = parsed.documents.map((d) => d.doc);
  const sites = new Map<string, Site>();
  const complex = new Set<string>();
  const seen = new Map<string, number>();
  let document = 0;
  for (const doc of list) {
    document++;
    if (str(doc, ['kind']) !== 'SealedSecret') continue;
    const object = `${str(doc, ['metadata', 'namespace']) ?? ''}/${str(doc, ['metadata', 'name']) ?? ''}`;
    const occurrence = (seen.get(object) ?? 0) + 1;
    seen.set(object, occurrence);
    for (const path of MERGED_FIELDS) {
      const field = path.join('.');
      const id = `${object}#${occurrence} ${field}`;
      const node = doc.getIn(path, true);
      if (node === undefined || node === null) continue;
      const entries = isMap(node) ? blockEntries(text, node) : undefined;
      if (entries === undefined || entries.length === 0) {
        complex.add(id);
        continue;
      }
      const first = entries[0] as Entry;
      const indent = text.slice(first.lineStart, first.keyNode.range?.[0] ?? first.lineStart);
      sites.set(id, { document, object, field, start: first.lineStart, end: (entries[entries.length - 1] as Entry).lineEnd, indent, layout: '', block: { text, entries } });
    }
    const node = doc.getIn(['spec', 'recipients'], true);
    if (node !== undefined && node !== null) {
      const id = `${object}#${occurrence} spec.recipients`;
      const recipients = isNode(node) ? recipientsSide(text, node) : undefined;
      if (recipients === undefined) complex.add(id);
      else sites.set(id, { document, object, field: 'spec.recipients', start: recipients.start, end: recipients.end, indent: recipients.layout.replace(/-[ ]+$/, ''), layout: recipients.layout, recipients });
    }
  }
  return { sites, complex };
}

/**
 * A value changed on one side while the other added a recipient: the new recipient's ciphertext is
 * of the old value, and only the plaintext can mend that, so it is a conflict (as a key added beside
 * a new recipient is, in merge-check.ts).
 */
function staleRecipients(o: Sides, a: Sides, b: Sides): MergeConflict[] {
  const out: MergeConflict[] = [];
  for (const [id, site] of o.sites) {
    if (site.field !== 'spec.encryptedData') continue;
    const list = `${id.slice(0, -site.field.length)}spec.recipients`;
    const entries = (sides: Sides): ReadonlyArray<{ readonly id: string; readonly data: BlockSide | undefined }> => sides.sites.get(list)?.recipients?.entries ?? [];
    const inBase = new Set(entries(o).map((e) => e.id));
    for (const [changer, adder] of [[a, b], [b, a]] as const) {
      const changed = changedKeys(site.block, changer.sites.get(id)?.block);
      const inChanger = new Set(entries(changer).map((e) => e.id));
      const place = a.sites.get(id) ?? site;
      for (const entry of entries(adder).filter((e) => !inBase.has(e.id) && !inChanger.has(e.id))) {
        const held = new Set(entry.data?.entries.map((e) => e.key) ?? []);
        for (const key of changed.filter((k) => held.has(k))) {
          out.push({ document: place.document, object: place.object, field: `spec.recipients[${entry.id.slice(0, 12)}…].encryptedData`, key, reason: 'one side changed this key and the other added this recipient, whose ciphertext is of the old value: seal the key again (kseal set FILE KEY) so every recipient holds the new one' });
        }
      }
    }
  }
  return out;
}

/** Keys present in both mappings whose values differ. */
function changedKeys(base: BlockSide | undefined, side: BlockSide | undefined): string[] {
  const before = new Map(base?.entries.map((e) => [e.key, String(e.value.value)]) ?? []);
  return (side?.entries ?? []).filter((e) => before.has(e.key) && before.get(e.key) !== String(e.value.value)).map((e) => e.key);
}

/** True when a site holds the same keys and values (or the same recipients) on both sides. */
function sameSite(x: Site, y: Site): boolean {
  return x.recipients !== undefined || y.recipients !== undefined ? sameRecipients(x.recipients, y.recipients) : sameValues(x.block, y.block);
}

function str(doc: Document, path: readonly string[]): string | undefined {
  const v: unknown = doc.getIn(path);
  return typeof v === 'string' ? v : undefined;
}

/** A comment-line tag that none of the texts contains. */
function placeholderTag(texts: readonly string[]): string {
  for (;;) {
    const tag = `#kseal-merge-${randomBytes(8).toString('hex')}-`;
    if (texts.every((t) => !t.includes(tag))) return tag;
  }
}
