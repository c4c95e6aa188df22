/**
 * `kseal merge-driver` under a real `git merge` in a temporary repository, with the built binary as
 * the driver (configured as the README says): the files are sealed and edited with kseal itself.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readSealedSecret, unsealSealedSecret } from '../../src/model/sealed-secret.js';
import { containsCanary, newCanary } from '../helpers/canary.js';
import { runCli, tempDir, type TempDir } from '../helpers/cli.js';
import { testKey } from '../helpers/keys.js';

const BIN = resolve('dist/kseal.cjs');
const key = testKey('rsa-2048');
const SECRET = 'apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: app}\nstringData: {password: hunter2}\n';
let dir: TempDir;

function git(...args: string[]): { status: number; out: string } {
  const r = spawnSync('git', args, { cwd: dir.path, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: dir.path, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z' } });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

function ok(...args: string[]): string {
  const r = git(...args);
  expect(r.status, r.out).toBe(0);
  return r.out;
}

/** Seals `value` into KEY of db.sealed.yaml with kseal set, in the working tree. */
async function set(name: string, value: string): Promise<void> {
  const run = await runCli(['set', 'db.sealed.yaml', name, '--cert', 'cert.pem'], { stdin: value, cwd: dir.path });
  expect(run.code, run.stderr).toBe(0);
}

const read = (): string => readFileSync(join(dir.path, 'db.sealed.yaml'), 'utf8');

function values(text: string): Record<string, string> {
  const { secret } = unsealSealedSecret(readSealedSecret(parse(text), {}), [key.entry]);
  return Object.fromEntries(Object.entries(secret.data).map(([k, x]) => [k, Buffer.from(x, 'base64').toString('utf8')]));
}

/** Commits the working tree on `branch` (created from main) after `edit`, then returns to main. */
async function onBranch(branch: string, edit: () => Promise<void>): Promise<void> {
  ok('checkout', '-q', '-b', branch, 'main');
  await edit();
  ok('commit', '-qam', branch);
  ok('checkout', '-q', 'main');
}

beforeEach(async () => {
  dir = tempDir();
  ok('init', '-q', '-b', 'main');
  ok('config', 'user.email', 'dev@example.com');
  ok('config', 'user.name', 'dev');
  ok('config', 'merge.kseal.driver', `"${process.execPath}" "${BIN}" merge-driver %O %A %B %L %P`);
  dir.write('.gitattributes', '*.sealed.yaml merge=kseal\n');
  dir.write('cert.pem', key.certificatePem);
  const run = await runCli(['encrypt', '--cert', 'cert.pem', '-w', 'db.sealed.yaml'], { stdin: SECRET, cwd: dir.path });
  expect(run.code, run.stderr).toBe(0);
  ok('add', '.');
  ok('commit', '-qm', 'base');
});
afterEach(() => dir.remove());

describe('kseal merge-driver under git merge', () => {
  it('merges two branches that add different keys next to each other cleanly, with both changes byte for byte', async () => {
    const base = read();
    let ours = '';
    let theirs = '';
    await onBranch('ours', async () => {
      await set('token', 't0ken');
      ours = read();
    });
    await onBranch('theirs', async () => {
      await set('user', 'admin');
      theirs = read();
    });
    ok('checkout', '-q', 'ours');
    ok('merge', '-q', '--no-edit', 'theirs');
    const merged = read();
    const added = (side: string): string[] => side.split('\n').filter((l) => !base.split('\n').includes(l));
    expect(added(merged).sort()).toEqual([...added(ours), ...added(theirs)].sort());
    expect(merged.split('\n').filter((l) => !added(merged).includes(l))).toEqual(base.split('\n'));
    expect(values(merged)).toEqual({ password: 'hunter2', token: 't0ken', user: 'admin' });
  });

  it('would conflict on the same two branches without the driver (git alone)', async () => {
    await onBranch('ours', () => set('token', 't0ken'));
    await onBranch('theirs', () => set('user', 'admin'));
    ok('config', '--unset', 'merge.kseal.driver');
    ok('checkout', '-q', 'ours');
    expect(git('merge', '--no-edit', 'theirs').status).not.toBe(0);
  });

  it('reports a key changed on both branches as a conflict git shows, markers around that key only', async () => {
    const canaries = [newCanary('ours'), newCanary('theirs')];
    await onBranch('ours', () => set('password', canaries[0] as string));
    await onBranch('theirs', () => set('password', canaries[1] as string));
    ok('checkout', '-q', 'ours');
    const merge = git('merge', '--no-edit', 'theirs');
    expect(merge.status).not.toBe(0);
    expect(merge.out).toContain('CONFLICT (content): Merge conflict in db.sealed.yaml');
    expect(merge.out).toContain('kseal: merge conflict in db.sealed.yaml, document 1 (SealedSecret app/db), spec.encryptedData key "password": changed differently on both sides');
    expect(git('status', '--porcelain').out).toContain('UU db.sealed.yaml');
    const text = read();
    expect(text).toMatch(/^ {2}encryptedData:\n<{7} ours\n {4}password: \S+\n={7}\n {4}password: \S+\n>{7} theirs\n/m);
    for (const c of canaries) expect(containsCanary(c, `${merge.out}${text}`)).toBe(false);
    // git's usual ways out work: take theirs and the file opens to their value.
    ok('checkout', '--theirs', 'db.sealed.yaml');
    expect(values(read())).toEqual({ password: canaries[1] });
  });

  it('merges unrelated YAML edits (a comment, a template field) with a key change', async () => {
    const base = read();
    await onBranch('ours', () => {
      dir.write('db.sealed.yaml', `# owned by the payments team\n${read().replace('    type: Opaque\n', '    type: Opaque\n    immutable: true\n')}`);
      return Promise.resolve();
    });
    await onBranch('theirs', () => set('token', 't0ken'));
    ok('checkout', '-q', 'ours');
    ok('merge', '-q', '--no-edit', 'theirs');
    const merged = read();
    expect(merged.startsWith('# owned by the payments team\n')).toBe(true);
    expect(merged).toContain('    immutable: true\n');
    expect(values(merged)).toEqual({ password: 'hunter2', token: 't0ken' });
    expect(merged.split('\n').filter((l) => !l.startsWith('    token: ')).join('\n')).toBe(`# owned by the payments team\n${base.replace('    type: Opaque\n', '    type: Opaque\n    immutable: true\n')}`);
  });
});

