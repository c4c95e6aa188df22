/**
 * Byte stability of write-only edits (fast-check): over SealedSecret files with arbitrary keys,
 * orders, comments and other documents, `set`, `unset` and `rename-key` change exactly the lines of
 * the keys they name and nothing else, byte for byte, and the result still parses and validates.
 * The same through the CLI with real sealing: cli-edit.property.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readManifests } from '../../src/manifest/read.js';
import { openSealedFile } from '../../src/manifest/sealed-file.js';
import { readSealedSecret } from '../../src/model/sealed-secret.js';
import { compareKeys } from '../../src/model/secret.js';

const RUNS = { numRuns: 150 };
const keyName = fc.stringMatching(/^[a-zA-Z_][-._a-zA-Z0-9]{0,15}$/).filter((k) => !/^(y|n|yes|no|on|off|true|false|null|e[-+]?_*[0-9][0-9_]*)$/i.test(k));
// Sealed values start with their length prefix (`AQ`, `Ag`...), so a letter.
const cipher = fc.stringMatching(/^A[A-Za-z0-9+/]{8,40}={0,2}$/);
const comment = fc.option(fc.stringMatching(/^[a-z ]{1,20}$/), { nil: undefined });

interface FileCase {
  readonly keys: string[];
  readonly text: string;
  readonly sorted: boolean;
}

const file: fc.Arbitrary<FileCase> = fc
  .record({ entries: fc.uniqueArray(fc.tuple(keyName, cipher), { minLength: 1, maxLength: 6, selector: ([k]) => k }), sort: fc.boolean(), top: comment, inner: comment, trailer: fc.boolean() })
  .map(({ entries, sort, top, inner, trailer }) => {
    const ordered = sort ? [...entries].sort(([a], [b]) => compareKeys(a, b)) : entries;
    const lines = [
      ...(top === undefined ? [] : [`# ${top}`]),
      'apiVersion: kseal.dev/v1alpha1',
      'kind: SealedSecret',
      'metadata:',
      '  name: db',
      '  namespace: app',
      '  annotations:',
      '    kseal.dev/key-id: abc',
      '    kseal.dev/scope: strict',
      'spec:',
      '  encryptedData:',
      ...(inner === undefined ? [] : [`    # ${inner}`]),
      ...ordered.map(([k, v]) => `    ${k}: ${v}`),
      '  template:',
      '    type: Opaque',
    ];
    const text = `${lines.join('\n')}\n${trailer ? '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}   # kept\n' : ''}`;
    const keys = ordered.map(([k]) => k);
    return { keys, text, sorted: keys.every((k, i) => i === 0 || compareKeys(keys[i - 1] ?? '', k) <= 0) };
  });

const lineOf = (key: string) => (l: string) => l.startsWith(`    ${key}: `);

/** The edited text still reads as manifests and its SealedSecret validates, holding exactly `keys`. */
function validates(text: string, keys: readonly string[]): void {
  const [sealed, ...rest] = readManifests(text, 'f.yaml');
  expect(Object.keys(readSealedSecret(sealed?.value, {}).spec.encryptedData).sort(compareKeys)).toEqual([...keys].sort(compareKeys));
  expect(rest.length).toBeLessThanOrEqual(1);
}

describe('write-only edit byte stability', () => {
  it('set of an existing key changes only that key\'s line', () => {
    fc.assert(
      fc.property(file, fc.nat(), cipher, ({ keys, text }, pick, value) => {
        const key = keys[pick % keys.length] as string;
        const f = openSealedFile(text, 'f.yaml');
        f.documents[0]?.setValues({ [key]: value }, 'abc');
        const before = text.split('\n');
        const after = f.render().split('\n');
        expect(after.length).toBe(before.length);
        after.forEach((line, i) => expect(line).toBe(lineOf(key)(before[i] ?? '') ? `    ${key}: ${value}` : before[i]));
        validates(f.render(), keys);
      }),
      RUNS,
    );
  });

  it('set of a new key inserts exactly one line, in sorted position when the keys were sorted', () => {
    fc.assert(
      fc.property(file, keyName, cipher, ({ keys, text, sorted }, key, value) => {
        fc.pre(!keys.includes(key));
        const f = openSealedFile(text, 'f.yaml');
        f.documents[0]?.setValues({ [key]: value }, 'abc');
        const after = f.render().split('\n');
        const before = text.split('\n');
        const inserted = after.findIndex(lineOf(key));
        expect(after[inserted]).toBe(`    ${key}: ${value}`);
        expect([...after.slice(0, inserted), ...after.slice(inserted + 1)]).toEqual(before);
        const order = after.filter((l) => /^ {4}[^# ]/.test(l) && !l.startsWith('    kseal.dev/') && !l.startsWith('    type:')).map((l) => l.trim().split(': ')[0] ?? '');
        if (sorted) expect(order).toEqual([...order].sort(compareKeys));
        else expect(order.at(-1)).toBe(key);
        validates(f.render(), [...keys, key]);
      }),
      RUNS,
    );
  });

  it('unset removes exactly the lines of the keys named', () => {
    fc.assert(
      fc.property(file, fc.nat(), ({ keys, text }, pick) => {
        const gone = keys.filter((_, i) => (pick >> i) & 1);
        // Removing every key leaves `encryptedData: {}`, which re-prints the document (tested in the CLI tests).
        fc.pre(gone.length > 0 && gone.length < keys.length);
        const f = openSealedFile(text, 'f.yaml');
        f.documents[0]?.removeKeys(gone);
        expect(f.render()).toBe(text.split('\n').filter((l) => !gone.some((k) => lineOf(k)(l))).join('\n'));
        validates(f.render(), keys.filter((k) => !gone.includes(k)));
      }),
      RUNS,
    );
  });

  it('rename-key keeps the ciphertext and changes nothing but that entry', () => {
    fc.assert(
      fc.property(file, fc.nat(), keyName, ({ keys, text }, pick, to) => {
        const from = keys[pick % keys.length] as string;
        fc.pre(!keys.includes(to));
        const f = openSealedFile(text, 'f.yaml');
        f.documents[0]?.renameValue(from, to);
        const before = text.split('\n');
        const after = f.render().split('\n');
        const old = before.find(lineOf(from)) as string;
        expect(after.filter(lineOf(to))).toEqual([`    ${to}: ${old.slice(`    ${from}: `.length)}`]);
        expect(after.filter((l) => !lineOf(to)(l))).toEqual(before.filter((l) => !lineOf(from)(l)));
        validates(f.render(), keys.map((k) => (k === from ? to : k)));
      }),
      RUNS,
    );
  });
});
