import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readSealedSecret, unsealSealedSecret } from '../../src/model/sealed-secret.js';
import { generateIdentity } from '../../src/crypto/identity.js';
import { openWithIdentities } from '../../src/model/object-recipients.js';
import { runCli, tempDir, type TempDir } from '../helpers/cli.js';
import { otherTestKey, testKey } from '../helpers/keys.js';

const prod = testKey('rsa-2048');
const dev = otherTestKey('rsa-2048');
let dir: TempDir;

const CONFIG = `creation_rules:
  - path_regex: ^apps/dev/
    certificate: certs/dev.pem
    scope: namespace-wide
    namespace: dev
  - path_regex: ^apps/prod/
    certificate: certs/prod.pem
    api_version: bitnami.com/v1alpha1
`;
const SECRET = 'apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: hunter2}\n';

beforeEach(() => {
  dir = tempDir();
  for (const d of ['certs', 'apps/dev', 'apps/prod/deep', 'other']) mkdirSync(join(dir.path, d), { recursive: true });
  dir.write('certs/prod.pem', prod.certificatePem);
  dir.write('certs/dev.pem', dev.certificatePem);
  dir.write('.kseal.yaml', CONFIG);
});
afterEach(() => dir.remove());

const readSealed = (path: string) => readSealedSecret(parse(readFileSync(join(dir.path, path), 'utf8')), {});

