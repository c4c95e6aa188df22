/** Multi-recipient sealing through the CLI: encrypt/raw with several --cert and --recipient, merge, decrypt --identity, identity new. */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseIdentityFile } from '../../src/crypto/identity.js';
import { decodeBase64 } from '../../src/crypto/base64.js';
import { openEscrowValue } from '../../src/crypto/escrow.js';
import { unsealBytes } from '../../src/crypto/hybrid.js';
import { readSealedSecret, unsealSealedSecret, type SealedSecret } from '../../src/model/sealed-secret.js';
import { openWithIdentities } from '../../src/model/object-recipients.js';
import { runCli, tempDir, type TempDir } from '../helpers/cli.js';
import { testKey } from '../helpers/keys.js';
import type { EscrowIdentity } from '../../src/crypto/identity.js';

const a = testKey('rsa-2048');
const b = testKey('rsa-4096');
let dir: TempDir;
let certA: string;
let certB: string;
let identityFile: string;
let identity: EscrowIdentity;

const SECRET = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: app\nstringData:\n  password: hunter2\n  username: admin\n';

beforeEach(async () => {
  dir = tempDir();
  certA = dir.write('a.pem', a.certificatePem);
  certB = dir.write('b.pem', b.certificatePem);
  identityFile = join(dir.path, 'escrow.txt');
  const run = await runCli(['identity', 'new', '-o', identityFile], { cwd: dir.path });
  expect(run.code).toBe(0);
  identity = parseIdentityFile(readFileSync(identityFile, 'utf8'), identityFile)[0]!;
});
afterEach(() => dir.remove());

const docs = (text: string): SealedSecret[] => parseAllDocuments(text).map((d, i) => readSealedSecret(d.toJS(), { document: i + 1 }));
const plain = (sealed: SealedSecret, key = a): Record<string, string> =>
  Object.fromEntries(Object.entries(unsealSealedSecret(sealed, [key.entry]).secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));

