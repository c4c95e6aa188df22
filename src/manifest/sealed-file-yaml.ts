/**
 * The YAML side of sealed-file.ts. Every edit re-parses the current text, finds the mappings to
 * change through the syntax tree and splices just their entries (yaml-text-edit.ts), so nothing
 * else in the stream changes by a byte. Layouts the splices do not handle (flow mappings, block
 * scalars, a mapping to create or empty) fall back to changing the tree and re-printing the
 * stream, which keeps comments and order but may normalise spacing.
 */
import { KEY_ID_ANNOTATION } from '../wire.js';
import { isMap, isScalar, isSeq, type Document, type YAMLMap } from 'yaml';
import { KsealError } from '../errors.js';
import { describeKind } from '../model/fields.js';
import type { RecipientEntry } from '../model/recipients.js';
import { mergedKeyIdHint, readSealedSecret, type SealedSecret } from '../model/sealed-secret.js';
import { compareKeys } from '../model/secret.js';
import { documentValue, parseYamlDocuments } from './parse.js';
import { checkRename, kindOf, replacesAll, trackHint, trackRemoved, trackRenamed, trackValues, type HeaderEdit, type SealedFile, type SealedFileDocument } from './sealed-file.js';
import { applyEdits, headerEdits, removeEntriesEdits, renameEntryEdits, setEntriesEdits, type TextEdit } from './yaml-text-edit.js';

const keyOf = (p: { key: unknown }): string => (isScalar(p.key) ? String(p.key.value) : String(p.key));
const isSorted = (keys: readonly string[]): boolean => keys.every((k, i) => i === 0 || compareKeys(keys[i - 1] ?? '', k) <= 0);

