/**
 * Merging newly sealed values into an existing SealedSecret file (`kseal encrypt --merge-into`).
 * The file is edited, not rewritten: YAML is changed through its syntax tree, so comments, key order
 * and layout survive, and every value not being replaced keeps its ciphertext byte for byte. New keys
 * go in sorted position when the existing keys are sorted, else at the end.
 */
import { isMap, isScalar, parseAllDocuments, type Document, type YAMLMap } from 'yaml';
import { KsealError } from '../errors.js';
import { readSealedSecret, KEY_ID_ANNOTATION, type SealedSecret } from '../model/sealed-secret.js';
import { compareKeys } from '../model/secret.js';

/** A SealedSecret file opened for editing. */
export interface MergeTarget {
  readonly sealed: SealedSecret;
  /** Applies new ciphertexts (key → base64) and returns the new file text. */
  apply(values: Readonly<Record<string, string>>, keyId: string): string;
}

/** Opens the text of a file holding exactly one SealedSecret (YAML or JSON). */
export function openMergeTarget(text: string, source: string): MergeTarget {
  if (/^\s*\{/.test(text)) return openJson(text, source);
  const docs = parseAllDocuments(text, { version: '1.1', prettyErrors: false, keepSourceTokens: false });
  const list = (Array.isArray(docs) ? docs : []).filter((d) => d.contents !== null || d.errors.length > 0);
  if (list.length !== 1) {
    throw new KsealError('NOT_A_SEALED_SECRET', `--merge-into needs a file with exactly one SealedSecret, found ${list.length} documents`, { file: source });
  }
  const doc = list[0] as Document.Parsed;
  const error = doc.errors[0];
  if (error !== undefined) throw new KsealError('INVALID_YAML', `not valid YAML (${error.code.toLowerCase().replace(/_/g, ' ')})`, { file: source, document: 1 });
  const sealed = readSealedSecret(doc.toJS({ maxAliasCount: 100 }), { file: source, document: 1 });
  return {
    sealed,
    apply(values, keyId) {
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
      if (replacesAll(sealed, values)) doc.setIn(['metadata', 'annotations', KEY_ID_ANNOTATION], keyId);
      return doc.toString({ lineWidth: 0, minContentWidth: 0 });
    },
  };
}

function openJson(text: string, source: string): MergeTarget {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KsealError('INVALID_JSON', 'not valid JSON', { file: source, document: 1 });
  }
  const sealed = readSealedSecret(parsed, { file: source, document: 1 });
  const indent = /\n( +|\t)"/.exec(text)?.[1] ?? '  ';
  return {
    sealed,
    apply(values, keyId) {
      const obj = parsed as { metadata?: { annotations?: Record<string, string> }; spec: { encryptedData?: Record<string, string> } };
      const current = obj.spec.encryptedData ?? {};
      const keys = Object.keys(current);
      const sorted = keys.every((k, i) => i === 0 || compareKeys(keys[i - 1] ?? '', k) <= 0);
      const merged: Record<string, string> = { ...current, ...values };
      obj.spec.encryptedData = sorted ? Object.fromEntries(Object.keys(merged).sort(compareKeys).map((k) => [k, merged[k] ?? ''])) : merged;
      if (replacesAll(sealed, values)) {
        obj.metadata ??= {};
        obj.metadata.annotations = { ...obj.metadata.annotations, [KEY_ID_ANNOTATION]: keyId };
      }
      return `${JSON.stringify(obj, null, indent)}\n`;
    },
  };
}

/** The key-id hint names one key; it is moved only when every value is now sealed with that key. */
function replacesAll(sealed: SealedSecret, values: Readonly<Record<string, string>>): boolean {
  return Object.keys(sealed.spec.encryptedData).every((k) => k in values);
}
