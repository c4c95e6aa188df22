/**
 * The last step of a clean merge: the result must still be a file of valid SealedSecrets. Two
 * branches can each make a valid change whose combination is not: one adds a key (sealed for every
 * recipient the object had), the other adds a recipient (holding every key the object had), and
 * the new recipient has no ciphertext for the new key. Only the plaintext can mend that, so it is
 * reported as a conflict with what to run, never papered over.
 */
import { isKsealError } from '../errors.js';
import { parseYamlDocuments, YAML_TO_JS_OPTIONS, type ParsedYamlDocument } from '../manifest/parse.js';
import { readSealedSecret } from '../model/sealed-secret.js';
import type { MergeConflict } from './sealed-merge.js';

/** Conflicts that make the merged `text` unusable (empty when it is fine). */
export function checkMerged(text: string): MergeConflict[] {
  const out: MergeConflict[] = [];
  let documents: readonly ParsedYamlDocument[];
  try {
    documents = parseYamlDocuments(text, 'merged').documents;
  } catch (e) {
    // Beyond the parse limits (documents, depth, entries, aliases).
    return [{ reason: `the merged file cannot be read: ${isKsealError(e) ? e.message : 'it cannot be parsed'}` }];
  }
  for (const { doc, document, problem } of documents) {
    if (problem !== undefined) {
      out.push({ document, reason: `the merged file is not valid YAML (${problem.message})` });
      continue;
    }
    let value: Record<string, unknown> | null;
    try {
      value = doc.toJS(YAML_TO_JS_OPTIONS) as Record<string, unknown> | null;
    } catch {
      out.push({ document, reason: 'the merged file cannot be read (it expands too many aliases)' });
      continue;
    }
    if (value === null || typeof value !== 'object' || value.kind !== 'SealedSecret') continue;
    const missing = missingRecipientKeys(value);
    const object = objectName(value);
    if (missing.length > 0) {
      for (const { id, key } of missing) out.push({ document, object, field: `spec.recipients[${id.slice(0, 12)}…].encryptedData`, key, reason: 'one side added this key, the other added this recipient, so the recipient has no ciphertext for it: seal the key again (kseal set FILE KEY) so every recipient holds it' });
      continue;
    }
    try {
      readSealedSecret(value, { document });
    } catch (e) {
      out.push({ document, object, reason: `the merged object is not a valid SealedSecret: ${isKsealError(e) ? e.message : 'it cannot be read'}` });
    }
  }
  return out;
}

/** Keys of spec.encryptedData that a spec.recipients entry lacks. */
function missingRecipientKeys(value: Record<string, unknown>): Array<{ id: string; key: string }> {
  const spec = value.spec as { encryptedData?: unknown; recipients?: unknown } | undefined;
  const primary = spec?.encryptedData !== null && typeof spec?.encryptedData === 'object' ? Object.keys(spec.encryptedData) : [];
  const out: Array<{ id: string; key: string }> = [];
  if (!Array.isArray(spec?.recipients)) return out;
  for (const entry of spec.recipients as unknown[]) {
    const { id, encryptedData } = (entry ?? {}) as { id?: unknown; encryptedData?: unknown };
    if (typeof id !== 'string' || encryptedData === null || typeof encryptedData !== 'object') continue;
    for (const key of primary) if (!Object.hasOwn(encryptedData, key)) out.push({ id, key });
  }
  return out;
}

function objectName(value: Record<string, unknown>): string {
  const meta = (value.metadata ?? {}) as { name?: unknown; namespace?: unknown };
  return `${typeof meta.namespace === 'string' ? meta.namespace : ''}/${typeof meta.name === 'string' ? meta.name : ''}`;
}
