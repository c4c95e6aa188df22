/**
 * Editing SealedSecret files in place (`kseal encrypt --merge-into`, `kseal reencrypt -f`, `kseal
 * convert`). Files are
 * edited, not rewritten: YAML is changed through its syntax tree, so comments, key order and layout
 * survive, other documents in the stream stay as they were, and every value not being replaced keeps
 * its ciphertext byte for byte. New keys go in sorted position when the existing keys are sorted,
 * else at the end. A JSON file (one object) is re-serialised with its own indentation.
 */
import { isMap, isScalar, parseAllDocuments, type Document, type YAMLMap } from 'yaml';
import { KsealError, type ErrorLocation } from '../errors.js';
import { readSealedSecret, KEY_ID_ANNOTATION, type SealedSecret } from '../model/sealed-secret.js';
import { compareKeys } from '../model/secret.js';
import { describeKind } from '../model/fields.js';
import { MAX_ALIAS_COUNT } from './read.js';
import { applySplices, headerSplices, type Splice } from './yaml-header-splice.js';

/** One document of an opened file. `sealed` is undefined for documents of other kinds. */
export interface SealedFileDocument {
  readonly sealed: SealedSecret | undefined;
  /** The kind found, for messages about skipped documents. */
  readonly kind: string | undefined;
  readonly location: ErrorLocation & { readonly document: number };
  /** Sets ciphertexts (key → base64); the key-id hint moves to `keyId` when every value is now sealed with it. */
  setValues(values: Readonly<Record<string, string>>, keyId: string): void;
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
  // Header edits patch the text itself (yaml-header-splice.ts); any other edit re-prints from the tree.
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
      setValues: (values, keyId) => {
        if (sealed === undefined) throw new KsealError('NOT_A_SEALED_SECRET', `expected a SealedSecret but found ${describeKind(value)}`, location);
        reprint = true;
        setYamlValues(doc, values);
        if (replacesAll(sealed, values)) doc.setIn(['metadata', 'annotations', KEY_ID_ANNOTATION], keyId);
      },
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

function setYamlValues(doc: Document, values: Readonly<Record<string, string>>): void {
  const data = doc.getIn(['spec', 'encryptedData'], true);
  let map: YAMLMap;
  if (isMap(data)) map = data;
  else {
    map = doc.createNode({});
    doc.setIn(['spec', 'encryptedData'], map);
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

function setYamlHeader(doc: Document, edit: HeaderEdit): void {
  const apiVersion = doc.get('apiVersion', true);
  if (isScalar(apiVersion)) apiVersion.value = edit.apiVersion;
  else doc.set('apiVersion', edit.apiVersion);
  for (const key of edit.remove) doc.deleteIn(['metadata', 'annotations', key]);
  for (const [key, value] of Object.entries(edit.set)) doc.setIn(['metadata', 'annotations', key], value);
  const annotations = doc.getIn(['metadata', 'annotations'], true);
  if (isMap(annotations) && annotations.items.length === 0) doc.deleteIn(['metadata', 'annotations']);
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
  const obj = parsed as { apiVersion?: string; metadata?: { annotations?: Record<string, string> }; spec: { encryptedData?: Record<string, string> } };
  return {
    documents: [
      {
        sealed,
        kind,
        location,
        setValues: (values, keyId) => {
          if (sealed === undefined) throw new KsealError('NOT_A_SEALED_SECRET', `expected a SealedSecret but found ${describeKind(parsed)}`, location);
          const current = obj.spec.encryptedData ?? {};
          const keys = Object.keys(current);
          const isSorted = keys.every((k, i) => i === 0 || compareKeys(keys[i - 1] ?? '', k) <= 0);
          const merged: Record<string, string> = { ...current, ...values };
          obj.spec.encryptedData = isSorted ? Object.fromEntries(Object.keys(merged).sort(compareKeys).map((k) => [k, merged[k] ?? ''])) : merged;
          if (replacesAll(sealed, values)) {
            obj.metadata ??= {};
            obj.metadata.annotations = { ...obj.metadata.annotations, [KEY_ID_ANNOTATION]: keyId };
          }
        },
        setHeader: (edit) => {
          if (sealed === undefined) throw new KsealError('NOT_A_SEALED_SECRET', `expected a SealedSecret but found ${describeKind(parsed)}`, location);
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
  return Object.keys(sealed.spec.encryptedData).every((k) => k in values);
}
