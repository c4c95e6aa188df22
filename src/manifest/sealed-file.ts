/**
 * Editing SealedSecret files in place (`kseal set`/`unset`/`rename-key`, `kseal encrypt
 * --merge-into`, `kseal reencrypt -f`, `kseal convert`, recipients, the merge driver). Files are edited, not
 * rewritten: YAML edits are located through the syntax tree and spliced into the source text
 * (sealed-file-yaml.ts), so comments, key order, layout, other documents and every value not being
 * changed stay byte for byte. New keys go in sorted position when the existing keys are sorted,
 * else at the end. A JSON file (one object) is re-serialised with its own indentation.
 */
import { KEY_ID_ANNOTATION } from '../wire.js';
import { KsealError, type ErrorLocation } from '../errors.js';
import type { SealedSecret } from '../model/sealed-secret.js';
import type { RecipientEntry } from '../model/recipients.js';
import type { ObjectValues } from '../model/object-recipients.js';
import { invalidSecretKey } from '../model/names.js';
import { openJson } from './sealed-file-json.js';
import { openYaml } from './sealed-file-yaml.js';

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
  /** Sets ciphertexts for every recipient: spec.encryptedData (as setValues) and each spec.recipients entry by id. */
  setObjectValues(values: ObjectValues, keyId: string): void;
  /** Removes keys from spec.encryptedData and from every spec.recipients entry (keys not there are ignored). */
  removeKeys(keys: readonly string[]): void;
  /** Moves the ciphertexts of `from` to the key `to`, in spec.encryptedData and every spec.recipients entry. Throws KEY_NOT_FOUND / KEY_EXISTS. */
  renameValue(from: string, to: string): void;
  /** Sets (or, with undefined, removes) the `kseal.dev/key-id` hint. */
  setKeyIdHint(keyId: string | undefined): void;
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

/** The `kind` of a parsed document, if it is a string. */
export function kindOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const kind = (value as Record<string, unknown>).kind;
  return typeof kind === 'string' ? kind : undefined;
}

/** The key-id hint names one key; it moves only when every value is now sealed with that key. */
export function replacesAll(sealed: SealedSecret, values: Readonly<Record<string, string>>): boolean {
  return Object.keys(sealed.spec.encryptedData).every((k) => Object.hasOwn(values, k));
}

/** Checks a rename before any edit: `from` exists, `to` is a valid key name that does not. */
export function checkRename(sealed: SealedSecret, from: string, to: string, location: ErrorLocation): void {
  if (!Object.hasOwn(sealed.spec.encryptedData, from)) {
    throw new KsealError('KEY_NOT_FOUND', 'the SealedSecret has no such key', { ...location, key: from, hint: `its keys are: ${Object.keys(sealed.spec.encryptedData).join(', ') || '(none)'}` });
  }
  const why = invalidSecretKey(to);
  if (why) throw new KsealError('INVALID_KEY_NAME', `the key name is not valid: it ${why}`, { ...location, key: to });
  if (Object.hasOwn(sealed.spec.encryptedData, to)) throw new KsealError('KEY_EXISTS', 'the SealedSecret already has this key', { ...location, key: to, hint: 'unset it first, or choose another name' });
}

/** A copy of `record` with `from` renamed to `to`, in the same position. */
export function renamed(record: Readonly<Record<string, string>>, from: string, to: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record)) out[k === from ? to : k] = v;
  return out;
}

/** Keeps the parsed object in step with an edit, so later edits and callers see the file as it now is. */
export function trackValues(sealed: SealedSecret, values: ObjectValues, keyId: string | undefined): void {
  for (const [k, v] of Object.entries(values.encryptedData)) sealed.spec.encryptedData[k] = v;
  for (const [id, data] of values.recipients) {
    const entry = sealed.spec.recipients?.find((r) => r.id === id);
    if (entry !== undefined) for (const [k, v] of Object.entries(data)) entry.encryptedData[k] = v;
  }
  if (keyId !== undefined) sealed.metadata.annotations = { ...sealed.metadata.annotations, [KEY_ID_ANNOTATION]: keyId };
}

/** Keeps the parsed object in step with removed keys. */
export function trackRemoved(sealed: SealedSecret, keys: readonly string[]): void {
  for (const key of keys) {
    delete sealed.spec.encryptedData[key];
    for (const entry of sealed.spec.recipients ?? []) delete entry.encryptedData[key];
  }
}

/** Keeps the parsed object in step with a rename. */
export function trackRenamed(sealed: SealedSecret, from: string, to: string): void {
  sealed.spec.encryptedData = renamed(sealed.spec.encryptedData, from, to);
  for (const entry of sealed.spec.recipients ?? []) if (Object.hasOwn(entry.encryptedData, from)) entry.encryptedData = renamed(entry.encryptedData, from, to);
}

/** Keeps the parsed object in step with a hint change. */
export function trackHint(sealed: SealedSecret, keyId: string | undefined): void {
  const annotations = { ...sealed.metadata.annotations };
  if (keyId === undefined) delete annotations[KEY_ID_ANNOTATION];
  else annotations[KEY_ID_ANNOTATION] = keyId;
  sealed.metadata.annotations = annotations;
}