/** Opens a YAML stream for editing. */
export function openYaml(text: string, source: string): SealedFile {
  let current = text;
  // Every parse, the first and the one before each edit, goes through the one parse entry.
  const parse = (): ReturnType<typeof parseYamlDocuments> => parseYamlDocuments(current, source);
  /** Applies one edit to document `index`: as text splices when every part allows it, else through the tree and a re-print. */
  const edit = (index: number, splice: (doc: Document, text: string) => TextEdit[] | undefined, fallback: (doc: Document) => void): void => {
    const { all, documents: parsed } = parse();
    const doc = parsed[index]?.doc;
    if (doc === undefined) return;
    const edits = splice(doc, current);
    if (edits !== undefined) current = applyEdits(current, edits);
    else {
      fallback(doc);
      current = printAll(all);
    }
  };
  const documents: SealedFileDocument[] = [];
  parse().documents.forEach((parsed, i) => {
    const location = { file: source, document: parsed.document };
    const value = documentValue(parsed, source);
    const doc = parsed.doc;
    const kind = kindOf(value);
    const sealed = kind === 'SealedSecret' ? readSealedSecret(value, location) : undefined;
    const need = (): SealedSecret => {
      if (sealed === undefined) throw new KsealError('NOT_A_SEALED_SECRET', `expected a SealedSecret but found ${describeKind(value)}`, location);
      return sealed;
    };
    const editor: Omit<SealedFileDocument, 'sealed' | 'kind' | 'location' | 'raw'> = {
      setValues: (values, keyId) => editor.setObjectValues({ encryptedData: { ...values }, recipients: new Map() }, keyId),
      setObjectValues: (values, keyId) => {
        const object = need();
        // The key-id hint names every certificate used (merging with a newer one lists both).
        const previous = object.metadata.annotations?.[KEY_ID_ANNOTATION];
        const merged = mergedKeyIdHint(previous, keyId, replacesAll(object, values.encryptedData));
        const hintId = merged !== undefined && merged !== previous ? merged : undefined;
        const targets: Array<[Array<string | number>, Readonly<Record<string, string>>]> = [[['spec', 'encryptedData'], values.encryptedData]];
        for (const [id, data] of values.recipients) targets.push([[...entryPath(doc, id, object), 'encryptedData'], data]);
        edit(
          i,
          (d, t) => {
            const edits: TextEdit[] = [];
            for (const [path, data] of targets) {
              const map = d.getIn(path, true);
              if (!isMap(map)) return undefined;
              const sorted = isSorted(map.items.map(keyOf));
              const ordered = new Map(Object.keys(data).sort(compareKeys).map((k) => [k, data[k] ?? '']));
              const part = setEntriesEdits(t, map, ordered, (existing, key) => (sorted ? existing.findIndex((k) => compareKeys(k, key) > 0) : -1));
              if (part === undefined) return undefined;
              edits.push(...part);
            }
            const hint = hintId !== undefined ? hintEdits(d, t, hintId) : [];
            return hint === undefined ? undefined : [...edits, ...hint];
          },
          (d) => {
            for (const [path, data] of targets) setYamlValues(d, path, data);
            if (hintId !== undefined) d.setIn(['metadata', 'annotations', KEY_ID_ANNOTATION], hintId);
          },
        );
        trackValues(object, values, hintId);
      },
      removeKeys: (keys) => {
        const object = need();
        const paths = dataPaths(doc, object);
        edit(
          i,
          (d, t) => {
            const edits: TextEdit[] = [];
            for (const path of paths) {
              const map = d.getIn(path, true);
              if (!isMap(map)) return undefined;
              const present = keys.filter((k) => map.has(k));
              if (present.length === 0) continue;
              const part = removeEntriesEdits(t, map, present);
              if (part === undefined) return undefined;
              edits.push(...part);
            }
            return edits;
          },
          (d) => {
            for (const path of paths) {
              const map = d.getIn(path, true);
              if (isMap(map)) map.items = map.items.filter((p) => !keys.includes(keyOf(p)));
            }
          },
        );
        trackRemoved(object, keys);
      },
      renameValue: (from, to) => {
        const object = need();
        checkRename(object, from, to, location);
        const paths = dataPaths(doc, object);
        edit(
          i,
          (d, t) => {
            const edits: TextEdit[] = [];
            for (const path of paths) {
              const map = d.getIn(path, true);
              if (!isMap(map)) return undefined;
              if (!map.has(from)) continue;
              const part = renameEntryEdits(t, map, from, to, movePosition(map.items.map(keyOf), from, to));
              if (part === undefined) return undefined;
              edits.push(...part);
            }
            return edits;
          },
          (d) => {
            for (const path of paths) {
              const map = d.getIn(path, true);
              if (!isMap(map)) continue;
              const names = map.items.map(keyOf);
              const position = movePosition(names, from, to);
              const index = names.indexOf(from);
              const [pair] = index < 0 ? [] : map.items.splice(index, 1);
              if (pair === undefined) continue;
              if (isScalar(pair.key)) pair.key.value = to;
              else pair.key = d.createNode(to);
              map.items.splice(position === undefined ? index : position < 0 ? map.items.length : position, 0, pair);
            }
          },
        );
        trackRenamed(object, from, to);
      },
      setKeyIdHint: (keyId) => {
        const object = need();
        edit(
          i,
          (d, t) => hintEdits(d, t, keyId),
          (d) => {
            if (keyId !== undefined) d.setIn(['metadata', 'annotations', KEY_ID_ANNOTATION], keyId);
            else if (d.hasIn(['metadata', 'annotations', KEY_ID_ANNOTATION])) d.deleteIn(['metadata', 'annotations', KEY_ID_ANNOTATION]);
          },
        );
        trackHint(object, keyId);
      },
      setRecipients: (entries) => {
        need();
        edit(i, () => undefined, (d) => setRecipientsTree(d, entries));
      },
      setHeader: (change) => {
        need();
        edit(
          i,
          (d, t) => headerEdits(t, d, change),
          (d) => setYamlHeader(d, change),
        );
      },
      setPrimary: (encryptedData, keyId) => {
        need();
        edit(
          i,
          () => undefined,
          (d) => {
            d.setIn(['spec', 'encryptedData'], d.createNode(encryptedData));
            d.setIn(['metadata', 'annotations', KEY_ID_ANNOTATION], keyId);
          },
        );
      },
    };
    documents.push({ sealed, kind, location, raw: value, ...editor });
  });
  return { documents, render: () => current };
}

/** Where a rename lands: undefined for in place (unsorted keys, or already in sorted position), else the index among the other keys (-1: the end). */
function movePosition(names: readonly string[], from: string, to: string): number | undefined {
  if (!isSorted(names)) return undefined;
  const at = names.indexOf(from);
  const rest = names.filter((k) => k !== from);
  const sortedAt = rest.findIndex((k) => compareKeys(k, to) > 0);
  return (sortedAt < 0 ? rest.length : sortedAt) === at ? undefined : sortedAt;
}

/** The tree path of the spec.recipients entry with this id. */
function entryPath(doc: Document, id: string, object: SealedSecret): Array<string | number> {
  const list = doc.getIn(['spec', 'recipients'], true);
  const index = isSeq(list) ? list.items.findIndex((item) => isMap(item) && item.get('id') === id) : -1;
  if (index < 0 || object.spec.recipients === undefined) throw new KsealError('INTERNAL', 'a recipient entry to update is missing from the file');
  return ['spec', 'recipients', index];
}

