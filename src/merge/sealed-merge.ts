/**
 * The three-way merge behind `kseal merge-driver`: two branches' changes to one file of
 * SealedSecrets, merged without any key or plaintext.
 *
 * Git's line merge conflicts whenever two branches touch neighbouring lines, and kseal keeps keys
 * sorted, so two branches adding `password` and `token` to the same SealedSecret always collided.
 * Here every simple block mapping of every SealedSecret that holds key/value pairs (see
 * MERGED_FIELDS, and each spec.recipients entry's encryptedData) is masked by one placeholder line
 * on all three sides, the rest of the file is merged line by line as git does (`lineMerge`), and
 * each placeholder is then filled with the key-by-key merge of its mapping (block-merge.ts).
 * So: different keys merge cleanly, byte for byte; the same key changed on both sides is a
 * conflict marked as git marks one; edits elsewhere (other documents, comments, template fields)
 * merge as git would merge them. A mapping one side deleted while the other changed its keys, or a
 * file that does not parse, gets git's plain line merge of the whole file.
 */
import { randomBytes } from 'node:crypto';
import { isMap, isSeq, type Document } from 'yaml';
import { parseYamlDocuments, type ParsedYamlStream } from '../manifest/parse.js';
import { KEY_ID_ANNOTATION } from '../wire.js';
import { blockEntries, type Entry } from '../manifest/yaml-text-edit.js';
import { mergeBlock, sameValues, type BlockSide, type MarkerOptions } from './block-merge.js';
import { checkMerged } from './merge-check.js';

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

/** One mapping in one side's text. */
interface Site extends BlockSide {
  readonly document: number;
  readonly object: string;
  readonly field: string;
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
  const ids = [...new Set([...o.sites.keys(), ...a.sites.keys(), ...b.sites.keys()])].filter((id) => !parsed.some((p) => p?.complex.has(id)));
  const tag = placeholderTag([base, ours, theirs]);
  const mask = (text: string, sides: Sides): string => {
    const sites = ids.map((id, n) => [n, sides.sites.get(id)] as const).filter((x): x is readonly [number, Site] => x[1] !== undefined);
    sites.sort(([, x], [, y]) => (y.entries[0]?.lineStart ?? 0) - (x.entries[0]?.lineStart ?? 0));
    let out = text;
    for (const [n, site] of sites) {
      const first = site.entries[0] as Entry;
      const last = site.entries[site.entries.length - 1] as Entry;
      const indent = text.slice(first.lineStart, first.keyNode.range?.[0] ?? first.lineStart);
      const newline = text.slice(0, last.lineEnd).endsWith('\n') ? '\n' : '';
      out = `${out.slice(0, first.lineStart)}${indent}${tag}${n}${newline}${out.slice(last.lineEnd)}`;
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
      if (os !== undefined && kept !== undefined && !sameValues(os, kept)) deleted.push({ document: site.document, object: site.object, field: site.field, reason: `${as === undefined ? 'we' : 'they'} deleted it and the other side changed its keys` });
      return '';
    }
    const result = mergeBlock(os, as, bs, { ...options, unionKeys: new Set(site.field === 'metadata.annotations' ? [KEY_ID_ANNOTATION] : []) });
    for (const key of result.conflicts) conflicts.push({ document: site.document, object: site.object, field: site.field, key, reason: 'changed differently on both sides' });
    return result.text;
  });
  if (deleted.length > 0) return plain('lines changed on both sides', deleted);
  const text = merged.text.replace(placeholder, (_m, n: string, newline: string) => {
    const block = blocks[Number(n)] ?? '';
    return newline === '' ? block.replace(/\n$/, '') : block;
  });
  if (merged.conflicts > 0) conflicts.push({ reason: 'lines outside the sealed values changed on both sides' });
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
    const paths: Array<[string, string, Array<string | number>]> = MERGED_FIELDS.map((p) => [p.join('.'), p.join('.'), [...p]]);
    const recipients = doc.getIn(['spec', 'recipients'], true);
    if (isSeq(recipients)) {
      recipients.items.forEach((item, i) => {
        const id = isMap(item) ? item.get('id') : undefined;
        if (typeof id === 'string') paths.push([`recipient ${id}`, `spec.recipients[${id.slice(0, 12)}…].encryptedData`, ['spec', 'recipients', i, 'encryptedData']]);
      });
    }
    for (const [name, field, path] of paths) {
      const id = `${object}#${occurrence} ${name}`;
      const node = doc.getIn(path, true);
      if (node === undefined || node === null) continue;
      const entries = isMap(node) ? blockEntries(text, node) : undefined;
      if (entries === undefined || entries.length === 0) complex.add(id);
      else sites.set(id, { text, entries, document, object, field });
    }
  }
  return { sites, complex };
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
