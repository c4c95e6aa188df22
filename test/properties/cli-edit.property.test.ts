/**
 * Byte stability of the write-only commands end to end (fast-check, in-process CLI with real
 * sealing): `kseal set`, `unset`, `rename-key` on files with arbitrary keys, order and comments
 * change only the touched key's line, and `kseal create secret generic` writes the same bytes for
 * the same input apart from the ciphertexts, one line per key. Every result parses, validates as a
 * SealedSecret and opens (with the test key) to exactly the values put in. The editor-level
 * properties are in edit-stability.property.test.ts; the round trip of every writer through the
 * reader is the parse owner's (test/manifest/writers.property.test.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifests } from '../../src/manifest/read.js';
import { readSealedSecret, unsealSealedSecret } from '../../src/model/sealed-secret.js';
import { compareKeys } from '../../src/model/secret.js';
import { runCli, tempDir, type TempDir } from '../helpers/cli.js';
import { testKey } from '../helpers/keys.js';

const RUNS = { numRuns: 25 };
const key = testKey('rsa-2048');
const keyName = fc.stringMatching(/^[a-zA-Z_][-._a-zA-Z0-9]{0,12}$/).filter((k) => !/^(y|n|yes|no|on|off|true|false|null|e[-+]?_*[0-9][0-9_]*)$/i.test(k));
const value = fc.uint8Array({ minLength: 0, maxLength: 48 }).map((b) => Buffer.from(b));
const comment = fc.stringMatching(/^[a-z][a-z ]{0,15}$/);
let dir: TempDir;
let n = 0;

beforeAll(() => {
  dir = tempDir();
  dir.write('cert.pem', key.certificatePem);
});
afterAll(() => dir.remove());

/** The one SealedSecret in `text`, validated, and its values opened. */
function opened(text: string): Record<string, string> {
  const objects = readManifests(text, 'out.yaml').filter((o) => (o.value as { kind?: unknown }).kind === 'SealedSecret');
  expect(objects).toHaveLength(1);
  const sealed = readSealedSecret(objects[0]?.value, {});
  return Object.fromEntries(Object.entries(unsealSealedSecret(sealed, [key.entry]).secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('hex')]));
}

/** A sealed file made by `kseal create secret`, then given comments: above keys, after values, at the top, and a second document. */
async function sealedFile(entries: ReadonlyArray<readonly [string, Buffer]>, comments: readonly string[]): Promise<{ path: string; text: string }> {
  const name = `f${n++}`;
  const args = ['create', 'secret', 'generic', 'db', '-n', 'app', '--sealing-cert', 'cert.pem', '-w', `${name}.sealed.yaml`];
  entries.forEach(([k, v], i) => args.push('--from-file', `${k}=${dir.write(`${name}-${i}`, v)}`));
  const run = await runCli(args, { cwd: dir.path });
  expect(run.code, run.stderr).toBe(0);
  const path = join(dir.path, `${name}.sealed.yaml`);
  let i = 0;
  const text = `# ${comments[0] ?? 'top'}\n${readFileSync(path, 'utf8').replace(/^( {4})([^ #].*)$/gm, (line: string, indent: string) => {
    const c = comments[i++ % Math.max(1, comments.length)];
    return i % 2 === 0 ? `${indent}# ${c ?? ''}\n${line}` : `${line}   # ${c ?? ''}`;
  })}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}   # untouched\n`;
  dir.write(`${name}.sealed.yaml`, text);
  return { path, text };
}

const entriesArb = fc.uniqueArray(fc.tuple(keyName, value), { minLength: 2, maxLength: 5, selector: ([k]) => k });
const keyLine = (k: string) => (l: string): boolean => l.startsWith(`    ${k}: `);
const hex = (entries: ReadonlyArray<readonly [string, Buffer]>): Record<string, string> => Object.fromEntries(entries.map(([k, v]) => [k, v.toString('hex')]));

