/** kubeseal's spellings (issue 13, item 2): mode flags without a command, flag aliases, environment variables. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { kubesealArgv } from '../../cli/kubeseal-compat.js';
import { readSealedSecret, unsealSealedSecret } from '../../src/model/sealed-secret.js';
import { runCli, tempDir, type TempDir } from '../helpers/cli.js';
import { startFakeController } from '../helpers/fake-controller.js';
import { testKey } from '../helpers/keys.js';

const key = testKey('rsa-2048');
const SECRET = 'apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: app}\nstringData: {password: "s3cret"}\n';
let dir: TempDir;
let cert: string;
beforeEach(() => {
  dir = tempDir();
  cert = dir.write('cert.pem', key.certificatePem);
});
afterEach(() => dir.remove());

function opened(sealedYaml: string): string {
  const sealed = readSealedSecret(parse(sealedYaml), {});
  return Buffer.from(unsealSealedSecret(sealed, [key.entry]).secret.data?.password ?? '', 'base64').toString();
}

describe('kubeseal command lines', () => {
  const commands = new Set(['encrypt', 'raw', 'cert', 'validate', 'reencrypt', 'decrypt']);

  it('turns mode flags into commands and other kubeseal flags into encrypt', () => {
    expect(kubesealArgv(['--raw', '--name', 'x'], commands)).toEqual(['raw', '--name', 'x']);
    expect(kubesealArgv(['--fetch-cert'], commands)).toEqual(['cert']);
    expect(kubesealArgv(['--cert', 'cert', '-o', 'yaml'], commands)).toEqual(['encrypt', '--cert', 'cert', '-o', 'yaml']);
    expect(kubesealArgv(['--recovery-unseal', '--recovery-private-key', 'k.pem'], commands)).toEqual(['decrypt', '--recovery-private-key', 'k.pem']);
  });

  it('leaves command lines that name a command, or hold no kubeseal flag, as they are', () => {
    expect(kubesealArgv(['encrypt', '--raw'], commands)).toEqual(['encrypt', '--raw']);
    expect(kubesealArgv(['--help'], commands)).toEqual(['--help']);
  });

  it('seals with kubeseal --cert FILE -o yaml and no command', async () => {
    const run = await runCli(['--cert', cert, '--format', 'yaml'], { stdin: SECRET });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(opened(run.stdout)).toBe('s3cret');
  });

  it('seals one value with kubeseal --raw --from-file', async () => {
    dir.write('pw', 's3cret');
    const run = await runCli(['--raw', '--from-file', 'pw', '--name', 'db', '--namespace', 'app', '--scope', 'strict', '--cert', cert], { cwd: dir.path });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });

  it('fetches the certificate with kubeseal --fetch-cert', async () => {
    const controller = await startFakeController(key.certificatePem);
    try {
      const run = await runCli(['--fetch-cert', '--controller-url', controller.url]);
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(key.certificate.pem);
    } finally {
      await controller.close();
    }
  });

  it('unseals with kubeseal --recovery-unseal --recovery-private-key a,b', async () => {
    const other = testKey('rsa-4096');
    const a = dir.write('a.pem', other.privateKeyPem);
    const b = dir.write('b.pem', key.privateKeyPem);
    const sealed = (await runCli(['encrypt', '--cert', cert], { stdin: SECRET })).stdout;
    const run = await runCli(['--recovery-unseal', '--recovery-private-key', `${a},${b}`], { stdin: sealed });
    expect(run.stderr).toMatch(/opened with cluster key \w+ \(.*b\.pem\)/);
    expect(run.code).toBe(0);
    expect(Buffer.from((parse(run.stdout) as { data: { password: string } }).data.password, 'base64').toString()).toBe('s3cret');
  });

  it('reads --secret-file and writes --sealed-secret-file', async () => {
    dir.write('in.yaml', SECRET);
    const run = await runCli(['encrypt', '--cert', cert, '--secret-file', 'in.yaml', '--sealed-secret-file', 'out.yaml'], { cwd: dir.path });
    expect(run.code).toBe(0);
    expect(opened(readFileSync(join(dir.path, 'out.yaml'), 'utf8'))).toBe('s3cret');
  });

  it('accepts yml as well as yaml, and json, for -o and --format', async () => {
    expect((await runCli(['encrypt', '--cert', cert, '-o', 'yml'], { stdin: SECRET })).stdout).toContain('kind: SealedSecret');
    expect(JSON.parse((await runCli(['encrypt', '--cert', cert, '--format', 'json'], { stdin: SECRET })).stdout)).toMatchObject({ kind: 'SealedSecret' });
  });

  it('refuses an alias and its kseal flag given different values, as a usage error', async () => {
    const run = await runCli(['encrypt', '--cert', cert, '--format', 'json', '-o', 'yaml'], { stdin: SECRET });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('kseal: error: --format and -o say different things; give one of them\n');
  });

  it('refuses a bad --format value like any bad choice, with exit 2', async () => {
    const run = await runCli(['encrypt', '--cert', cert, '--format', 'toml'], { stdin: SECRET });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("argument 'toml' is invalid. Allowed choices are yaml, yml, json.");
  });

  it('takes the certificate from SEALED_SECRETS_CERT, and KSEAL_CERT over it', async () => {
    const other = dir.write('other.pem', testKey('rsa-4096').certificatePem);
    const run = await runCli(['encrypt'], { stdin: SECRET, env: { SEALED_SECRETS_CERT: cert } });
    expect(opened(run.stdout)).toBe('s3cret');
    const both = await runCli(['encrypt'], { stdin: SECRET, env: { SEALED_SECRETS_CERT: other, KSEAL_CERT: cert } });
    expect(opened(both.stdout)).toBe('s3cret');
  });

  it('reaches the controller service named by SEALED_SECRETS_CONTROLLER_NAMESPACE and _NAME', async () => {
    const api = await startFakeController(key.certificatePem);
    try {
      const kc = dir.write('kc', `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "${api.url}"}}]\nusers: [{name: u, user: {token: t0k}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`);
      const run = await runCli(['cert', '--kubeconfig', kc], { env: { SEALED_SECRETS_CONTROLLER_NAMESPACE: 'sealed', SEALED_SECRETS_CONTROLLER_NAME: 'sealer' } });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(api.requests[0]).toMatchObject({ path: '/api/v1/namespaces/sealed/services/http:sealer:http/proxy/v1/cert.pem', authorization: 'Bearer t0k' });
    } finally {
      await api.close();
    }
  });

  it('lists the kubeseal spellings in the help of each command', async () => {
    const help = (await runCli(['encrypt', '--help'])).stdout;
    expect(help).toContain('kubeseal spellings');
    expect(help).toMatch(/--format <format>\s+= -o/);
    expect(help).toMatch(/--sealed-secret-file <file>\s+= -w/);
    expect((await runCli(['decrypt', '--help'])).stdout).toMatch(/--recovery-private-key <files>\s+= -k \(comma-separated\)/);
  });
});
