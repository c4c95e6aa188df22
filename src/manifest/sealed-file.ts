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
import { invalidSecretKey } from '../model/names.js';
import { MAX_ALIAS_COUNT } from './read.js';
import { applyEdits, removeEntriesEdits, renameEntryEdits, setEntriesEdits, type TextEdit } from './yaml-text-edit.js';

/** One document of an opened file. `sealed` is undefined for documents of other kinds. */
export interface SealedFileDocument {
  readonly sealed: SealedSecret | undefined;
  /** The kind found, for messages about skipped documents. */
  readonly kind: string | undefined;
  readonly location: ErrorLocation & { readonly document: number };
  /** The document as parsed, unknown fields included (for comparisons such as the merge driver's). */
  readonly raw: unknown;
  /** Sets ciphertexts (key → base64); the key-id hint moves to `keyId` when every value is now sealed with it. */
  setValues(values: Readonly<Record<string, string>>, keyId: string): void;
  /** Removes keys from encryptedData; other entries stay byte for byte. Throws KEY_NOT_FOUND for a key that is not there. */
  removeValues(keys: readonly string[]): void;
  /** Moves the ciphertext of `from` to the key `to` (sorted position when the keys are sorted). Throws KEY_NOT_FOUND / KEY_EXISTS. */
  renameValue(from: string, to: string): void;
  /** Sets (or, with undefined, removes) the `kseal.dev/key-id` hint. */
  setKeyIdHint(keyId: string | undefined): void;
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
  let current = text;
  const parse = (): Document[] => {
    const docs = parseAllDocuments(current, { version: '1.1', prettyErrors: false, uniqueKeys: true });
    return Array.isArray(docs) ? docs : [];
  };
  const withContent = (all: Document[]): Document[] => all.filter((doc) => !(doc.contents === null && doc.errors.length === 0));
  /** Applies one edit to document `index`: as text splices when the layout allows, else through the tree and a re-print. */
  const edit = (index: number, splice: (doc: Document, text: string) => TextEdit[] | undefined, fallback: (doc: Document) => void): void => {
    const all = parse();
    const doc = withContent(all)[index];
    if (doc === undefined) return;
    const edits = splice(doc, current);
    if (edits !== undefined) current = applyEdits(current, edits);
    else {
      fallback(doc);
      current = printAll(all);
    }
  };
  const documents: SealedFileDocument[] = [];
  withContent(parse()).forEach((doc, i) => {
    const location = { file: source, document: i + 1 };
    const error = doc.errors[0];
    if (error !== undefined) throw new KsealError('INVALID_YAML', `not valid YAML (${error.code.toLowerCase().replace(/_/g, ' ')})`, location);
    const value: unknown = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    const kind = kindOf(value);
    const sealed = kind === 'SealedSecret' ? readSealedSecret(value, location) : undefined;
    const need = (): SealedSecret => {
      if (sealed === undefined) throw new KsealError('NOT_A_SEALED_SECRET', `expected a SealedSecret but found ${describeKind(value)}`, location);
      return sealed;
    };
    const hintEdits = (d: Document, t: string, keyId: string | undefined): TextEdit[] | undefined => {
      const annotations = d.getIn(['metadata', 'annotations'], true);
      if (!isMap(annotations)) return undefined;
      if (keyId !== undefined) return setEntriesEdits(t, annotations, new Map([[KEY_ID_ANNOTATION, keyId]]), () => -1);
      return annotations.has(KEY_ID_ANNOTATION) ? removeEntriesEdits(t, annotations, [KEY_ID_ANNOTATION]) : [];
    };
    documents.push({
      sealed,
      kind,
      location,
      raw: value,
      setValues: (values, keyId) => {
        const object = need();
        const all = replacesAll(object, values);
        const ordered = new Map(Object.keys(values).sort(compareKeys).map((k) => [k, values[k] ?? '']));
        edit(
          i,
          (d, t) => {
            const data = d.getIn(['spec', 'encryptedData'], true);
            if (!isMap(data)) return undefined;
            const keys = data.items.map((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)));
            const sorted = keys.every((k, j) => j === 0 || compareKeys(keys[j - 1] ?? '', k) <= 0);
            const valueEdits = setEntriesEdits(t, data, ordered, (existing, key) => (sorted ? existing.findIndex((k) => compareKeys(k, key) > 0) : -1));
            const hint = all ? hintEdits(d, t, keyId) : [];
            return valueEdits === undefined || hint === undefined ? undefined : [...valueEdits, ...hint];
          },
          (d) => {
            setYamlValues(d, values);
            if (all) d.setIn(['metadata', 'annotations', KEY_ID_ANNOTATION], keyId);
          },
        );
        for (const [key, v] of ordered) object.spec.encryptedData[key] = v;
        if (all) object.metadata.annotations = { ...object.metadata.annotations, [KEY_ID_ANNOTATION]: keyId };
      },
      removeValues: (keys) => {
        const object = need();
        checkPresent(object, keys, location);
        edit(
          i,
          (d, t) => {
            const data = d.getIn(['spec', 'encryptedData'], true);
            return isMap(data) ? removeEntriesEdits(t, data, keys) : undefined;
          },
          (d) => {
            const data = d.getIn(['spec', 'encryptedData'], true);
            if (isMap(data)) data.items = data.items.filter((p) => !keys.includes(isScalar(p.key) ? String(p.key.value) : String(p.key)));
          },
        );
        for (const key of keys) delete object.spec.encryptedData[key];
      },
      renameValue: (from, to) => {
        const object = need();
        checkRename(object, from, to, location);
        const names = Object.keys(object.spec.encryptedData);
        const sorted = names.every((k, j) => j === 0 || compareKeys(names[j - 1] ?? '', k) <= 0);
        const at = names.indexOf(from);
        const rest = names.filter((k) => k !== from);
        const sortedAt = rest.findIndex((k) => compareKeys(k, to) > 0);
        const position = !sorted || (sortedAt < 0 ? rest.length : sortedAt) === at ? undefined : sortedAt;
        edit(
          i,
          (d, t) => {
            const data = d.getIn(['spec', 'encryptedData'], true);
            return isMap(data) ? renameEntryEdits(t, data, from, to, position) : undefined;
          },
          (d) => {
            const map = d.getIn(['spec', 'encryptedData'], true) as YAMLMap;
            const index = map.items.findIndex((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === from);
            const [pair] = map.items.splice(index, 1);
            if (pair === undefined) return;
            if (isScalar(pair.key)) pair.key.value = to;
            else pair.key = d.createNode(to);
            map.items.splice(position === undefined ? index : position < 0 ? map.items.length : position, 0, pair);
          },
        );
        object.spec.encryptedData = renamed(object.spec.encryptedData, from, to);
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
        const annotations = { ...object.metadata.annotations };
        if (keyId === undefined) delete annotations[KEY_ID_ANNOTATION];
        else annotations[KEY_ID_ANNOTATION] = keyId;
        object.metadata.annotations = annotations;
      },
    });
  });
  return { documents, render: () => current };
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
  const need = (): SealedSecret => {
    if (sealed === undefined) throw new KsealError('NOT_A_SEALED_SECRET', `expected a SealedSecret but found ${describeKind(parsed)}`, location);
    return sealed;
  };
  const raw: unknown = JSON.parse(text);
  return {
    documents: [
      {
        sealed,
        kind,
        location,
        raw,
        removeValues: (keys) => {
          const current = need();
          checkPresent(current, keys, location);
          for (const key of keys) {
            delete current.spec.encryptedData[key];
            if (obj.spec.encryptedData !== undefined) delete obj.spec.encryptedData[key];
          }
        },
        renameValue: (from, to) => {
          const current = need();
          checkRename(current, from, to, location);
          const data = obj.spec.encryptedData ?? {};
          const keys = Object.keys(data);
          const isSorted = keys.every((k, i) => i === 0 || compareKeys(keys[i - 1] ?? '', k) <= 0);
          const moved = renamed(data, from, to);
          obj.spec.encryptedData = isSorted ? Object.fromEntries(Object.keys(moved).sort(compareKeys).map((k) => [k, moved[k] ?? ''])) : moved;
          current.spec.encryptedData = renamed(current.spec.encryptedData, from, to);
        },
        setKeyIdHint: (keyId) => {
          const current = need();
          obj.metadata ??= {};
          const annotations = { ...obj.metadata.annotations };
          if (keyId === undefined) delete annotations[KEY_ID_ANNOTATION];
          else annotations[KEY_ID_ANNOTATION] = keyId;
          obj.metadata.annotations = annotations;
          current.metadata.annotations = { ...annotations };
        },
        setValues: (values, keyId) => {
          const sealedNow = need();
          const current = obj.spec.encryptedData ?? {};
          const keys = Object.keys(current);
          const isSorted = keys.every((k, i) => i === 0 || compareKeys(keys[i - 1] ?? '', k) <= 0);
          const merged: Record<string, string> = { ...current, ...values };
          obj.spec.encryptedData = isSorted ? Object.fromEntries(Object.keys(merged).sort(compareKeys).map((k) => [k, merged[k] ?? ''])) : merged;
          if (replacesAll(sealedNow, values)) {
            obj.metadata ??= {};
            obj.metadata.annotations = { ...obj.metadata.annotations, [KEY_ID_ANNOTATION]: keyId };
          }
          for (const key of Object.keys(values)) sealedNow.spec.encryptedData[key] = values[key] ?? '';
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

function checkPresent(sealed: SealedSecret, keys: readonly string[], location: ErrorLocation): void {
  for (const key of keys) {
    if (!Object.hasOwn(sealed.spec.encryptedData, key)) throw new KsealError('KEY_NOT_FOUND', 'the SealedSecret has no such key', { ...location, key, hint: `its keys are: ${Object.keys(sealed.spec.encryptedData).join(', ') || '(none)'}` });
  }
}

function checkRename(sealed: SealedSecret, from: string, to: string, location: ErrorLocation): void {
  checkPresent(sealed, [from], location);
  const why = invalidSecretKey(to);
  if (why) throw new KsealError('INVALID_KEY_NAME', `the key name is not valid: it ${why}`, { ...location, key: to });
  if (Object.hasOwn(sealed.spec.encryptedData, to)) throw new KsealError('KEY_EXISTS', 'the SealedSecret already has this key', { ...location, key: to, hint: 'unset it first, or choose another name' });
}

/** A copy of `record` with `from` renamed to `to`, in the same position. */
function renamed(record: Readonly<Record<string, string>>, from: string, to: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record)) out[k === from ? to : k] = v;
  return out;
}

/** The key-id hint names one key; it moves only when every value is now sealed with that key. */
function replacesAll(sealed: SealedSecret, values: Readonly<Record<string, string>>): boolean {
  return Object.keys(sealed.spec.encryptedData).every((k) => k in values);
}