describe('kseal merge-driver under git merge: spec.recipients by id', () => {
  /** A new escrow identity in FILE; returns its kseal1… public key. */
  async function identity(file: string): Promise<string> {
    const run = await runCli(['identity', 'new', '-o', file], { cwd: dir.path });
    expect(run.code, run.stderr).toBe(0);
    return run.stdout.trim();
  }
  async function addRecipient(recipient: string): Promise<void> {
    dir.write('key.pem', key.privateKeyPem); // untracked, like the identities: commit -a leaves it out
    const run = await runCli(['recipients', 'add', 'db.sealed.yaml', '--recipient', recipient, '--key', 'key.pem'], { cwd: dir.path });
    expect(run.code, run.stderr).toBe(0);
  }
  async function openWith(identityFile: string): Promise<string> {
    const run = await runCli(['decrypt', '--identity', identityFile, '-f', 'db.sealed.yaml'], { cwd: dir.path });
    expect(run.code, run.stderr).toBe(0);
    return (parse(run.stdout) as { data: Record<string, string> }).data.password ?? '';
  }

  it('merges two branches that each add a different recipient cleanly, and each recipient opens the result', async () => {
    const [alice, bob] = [await identity('alice.txt'), await identity('bob.txt')];
    let ours = '';
    let theirs = '';
    await onBranch('ours', async () => {
      await addRecipient(alice);
      ours = read();
    });
    await onBranch('theirs', async () => {
      await addRecipient(bob);
      theirs = read();
    });
    ok('config', '--unset', 'merge.kseal.driver');
    ok('checkout', '-q', 'ours');
    expect(git('merge', '--no-edit', 'theirs').status).not.toBe(0); // git alone: both append to spec.recipients
    ok('merge', '--abort');
    ok('config', 'merge.kseal.driver', `"${process.execPath}" "${BIN}" merge-driver %O %A %B %L %P`);
    ok('merge', '-q', '--no-edit', 'theirs');
    const merged = read();
    // Ours as it was, then their new entry (the list ends the file) byte for byte.
    expect(ours.endsWith('\n') && theirs.endsWith('\n')).toBe(true);
    expect(merged).toBe(`${ours}${theirs.slice(theirs.indexOf('  recipients:\n') + '  recipients:\n'.length)}`);
    const ids = (readSealedSecret(parse(merged), {}).spec.recipients ?? []).map((r) => r.kind);
    expect(ids).toEqual(['escrow', 'escrow']);
    expect(Buffer.from(await openWith('alice.txt'), 'base64').toString()).toBe('hunter2');
    expect(Buffer.from(await openWith('bob.txt'), 'base64').toString()).toBe('hunter2');
    expect(values(merged)).toEqual({ password: 'hunter2' });
  });

  it('reports the same recipient sealed differently on both branches as a conflict, markers around its value only', async () => {
    const alice = await identity('alice.txt');
    await onBranch('ours', () => addRecipient(alice));
    await onBranch('theirs', () => addRecipient(alice));
    ok('checkout', '-q', 'ours');
    const merge = git('merge', '--no-edit', 'theirs');
    expect(merge.status).not.toBe(0);
    expect(merge.out).toMatch(/kseal: merge conflict in db\.sealed\.yaml, document 1 \(SealedSecret app\/db\), spec\.recipients\[[0-9a-f]{12}…\]\.encryptedData key "password": changed differently on both sides/);
    expect(git('status', '--porcelain').out).toContain('UU db.sealed.yaml');
    expect(read()).toMatch(/^ {6}encryptedData:\n<{7} ours\n {8}password: \S+\n={7}\n {8}password: \S+\n>{7} theirs\n/m);
    ok('checkout', '--theirs', 'db.sealed.yaml');
    expect(Buffer.from(await openWith('alice.txt'), 'base64').toString()).toBe('hunter2');
  });
});

describe('kseal merge-driver as a command', () => {
  it('exits 9 (EXIT.conflict) and writes both sides into OURS on a conflict', async () => {
    const base = read();
    await set('password', 'one');
    const ours = dir.write('ours.yaml', read());
    dir.write('db.sealed.yaml', base);
    await set('password', 'two');
    const theirs = dir.write('theirs.yaml', read());
    const baseFile = dir.write('base.yaml', base);
    const run = await runCli(['merge-driver', baseFile, ours, theirs, '7', 'apps/db.sealed.yaml'], { cwd: dir.path });
    expect(run.code).toBe(9);
    expect(run.stderr).toContain('kseal: merge conflict in apps/db.sealed.yaml, document 1 (SealedSecret app/db), spec.encryptedData key "password": changed differently on both sides\nkseal: error: apps/db.sealed.yaml: 1 conflict; the file holds both sides between conflict markers\n');
    expect(readFileSync(ours, 'utf8')).toContain('=======\n');
  });

  it('refuses a marker size that is not a number as a usage error', async () => {
    const f = dir.write('x.yaml', read());
    expect((await runCli(['merge-driver', f, f, f, 'seven'], { cwd: dir.path })).code).toBe(2);
  });
});
