import { readFileSync, statSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readSealedSecret, unsealSealedSecret } from '../../src/model/sealed-secret.js';
import { containsCanary, newCanary } from '../helpers/canary.js';
import { runCli, tempDir, type TempDir } from '../helpers/cli.js';
import { otherTestKey, testKey } from '../helpers/keys.js';

const key = testKey('rsa-2048');
let dir: TempDir;

beforeEach(() => {
  dir = tempDir();
  dir.write('cert.pem', key.certificatePem);
});
afterEach(() => dir.remove());

const SECRET = 'apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: app}\nstringData: {password: hunter2, user: admin}\n';

async function sealedFile(name = 'db.sealed.yaml', secret = SECRET): Promise<string> {
  const run = await runCli(['encrypt', '--cert', 'cert.pem', '-w', name], { stdin: secret, cwd: dir.path });
  expect(run.stderr).toBe('');
  // A comment a person added, which edits must keep.
  const path = join(dir.path, name);
  const text = readFileSync(path, 'utf8').replace('spec:\n', 'spec:\n  # rotated by the platform team\n');
  dir.write(name, text);
  return path;
}

function open(path: string): Record<string, string> {
  const sealed = readSealedSecret(parse(readFileSync(path, 'utf8')), {});
  const { secret } = unsealSealedSecret(sealed, [key.entry]);
  return Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

function encryptedLines(text: string): string[] {
  const lines = text.split('\n');
  const start = lines.indexOf('  encryptedData:');
  const out: string[] = [];
  for (const l of lines.slice(start + 1)) {
    if (!l.startsWith('    ')) break;
    out.push(l);
  }
  return out;
}

describe('kseal set', () => {
  it('replaces one key from stdin, leaving every other byte of the file as it was', async () => {
    const path = await sealedFile();
    const before = readFileSync(path, 'utf8');
    const run = await runCli(['set', 'db.sealed.yaml', 'password', '--cert', 'cert.pem'], { stdin: 's3cret', cwd: dir.path });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('kseal: db.sealed.yaml: sealed 1 key (1 replaced, 0 added) for strict (app/db)\n');
    const after = readFileSync(path, 'utf8');
    expect(open(path)).toEqual({ password: 's3cret', user: 'admin' });
    const userLine = (t: string) => t.split('\n').find((l) => l.startsWith('    user: '));
    expect(userLine(after)).toBe(userLine(before));
    expect(after.replace(/ {4}password: \S+/, '')).toBe(before.replace(/ {4}password: \S+/, ''));
    expect(after).toContain('# rotated by the platform team');
  });

  it('adds a new key from --from-file, byte for byte, in sorted position', async () => {
    const path = await sealedFile();
    dir.write('token.txt', 'tok\n');
    const run = await runCli(['set', path, 'token', '--from-file', 'token.txt', '--cert', 'cert.pem'], { cwd: dir.path });
    expect(run.code).toBe(0);
    expect(open(path)).toEqual({ password: 'hunter2', token: 'tok\n', user: 'admin' });
    expect(encryptedLines(readFileSync(path, 'utf8')).map((l) => l.trim().split(':')[0])).toEqual(['password', 'token', 'user']);
  });

  it('asks twice with a hidden prompt on a terminal and seals what was typed', async () => {
    const path = await sealedFile();
    const prompts: string[] = [];
    const run = await runCli(['set', path, 'password', '--cert', 'cert.pem'], { cwd: dir.path, tty: { answers: ['typed', 'typed'], prompts } });
    expect(run.code).toBe(0);
    expect(prompts).toEqual(['Value for password: ', 'Again, to confirm: ']);
    expect(open(path).password).toBe('typed');
  });

  it('changes nothing when the two prompted values differ', async () => {
    const path = await sealedFile();
    const before = readFileSync(path, 'utf8');
    const run = await runCli(['set', path, 'password', '--cert', 'cert.pem'], { cwd: dir.path, tty: { answers: ['one', 'two'], prompts: [] } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('the two values entered differ');
    expect(readFileSync(path, 'utf8')).toBe(before);
  });

  it('seals every key of an env file at once', async () => {
    const path = await sealedFile();
    dir.write('app.env', '# comment\nuser=root\n  API_KEY=" spaced "\n\nexport_me\nunset_var\n');
    const run = await runCli(['set', path, '--from-env-file', 'app.env', '--cert', 'cert.pem'], { cwd: dir.path, env: { export_me: 'from-env' } });
    expect(run.stderr).toContain('sealed 3 keys (1 replaced, 2 added)');
    expect(open(path)).toEqual({ API_KEY: '" spaced "', export_me: 'from-env', password: 'hunter2', user: 'root' });
  });

  it('rejects an env file line whose key is not valid, naming the line', async () => {
    const path = await sealedFile();
    dir.write('bad.env', 'ok=1\nAPI KEY=2\n');
    const run = await runCli(['set', path, '--from-env-file', 'bad.env', '--cert', 'cert.pem'], { cwd: dir.path });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('bad.env: line 2: the key name is not valid');
  });

  it('seals for the object\'s own scope, name and namespace', async () => {
    const path = await sealedFile('wide.yaml', SECRET.replace('metadata: {', 'metadata: {annotations: {kseal.dev/scope: namespace-wide}, '));
    await runCli(['set', path, 'extra', '--cert', 'cert.pem'], { stdin: 'x', cwd: dir.path });
    const text = readFileSync(path, 'utf8');
    const renamed = readSealedSecret({ ...parse(text), metadata: { ...parse(text).metadata, name: 'another' } }, {});
    expect(Buffer.from(unsealSealedSecret(renamed, [key.entry]).secret.data.extra ?? '', 'base64').toString()).toBe('x');
  });

  it('keeps the file mode and writes nothing when sealing fails', async () => {
    const path = await sealedFile();
    chmodSync(path, 0o640);
    const before = readFileSync(path, 'utf8');
    const run = await runCli(['set', path, 'password', '--cert', 'missing.pem'], { stdin: 'x', cwd: dir.path });
    expect(run.code).toBe(7);
    expect(readFileSync(path, 'utf8')).toBe(before);
    await runCli(['set', path, 'password', '--cert', 'cert.pem'], { stdin: 'x', cwd: dir.path });
    expect(statSync(path).mode & 0o777).toBe(0o640);
  });

  it('warns when the new value is sealed with another key than the rest', async () => {
    const path = await sealedFile();
    dir.write('other.pem', otherTestKey('rsa-2048').certificatePem);
    const run = await runCli(['set', path, 'password', '--cert', 'other.pem'], { stdin: 'x', cwd: dir.path });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/warning: .*sealed with key [0-9a-f]{12}…, the new ones with/);
  });

  it('edits the one SealedSecret of a file that also holds other documents, keeping them byte for byte', async () => {
    const path = await sealedFile();
    const other = '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}   # beside it\n';
    dir.write('db.sealed.yaml', `${readFileSync(path, 'utf8')}${other}`);
    const run = await runCli(['set', 'db.sealed.yaml', 'token', '--cert', 'cert.pem'], { stdin: 't0ken', cwd: dir.path });
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(path, 'utf8').endsWith(other)).toBe(true);
  });

  it('refuses a file with two SealedSecrets, saying how many it found', async () => {
    const path = await sealedFile();
    const text = readFileSync(path, 'utf8');
    dir.write('two.yaml', `${text}---\n${text.replace('name: db', 'name: db2')}`);
    const run = await runCli(['set', 'two.yaml', 'token', '--cert', 'cert.pem'], { stdin: 't0ken', cwd: dir.path });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('kseal set needs a file with exactly one SealedSecret, found 2 among 2 documents');
  });

  it('refuses a file that is not one SealedSecret, a bad key name, and a missing KEY', async () => {
    dir.write('plain.yaml', SECRET);
    expect((await runCli(['set', 'plain.yaml', 'k', '--cert', 'cert.pem'], { stdin: 'x', cwd: dir.path })).stderr).toContain('kseal set needs a file with exactly one SealedSecret');
    const path = await sealedFile();
    const bad = await runCli(['set', path, 'no/slash', '--cert', 'cert.pem'], { stdin: 'x', cwd: dir.path });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('the key name is not valid');
    expect((await runCli(['set', path, '--cert', 'cert.pem'], { stdin: 'x', cwd: dir.path })).code).toBe(2);
  });

  it('never shows the value in output or errors', async () => {
    const path = await sealedFile();
    const canary = newCanary();
    const ok = await runCli(['set', path, 'password', '--cert', 'cert.pem'], { stdin: canary, cwd: dir.path });
    const bad = await runCli(['set', path, 'password', '--cert', 'nope.pem'], { stdin: canary, cwd: dir.path });
    for (const run of [ok, bad]) expect(containsCanary(run.stdout + run.stderr, canary)).toBe(false);
    expect(containsCanary(readFileSync(path, 'utf8'), canary)).toBe(false);
  });
});

describe('kseal unset and rename-key', () => {
  it('unset removes keys and keeps the rest byte for byte', async () => {
    const path = await sealedFile();
    const before = readFileSync(path, 'utf8');
    const run = await runCli(['unset', path, 'user'], { cwd: dir.path });
    expect(run.code).toBe(0);
    const after = readFileSync(path, 'utf8');
    expect(after).toBe(before.split('\n').filter((l) => !l.startsWith('    user: ')).join('\n'));
    expect(open(path)).toEqual({ password: 'hunter2' });
  });

  it('unset of a missing key fails naming it and changes nothing', async () => {
    const path = await sealedFile();
    const before = readFileSync(path, 'utf8');
    const run = await runCli(['unset', path, 'user', 'nope'], { cwd: dir.path });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('key "nope": the SealedSecret has no such key');
    expect(readFileSync(path, 'utf8')).toBe(before);
  });

  it('rename-key moves the ciphertext unchanged, and the value still opens under the new name', async () => {
    const path = await sealedFile();
    const before = readFileSync(path, 'utf8');
    const ciphertext = before.split('\n').find((l) => l.startsWith('    password: '))?.slice('    password: '.length);
    const run = await runCli(['rename-key', path, 'password', 'db-password'], { cwd: dir.path });
    expect(run.code).toBe(0);
    const after = readFileSync(path, 'utf8');
    expect(after).toContain(`    db-password: ${ciphertext}\n`);
    expect(encryptedLines(after).map((l) => l.trim().split(':')[0])).toEqual(['db-password', 'user']);
    expect(open(path)).toEqual({ 'db-password': 'hunter2', user: 'admin' });
  });

  it('unset of every key leaves an empty, readable encryptedData and warns', async () => {
    const path = await sealedFile();
    const run = await runCli(['unset', path, 'user', 'password'], { cwd: dir.path });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('no keys left');
    expect(readSealedSecret(parse(readFileSync(path, 'utf8')), {}).spec.encryptedData).toEqual({});
    expect(readFileSync(path, 'utf8')).toContain('# rotated by the platform team');
  });

  it('rename-key refuses to overwrite an existing key', async () => {
    const path = await sealedFile();
    const run = await runCli(['rename-key', path, 'password', 'user'], { cwd: dir.path });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('already has this key');
  });

  it('edits a JSON SealedSecret too', async () => {
    await runCli(['encrypt', '--cert', 'cert.pem', '-o', 'json', '-w', 'db.json'], { stdin: SECRET, cwd: dir.path });
    const path = join(dir.path, 'db.json');
    expect((await runCli(['rename-key', path, 'user', 'login'], { cwd: dir.path })).code).toBe(0);
    expect((await runCli(['unset', path, 'password'], { cwd: dir.path })).code).toBe(0);
    expect(Object.keys(JSON.parse(readFileSync(path, 'utf8')).spec.encryptedData)).toEqual(['login']);
  });
});
