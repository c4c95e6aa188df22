/**
 * Editing SealedSecret files in place (`kseal encrypt --merge-into`, `kseal reencrypt -f`, `kseal
 * convert`). Files are
 * edited, not rewritten: YAML is changed through its syntax tree, so comments, key order and layout
 * survive, other documents in the stream stay as they were, and every value not being replaced keeps
 * its ciphertext byte for byte. New keys go in sorted position when the existing keys are sorted,
 * else at the end. A JSON file (one object) is re-serialised with its own indentation. Header edits
 * alone (`kseal convert`) patch the file's own text (yaml-header-splice.ts): every other byte stays.
 */
import { isMap, isScalar, isSeq, parseAllDocuments, type Document, type YAMLMap } from 'yaml';
import { KsealError, type ErrorLocation } from '../errors.js';
import { readSealedSecret, type SealedSecret } from '../model/sealed-secret.js';
import { compareKeys } from '../model/secret.js';
import type { RecipientEntry } from '../model/recipients.js';
import type { ObjectValues } from '../model/object-recipients.js';
import { describeKind } from '../model/fields.js';
import { MAX_ALIAS_COUNT } from './read.js';
import { applySplices, headerSplices, type Splice } from './yaml-header-splice.js';
import { KEY_ID_ANNOTATION } from '../wire.js';

/** One document of an opened file. `sealed` is undefined for documents of other kinds. */
export interface SealedFileDocument {
  readonly sealed: SealedSecret | undefined;
  /** The kind found, for messages about skipped documents. */
  readonly kind: string | undefined;
  readonly location: ErrorLocation & { readonly document: number };
  /** Sets ciphertexts (key → base64); the key-id hint moves to `keyId` when every value is now sealed with it. */
  setValues(values: Readonly<Record<string, string>>, keyId: string): void;
  /** Sets ciphertexts for every recipient: spec.encryptedData (as setValues) and each spec.recipients entry by id. */
  setObjectValues(values: ObjectValues, keyId: string): void;
  /** Removes keys from spec.encryptedData and from every spec.recipients entry. */
  removeKeys(keys: readonly string[]): void;
  /** Replaces spec.recipients (removed when empty); entries kept from before keep their text. */
  setRecipients(entries: readonly RecipientEntry[]): void;
  /** Replaces spec.encryptedData as a whole and points the key-id hint at `keyId`. */
  setPrimary(encryptedData: Readonly<Record<string, string>>, keyId: string): void;
  /** Sets apiVersion and edits metadata.annotations (`kseal convert`); every other node stays as it was. */
  setHeader(edit: HeaderEdit): void;
}

/** A change of apiVersion and annotations. */
export interface HeaderEdit {
  readonly apiVersion: string;
  readonly set: Readonly<Record<string, string>>;
  readonly remove: readonly string[];
}

/** A file opened for editing. */
export interface SealedFile {
  readonly documents: readonly SealedFileDocument[];
  /** The file's text with every edit applied. */
  render(): string;
}

