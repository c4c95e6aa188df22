/**
 * `kseal edit` with a scripted $EDITOR: only changed and new keys are sealed again for every
 * recipient, removed keys leave every recipient, untouched ciphertexts stay byte-identical; an editor
 * failure or an invalid result changes nothing; the plaintext never outlives the command (also on
 * SIGINT to a real process).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { formatIdentityFile, generateIdentity } from '../../src/crypto/identity.js';
import { openWithIdentities } from '../../src/model/object-recipients.js';
import { readSealedSecret, unsealSealedSecret, type SealedSecret } from '../../src/model/sealed-secret.js';
import { runCli, tempDir, type TempDir } from '../helpers/cli.js';
import { testKey } from '../helpers/keys.js';
import { scriptedEditor, type EditorStep } from '../helpers/scripted-editor.js';
import { eventually } from '../controller/fixtures.js';

const A = testKey('rsa-2048');
const B = testKey('rsa-4096');
const escrow = generateIdentity();
const SECRET = 'apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: app}\nstringData: {keep: keep-v4lue, change: old-v4lue, drop: drop-v4lue}\n';

let dir: TempDir;
let sealedText: string;
beforeEach(async () => {
  dir = tempDir();
  dir.write('a.pem', A.certificatePem);
  dir.write('b.pem', B.certificatePem);
  dir.write('escrow.txt', formatIdentityFile(escrow, new Date()));
  const run = await runCli(['encrypt', '--cert', 'a.pem', '--cert', 'b.pem', '--recipient', escrow.recipient], { cwd: dir.path, stdin: SECRET });
  expect(run.code, run.stderr).toBe(0);
  sealedText = `# the database\n${run.stdout}`;
  dir.write('db.yaml', sealedText);
});
afterEach(() => dir.remove());

const read = (): SealedSecret => readSealedSecret(parse(readFileSync(resolve(dir.path, 'db.yaml'), 'utf8')), {});
const text = (data: ReadonlyMap<string, Buffer>) => Object.fromEntries([...data].map(([k, v]) => [k, v.toString('utf8')]));
const leftovers = () => readdirSync(dir.path).filter((n) => n.startsWith('kseal-edit-'));

function edit(steps: EditorStep[], extra: string[] = [], tty?: { answers: string[]; prompts: string[] }) {
  const editor = scriptedEditor(dir.path, steps);
  return { editor, run: runCli(['edit', 'db.yaml', '--identity', 'escrow.txt', '--cert', 'a.pem', ...extra], { cwd: dir.path, env: editor.env, ...(tty === undefined ? {} : { tty }) }) };
}

const CHANGE_ADD_DELETE: EditorStep = { replace: [['change: old-v4lue', 'change: new-v4lue'], ['  drop: drop-v4lue\n', '  added: fresh-v4lue\n']] };

describe('kseal edit', () => {
  it('re-seals a changed and an added key for every recipient, drops a deleted one, and keeps the rest byte-identical', async () => {
    const before = read();
    const { run } = edit([CHANGE_ADD_DELETE]);
    const result = await run;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('1 changed, 1 added, 1 removed, 1 unchanged; sealed for 3 recipients');
    const after = read();
    const expected = { added: 'fresh-v4lue', change: 'new-v4lue', keep: 'keep-v4lue' };
    expect(text(openWithIdentities(after, [escrow]).data)).toEqual(expected);
    expect(Buffer.from(unsealSealedSecret(after, [A.entry]).secret.data.added ?? '', 'base64').toString()).toBe('fresh-v4lue');
    expect(unsealSealedSecret(after, [B.entry]).recipient).toBe(B.certificate.keyId);
    expect(after.spec.encryptedData.keep).toBe(before.spec.encryptedData.keep);
    after.spec.recipients?.forEach((entry, i) => {
      expect(entry.encryptedData.keep).toBe(before.spec.recipients?.[i]?.encryptedData.keep);
      expect(entry.encryptedData.change).not.toBe(before.spec.recipients?.[i]?.encryptedData.change);
      expect(Object.keys(entry.encryptedData).sort()).toEqual(['added', 'change', 'keep']);
    });
    const file = readFileSync(resolve(dir.path, 'db.yaml'), 'utf8');
    expect(file.startsWith('# the database\n')).toBe(true);
    expect(file).toContain(`keep: ${before.spec.encryptedData.keep ?? ''}`);
    expect(result.stderr).not.toMatch(/v4lue/);
  });

  it('shows the plaintext in a 0600 file in a 0700 directory that is gone afterwards', async () => {
    const { editor, run } = edit([CHANGE_ADD_DELETE]);
    expect((await run).code).toBe(0);
    const [seen] = editor.runs();
    expect(seen?.mode).toBe(0o600);
    expect(seen?.dirMode).toBe(0o700);
    expect(existsSync(seen?.file ?? '')).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  it('changes nothing when the editor exits non-zero, and removes the plaintext', async () => {
    const { editor, run } = edit([{ ...CHANGE_ADD_DELETE, exit: 3 }]);
    const result = await run;
    expect(result.code).toBe(7);
    expect(result.stderr).toMatch(/EDITOR|editor .* exited with status 3/);
    expect(readFileSync(resolve(dir.path, 'db.yaml'), 'utf8')).toBe(sealedText);
    expect(existsSync(editor.runs()[0]?.file ?? '')).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  it('refuses a result that is not a valid Secret, leaving the file unchanged', async () => {
    const { run } = edit([{ replace: [['namespace: app', 'namespace: elsewhere']] }]);
    const result = await run;
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('metadata.name and metadata.namespace cannot change');
    expect(result.stderr).toContain('db.yaml: not changed');
    expect(result.stderr).not.toMatch(/v4lue/);
    expect(readFileSync(resolve(dir.path, 'db.yaml'), 'utf8')).toBe(sealedText);
    expect(leftovers()).toEqual([]);
  });

  it('offers to re-open the editor on a terminal, and applies the fixed second round', async () => {
    const tty = { answers: [''], prompts: [] as string[] };
    const { editor, run } = edit([{ replace: [['kind: Secret', 'kind: Secret\nkind: Twice']] }, { replace: [['kind: Secret\nkind: Twice', 'kind: Secret'], ...(CHANGE_ADD_DELETE.replace ?? [])] }], [], tty);
    const result = await run;
    expect(result.code, result.stderr).toBe(0);
    expect(tty.prompts).toEqual(['kseal: press Enter to return to the editor, or Ctrl-C to abandon the edit ']);
    expect(editor.runs()).toHaveLength(2);
    expect(text(openWithIdentities(read(), [escrow]).data)).toEqual({ added: 'fresh-v4lue', change: 'new-v4lue', keep: 'keep-v4lue' });
  });

  it('writes nothing when the file is saved unchanged', async () => {
    const { run } = edit([{ exit: 0 }]);
    const result = await run;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('db.yaml: no changes');
    expect(readFileSync(resolve(dir.path, 'db.yaml'), 'utf8')).toBe(sealedText);
  });

  it("opens with the first cluster's private key and seals for it without a certificate", async () => {
    dir.write('a.key', A.privateKeyPem);
    const editor = scriptedEditor(dir.path, [CHANGE_ADD_DELETE]);
    const result = await runCli(['edit', 'db.yaml', '--key', 'a.key'], { cwd: dir.path, env: editor.env });
    expect(result.code, result.stderr).toBe(0);
    expect(text(openWithIdentities(read(), [escrow]).data)).toEqual({ added: 'fresh-v4lue', change: 'new-v4lue', keep: 'keep-v4lue' });
  });

  it('needs an identity or a key', async () => {
    const result = await runCli(['edit', 'db.yaml'], { cwd: dir.path });
    expect(result.code).toBe(2);
  });

  it('removes the plaintext and changes nothing when a real process gets SIGINT', async () => {
    const editor = scriptedEditor(dir.path, [{ replace: [['change: old-v4lue', 'change: new-v4lue']], sleep: true }]);
    const child = spawn(process.execPath, [resolve('dist/kseal.cjs'), 'edit', 'db.yaml', '--identity', 'escrow.txt', '--cert', 'a.pem'], { cwd: dir.path, env: editor.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    const seen = await eventually('the editor runs', () => editor.runs()[0], 15_000);
    expect(existsSync(seen.file)).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('interrupted by SIGINT');
    expect(existsSync(seen.file)).toBe(false);
    expect(leftovers()).toEqual([]);
    expect(readFileSync(resolve(dir.path, 'db.yaml'), 'utf8')).toBe(sealedText);
    await eventually('the editor is stopped', () => {
      try {
        process.kill(seen.pid, 0);
        return undefined;
      } catch {
        return true;
      }
    });
  });
});
