/**
 * Editing SealedSecret files in place (`kseal encrypt --merge-into`, `kseal reencrypt -f`). Files are
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

/** One document of an opened file. `sealed` is undefined for documents of other kinds. */
export interface SealedFileDocument {
  readonly sealed: SealedSecret | undefined;
  /** The kind found, for messages about skipped documents. */
  readonly kind: string | undefined;
  readonly location: ErrorLocation & { readonly document: number };
  /** Sets ciphertexts (key → base64); the key-id hint moves to `keyId` when every value is now sealed with it. */
  setValues(values: Readonly<Record<string, string>>, keyId: string): void;
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
        setYamlValues(doc, values);
        if (replacesAll(sealed, values)) doc.setIn(['metadata', 'annotations', KEY_ID_ANNOTATION], keyId);
      },
    });
  }
  return {
    documents,
    render: () => {
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
  const obj = parsed as { metadata?: { annotations?: Record<string, string> }; spec: { encryptedData?: Record<string, string> } };
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
