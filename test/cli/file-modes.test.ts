/**
 * File outputs that hold plaintext or private keys (issue 9, finding 7): always 0600 whatever file
 * was there before, and keygen's outputs all-or-nothing, never two outputs in one file.
 */
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testKey } from '../helpers/keys.js';
import { sealedObject } from '../controller/fixtures.js';
import { stringify } from 'yaml';
import { runCli, tempDir, type TempDir } from '../helpers/cli.js';
import { writeFilesAtomic } from '../../cli/atomic-write.js';

let dir: TempDir;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.remove());

const mode = (file: string): number => statSync(join(dir.path, file)).mode & 0o777;

describe('plaintext and key outputs', () => {
  it('kseal decrypt -w replaces an existing world-readable file with a 0600 one', async () => {
    const key = testKey('rsa-2048');
    dir.write('out.yaml', 'old\n');
    chmodSync(join(dir.path, 'out.yaml'), 0o644);
    const sealed = stringify(sealedObject({ name: 'db', namespace: 'app', values: { password: 'pw' } }));
    const run = await runCli(['decrypt', '--key', dir.write('k.pem', key.privateKeyPem), '-w', 'out.yaml'], { stdin: sealed, cwd: dir.path });
    expect(run.code).toBe(0);
    expect(mode('out.yaml')).toBe(0o600);
    expect(readFileSync(join(dir.path, 'out.yaml'), 'utf8')).toContain('password:');
  });

  it('keygen refuses --key-out and --cert-out naming the same file and writes nothing', async () => {
    const run = await runCli(['keygen', '--bits', '2048', '--key-out', 'x.pem', '--cert-out', 'x.pem'], { cwd: dir.path });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('name the same file');
    expect(existsSync(join(dir.path, 'x.pem'))).toBe(false);
  });

  it('keygen --force refuses a certificate path that is a symlink or hard link to the key, and keeps the key', async () => {
    dir.write('kseal.key', 'the old private key');
    chmodSync(join(dir.path, 'kseal.key'), 0o600);
    symlinkSync(join(dir.path, 'kseal.key'), join(dir.path, 'sym.crt'));
    linkSync(join(dir.path, 'kseal.key'), join(dir.path, 'hard.crt'));
    for (const cert of ['sym.crt', 'hard.crt', './kseal.key']) {
      const run = await runCli(['keygen', '--bits', '2048', '--force', '--cert-out', cert], { cwd: dir.path });
      expect(run.code, cert).toBe(2);
      expect(readFileSync(join(dir.path, 'kseal.key'), 'utf8')).toBe('the old private key');
    }
  });

  it('keygen writes nothing when one output cannot be written', async () => {
    const run = await runCli(['keygen', '--bits', '2048', '--cert-out', 'missing-dir/kseal.crt'], { cwd: dir.path });
    expect(run.code).toBe(7);
    expect(existsSync(join(dir.path, 'kseal.key'))).toBe(false);
  });

  it('writeFilesAtomic leaves no file behind when a later rename fails', async () => {
    mkdirSync(join(dir.path, 'blocker'));
    dir.write('blocker/inner', 'x');
    // Renaming a file over a non-empty directory fails after the first file was renamed into place.
    await expect(
      writeFilesAtomic(dir.path, [
        { path: 'first.txt', content: 'a', mode: 0o600 },
        { path: 'blocker', content: 'b', mode: 0o600 },
      ]),
    ).rejects.toMatchObject({ code: 'FILE_WRITE' });
    expect(existsSync(join(dir.path, 'first.txt'))).toBe(false);
  });
});