/** Paths of every encryptedData map: the primary one and each spec.recipients entry's. */
function dataPaths(doc: Document, object: SealedSecret): Array<Array<string | number>> {
  const paths: Array<Array<string | number>> = [['spec', 'encryptedData']];
  const list = doc.getIn(['spec', 'recipients'], true);
  if (isSeq(list) && object.spec.recipients !== undefined) list.items.forEach((item, index) => isMap(item) && paths.push(['spec', 'recipients', index, 'encryptedData']));
  return paths;
}

function hintEdits(d: Document, t: string, keyId: string | undefined): TextEdit[] | undefined {
  const annotations = d.getIn(['metadata', 'annotations'], true);
  if (!isMap(annotations)) return keyId === undefined ? [] : undefined;
  if (keyId !== undefined) return setEntriesEdits(t, annotations, new Map([[KEY_ID_ANNOTATION, keyId]]), () => -1);
  return annotations.has(KEY_ID_ANNOTATION) ? removeEntriesEdits(t, annotations, [KEY_ID_ANNOTATION]) : [];
}

function setRecipientsTree(doc: Document, entries: readonly RecipientEntry[]): void {
  if (entries.length === 0) {
    doc.deleteIn(['spec', 'recipients']);
    return;
  }
  const kept = new Map<string, unknown>();
  const list = doc.getIn(['spec', 'recipients'], true);
  if (isSeq(list)) for (const item of list.items) if (isMap(item)) kept.set(String(item.get('id')), item);
  const items = entries.map((entry) => {
    const old = kept.get(entry.id);
    return old !== undefined && sameEntry(old as YAMLMap, entry) ? old : doc.createNode(entry);
  });
  const seq = doc.createNode([]);
  (seq as { items: unknown[] }).items = items;
  doc.setIn(['spec', 'recipients'], seq);
}

/** True when a YAML entry already holds exactly `entry` (so it is kept as written). */
function sameEntry(item: YAMLMap, entry: RecipientEntry): boolean {
  const js = item.toJSON() as RecipientEntry;
  return JSON.stringify([js.id, js.kind, js.publicKey, sortObject(js.encryptedData)]) === JSON.stringify([entry.id, entry.kind, entry.publicKey, sortObject(entry.encryptedData)]);
}

function sortObject(o: Readonly<Record<string, string>> | undefined): Array<[string, string]> {
  return Object.entries(o ?? {}).sort(([x], [y]) => compareKeys(x, y));
}

function setYamlValues(doc: Document, path: ReadonlyArray<string | number>, values: Readonly<Record<string, string>>): void {
  const data = doc.getIn(path, true);
  let map: YAMLMap;
  if (isMap(data)) map = data;
  else {
    map = doc.createNode({});
    doc.setIn(path, map);
  }
  const existing = map.items.map(keyOf);
  const sorted = isSorted(existing);
  for (const key of Object.keys(values).sort(compareKeys)) {
    const value = values[key] ?? '';
    const at = existing.indexOf(key);
    if (at >= 0) {
      const pair = map.items[at];
      if (pair !== undefined && isScalar(pair.value)) pair.value.value = value;
      else map.set(key, value);
      continue;
    }
    const pair = doc.createPair(key, value);
    const position = sorted ? existing.findIndex((k) => compareKeys(k, key) > 0) : -1;
    if (position < 0) {
      map.items.push(pair);
      existing.push(key);
    } else {
      map.items.splice(position, 0, pair);
      existing.splice(position, 0, key);
    }
  }
}

function setYamlHeader(doc: Document, change: HeaderEdit): void {
  const apiVersion = doc.get('apiVersion', true);
  if (isScalar(apiVersion)) apiVersion.value = change.apiVersion;
  else doc.set('apiVersion', change.apiVersion);
  for (const key of change.remove) doc.deleteIn(['metadata', 'annotations', key]);
  for (const [key, value] of Object.entries(change.set)) doc.setIn(['metadata', 'annotations', key], value);
  const annotations = doc.getIn(['metadata', 'annotations'], true);
  if (isMap(annotations) && annotations.items.length === 0) doc.deleteIn(['metadata', 'annotations']);
}

/** Re-prints every document (the fallback for layouts text splices do not handle). */
function printAll(all: readonly Document[]): string {
  // Each document prints its own `---` marker when it had one; later documents need one regardless.
  return all
    .map((doc, i) => {
      const out = doc.toString({ lineWidth: 0, minContentWidth: 0 });
      return i > 0 && !out.startsWith('---') ? `---\n${out}` : out;
    })
    .join('');
}
