import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keySecretManifest } from '../../src/model/key-secret.js';
import { writeManifests } from '../../src/manifest/write.js';
import { containsCanary, newCanary } from '../helpers/canary.js';
import { runCli, tempDir, type TempDir } from '../helpers/cli.js';
import { testKey } from '../helpers/keys.js';

const key = testKey('rsa-2048');
const other = testKey('rsa-4096');
let dir: TempDir;
let sealed: string;
const canary = newCanary('decrypt');

beforeEach(async () => {
  dir = tempDir();
  const cert = dir.write('cert.pem', key.certificatePem);
  const run = await runCli(['encrypt', '--cert', cert], {
    stdin: `apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: app, labels: {l: v}}\ntype: kubernetes.io/basic-auth\nstringData: {password: ${canary}, username: admin}\n`,
  });
  sealed = run.stdout;
});
afterEach(() => dir.remove());

function secretOf(stdout: string): { metadata: { name: string; namespace: string; labels?: Record<string, string> }; type: string; data: Record<string, string> } {
  return parse(stdout) as never;
}

describe('kseal decrypt', () => {
  it('opens a SealedSecret with a PKCS#1 PEM key and prints the Secret the controller would write', async () => {
    const run = await runCli(['decrypt', '--key', dir.write('k.pem', key.privateKeyPem)], { stdin: sealed });
    expect(run.code).toBe(0);
    const secret = secretOf(run.stdout);
    expect(secret.metadata).toEqual({ name: 'db', namespace: 'app', labels: { l: 'v' } });
    expect(secret.type).toBe('kubernetes.io/basic-auth');
    expect(Buffer.from(secret.data.password!, 'base64').toString()).toBe(canary);
  });

  it('accepts a PKCS#8 key', async () => {
    const pkcs8 = key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const run = await runCli(['decrypt', '--key', dir.write('k8.pem', pkcs8)], { stdin: sealed });
    expect(run.code).toBe(0);
  });

  it('accepts a kubernetes.io/tls key Secret and a List backup of them', async () => {
    const secretOfKey = (k: typeof key, name: string): Record<string, unknown> => keySecretManifest({ name, namespace: 'kseal-system', privateKeyPem: k.privateKeyPem, certificatePem: k.certificatePem });
    const single = dir.write('one.yaml', writeManifests([secretOfKey(key, 'k1')], 'yaml'));
    expect((await runCli(['decrypt', '--key', single], { stdin: sealed })).code).toBe(0);
    const list = dir.write('list.yaml', writeManifests([{ apiVersion: 'v1', kind: 'List', items: [secretOfKey(other, 'k0'), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'unrelated' }, data: { x: 'eA==' } }, secretOfKey(key, 'k1')] }], 'yaml'));
    expect((await runCli(['decrypt', '--key', list], { stdin: sealed })).code).toBe(0);
  });

  it('opens every document of a stream and reads -f', async () => {
    const file = dir.write('s.yaml', `${sealed}---\n${sealed}`);
    const run = await runCli(['decrypt', '--key', dir.write('k.pem', key.privateKeyPem), '-f', file]);
    expect(parseAllDocuments(run.stdout)).toHaveLength(2);
  });

  it('writes the Secrets with mode 0600 when given -w', async () => {
    await runCli(['decrypt', '--key', dir.write('k.pem', key.privateKeyPem), '-w', 'out.yaml'], { stdin: sealed, cwd: dir.path });
    expect(statSync(join(dir.path, 'out.yaml')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir.path, 'out.yaml'), 'utf8')).toContain('kind: Secret');
  });

  it('says which keys were tried when none opens the value, without showing data', async () => {
    const run = await runCli(['decrypt', '--key', dir.write('wrong.pem', other.privateKeyPem)], { stdin: sealed });
    expect(run.code).toBe(5);
    expect(run.stderr).toContain(`no key could decrypt it; tried 1: ${other.entry.keyId.slice(0, 12)} (${join(dir.path, 'wrong.pem')})`);
    expect(run.stderr).toMatch(/key "password"/);
    expect(containsCanary(canary, run.stderr + run.stdout)).toBe(false);
  });

  it('fails when the object was moved to another name', async () => {
    const run = await runCli(['decrypt', '--key', dir.write('k.pem', key.privateKeyPem)], { stdin: sealed.replace('name: db', 'name: stolen') });
    expect(run.code).toBe(5);
  });

  it('reports a malformed value with its key', async () => {
    const broken = sealed.replace(/password: \S+/, 'password: AAAA');
    const run = await runCli(['decrypt', '--key', dir.write('k.pem', key.privateKeyPem)], { stdin: broken });
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/key "password": the sealed value is malformed/);
  });

  it('refuses a passphrase-protected key', async () => {
    const encrypted = key.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string;
    const run = await runCli(['decrypt', '--key', dir.write('enc.pem', encrypted)], { stdin: sealed });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('protected by a passphrase');
  });

  it('refuses a key file with no key in it', async () => {
    const run = await runCli(['decrypt', '--key', dir.write('none.yaml', 'apiVersion: v1\nkind: List\nitems: []\n')], { stdin: sealed });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('no private key found');
  });

  it('requires --key or --identity', async () => {
    const run = await runCli(['decrypt'], { stdin: sealed });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('pass the keys to open with: --key FILE (cluster private keys) or --identity FILE (escrow identities)');
  });

  it('rejects a document that is not a SealedSecret', async () => {
    const run = await runCli(['decrypt', '--key', dir.write('k.pem', key.privateKeyPem)], { stdin: 'apiVersion: v1\nkind: Secret\nmetadata: {name: x}\n' });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('expected a SealedSecret but found kind Secret');
  });

  it('never prints the private key in an error', async () => {
    const truncated = key.privateKeyPem.slice(0, 400);
    const run = await runCli(['decrypt', '--key', dir.write('t.pem', `${truncated}\n-----END RSA PRIVATE KEY-----\n`)], { stdin: sealed });
    expect(run.code).toBe(4);
    expect(run.stderr).not.toContain(truncated.split('\n')[2]!);
  });
});
