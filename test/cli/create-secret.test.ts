import { mkdirSync, readFileSync } from 'node:fs';
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

function opened(text: string): { type: string; data: Record<string, string>; namespace: string | undefined } {
  const sealed = readSealedSecret(parse(text), {});
  const { secret } = unsealSealedSecret(sealed, [key.entry]);
  return { type: secret.type, namespace: sealed.metadata.namespace, data: Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])) };
}

describe('kseal create secret', () => {
  it('generic takes --from-file with and without a key, a directory and an env file', async () => {
    dir.write('pw.txt', 'hunter2');
    dir.write('app.env', 'A=1\nB=2\n');
    mkdirSync(join(dir.path, 'conf'));
    dir.write('conf/x.ini', 'x');
    const run = await runCli(['create', 'secret', 'generic', 'db', '-n', 'app', '--from-file', 'password=pw.txt', '--from-file', 'pw.txt', '--from-file', 'conf', '--from-env-file', 'app.env', '--sealing-cert', 'cert.pem'], { cwd: dir.path });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(opened(run.stdout)).toEqual({ type: 'Opaque', namespace: 'app', data: { A: '1', B: '2', password: 'hunter2', 'pw.txt': 'hunter2', 'x.ini': 'x' } });
  });

  it('refuses --from-literal without echoing the value', async () => {
    const canary = newCanary();
    const run = await runCli(['create', 'secret', 'generic', 'db', '-n', 'app', `--from-literal=password=${canary}`, '--sealing-cert', 'cert.pem'], { cwd: dir.path });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--from-literal would put the value on the command line');
    expect(containsCanary(run.stdout + run.stderr, canary)).toBe(false);
  });

  it('tls checks that the key matches the certificate and writes a kubernetes.io/tls SealedSecret', async () => {
    dir.write('tls.crt', key.certificatePem);
    dir.write('tls.key', key.privateKeyPem);
    dir.write('other.key', otherTestKey('rsa-2048').privateKeyPem);
    const run = await runCli(['create', 'secret', 'tls', 'web', '-n', 'app', '--cert', 'tls.crt', '--key', 'tls.key', '--sealing-cert', 'cert.pem', '-w', 'web.sealed.yaml'], { cwd: dir.path });
    expect(run.code).toBe(0);
    const out = opened(readFileSync(join(dir.path, 'web.sealed.yaml'), 'utf8'));
    expect(out.type).toBe('kubernetes.io/tls');
    expect(out.data['tls.key']).toBe(key.privateKeyPem);
    const bad = await runCli(['create', 'secret', 'tls', 'web', '-n', 'app', '--cert', 'tls.crt', '--key', 'other.key', '--sealing-cert', 'cert.pem'], { cwd: dir.path });
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain('does not match the certificate');
  });

  it('docker-registry builds .dockerconfigjson with the password from stdin, and refuses --docker-password', async () => {
    const run = await runCli(['create', 'secret', 'docker-registry', 'pull', '-n', 'app', '--docker-server', 'registry.example', '--docker-username', 'bot', '--docker-email', 'bot@example.com', '--sealing-cert', 'cert.pem'], { cwd: dir.path, stdin: 's3cret\n' });
    expect(run.code).toBe(0);
    const out = opened(run.stdout);
    expect(out.type).toBe('kubernetes.io/dockerconfigjson');
    expect(JSON.parse(out.data['.dockerconfigjson'] ?? '')).toEqual({ auths: { 'registry.example': { username: 'bot', password: 's3cret', email: 'bot@example.com', auth: Buffer.from('bot:s3cret').toString('base64') } } });
    const refused = await runCli(['create', 'secret', 'docker-registry', 'pull', '-n', 'app', '--docker-username', 'bot', '--docker-password', 'x', '--sealing-cert', 'cert.pem'], { cwd: dir.path });
    expect(refused.code).toBe(2);
  });

  it('seals for the kubeconfig context namespace when neither -n nor .kseal.yaml names one, as kubectl create secret does', async () => {
    dir.write('pw.txt', 'hunter2');
    const kc = dir.write('kc', 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u, namespace: team}}]\ncurrent-context: x\n');
    const run = await runCli(['create', 'secret', 'generic', 'db', '--from-file', 'password=pw.txt', '--sealing-cert', 'cert.pem', '--kubeconfig', kc], { cwd: dir.path });
    expect(run.code).toBe(0);
    expect(opened(run.stdout)).toMatchObject({ namespace: 'team', data: { password: 'hunter2' } });
    const explicit = await runCli(['create', 'secret', 'generic', 'db', '-n', 'app', '--from-file', 'password=pw.txt', '--sealing-cert', 'cert.pem', '--kubeconfig', kc], { cwd: dir.path });
    expect(opened(explicit.stdout).namespace).toBe('app');
  });

  it('takes the certificate and namespace from .kseal.yaml, so only names are needed', async () => {
    dir.write('.kseal.yaml', 'creation_rules:\n  - path_regex: ^apps/\n    certificate: cert.pem\n    namespace: shop\n');
    mkdirSync(join(dir.path, 'apps'));
    dir.write('pw.txt', 'pw');
    const run = await runCli(['create', 'secret', 'generic', 'db', '--from-file', 'password=pw.txt', '-w', 'apps/db.sealed.yaml'], { cwd: dir.path });
    expect(run.code).toBe(0);
    expect(opened(readFileSync(join(dir.path, 'apps/db.sealed.yaml'), 'utf8'))).toEqual({ type: 'Opaque', namespace: 'shop', data: { password: 'pw' } });
  });

  it('writes byte-identical output apart from the ciphertexts for the same input', async () => {
    dir.write('pw.txt', 'pw');
    const args = ['create', 'secret', 'generic', 'db', '-n', 'app', '--from-file', 'b=pw.txt', '--from-file', 'a=pw.txt', '--sealing-cert', 'cert.pem'];
    const [one, two] = [await runCli(args, { cwd: dir.path }), await runCli(args, { cwd: dir.path })];
    const mask = (t: string) => t.replace(/^( {4}[ab]: ).*$/gm, '$1X');
    expect(mask(one.stdout)).toBe(mask(two.stdout));
    expect(one.stdout).not.toBe(two.stdout);
  });
});

describe('kseal encrypt and template placeholders', () => {
  it('warns at encrypt time when stringData holds a {{ … }} placeholder, naming the key', async () => {
    const run = await runCli(['encrypt', '--cert', 'cert.pem'], { cwd: dir.path, stdin: 'apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: app}\nstringData:\n  url: "postgres://{{ .user }}@db"\n' });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('warning: <stdin>: document 1: stringData key "url" holds a {{ … }} template placeholder');
  });
});
