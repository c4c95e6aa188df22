/**
 * Every writer of manifests round-trips through the one reader (src/manifest/read.ts): the emitter
 * behind `encrypt`, `decrypt`, `keygen` and `/v1/rotate` (writeManifests, YAML and JSON), and the
 * in-place editor behind `--merge-into` and `reencrypt -f` (openSealedFile, YAML and JSON), over
 * arbitrary strings, including the ones YAML 1.1 and 1.2 read as something else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readManifests } from '../../src/manifest/read.js';
import { openSealedFile } from '../../src/manifest/sealed-file.js';
import { writeManifests } from '../../src/manifest/write.js';
import { readSealedSecret } from '../../src/model/sealed-secret.js';
import { KEY_ID_ANNOTATION } from '../../src/wire.js';

const RUNS = { numRuns: 150 };

/** Strings YAML readers are known to turn into something else when written plain. */
const tricky = fc.constantFrom('yes', 'No', 'on', 'OFF', 'y', 'n', '~', 'null', 'Null', 'true', 'False', '0x1F', '0o17', '017', '1e3', '1_000', '.5', '+1', '-', '12:30:00', '2024-01-01', '.inf', '-.Inf', '.NaN', '', ' ', ' lead', 'trail ', '#x', 'a #b', 'k: v', '- x', '[a]', '{a}', '*ref', '&anc', '!tag', '%dir', '@at', '`tick`', '"q"', "'q'", '|', '>', 'a\nb', 'tab\tin', '\u00e9', '\u{1F600}', '---', '...', '<<');
const text = fc.oneof(tricky, fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }).filter((s) => !s.includes('\0')));
const keyName = fc.stringMatching(/^[-._a-zA-Z0-9]{1,20}$/).filter((k) => k !== '.' && k !== '..');
const base64 = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('base64'));
const stringMap = (keys: fc.Arbitrary<string>, values: fc.Arbitrary<string>) => fc.dictionary(keys, values, { maxKeys: 5 });

/** An arbitrary manifest-shaped object: nested maps and lists of strings, numbers, booleans and null. */
const leaf = fc.oneof(text, fc.integer(), fc.boolean(), fc.constant(null), fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)));
const tree = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(text, tie('node'), { maxKeys: 4 })),
})).node;
const manifest = fc.record({ apiVersion: fc.constant('v1'), kind: fc.constant('ConfigMap'), metadata: fc.record({ name: fc.constant('x'), labels: stringMap(text, text) }), data: fc.dictionary(text, tree, { maxKeys: 5 }) });

const sealedObject = fc.record({
  annotations: stringMap(text, text),
  encryptedData: fc.dictionary(keyName, base64, { minKeys: 1, maxKeys: 5 }),
}).map(({ annotations, encryptedData }) => ({
  apiVersion: 'kseal.dev/v1alpha1',
  kind: 'SealedSecret',
  metadata: { name: 'db', namespace: 'app', annotations: { ...annotations, 'kseal.dev/scope': 'strict', [KEY_ID_ANNOTATION]: 'a'.repeat(64) } },
  spec: { encryptedData, template: { type: 'Opaque' } },
}));

const readBack = (out: string): unknown[] => readManifests(out, 'out').map((m) => m.value);

describe('writers round-trip through the reader', () => {
  for (const format of ['yaml', 'json'] as const) {
    it(`writeManifests ${format} gives back every object, scalar for scalar`, () => {
      fc.assert(
        fc.property(fc.array(manifest, { minLength: 1, maxLength: 3 }), (objects) => {
          expect(readBack(writeManifests(objects, format))).toEqual(objects);
        }),
        RUNS,
      );
    });

    it(`openSealedFile edits a ${format} file so that it reads back as the merged object`, () => {
      fc.assert(
        fc.property(sealedObject, fc.dictionary(keyName, base64, { minKeys: 1, maxKeys: 5 }), (sealed, values) => {
          const file = openSealedFile(writeManifests([sealed], format), 'in');
          file.documents[0]!.setValues(values, 'b'.repeat(64));
          const [back] = readBack(file.render());
          const read = readSealedSecret(back, {});
          expect(read.spec.encryptedData).toEqual({ ...sealed.spec.encryptedData, ...values });
          const replacedAll = Object.keys(sealed.spec.encryptedData).every((k) => k in values);
          const { [KEY_ID_ANNOTATION]: hint, ...others } = read.metadata.annotations ?? {};
          const { [KEY_ID_ANNOTATION]: _old, ...before } = sealed.metadata.annotations;
          expect(others).toEqual(before);
          // The hint names the new key, and still the old one while some values are sealed with it.
          expect((hint ?? '').split(',').sort()).toEqual(replacedAll ? ['b'.repeat(64)] : ['a'.repeat(64), 'b'.repeat(64)]);
        }),
        RUNS,
      );
    });
  }
});
