/**
 * The plaintext side of `kseal edit` (SOPS's edit loop): the Secret document an identity holder edits,
 * and the comparison of the edited document with the values it was opened with. Only keys and values
 * can change: the name, namespace and scope are bound into every ciphertext (FORMAT.md §2), and type,
 * labels and annotations live in the object's template, which the edit keeps as it is.
 *
 * Text values are shown under `stringData` (multi-line ones as literal block scalars, as people write
 * PEM files), anything else base64 under `data`. The document is checked to read back as exactly the
 * opened bytes before it is shown; a value that would not is moved to `data`.
 */
import { KsealError, type ErrorLocation } from '../errors.js';
import { encodeBase64 } from '../crypto/base64.js';
import { readManifests } from '../manifest/read.js';
import { emitYaml, scalar } from '../manifest/yaml-emit.js';
import { checkSecretContent, compareKeys, readSecret } from './secret.js';
import { sealedSecretScope, type SealedSecret } from './sealed-secret.js';
import { describeScope } from './scope.js';

/** Name used for the edited document in messages (never the temporary file's path). */
const EDITED_SOURCE = 'the edited Secret';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The value as text when it is UTF-8 without control characters other than tab and newline. */
function asText(bytes: Buffer): string | undefined {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return undefined;
  }
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0008\u000b-\u001f\u007f\u0085\u2028\u2029\ufeff]/.test(text) ? undefined : text;
}

/** One stringData entry: a literal block for multi-line text (no leading or trailing blanks), else a scalar on the key's line. */
function textEntry(key: string, text: string): string {
  const body = text.replace(/\n+$/, '');
  if (!body.includes('\n') || !/^\S/.test(body) || /[ \t]$/m.test(body)) return `  ${scalar(key)}: ${scalar(text)}\n`;
  const trailing = text.length - body.length;
  const chomp = trailing === 0 ? '-' : trailing === 1 ? '' : '+';
  const lines = text.slice(0, trailing <= 1 ? body.length : text.length - 1).split('\n');
  return `  ${scalar(key)}: |${chomp}\n${lines.map((l) => (l === '' ? '' : `    ${l}`)).join('\n')}\n`;
}

/** Renders the document, with the keys in `asData` (and every non-text value) under `data`. */
function render(sealed: SealedSecret, values: ReadonlyMap<string, Buffer>, asData: ReadonlySet<string>): string {
  const { name, namespace } = sealed.metadata;
  const head = emitYaml({ apiVersion: 'v1', kind: 'Secret', metadata: namespace === undefined ? { name } : { name, namespace }, type: sealed.spec.template?.type ?? 'Opaque' });
  const keys = [...values.keys()].sort(compareKeys);
  let text = '';
  let data = '';
  for (const key of keys) {
    const bytes = values.get(key) as Buffer;
    const asString = asData.has(key) ? undefined : asText(bytes);
    if (asString === undefined) data += `  ${scalar(key)}: ${encodeBase64(bytes)}\n`;
    else text += textEntry(key, asString);
  }
  const scope = describeScope(sealedSecretScope(sealed), namespace, name);
  const comment =
    `# kseal edit: ${scope}.\n` +
    '# Change, add or delete keys under stringData (text) or data (base64), then save and quit:\n' +
    '# only changed and new keys are sealed again, for every recipient. Quit without saving to change nothing.\n';
  return `${comment}${head}${text === '' ? '' : `stringData:\n${text}`}${data === '' ? '' : `data:\n${data}`}`;
}

/** The plaintext document for `values`, guaranteed to read back as exactly these bytes. */
export function editableDocument(sealed: SealedSecret, values: ReadonlyMap<string, Buffer>): string {
  const asData = new Set<string>();
  for (;;) {
    const text = render(sealed, values, asData);
    const back = readSecret(readManifests(text, EDITED_SOURCE)[0]?.value, {}).data;
    const wrong = [...values].filter(([k, v]) => !(back.get(k)?.equals(v) ?? false)).map(([k]) => k);
    if (wrong.length === 0 && back.size === values.size) return text;
    if (wrong.every((k) => asData.has(k))) throw new KsealError('INTERNAL', 'the values could not be shown so that they read back unchanged');
    for (const k of wrong) asData.add(k);
  }
}

/** What an edit changed. */
export interface EditChanges {
  /** Keys whose value changed, with the new bytes. */
  readonly changed: Map<string, Buffer>;
  /** Keys that are new, with their bytes. */
  readonly added: Map<string, Buffer>;
  readonly removed: string[];
  readonly unchanged: string[];
  readonly warnings: readonly string[];
}

/**
 * Reads the edited document and compares it with the values the object was opened with. Throws
 * EDIT_INVALID (or the Secret's own error code) when it is not one valid Secret for the same name,
 * namespace and type, with no labels, annotations or immutable field; messages never hold a value.
 */
export function compareEdit(sealed: SealedSecret, before: ReadonlyMap<string, Buffer>, editedText: string): EditChanges {
  const objects = readManifests(editedText, EDITED_SOURCE);
  if (objects.length !== 1) throw new KsealError('EDIT_INVALID', `the edited file must hold exactly one Secret, not ${objects.length} documents`, { file: EDITED_SOURCE });
  const location: ErrorLocation = { file: EDITED_SOURCE };
  const secret = readSecret(objects[0]?.value, location);
  const { name, namespace } = sealed.metadata;
  if (secret.name !== name || (secret.namespace ?? '') !== (namespace ?? '')) {
    throw new KsealError('EDIT_INVALID', 'metadata.name and metadata.namespace cannot change: they are bound into every ciphertext', {
      ...location,
      hint: `put them back to ${namespace === undefined ? '' : `${namespace}/`}${name}; to move the Secret, decrypt it and seal it again with kseal encrypt`,
    });
  }
  if (secret.type !== (sealed.spec.template?.type ?? 'Opaque')) {
    throw new KsealError('EDIT_INVALID', 'type cannot change in kseal edit: it lives in spec.template', { ...location, hint: 'edit spec.template.type in the SealedSecret file itself' });
  }
  if (Object.keys(secret.labels).length > 0 || Object.keys(secret.annotations).length > 0 || secret.immutable !== undefined) {
    throw new KsealError('EDIT_INVALID', 'labels, annotations and immutable cannot be set in kseal edit: they live in spec.template', { ...location, hint: 'edit spec.template in the SealedSecret file itself' });
  }
  checkSecretContent(secret);
  const changed = new Map<string, Buffer>();
  const added = new Map<string, Buffer>();
  const unchanged: string[] = [];
  for (const [key, bytes] of secret.data) {
    const old = before.get(key);
    if (old === undefined) added.set(key, bytes);
    else if (old.equals(bytes)) unchanged.push(key);
    else changed.set(key, bytes);
  }
  const removed = [...before.keys()].filter((k) => !secret.data.has(k)).sort(compareKeys);
  return { changed, added, removed, unchanged, warnings: secret.warnings };
}
