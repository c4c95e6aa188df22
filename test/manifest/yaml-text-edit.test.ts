/** The one text-splicing module (yaml-text-edit.ts): header edits through the editor, and its block-mapping edits. */
import { isMap, parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { openSealedFile } from '../../src/manifest/sealed-file.js';
import { addMapEdits, applyEdits, blockEntries, dropMapEdits, removeEntriesEdits, setEntriesEdits } from '../../src/manifest/yaml-text-edit.js';

const ENC = 'AgBy3i4OJSWK+PiTySYZZA==';

function convert(text: string, edit: { apiVersion: string; set: Record<string, string>; remove: string[] }): string {
  const file = openSealedFile(text, 'x.yaml');
  for (const doc of file.documents) if (doc.sealed !== undefined) doc.setHeader(edit);
  return file.render();
}

describe('header edits of SealedSecret YAML', () => {
  it('adds an annotations map where there is none, indented like metadata, touching nothing else', () => {
    const text = `apiVersion: bitnami.com/v1alpha1 # group\nkind: SealedSecret\nmetadata:\n    name: db\n    namespace: app\nspec:\n    encryptedData:\n        a: ${ENC}\n`;
    expect(convert(text, { apiVersion: 'kseal.dev/v1alpha1', set: { 'kseal.dev/scope': 'strict' }, remove: [] })).toBe(
      `apiVersion: kseal.dev/v1alpha1 # group\nkind: SealedSecret\nmetadata:\n    name: db\n    namespace: app\n    annotations:\n      kseal.dev/scope: strict\nspec:\n    encryptedData:\n        a: ${ENC}\n`,
    );
  });

  it('drops the annotations line when its last annotation goes', () => {
    const text = `apiVersion: kseal.dev/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\n  annotations:\n    kseal.dev/scope: strict   # pinned\n  namespace: app\nspec:\n  encryptedData:\n    a: ${ENC}\n`;
    expect(convert(text, { apiVersion: 'bitnami.com/v1alpha1', set: {}, remove: ['kseal.dev/scope'] })).toBe(
      `apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\n  namespace: app\nspec:\n  encryptedData:\n    a: ${ENC}\n`,
    );
  });

  it('quotes values YAML would read as something else ("true")', () => {
    const text = `apiVersion: kseal.dev/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\n  namespace: app\n  annotations:\n    kseal.dev/scope: cluster-wide\nspec:\n  encryptedData:\n    a: ${ENC}\n`;
    expect(convert(text, { apiVersion: 'bitnami.com/v1alpha1', set: { 'sealedsecrets.bitnami.com/cluster-wide': 'true' }, remove: ['kseal.dev/scope'] })).toContain(
      '  annotations:\n    sealedsecrets.bitnami.com/cluster-wide: "true"\nspec:',
    );
  });

  it('falls back to re-printing from the syntax tree for a flow map, keeping the ciphertext', () => {
    const text = `apiVersion: kseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db, namespace: app, annotations: {kseal.dev/scope: strict}}\nspec:\n  encryptedData:\n    a: ${ENC}\n`;
    const out = convert(text, { apiVersion: 'bitnami.com/v1alpha1', set: {}, remove: ['kseal.dev/scope'] });
    expect(out).toContain('apiVersion: bitnami.com/v1alpha1');
    expect(out).not.toContain('kseal.dev/scope');
    expect(out).toContain(`a: ${ENC}`);
  });
});

describe('block mapping edits', () => {
  const text = 'data: # keep\n  b: "x"\n  # about d\n  d: y   # trailing\nafter: 1\n';
  const map = (t: string) => {
    const m = parseDocument(t).get('data', true);
    if (!isMap(m)) throw new Error('no map');
    return m;
  };

  it('replaces a value in its own quoting and inserts a key at a position, touching no other byte', () => {
    const edits = setEntriesEdits(text, map(text), new Map([['b', 'z'], ['c', 'w']]), (keys, key) => keys.findIndex((k) => k > key));
    expect(applyEdits(text, edits ?? [])).toBe('data: # keep\n  b: "z"\n  c: w\n  # about d\n  d: y   # trailing\nafter: 1\n');
  });

  it('deletes entry lines but refuses to empty the mapping (the caller drops it instead)', () => {
    expect(applyEdits(text, removeEntriesEdits(text, map(text), ['d']) ?? [])).toBe('data: # keep\n  b: "x"\n  # about d\nafter: 1\n');
    expect(removeEntriesEdits(text, map(text), ['b', 'd'])).toBeUndefined();
    expect(applyEdits(text, dropMapEdits(text, parseDocument(text).contents as never, 'data') ?? [])).toBe('after: 1\n');
  });

  it('adds a child mapping after the last entry, two spaces deeper', () => {
    const t = 'metadata:\n  name: db\nspec: {}\n';
    const meta = parseDocument(t).get('metadata', true);
    if (!isMap(meta)) throw new Error('no map');
    expect(applyEdits(t, addMapEdits(t, meta, 'labels', new Map([['app', 'db'], ['tier', 'true']])) ?? [])).toBe('metadata:\n  name: db\n  labels:\n    app: db\n    tier: "true"\nspec: {}\n');
  });

  it('reports flow mappings and multi-line keys as layouts it does not edit', () => {
    expect(blockEntries('data: {a: b}\n', map('data: {a: b}\n'))).toBeUndefined();
    const t = 'data:\n  ? a\n  : b\n';
    expect(blockEntries(t, map(t))).toBeUndefined();
  });
});
