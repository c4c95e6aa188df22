import { describe, expect, it } from 'vitest';
import { openSealedFile } from '../../src/manifest/sealed-file.js';

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