/** Opens a YAML stream or a JSON object for editing. Throws on syntax errors and on invalid SealedSecrets. */
export function openSealedFile(text: string, source: string): SealedFile {
  return /^\s*\{/.test(text) ? openJson(text, source) : openYaml(text, source);
}

function openYaml(text: string, source: string): SealedFile {
  const docs = parseAllDocuments(text, { version: '1.1', prettyErrors: false, uniqueKeys: true });
  const all = Array.isArray(docs) ? docs : [];
  const documents: SealedFileDocument[] = [];
  // Header edits patch the text itself; any other edit re-prints the documents from their trees.
  const splices: Splice[] = [];
  let reprint = false;
  let index = 0;
  for (const doc of all) {
    if (doc.contents === null && doc.errors.length === 0) continue;
    const location = { file: source, document: ++index };
    const error = doc.errors[0];
    if (error !== undefined) throw new KsealError('INVALID_YAML', `not valid YAML (${error.code.toLowerCase().replace(/_/g, ' ')})`, location);
    const value: unknown = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    const kind = kindOf(value);
    const sealed = kind === 'SealedSecret' ? readSealedSecret(value, location) : undefined;
    documents.push({
      sealed,
      kind,
      location,
      ...reprinting(
        yamlEditor(doc, () => {
          if (sealed === undefined) throw new KsealError('NOT_A_SEALED_SECRET', `expected a SealedSecret but found ${describeKind(value)}`, location);
          return sealed;
        }),
        () => (reprint = true),
      ),
      setHeader: (edit) => {
        if (sealed === undefined) throw new KsealError('NOT_A_SEALED_SECRET', `expected a SealedSecret but found ${describeKind(value)}`, location);
        const found = headerSplices(text, doc, edit);
        if (found === undefined) reprint = true;
        else splices.push(...found);
        setYamlHeader(doc, edit);
      },
    });
  }
  return {
    documents,
    render: () => {
      if (!reprint) return applySplices(text, splices);
      // Each document prints its own `---` marker when it had one; later documents need one regardless.
      return all
        .map((doc, i) => {
          const out = doc.toString({ lineWidth: 0, minContentWidth: 0 });
          return i > 0 && !out.startsWith('---') ? `---\n${out}` : out;
        })
        .join('');
    },
  };
}

type Editor = Pick<SealedFileDocument, 'setValues' | 'setObjectValues' | 'removeKeys' | 'setRecipients' | 'setPrimary'>;

/** The same editor, calling `mark` before every edit (they all need the documents re-printed). */
function reprinting(editor: Editor, mark: () => void): Editor {
  return {
    setValues: (values, keyId) => (mark(), editor.setValues(values, keyId)),
    setObjectValues: (values, keyId) => (mark(), editor.setObjectValues(values, keyId)),
    removeKeys: (keys) => (mark(), editor.removeKeys(keys)),
    setRecipients: (entries) => (mark(), editor.setRecipients(entries)),
    setPrimary: (encryptedData, keyId) => (mark(), editor.setPrimary(encryptedData, keyId)),
  };
}

function setYamlHeader(doc: Document, edit: HeaderEdit): void {
  const apiVersion = doc.get('apiVersion', true);
  if (isScalar(apiVersion)) apiVersion.value = edit.apiVersion;
  else doc.set('apiVersion', edit.apiVersion);
  for (const key of edit.remove) doc.deleteIn(['metadata', 'annotations', key]);
  for (const [key, value] of Object.entries(edit.set)) doc.setIn(['metadata', 'annotations', key], value);
  const annotations = doc.getIn(['metadata', 'annotations'], true);
  if (isMap(annotations) && annotations.items.length === 0) doc.deleteIn(['metadata', 'annotations']);
}

function yamlEditor(doc: Document, sealedOrThrow: () => SealedSecret): Editor {
  const recipientMap = (id: string): YAMLMap | undefined => {
    const list = doc.getIn(['spec', 'recipients'], true);
    if (!isSeq(list)) return undefined;
    for (const item of list.items) if (isMap(item) && item.get('id') === id) return item;
    return undefined;
  };
  const editor: Editor = {
    setValues: (values, keyId) => {
      const sealed = sealedOrThrow();
      setYamlValues(doc, ['spec', 'encryptedData'], values);
      if (replacesAll(sealed, values)) doc.setIn(['metadata', 'annotations', KEY_ID_ANNOTATION], keyId);
    },
    setObjectValues: (values, keyId) => {
      editor.setValues(values.encryptedData, keyId);
      for (const [id, entryValues] of values.recipients) {
        const map = recipientMap(id);
        if (map === undefined) throw new KsealError('INTERNAL', 'a recipient entry to update is missing from the file');
        setYamlValues(doc, ['spec', 'recipients', (doc.getIn(['spec', 'recipients'], true) as { items: unknown[] }).items.indexOf(map), 'encryptedData'], entryValues);
      }
    },
    removeKeys: (keys) => {
      sealedOrThrow();
      for (const key of keys) doc.deleteIn(['spec', 'encryptedData', key]);
      const list = doc.getIn(['spec', 'recipients'], true);
      if (isSeq(list)) for (const item of list.items) if (isMap(item)) for (const key of keys) item.deleteIn(['encryptedData', key]);
    },
    setRecipients: (entries) => {
      sealedOrThrow();
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
    },
    setPrimary: (encryptedData, keyId) => {
      sealedOrThrow();
      doc.setIn(['spec', 'encryptedData'], doc.createNode(encryptedData));
      doc.setIn(['metadata', 'annotations', KEY_ID_ANNOTATION], keyId);
    },
  };
  return editor;
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
  const existing = map.items.map((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)));
  const sorted = existing.every((k, i) => i === 0 || compareKeys(existing[i - 1] ?? '', k) <= 0);
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

function openJson(text: string, source: string): SealedFile {
  const location = { file: source, document: 1 };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KsealError('INVALID_JSON', 'not valid JSON (in-place editing takes one JSON object per file)', location);
  }
  const kind = kindOf(parsed);
  const sealed = kind === 'SealedSecret' ? readSealedSecret(parsed, location) : undefined;
  const indent = /\n( +|\t)"/.exec(text)?.[1] ?? '  ';
  const obj = parsed as { apiVersion?: string; metadata?: { annotations?: Record<string, string> }; spec: { encryptedData?: Record<string, string>; recipients?: RecipientEntry[] } };
  const merge = (current: Record<string, string>, values: Readonly<Record<string, string>>): Record<string, string> => {
    const keys = Object.keys(current);
    const isSorted = keys.every((k, i) => i === 0 || compareKeys(keys[i - 1] ?? '', k) <= 0);
    const merged: Record<string, string> = { ...current, ...values };
    return isSorted ? Object.fromEntries(Object.keys(merged).sort(compareKeys).map((k) => [k, merged[k] ?? ''])) : merged;
  };
  const check = (): SealedSecret => {
    if (sealed === undefined) throw new KsealError('NOT_A_SEALED_SECRET', `expected a SealedSecret but found ${describeKind(parsed)}`, location);
    return sealed;
  };
  const setHint = (keyId: string): void => {
    obj.metadata ??= {};
    obj.metadata.annotations = { ...obj.metadata.annotations, [KEY_ID_ANNOTATION]: keyId };
  };
  const editor: Editor = {
    setValues: (values, keyId) => {
      const current = check();
      obj.spec.encryptedData = merge(obj.spec.encryptedData ?? {}, values);
      if (replacesAll(current, values)) setHint(keyId);
    },
    setObjectValues: (values, keyId) => {
      editor.setValues(values.encryptedData, keyId);
      for (const [id, entryValues] of values.recipients) {
        const entry = obj.spec.recipients?.find((r) => r.id === id);
        if (entry === undefined) throw new KsealError('INTERNAL', 'a recipient entry to update is missing from the file');
        entry.encryptedData = merge(entry.encryptedData ?? {}, entryValues);
      }
    },
    removeKeys: (keys) => {
      check();
      for (const key of keys) {
        if (obj.spec.encryptedData !== undefined) delete obj.spec.encryptedData[key];
        for (const entry of obj.spec.recipients ?? []) delete entry.encryptedData[key];
      }
    },
    setRecipients: (entries) => {
      check();
      if (entries.length === 0) delete obj.spec.recipients;
      else obj.spec.recipients = entries.map((e) => ({ ...e }));
    },
    setPrimary: (encryptedData, keyId) => {
      check();
      obj.spec.encryptedData = { ...encryptedData };
      setHint(keyId);
    },
  };
  return {
    documents: [
      {
        sealed,
        kind,
        location,
        ...editor,
        setHeader: (edit) => {
          check();
          obj.apiVersion = edit.apiVersion;
          obj.metadata ??= {};
          const annotations: Record<string, string> = { ...obj.metadata.annotations };
          for (const key of edit.remove) delete annotations[key];
          Object.assign(annotations, edit.set);
          if (Object.keys(annotations).length > 0) obj.metadata.annotations = annotations;
          else delete obj.metadata.annotations;
        },
      },
    ],
    render: () => `${JSON.stringify(obj, null, indent)}\n`,
  };
}

function kindOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const kind = (value as Record<string, unknown>).kind;
  return typeof kind === 'string' ? kind : undefined;
}

/** The key-id hint names one key; it moves only when every value is now sealed with that key. */
function replacesAll(sealed: SealedSecret, values: Readonly<Record<string, string>>): boolean {
  return Object.keys(sealed.spec.encryptedData).every((k) => Object.hasOwn(values, k));
}
