/**
 * The README's team workflow end to end, with no flags beyond names: a repo with `.kseal.yaml`
 * (certificates, creation rules matched by path and by namespace, an escrow recipient), `kseal
 * create secret`, `kseal set`, and a green `kseal lint`, then a bad commit that lint fails.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readSealedSecret, unsealSealedSecret, type SealedSecret } from '../../src/model/sealed-secret.js';
import { runCli, tempDir, type TempDir } from '../helpers/cli.js';
import { otherTestKey, testKey } from '../helpers/keys.js';

const prod = testKey('rsa-2048');
const dev = otherTestKey('rsa-2048');
let dir: TempDir;
let escrow: string;

beforeEach(async () => {
  dir = tempDir();
  for (const d of ['certs', 'clusters/prod/shop', 'clusters/shared']) mkdirSync(join(dir.path, d), { recursive: true });
  dir.write('certs/prod.pem', prod.certificatePem);
  dir.write('certs/dev.pem', dev.certificatePem);
  const id = await runCli(['identity', 'new', '-o', 'escrow.key'], { cwd: dir.path });
  expect(id.code).toBe(0);
  escrow = id.stdout.trim();
  dir.write(
    '.kseal.yaml',
    `certificates:
  - name: prod
    file: certs/prod.pem
  - name: dev
    file: certs/dev.pem
creation_rules:
  - path_regex: ^clusters/prod/
    certificate: prod
    namespace: shop
    escrow: [${escrow}]
  - path_regex: ^clusters/shared/
    namespace_regex: ^prod-
    certificate: prod
  - path_regex: ^clusters/shared/
    certificate: dev
    scope: namespace-wide
`,
  );
  dir.write('pw.txt', 'hunter2');
});
afterEach(() => dir.remove());

const read = (path: string): SealedSecret => readSealedSecret(parse(readFileSync(join(dir.path, path), 'utf8')), {});
const values = (sealed: SealedSecret, key = prod): Record<string, string> => Object.fromEntries(Object.entries(unsealSealedSecret(sealed, [key.entry]).secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));

describe('the README team workflow', () => {
  it('goes from kseal create secret to a green kseal lint with no flags beyond names', async () => {
    const created = await runCli(['create', 'secret', 'generic', 'db', '--from-file', 'password=pw.txt', '-w', 'clusters/prod/shop/db.sealed.yaml'], { cwd: dir.path });
    expect(created.code, created.stderr).toBe(0);
    const set = await runCli(['set', 'clusters/prod/shop/db.sealed.yaml', 'token'], { cwd: dir.path, stdin: 't0ken' });
    expect(set.code, set.stderr).toBe(0);
    const sealed = read('clusters/prod/shop/db.sealed.yaml');
    expect(sealed.metadata.namespace).toBe('shop');
    expect(values(sealed)).toEqual({ password: 'hunter2', token: 't0ken' });
    // The rule's escrow recipient got every value, and its identity opens them.
    expect(sealed.spec.recipients?.map((r) => [r.kind, Object.keys(r.encryptedData)])).toEqual([['escrow', ['password', 'token']]]);
    const opened = await runCli(['decrypt', '-f', 'clusters/prod/shop/db.sealed.yaml', '--identity', 'escrow.key', '-o', 'json'], { cwd: dir.path });
    expect(opened.code, opened.stderr).toBe(0);
    expect((JSON.parse(opened.stdout) as { data: Record<string, string> }).data).toEqual({ password: Buffer.from('hunter2').toString('base64'), token: Buffer.from('t0ken').toString('base64') });
    const lint = await runCli(['lint'], { cwd: dir.path });
    expect(lint.stdout).toContain('0 errors, 0 warnings');
    expect(lint.code).toBe(0);
  });

  it('fails kseal lint (exit 8) once a plaintext Secret is committed', async () => {
    dir.write('clusters/prod/shop/oops.yaml', 'apiVersion: v1\nkind: Secret\nmetadata: {name: oops, namespace: shop}\nstringData: {password: hunter2}\n');
    const lint = await runCli(['lint'], { cwd: dir.path });
    expect(lint.code).toBe(8);
    expect(lint.stdout).toContain('clusters/prod/shop/oops.yaml:4');
    expect(lint.stdout).toContain('KS101');
    expect(lint.stdout).not.toContain('hunter2');
  });

  it('chooses the rule by the object\'s namespace where namespace_regex says so', async () => {
    const secret = (ns: string): string => `apiVersion: v1\nkind: Secret\nmetadata: {name: api, namespace: ${ns}}\nstringData: {k: v}\n`;
    expect((await runCli(['encrypt', '-w', 'clusters/shared/a.sealed.yaml'], { cwd: dir.path, stdin: secret('prod-eu') })).code).toBe(0);
    expect((await runCli(['encrypt', '-w', 'clusters/shared/b.sealed.yaml'], { cwd: dir.path, stdin: secret('staging') })).code).toBe(0);
    const [a, b] = [read('clusters/shared/a.sealed.yaml'), read('clusters/shared/b.sealed.yaml')];
    expect(a.metadata.annotations?.['kseal.dev/key-id']).toBe(prod.certificate.keyId);
    expect(values(a)).toEqual({ k: 'v' });
    expect(b.metadata.annotations?.['kseal.dev/key-id']).toBe(dev.certificate.keyId);
    expect(b.metadata.annotations?.['kseal.dev/scope']).toBe('namespace-wide');
    expect(values(b, dev)).toEqual({ k: 'v' });
    const shown = await runCli(['config', 'show', 'clusters/shared/b.sealed.yaml', '-n', 'staging'], { cwd: dir.path });
    expect(shown.stdout).toContain('namespace_regex "^prod-" does not match namespace "staging"');
  });
});
