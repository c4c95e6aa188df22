/**
 * `kseal recipients add|remove|list`: remove needs no key and drops only that recipient's
 * ciphertexts (the first cluster's place goes to the next cluster; the last cluster stays); add needs
 * an identity or a key and seals every value for the new recipient; every other byte is kept.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatIdentityFile, generateIdentity } from '../../src/crypto/identity.js';
import { openWithIdentities } from '../../src/model/object-recipients.js';
import { readSealedSecret, unsealSealedSecret, type SealedSecret } from '../../src/model/sealed-secret.js';
import { runCli, tempDir, type TempDir } from '../helpers/cli.js';
import { testKey } from '../helpers/keys.js';
import { KEY_ID_ANNOTATION } from '../../src/wire.js';

const A = testKey('rsa-2048');
const B = testKey('rsa-4096');
const escrow = generateIdentity();
const other = generateIdentity();
const SECRET = 'apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: app}\nstringData: {password: hunter2, user: admin}\n';

let dir: TempDir;
beforeEach(() => {
  dir = tempDir();
  dir.write('a.pem', A.certificatePem);
  dir.write('b.pem', B.certificatePem);
  dir.write('a.key', A.privateKeyPem);
  dir.write('escrow.txt', formatIdentityFile(escrow, new Date()));
});
afterEach(() => dir.remove());

async function sealed(args: string[]): Promise<string> {
  const run = await runCli(['encrypt', ...args], { cwd: dir.path, stdin: SECRET });
  expect(run.code, run.stderr).toBe(0);
  return dir.write('db.yaml', `# keep me\n${run.stdout}`);
}
const read = (): SealedSecret => readSealedSecret(parse(readFileSync(resolve(dir.path, 'db.yaml'), 'utf8')), {});
const plain = (data: ReadonlyMap<string, Buffer>) => Object.fromEntries([...data].map(([k, v]) => [k, v.toString()]));

describe('kseal recipients remove', () => {
  it("drops an escrow recipient's ciphertexts without any key, keeping every other byte", async () => {
    await sealed(['--cert', 'a.pem', '--cert', 'b.pem', '--recipient', escrow.recipient]);
    const before = read();
    const run = await runCli(['recipients', 'remove', '--recipient', escrow.recipient, 'db.yaml'], { cwd: dir.path });
    expect(run.code, run.stderr).toBe(0);
    const after = read();
    expect(after.spec.encryptedData).toEqual(before.spec.encryptedData);
    expect(after.spec.recipients).toEqual(before.spec.recipients?.slice(0, 1));
    expect(readFileSync(resolve(dir.path, 'db.yaml'), 'utf8').startsWith('# keep me\n')).toBe(true);
  });

  it("moves the next cluster into spec.encryptedData when the first cluster is removed", async () => {
    await sealed(['--cert', 'a.pem', '--cert', 'b.pem', '--recipient', escrow.recipient]);
    const before = read();
    const run = await runCli(['recipients', 'remove', '--cert', 'a.pem', 'db.yaml'], { cwd: dir.path });
    expect(run.code, run.stderr).toBe(0);
    const after = read();
    expect(after.metadata.annotations?.[KEY_ID_ANNOTATION]).toBe(B.certificate.keyId);
    expect(after.spec.encryptedData).toEqual(before.spec.recipients?.[0]?.encryptedData);
    expect(after.spec.recipients?.map((r) => r.id)).toEqual([escrow.keyId]);
    expect(unsealSealedSecret(after, [B.entry]).recipient).toBe('encryptedData');
    expect(() => unsealSealedSecret(after, [A.entry])).toThrow();
  });

  it('removes by a key-id prefix as kseal recipients list shows it', async () => {
    await sealed(['--cert', 'a.pem', '--cert', 'b.pem']);
    const list = await runCli(['recipients', 'list', 'db.yaml'], { cwd: dir.path });
    expect(list.stdout).toContain(`recipients  cluster  ${B.certificate.keyId}`);
    const run = await runCli(['recipients', 'remove', '--id', B.certificate.keyId.slice(0, 12), 'db.yaml'], { cwd: dir.path });
    expect(run.code, run.stderr).toBe(0);
    expect(read().spec.recipients).toBeUndefined();
  });

  it('refuses to remove the last cluster recipient, leaving the file unchanged', async () => {
    const file = await sealed(['--cert', 'a.pem', '--recipient', escrow.recipient]);
    const text = readFileSync(file, 'utf8');
    const run = await runCli(['recipients', 'remove', '--cert', 'a.pem', 'db.yaml'], { cwd: dir.path });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('the last cluster recipient');
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('fails when no object is sealed for the recipient named', async () => {
    await sealed(['--cert', 'a.pem']);
    const run = await runCli(['recipients', 'remove', '--recipient', other.recipient, 'db.yaml'], { cwd: dir.path });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('no SealedSecret in the files is sealed for');
  });
});

describe('kseal recipients add', () => {
  it('needs an identity or a key', async () => {
    await sealed(['--cert', 'a.pem']);
    const run = await runCli(['recipients', 'add', '--recipient', other.recipient, 'db.yaml'], { cwd: dir.path });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('seals every value again');
  });

  it('seals every value for a new escrow recipient with the cluster key, keeping the rest byte-identical', async () => {
    await sealed(['--cert', 'a.pem', '--cert', 'b.pem']);
    const before = read();
    const run = await runCli(['recipients', 'add', '--recipient', escrow.recipient, '--key', 'a.key', 'db.yaml'], { cwd: dir.path });
    expect(run.code, run.stderr).toBe(0);
    const after = read();
    expect(after.spec.encryptedData).toEqual(before.spec.encryptedData);
    expect(after.spec.recipients?.[0]).toEqual(before.spec.recipients?.[0]);
    expect(plain(openWithIdentities(after, [escrow]).data)).toEqual({ password: 'hunter2', user: 'admin' });
  });

  it('adds a cluster with an escrow identity, and skips objects that already have it', async () => {
    await sealed(['--cert', 'a.pem', '--recipient', escrow.recipient]);
    const run = await runCli(['recipients', 'add', '--cert', 'b.pem', '--identity', 'escrow.txt', 'db.yaml'], { cwd: dir.path });
    expect(run.code, run.stderr).toBe(0);
    const after = read();
    expect(unsealSealedSecret(after, [B.entry]).recipient).toBe(B.certificate.keyId);
    const text = readFileSync(resolve(dir.path, 'db.yaml'), 'utf8');
    const again = await runCli(['recipients', 'add', '--cert', 'b.pem', '--identity', 'escrow.txt', 'db.yaml'], { cwd: dir.path });
    expect(again.stderr).toContain('added recipients to 0 objects');
    expect(readFileSync(resolve(dir.path, 'db.yaml'), 'utf8')).toBe(text);
  });

  it('refuses further recipients on a bitnami.com object', async () => {
    await sealed(['--cert', 'a.pem', '--api-version', 'bitnami.com/v1alpha1']);
    const run = await runCli(['recipients', 'add', '--recipient', other.recipient, '--key', 'a.key', 'db.yaml'], { cwd: dir.path });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('hold one cluster recipient only');
  });
});
