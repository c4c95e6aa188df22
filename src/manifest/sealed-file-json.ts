/** The JSON side of sealed-file.ts: one JSON object per file, edited as data and re-serialised with its own indentation. */
import { KEY_ID_ANNOTATION } from '../wire.js';
import { KsealError } from '../errors.js';
import { mergedKeyIdHint, readSealedSecret, type SealedSecret } from '../model/sealed-secret.js';
import { compareKeys } from '../model/secret.js';
import { describeKind } from '../model/fields.js';
import { parseJsonValues } from './parse-json.js';
import type { RecipientEntry } from '../model/recipients.js';
import { checkRename, kindOf, renamed, replacesAll, trackHint, trackRemoved, trackRenamed, trackValues, type SealedFile, type SealedFileDocument } from './sealed-file.js';

type Editor = Omit<SealedFileDocument, 'sealed' | 'kind' | 'location' | 'raw'>;

/** Opens a JSON SealedSecret file for editing. */
export function openJson(text: string, source: string): SealedFile {
  const location = { file: source, document: 1 };
  // The one parse entry (duplicate keys and limits checked); in-place editing takes one object per file.
  const values = parseJsonValues(text, source);
  if (values.length !== 1) throw new KsealError('INVALID_JSON', `in-place editing takes one JSON object per file, not ${values.length}`, location);
  const parsed: unknown = values[0];
  const raw: unknown = parseJsonValues(text, source)[0];
  const kind = kindOf(parsed);
  const sealed = kind === 'SealedSecret' ? readSealedSecret(parsed, location) : undefined;
  const indent = /\n( +|\t)"/.exec(text)?.[1] ?? '  ';
  const obj = parsed as { metadata?: { annotations?: Record<string, string> }; spec: { encryptedData?: Record<string, string>; recipients?: RecipientEntry[] } };
  const isSorted = (keys: readonly string[]): boolean => keys.every((k, i) => i === 0 || compareKeys(keys[i - 1] ?? '', k) <= 0);
  const ordered = (wasSorted: boolean, record: Record<string, string>): Record<string, string> =>
    wasSorted ? Object.fromEntries(Object.keys(record).sort(compareKeys).map((k) => [k, record[k] ?? ''])) : record;
  const merge = (current: Record<string, string>, values: Readonly<Record<string, string>>): Record<string, string> => ordered(isSorted(Object.keys(current)), { ...current, ...values });
  const check = (): SealedSecret => {
    if (sealed === undefined) throw new KsealError('NOT_A_SEALED_SECRET', `expected a SealedSecret but found ${describeKind(parsed)}`, location);
    return sealed;
  };
  const setHint = (keyId: string | undefined): void => {
    obj.metadata ??= {};
    const annotations = { ...obj.metadata.annotations };
    if (keyId === undefined) delete annotations[KEY_ID_ANNOTATION];
    else annotations[KEY_ID_ANNOTATION] = keyId;
    obj.metadata.annotations = annotations;
  };
  const editor: Editor = {
    setValues: (values, keyId) => editor.setObjectValues({ encryptedData: { ...values }, recipients: new Map() }, keyId),
    setObjectValues: (values, keyId) => {
      const current = check();
      const previous = current.metadata.annotations?.[KEY_ID_ANNOTATION];
      const merged = mergedKeyIdHint(previous, keyId, replacesAll(current, values.encryptedData));
      const hintId = merged !== undefined && merged !== previous ? merged : undefined;
      obj.spec.encryptedData = merge(obj.spec.encryptedData ?? {}, values.encryptedData);
      for (const [id, entryValues] of values.recipients) {
        const entry = obj.spec.recipients?.find((r) => r.id === id);
        if (entry === undefined) throw new KsealError('INTERNAL', 'a recipient entry to update is missing from the file');
        entry.encryptedData = merge(entry.encryptedData ?? {}, entryValues);
      }
      if (hintId !== undefined) setHint(hintId);
      trackValues(current, values, hintId);
    },
    removeKeys: (keys) => {
      const current = check();
      for (const key of keys) {
        if (obj.spec.encryptedData !== undefined) delete obj.spec.encryptedData[key];
        for (const entry of obj.spec.recipients ?? []) delete entry.encryptedData[key];
      }
      trackRemoved(current, keys);
    },
    renameValue: (from, to) => {
      const current = check();
      checkRename(current, from, to, location);
      const data = obj.spec.encryptedData ?? {};
      obj.spec.encryptedData = ordered(isSorted(Object.keys(data)), renamed(data, from, to));
      for (const entry of obj.spec.recipients ?? []) {
        if (Object.hasOwn(entry.encryptedData, from)) entry.encryptedData = ordered(isSorted(Object.keys(entry.encryptedData)), renamed(entry.encryptedData, from, to));
      }
      trackRenamed(current, from, to);
    },
    setKeyIdHint: (keyId) => {
      trackHint(check(), keyId);
      setHint(keyId);
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
    setHeader: (change) => {
      check();
      const target = obj as { apiVersion?: string };
      target.apiVersion = change.apiVersion;
      obj.metadata ??= {};
      const annotations: Record<string, string> = { ...obj.metadata.annotations };
      for (const key of change.remove) delete annotations[key];
      Object.assign(annotations, change.set);
      if (Object.keys(annotations).length > 0) obj.metadata.annotations = annotations;
      else delete obj.metadata.annotations;
    },
  };
  return {
    documents: [{ sealed, kind, location, raw, ...editor }],
    render: () => `${JSON.stringify(obj, null, indent)}\n`,
  };
}