describe('write-only commands keep every byte they do not touch', () => {
  it('kseal set KEY replaces exactly that key\'s line, and the file still opens to every value', async () => {
    await fc.assert(
      fc.asyncProperty(entriesArb, fc.array(comment, { minLength: 1, maxLength: 3 }), fc.nat(), value, async (entries, comments, pick, fresh) => {
        const { path, text } = await sealedFile(entries, comments);
        const target = (entries[pick % entries.length] as readonly [string, Buffer])[0];
        const run = await runCli(['set', path, target, '--cert', 'cert.pem'], { cwd: dir.path, stdin: fresh });
        expect(run.code, run.stderr).toBe(0);
        const after = readFileSync(path, 'utf8');
        const [b, a] = [text.split('\n'), after.split('\n')];
        expect(a.length).toBe(b.length);
        a.forEach((line, i) => {
          if (keyLine(target)(b[i] ?? '')) expect(line.startsWith(`    ${target}: `)).toBe(true);
          else expect(line).toBe(b[i]);
        });
        expect(opened(after)).toEqual({ ...hex(entries), [target]: fresh.toString('hex') });
      }),
      RUNS,
    );
  });

  it('kseal unset and rename-key remove or rename exactly the named lines, keeping the ciphertexts', async () => {
    await fc.assert(
      fc.asyncProperty(entriesArb, fc.array(comment, { minLength: 1, maxLength: 3 }), fc.nat(), keyName, async (entries, comments, pick, to) => {
        const keys = entries.map(([k]) => k);
        fc.pre(!keys.includes(to));
        const { path, text } = await sealedFile(entries, comments);
        const gone = keys[pick % keys.length] as string;
        const from = keys[(pick + 1) % keys.length] as string;
        expect((await runCli(['unset', path, gone], { cwd: dir.path })).code).toBe(0);
        const afterUnset = readFileSync(path, 'utf8');
        expect(afterUnset).toBe(text.split('\n').filter((l) => !keyLine(gone)(l)).join('\n'));
        expect((await runCli(['rename-key', path, from, to], { cwd: dir.path })).code).toBe(0);
        const after = readFileSync(path, 'utf8');
        const oldLine = afterUnset.split('\n').find(keyLine(from)) as string;
        expect(after.split('\n').filter(keyLine(to))).toEqual([`    ${to}: ${oldLine.slice(`    ${from}: `.length)}`]);
        expect(after.split('\n').filter((l) => !keyLine(to)(l))).toEqual(afterUnset.split('\n').filter((l) => !keyLine(from)(l)));
        const expected = hex(entries.filter(([k]) => k !== gone).map(([k, v]) => [k === from ? to : k, v] as const));
        expect(opened(after)).toEqual(expected);
      }),
      RUNS,
    );
  });

  it('kseal create secret writes one sorted line per key, the same bytes for the same input apart from ciphertexts', async () => {
    await fc.assert(
      fc.asyncProperty(entriesArb, async (entries) => {
        const outputs: string[] = [];
        for (let round = 0; round < 2; round++) {
          const args = ['create', 'secret', 'generic', 'db', '-n', 'app', '--sealing-cert', 'cert.pem'];
          entries.forEach(([k, v], i) => args.push('--from-file', `${k}=${dir.write(`c${n}-${i}`, v)}`));
          n++;
          const run = await runCli(args, { cwd: dir.path });
          expect(run.code, run.stderr).toBe(0);
          outputs.push(run.stdout);
        }
        const mask = (t: string): string => t.replace(/^( {4}[^:]+: )\S+$/gm, '$1<sealed>');
        expect(mask(outputs[1] as string)).toBe(mask(outputs[0] as string));
        expect(outputs[1]).not.toBe(outputs[0]);
        const all = (outputs[0] as string).split('\n');
        const from = all.indexOf('  encryptedData:') + 1;
        const lines = all.slice(from, from + all.slice(from).findIndex((l) => !l.startsWith('    ')));
        expect(lines.map((l) => l.trim().split(': ')[0])).toEqual(entries.map(([k]) => k).sort(compareKeys));
        expect(opened(outputs[0] as string)).toEqual(hex(entries));
      }),
      { numRuns: 15 },
    );
  });
});