describe('kseal identity new', () => {
  it('writes the identity 0600 and prints its public key', async () => {
    expect(statSync(identityFile).mode & 0o777).toBe(0o600);
    const run = await runCli(['identity', 'public', identityFile], { cwd: dir.path });
    expect(run.stdout).toBe(`${identity.recipient}\n`);
  });

  it('prints the identity and the public key on stderr without -o', async () => {
    const run = await runCli(['identity', 'new']);
    expect(run.stdout).toMatch(/^# created: .*\n# public key: kseal1\w+\nKSEAL-SECRET-KEY-1\w+\n$/);
    expect(run.stderr).toMatch(/^Public key: kseal1\w+\n$/);
  });

  it('refuses to replace an existing identity file', async () => {
    const run = await runCli(['identity', 'new', '-o', identityFile], { cwd: dir.path });
    expect(run.code).toBe(7);
    expect(run.stderr).toContain('already exists');
  });

  it('makes an existing file 0600 when replacing it with --force', async () => {
    writeFileSync(join(dir.path, 'open.txt'), 'x', { mode: 0o644 });
    expect((await runCli(['identity', 'new', '-o', 'open.txt', '--force'], { cwd: dir.path })).code).toBe(0);
    expect(statSync(join(dir.path, 'open.txt')).mode & 0o777).toBe(0o600);
  });
});

describe('kseal encrypt for several recipients', () => {
  it('seals one object that opens with either cluster key and with the identity', async () => {
    const run = await runCli(['encrypt', '--cert', certA, '--cert', certB, '--recipient', identity.recipient], { stdin: SECRET });
    expect(run.code).toBe(0);
    const [sealed] = docs(run.stdout);
    expect(sealed!.spec.recipients?.map((r) => r.kind)).toEqual(['cluster', 'escrow']);
    expect(plain(sealed!, a)).toEqual({ password: 'hunter2', username: 'admin' });
    expect(plain(sealed!, b)).toEqual({ password: 'hunter2', username: 'admin' });
    expect(openWithIdentities(sealed!, [identity]).data.get('password')?.toString()).toBe('hunter2');
  });

  it('reads escrow recipients from --recipients-file', async () => {
    const file = dir.write('recipients.txt', `# escrow\n${identity.recipient}\n`);
    const run = await runCli(['encrypt', '--cert', certA, '--recipients-file', file], { stdin: SECRET });
    expect(docs(run.stdout)[0]!.spec.recipients?.[0]?.id).toBe(identity.keyId);
  });

  it('keeps the one-certificate output free of spec.recipients', async () => {
    const run = await runCli(['encrypt', '--cert', certA], { stdin: SECRET });
    expect(run.stdout).not.toContain('recipients');
  });

  it('refuses extra recipients with --api-version bitnami.com/v1alpha1 before sealing anything', async () => {
    const run = await runCli(['encrypt', '--cert', certA, '--recipient', identity.recipient, '--api-version', 'bitnami.com/v1alpha1'], { stdin: SECRET });
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('bitnami.com/v1alpha1 objects hold one cluster recipient only');
  });

  it('rejects a mistyped recipient by its checksum', async () => {
    const typo = `${identity.recipient.slice(0, -1)}${identity.recipient.endsWith('q') ? 'p' : 'q'}`;
    const run = await runCli(['encrypt', '--cert', certA, '--recipient', typo], { stdin: SECRET });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('checksum');
  });
});

describe('kseal raw for several recipients', () => {
  it('prints the value for each recipient, the first as encryptedData', async () => {
    const run = await runCli(['raw', '--cert', certA, '--cert', certB, '--recipient', identity.recipient, '-n', 'app', '--name', 'db'], { stdin: 's3cret' });
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n').map((l) => l.split(': '));
    expect(lines.map(([k]) => k)).toEqual(['encryptedData', b.certificate.keyId, identity.keyId]);
    const label = Buffer.from('app/db');
    expect(unsealBytes([a.privateKey], label, decodeBase64(lines[0]![1]!)!).plaintext.toString()).toBe('s3cret');
    expect(unsealBytes([b.privateKey], label, decodeBase64(lines[1]![1]!)!).plaintext.toString()).toBe('s3cret');
    expect(openEscrowValue(identity, label, decodeBase64(lines[2]![1]!)!).toString()).toBe('s3cret');
  });
});

describe('kseal encrypt --merge-into a multi-recipient file', () => {
  async function sealedFile(): Promise<{ path: string; before: SealedSecret }> {
    const run = await runCli(['encrypt', '--cert', certA, '--cert', certB, '--recipient', identity.recipient, '-w', 'db.yaml'], { stdin: SECRET, cwd: dir.path });
    expect(run.code).toBe(0);
    const path = join(dir.path, 'db.yaml');
    return { path, before: docs(readFileSync(path, 'utf8'))[0]! };
  }
  const NEW_KEY = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: app\nstringData:\n  token: t0k\n';

  it('seals the new key for every recipient on the object with only the first certificate', async () => {
    const { path, before } = await sealedFile();
    const run = await runCli(['encrypt', '--cert', certA, '--merge-into', path], { stdin: NEW_KEY });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('3 recipients');
    const after = docs(readFileSync(path, 'utf8'))[0]!;
    expect(plain(after, b).token).toBe('t0k');
    expect(openWithIdentities(after, [identity]).data.get('token')?.toString()).toBe('t0k');
    expect(after.spec.encryptedData.password).toBe(before.spec.encryptedData.password);
    expect(after.spec.recipients![1]!.encryptedData.username).toBe(before.spec.recipients![1]!.encryptedData.username);
  });

  it('refuses a --recipient that is not on the object', async () => {
    const { path } = await sealedFile();
    const other = await runCli(['identity', 'new']);
    const recipient = /kseal1\w+/.exec(other.stderr)![0];
    const run = await runCli(['encrypt', '--cert', certA, '--recipient', recipient, '--merge-into', path], { stdin: NEW_KEY });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('kseal recipients add');
  });

  it("refuses the second cluster's certificate in place of the first", async () => {
    const { path } = await sealedFile();
    const run = await runCli(['encrypt', '--cert', certB, '--merge-into', path], { stdin: NEW_KEY });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('belongs to a spec.recipients entry');
  });
});

describe('kseal decrypt --identity', () => {
  it('opens with the escrow identity alone and says which recipient opened it', async () => {
    const sealed = (await runCli(['encrypt', '--cert', certA, '--recipient', identity.recipient], { stdin: SECRET })).stdout;
    const run = await runCli(['decrypt', '--identity', identityFile], { stdin: sealed });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`password: ${Buffer.from('hunter2').toString('base64')}`);
    expect(run.stderr).toContain(`app/db opened with escrow identity ${identity.recipient}`);
    expect(run.stderr).toContain(`spec.recipients ${identity.keyId.slice(0, 16)}`);
  });

  it('opens with the second cluster key from its entry and says so', async () => {
    const sealed = (await runCli(['encrypt', '--cert', certA, '--cert', certB], { stdin: SECRET })).stdout;
    const run = await runCli(['decrypt', '--key', dir.write('b.key', b.privateKeyPem)], { stdin: sealed });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`opened with cluster key ${b.certificate.keyId.slice(0, 16)}`);
  });

  it('fails with exit code 5 when the identity is not a recipient', async () => {
    const sealed = (await runCli(['encrypt', '--cert', certA], { stdin: SECRET })).stdout;
    const run = await runCli(['decrypt', '--identity', identityFile], { stdin: sealed });
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('no escrow recipient');
    expect(run.stderr).not.toContain('hunter2');
  });
});
