/** The plaintext document of `kseal edit` (src/model/secret-edit.ts): shown values read back exactly; edits compare per key. */
import { describe, expect, it } from 'vitest';
import { compareEdit, editableDocument } from '../../src/model/secret-edit.js';
import type { SealedSecret } from '../../src/model/sealed-secret.js';
import { ksealErrorOf } from '../helpers/errors.js';

const sealed: SealedSecret = {
  apiVersion: 'kseal.dev/v1alpha1',
  kind: 'SealedSecret',
  metadata: { name: 'db', namespace: 'app', annotations: { 'kseal.dev/scope': 'strict' } },
  spec: { encryptedData: {}, template: { type: 'Opaque' } },
};
const values = (o: Record<string, string | Buffer>) => new Map(Object.entries(o).map(([k, v]) => [k, Buffer.isBuffer(v) ? v : Buffer.from(v)]));

describe('the document kseal edit shows', () => {
  it('shows text under stringData, multi-line text as a literal block, and binary base64 under data', () => {
    const text = editableDocument(sealed, values({ pem: '-----BEGIN X-----\nabc\n-----END X-----\n', user: 'admin', raw: Buffer.from([0xff, 0, 1]) }));
    expect(text).toContain('stringData:\n  pem: |\n    -----BEGIN X-----\n    abc\n    -----END X-----\n  user: admin\n');
    expect(text).toContain('data:\n  raw: /wAB\n');
    expect(text.startsWith('# kseal edit: strict (app/db).')).toBe(true);
  });

  it('reads back exactly the bytes shown, whatever the value', () => {
    const tricky = values({
      a: 'yes',
      b: 'l1\nl2\n\n\n',
      c: 'a\nb',
      d: ' lead\nx',
      e: 'a\tb\nc',
      f: 'trailing \nspace',
      g: '\n',
      h: '',
      i: 'x\r\ny',
      j: 'ünïcødé\n# not a comment\n  indented\n',
      k: '"quoted" \'single\' {braces}: [x]',
    });
    const text = editableDocument(sealed, tricky);
    const same = compareEdit(sealed, tricky, text);
    expect(same.unchanged.sort()).toEqual([...tricky.keys()].sort());
    expect([...same.changed.keys(), ...same.added.keys(), ...same.removed]).toEqual([]);
  });

  it('reports changed, added, removed and unchanged keys', () => {
    const before = values({ keep: 'same', change: 'old', drop: 'bye' });
    const edited = editableDocument(sealed, before).replace('change: old', 'change: new').replace('  drop: bye\n', '  added: fresh\n');
    const result = compareEdit(sealed, before, edited);
    expect([...result.changed].map(([k, v]) => [k, v.toString()])).toEqual([['change', 'new']]);
    expect([...result.added].map(([k, v]) => [k, v.toString()])).toEqual([['added', 'fresh']]);
    expect(result.removed).toEqual(['drop']);
    expect(result.unchanged).toEqual(['keep']);
  });

  it('refuses a changed name or namespace, since both are bound into every ciphertext', () => {
    const before = values({ a: 'x' });
    const error = ksealErrorOf(() => compareEdit(sealed, before, editableDocument(sealed, before).replace('namespace: app', 'namespace: other')));
    expect(error.code).toBe('EDIT_INVALID');
    expect(error.file).toBe('the edited Secret');
  });

  it('refuses a changed type, labels, or a document that is not one Secret', () => {
    const before = values({ a: 'x' });
    const doc = editableDocument(sealed, before);
    expect(ksealErrorOf(() => compareEdit(sealed, before, doc.replace('type: Opaque', 'type: other')))).toMatchObject({ code: 'EDIT_INVALID' });
    expect(ksealErrorOf(() => compareEdit(sealed, before, doc.replace('  name: db', '  name: db\n  labels: {a: b}')))).toMatchObject({ code: 'EDIT_INVALID' });
    expect(ksealErrorOf(() => compareEdit(sealed, before, `${doc}---\n${doc}`))).toMatchObject({ code: 'EDIT_INVALID' });
    expect(ksealErrorOf(() => compareEdit(sealed, before, doc.replace('kind: Secret', 'kind: ConfigMap')))).toMatchObject({ code: 'NOT_A_SECRET' });
  });

  it('refuses an edit that removes every key, and says where a YAML error is without quoting it', () => {
    const before = values({ a: 'canary-value' });
    const doc = editableDocument(sealed, before);
    expect(ksealErrorOf(() => compareEdit(sealed, before, doc.replace(/stringData:[\s\S]*/, '')))).toMatchObject({ code: 'EMPTY_DATA' });
    const broken = ksealErrorOf(() => compareEdit(sealed, before, doc.replace('a: canary-value', 'a: "canary-value')));
    expect(broken.code).toBe('INVALID_YAML');
    expect(broken.message).not.toContain('canary');
  });
});