describe('.kseal.yaml', () => {
  it('gives encrypt the certificate, scope, namespace and apiVersion of the rule matching the file written', async () => {
    const run = await runCli(['encrypt', '-w', 'apps/dev/db.sealed.yaml'], { stdin: SECRET, cwd: dir.path });
    expect(run.stderr).toBe('');
    const sealed = readSealed('apps/dev/db.sealed.yaml');
    expect(sealed.metadata.namespace).toBe('dev');
    expect(sealed.metadata.annotations?.['kseal.dev/scope']).toBe('namespace-wide');
    expect(sealed.metadata.annotations?.['kseal.dev/key-id']).toBe(dev.certificate.keyId);
    await runCli(['encrypt', '-n', 'shop', '-w', 'deep/db.sealed.yaml'], { stdin: SECRET, cwd: join(dir.path, 'apps/prod') });
    const p = readSealed('apps/prod/deep/db.sealed.yaml');
    expect(p.apiVersion).toBe('bitnami.com/v1alpha1');
    expect(p.metadata.annotations?.['kseal.dev/key-id']).toBe(prod.certificate.keyId);
    expect(unsealSealedSecret(p, [prod.entry]).secret.data.password).toBe(Buffer.from('hunter2').toString('base64'));
  });

  it('seals for the escrow recipients and every certificate a rule names', async () => {
    const escrow = generateIdentity();
    dir.write('.kseal.yaml', `${CONFIG}  - path_regex: ^apps/multi/\n    certificates: [certs/prod.pem, certs/dev.pem]\n    escrow: [${escrow.recipient}]\n    namespace: multi\n`);
    mkdirSync(join(dir.path, 'apps/multi'), { recursive: true });
    const run = await runCli(['encrypt', '-w', 'apps/multi/db.sealed.yaml'], { stdin: SECRET, cwd: dir.path });
    expect(run.code, run.stderr).toBe(0);
    const sealed = readSealed('apps/multi/db.sealed.yaml');
    expect(sealed.metadata.annotations?.['kseal.dev/key-id']).toBe(prod.certificate.keyId);
    expect(sealed.spec.recipients?.map((r) => [r.kind, r.id])).toEqual([
      ['cluster', dev.certificate.keyId],
      ['escrow', escrow.keyId],
    ]);
    expect(openWithIdentities(sealed, [escrow]).data.get('password')?.toString()).toBe('hunter2');
  });

  it('lets flags win over the rule', async () => {
    dir.write('flag.pem', prod.certificatePem);
    await runCli(['encrypt', '--cert', 'flag.pem', '--scope', 'strict', '-n', 'x', '-w', 'apps/dev/db.sealed.yaml'], { stdin: SECRET, cwd: dir.path });
    const sealed = readSealed('apps/dev/db.sealed.yaml');
    expect(sealed.metadata.annotations?.['kseal.dev/key-id']).toBe(prod.certificate.keyId);
    expect(sealed.metadata.annotations?.['kseal.dev/scope']).toBe('strict');
    expect(sealed.metadata.namespace).toBe('x');
  });

  it('lets KSEAL_CERT win over the rule', async () => {
    await runCli(['encrypt', '-w', 'apps/dev/db.sealed.yaml'], { stdin: SECRET, cwd: dir.path, env: { KSEAL_CERT: join(dir.path, 'certs/prod.pem') } });
    expect(readSealed('apps/dev/db.sealed.yaml').metadata.annotations?.['kseal.dev/key-id']).toBe(prod.certificate.keyId);
  });

  it('uses --config or KSEAL_CONFIG instead of walking up', async () => {
    dir.write('other/alt.yaml', 'creation_rules:\n  - certificate: ../certs/prod.pem\n    namespace: alt\n');
    await runCli(['encrypt', '--config', 'other/alt.yaml', '-w', 'apps/dev/a.yaml'], { stdin: SECRET, cwd: dir.path });
    expect(readSealed('apps/dev/a.yaml').metadata.namespace).toBe('alt');
    await runCli(['encrypt', '-w', 'apps/dev/b.yaml'], { stdin: SECRET, cwd: dir.path, env: { KSEAL_CONFIG: 'other/alt.yaml' } });
    expect(readSealed('apps/dev/b.yaml').metadata.namespace).toBe('alt');
  });

  it('reports a bad config naming the file and line', async () => {
    dir.write('.kseal.yaml', 'creation_rules:\n  - path_regex: "("\n');
    const run = await runCli(['encrypt', '-w', 'apps/dev/db.yaml'], { stdin: SECRET, cwd: dir.path });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('.kseal.yaml: line 2: path_regex: "(" is not a valid regular expression');
  });

  it('gives set and --merge-into the rule\'s certificate', async () => {
    await runCli(['encrypt', '-w', 'apps/dev/db.yaml'], { stdin: SECRET, cwd: dir.path });
    expect((await runCli(['set', 'apps/dev/db.yaml', 'token'], { stdin: 't', cwd: dir.path })).code).toBe(0);
    const more = 'apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: dev}\nstringData: {extra: e}\n';
    expect((await runCli(['encrypt', '--merge-into', 'apps/dev/db.yaml'], { stdin: more, cwd: dir.path })).code).toBe(0);
    const { secret } = unsealSealedSecret(readSealed('apps/dev/db.yaml'), [dev.entry]);
    expect(Object.keys(secret.data)).toEqual(['extra', 'password', 'token']);
  });

  it('gives raw the rule for --for-file', async () => {
    const run = await runCli(['raw', '--for-file', 'apps/dev/x.yaml'], { stdin: 'v', cwd: dir.path });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Ag/); // the dev rule's RSA-4096 certificate
  });

  it('config show prints the rule that applies and why the others did not', async () => {
    const run = await runCli(['config', 'show', 'apps/prod/deep/db.yaml'], { cwd: dir.path });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      [
        'config: .kseal.yaml',
        'path: apps/prod/deep/db.yaml',
        'rule 1 (line 2): skipped: path_regex "^apps/dev/" does not match "apps/prod/deep/db.yaml"',
        'rule 2 (line 6): applies: path_regex "^apps/prod/" matches "apps/prod/deep/db.yaml"',
        '  certificates: certs/prod.pem',
        '  escrow: (none)',
        '  scope: (from the object, else strict)',
        '  namespace: (from the object)',
        '  api_version: bitnami.com/v1alpha1',
        '',
      ].join('\n'),
    );
  });

  it('config show says when no rule applies, and fails when there is no config', async () => {
    expect((await runCli(['config', 'show', 'other/x.yaml'], { cwd: dir.path })).stdout).toContain('no rule applies');
    const empty = tempDir();
    try {
      const run = await runCli(['config', 'show', 'x.yaml'], { cwd: empty.path });
      expect(run.code).toBe(7);
      expect(run.stderr).toContain('no .kseal.yaml');
    } finally {
      empty.remove();
    }
  });
});
