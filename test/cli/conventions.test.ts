/** The rough edges of issue 13, in-process: usage errors, messages, namespaces, validate/reencrypt results, merge flags. */
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifySealed } from '../../cli/controller-api.js';
import { readSealedSecret, sealedSecretLabel } from '../../src/model/sealed-secret.js';
import { unsealBytes } from '../../src/crypto/hybrid.js';
import { runCli, tempDir, type TempDir } from '../helpers/cli.js';
import { startFakeController, type FakeController } from '../helpers/fake-controller.js';
import { otherTestKey, testKey } from '../helpers/keys.js';

const key = testKey('rsa-2048');
const secret = (ns = '  namespace: app\n'): string => `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n${ns}stringData:\n  password: "s3cret"\n`;
let dir: TempDir;
let cert: string;
beforeEach(() => {
  dir = tempDir();
  cert = dir.write('cert.pem', key.certificatePem);
});
afterEach(() => dir.remove());

function kubeconfig(server: string, namespace?: string): string {
  return dir.write('kc', `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "${server}"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u${namespace === undefined ? '' : `, namespace: ${namespace}`}}}]\ncurrent-context: x\n`);
}

describe('usage', () => {
  it('makes no command a usage error (exit 2) instead of printing help and succeeding', async () => {
    const run = await runCli([], { stdin: secret() });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('kseal: error: no command given\n  hint: run kseal encrypt < secret.yaml > sealed.yaml to seal, or kseal --help for every command\n');
  });

  it('prints usage errors as JSON with KSEAL_ERROR_FORMAT=json, like every other error', async () => {
    const run = await runCli(['encrypt', '--bogus'], { env: { KSEAL_ERROR_FORMAT: 'json' } });
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stderr)).toEqual({ error: { code: 'USAGE', exitCode: 2, message: "unknown option '--bogus'", hint: 'run kseal encrypt --help for usage' } });
  });

  it('prints usage errors in kseal\'s one-line format with a hint', async () => {
    const run = await runCli(['encrypt', '--bogus']);
    expect(run.stderr).toBe("kseal: error: unknown option '--bogus'\n  hint: run kseal encrypt --help for usage\n");
  });

  it('prints the version with kseal version', async () => {
    const run = await runCli(['version']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe((await runCli(['--version'])).stdout);
  });

  it('says a --controller-url without a scheme needs one, with exit 2 and no internal error', async () => {
    const run = await runCli(['cert', '--controller-url', 'localhost:8080']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('kseal: error: --controller-url "localhost:8080" is not an http(s) URL\n  hint: add the scheme: --controller-url http://localhost:8080\n');
  });
});

describe('the namespace from the kubeconfig context', () => {
  it('seals a Secret without a namespace for the context namespace, as kubectl and kubeseal do', async () => {
    const kc = kubeconfig('https://127.0.0.1:1', 'team');
    const run = await runCli(['encrypt', '--cert', cert, '--kubeconfig', kc], { stdin: secret('') });
    expect(run.code).toBe(0);
    const sealed = readSealedSecret(parse(run.stdout), {});
    expect(sealed.metadata.namespace).toBe('team');
    expect(sealedSecretLabel(sealed).toString()).toBe('team/db');
  });

  it('reads the context namespace from KUBECONFIG for raw too', async () => {
    const kc = kubeconfig('https://127.0.0.1:1', 'team');
    const run = await runCli(['raw', '--cert', cert, '--name', 'db'], { stdin: 'v', env: { KUBECONFIG: kc } });
    expect(run.code).toBe(0);
    expect(unsealBytes([key.privateKey], Buffer.from('team/db'), Buffer.from(run.stdout, 'base64')).plaintext.toString()).toBe('v');
  });

  it('keeps the namespace the input or -n gives', async () => {
    const kc = kubeconfig('https://127.0.0.1:1', 'team');
    expect(parse((await runCli(['encrypt', '--cert', cert, '--kubeconfig', kc], { stdin: secret() })).stdout).metadata.namespace).toBe('app');
    expect(parse((await runCli(['encrypt', '--cert', cert, '--kubeconfig', kc, '-n', 'other'], { stdin: secret('') })).stdout).metadata.namespace).toBe('other');
  });

  it('still asks for a namespace when there is no kubeconfig at all', async () => {
    const run = await runCli(['encrypt', '--cert', cert], { stdin: secret(''), env: { HOME: dir.path } });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('the Secret has no metadata.namespace');
  });
});

describe('messages', () => {
  it('names the missing context instead of "no current cluster"', async () => {
    const kc = kubeconfig('https://127.0.0.1:1');
    const run = await runCli(['cert', '--kubeconfig', kc, '--context', 'nope']);
    expect(run.code).toBe(6);
    expect(run.stderr).toBe(`kseal: error: ${kc}: the kubeconfig has no context "nope"\n  hint: contexts in ${kc}: x\n`);
  });

  it('says no kubeconfig was found, where it looked, and to pass --cert', async () => {
    const run = await runCli(['cert'], { env: { HOME: dir.path } });
    expect(run.code).toBe(6);
    expect(run.stderr).toContain(`no kubeconfig found (looked at ${join(dir.path, '.kube', 'config')})`);
    expect(run.stderr).toContain('--cert FILE');
    expect(run.stderr).not.toContain('localhost:8080');
  });

  it("hints at the controller's own namespace when the service is missing", async () => {
    const api = await startFakeController('', (_req, _body, res) => (res.writeHead(404).end(), true));
    try {
      const run = await runCli(['cert', '--kubeconfig', kubeconfig(api.url), '--controller-namespace', 'kube-system']);
      expect(run.code).toBe(6);
      expect(run.stderr).toContain('kubectl -n kube-system get pods,svc');
      expect(run.stderr).not.toContain('kseal-system');
    } finally {
      await api.close();
    }
  });

  it('speaks of the URL, not of "the controller", when --cert URL answers 404', async () => {
    const server = await startFakeController('', () => false);
    try {
      const run = await runCli(['encrypt', '--cert', `${server.url}/nope`], { stdin: secret() });
      expect(run.code).toBe(6);
      expect(run.stderr).toBe(`kseal: error: ${server.url}/nope answered 404\n  hint: check the URL of the certificate\n`);
    } finally {
      await server.close();
    }
  });

  it('says the TLS certificate of a --cert https URL is not trusted, without suggesting --cert again as if it were missing', async () => {
    const server = createHttpsServer({ key: key.privateKeyPem, cert: key.certificatePem }, (_req, res) => res.end(key.certificatePem));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const run = await runCli(['encrypt', '--cert', `https://127.0.0.1:${port}/cert.pem`], { stdin: secret() });
      expect(run.code).toBe(6);
      expect(run.stderr).toMatch(/cannot fetch the certificate from https:\/\/127\.0\.0\.1:\d+\/cert\.pem: \w+\n {2}hint: the server's TLS certificate is not trusted/);
      expect(run.stderr).not.toContain('seal offline');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('reads --cert file:///path as kubeseal does', async () => {
    const run = await runCli(['encrypt', '--cert', pathToFileURL(cert).href], { stdin: secret() });
    expect(run.code).toBe(0);
  });

  it('says "no such file" with the path instead of an errno', async () => {
    const run = await runCli(['encrypt', '-f', 'missing.yaml', '--cert', cert], { cwd: dir.path });
    expect(run.stderr).toBe('kseal: error: missing.yaml: no such file\n');
    expect(run.code).toBe(7);
  });

  it('says a certificate given to decrypt -k is a certificate, not a private key', async () => {
    const run = await runCli(['decrypt', '-k', cert], { stdin: '' });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain(`${cert}: that is a certificate, not a private key`);
  });

  it('hints at raw\'s own flags, not at metadata.name', async () => {
    const run = await runCli(['raw', '--cert', cert, '-n', 'app'], { stdin: 'v' });
    expect(run.code).toBe(3);
    expect(run.stderr).toBe('kseal: error: strict scope needs a name\n  hint: pass --name NAME (the Secret the value goes into), or choose --scope namespace-wide\n');
  });

  it('warns when raw seals an empty value, unless --allow-empty-data', async () => {
    const run = await runCli(['raw', '--cert', cert, '-n', 'app', '--name', 'db'], { stdin: '' });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('kseal: warning: <stdin> is empty: sealing an empty value');
    expect((await runCli(['raw', '--cert', cert, '-n', 'app', '--name', 'db', '--allow-empty-data'], { stdin: '' })).stderr).toBe('');
  });
});

describe('re-sealing a live Secret', () => {
  it("drops the controller's own annotations and label from the template", async () => {
    const live = `apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: app
  labels: {kseal.dev/managed-by: kseal-controller, app: web}
  annotations:
    kseal.dev/integrity: abc:def
    kseal.dev/owner-uid: "1234"
    kseal.dev/spec-hash: ffff
    kseal.dev/unsealed-with: password=abcd
    team: payments
data:
  password: czNjcmV0
`;
    const run = await runCli(['encrypt', '--cert', cert], { stdin: live });
    expect(run.code).toBe(0);
    const template = (parse(run.stdout) as { spec: { template: { metadata: { labels: object; annotations: object } } } }).spec.template.metadata;
    expect(template.labels).toEqual({ app: 'web' });
    expect(template.annotations).toEqual({ team: 'payments' });
  });
});

describe('--merge-into', () => {
  async function target(): Promise<string> {
    return dir.write('db.yaml', (await runCli(['encrypt', '--cert', cert], { stdin: secret() })).stdout);
  }

  it('refuses -n, --name, -o and -w that would not apply, as usage errors', async () => {
    const file = await target();
    const before = readFileSync(file, 'utf8');
    for (const flags of [['-n', 'other'], ['--name', 'x'], ['-o', 'json'], ['-w', 'out.yaml']]) {
      const run = await runCli(['encrypt', '--cert', cert, '--merge-into', file, ...flags], { stdin: secret(), cwd: dir.path });
      expect(run.code, flags.join(' ')).toBe(2);
      expect(run.stderr).toContain(`${flags[0] ?? ''} does not go with --merge-into`);
    }
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it("takes the input's throwaway name and namespace without a warning", async () => {
    const file = await target();
    const run = await runCli(['encrypt', '--cert', cert, '--merge-into', file], { stdin: secret('  namespace: throwaway\n').replace('name: db', 'name: tmp') });
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain('warning');
  });

  it('lists every certificate used in kseal.dev/key-id when merging with another one', async () => {
    const file = await target();
    const newer = otherTestKey('rsa-2048');
    const newerCert = dir.write('newer.pem', newer.certificatePem);
    const run = await runCli(['encrypt', '--cert', newerCert, '--merge-into', file], { stdin: 'apiVersion: v1\nkind: Secret\nmetadata: {name: x}\nstringData: {extra: "1"}\n' });
    expect(run.code).toBe(0);
    const sealed = readSealedSecret(parse(readFileSync(file, 'utf8')), {});
    expect(sealed.metadata.annotations?.['kseal.dev/key-id']).toBe(`${newer.certificate.keyId},${key.certificate.keyId}`);
  });
});

describe('validate and reencrypt over many files', () => {
  let controller: FakeController;
  let inFlight = 0;
  let maxInFlight = 0;
  beforeEach(async () => {
    inFlight = 0;
    maxInFlight = 0;
    controller = await startFakeController(key.certificatePem, (req, _body, res) => {
      if (req.url !== '/v1/verify') return false;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        res.writeHead(200).end('{}');
      }, 20);
      return true;
    });
  });
  afterEach(() => controller.close());

  async function sealed(name: string): Promise<string> {
    return (await runCli(['encrypt', '--cert', cert], { stdin: secret().replace('name: db', `name: ${name}`) })).stdout;
  }

  it('fails validate on a plaintext Secret, which is what running it in CI is for', async () => {
    const run = await runCli(['validate', '--controller-url', controller.url], { stdin: `${await sealed('a')}---\n${secret()}` });
    expect(run.code).toBe(5);
    expect(run.stdout).toContain('FAILED  <stdin>: document 2: app/db: a plaintext Secret');
  });

  it('lets plaintext Secrets pass with --allow-plaintext-secrets', async () => {
    const run = await runCli(['validate', '--controller-url', controller.url, '--allow-plaintext-secrets'], { stdin: `${await sealed('a')}---\n${secret()}` });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('kseal: the SealedSecret can be unsealed (1 other document skipped)');
  });

  it('reports per-object results as one JSON document with -o json', async () => {
    const run = await runCli(['validate', '--controller-url', controller.url, '-o', 'json'], { stdin: `${await sealed('a')}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n` });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { summary: object; results: object[] };
    expect(report.summary).toEqual({ ok: 1, failed: 0, skipped: 1 });
    expect(report.results).toEqual([
      { file: '<stdin>', document: 1, kind: 'SealedSecret', name: 'a', namespace: 'app', outcome: 'ok' },
      { file: '<stdin>', document: 2, kind: 'ConfigMap', name: 'c', outcome: 'skipped' },
    ]);
  });

  it('prints per-object failures as JSON lines with --error-format json', async () => {
    const run = await runCli(['--error-format', 'json', 'validate', '--controller-url', controller.url], { stdin: secret() });
    const lines = run.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ result: { outcome: 'failed', kind: 'Secret', name: 'db' } });
    expect(lines.at(-1)).toMatchObject({ error: { code: 'DECRYPT_FAILED', exitCode: 5 } });
  });

  it('sends validate requests a few at a time, as many as --concurrency allows', async () => {
    const docs = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((n) => sealed(n)));
    const run = await runCli(['validate', '--controller-url', controller.url, '--concurrency', '3'], { stdin: docs.join('---\n') });
    expect(run.code).toBe(0);
    expect(maxInFlight).toBe(3);
    expect(run.stdout.split('\n').filter(Boolean).map((l) => l.split(': ').at(-1))).toEqual(['app/a', 'app/b', 'app/c', 'app/d', 'app/e', 'app/f']);
    expect(run.stderr).toContain('all 6 SealedSecrets can be unsealed');
  });

  it('skips files without a SealedSecret in reencrypt -f and counts them', async () => {
    const config = dir.write('config.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n');
    const run = await runCli(['reencrypt', '--controller-url', controller.url, '-f', config]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(`[1/1] ${config}: skipped (no SealedSecret)\nkseal: 0 re-sealed, 0 already current in 0 files; 1 file without a SealedSecret skipped\n`);
  });

  it('waits for the Retry-After of a 429 before it asks again', async () => {
    const answers = [429, 200];
    const waits: number[] = [];
    const client = { description: 'test', namespace: undefined, request: () => Promise.resolve({ status: answers.shift() ?? 500, body: Buffer.alloc(0), retryAfter: '3' }) };
    const object = readSealedSecret(parse(await sealed('a')), {});
    expect(await verifySealed(client, object, { sleep: (ms) => (waits.push(ms), Promise.resolve()) })).toBe(true);
    expect(waits).toEqual([3000]);
  });
});

describe('keygen', () => {
  it('writes certificates with LF line endings', async () => {
    const run = await runCli(['keygen', '--bits', '2048'], { cwd: dir.path });
    expect(run.code).toBe(0);
    const pem = readFileSync(join(dir.path, 'kseal.crt'), 'utf8');
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    expect(pem).not.toContain('\r');
  });
});

describe('completion', () => {
  it('completes command names from the command tree, without hidden ones', async () => {
    const run = await runCli(['__complete', '']);
    const words = run.stdout.trim().split('\n');
    expect(words).toEqual(expect.arrayContaining(['encrypt', 'raw', 'cert', 'validate', 'reencrypt', 'decrypt', 'keygen', 'version', 'completion']));
    expect(words.some((w) => w.startsWith('__'))).toBe(false);
  });

  it('completes the choices of an argument and asks for file names after a file option', async () => {
    expect((await runCli(['__complete', 'completion', ''])).stdout).toBe('bash\nzsh\nfish\n');
    expect((await runCli(['__complete', 'encrypt', '-f', ''])).stdout).toBe('__files__\n');
    expect((await runCli(['__complete', 'encrypt', '-o', ''])).stdout).toBe('yaml\nyml\njson\n');
  });

  it('prints zsh and fish scripts that call kseal __complete', async () => {
    expect((await runCli(['completion', 'zsh'])).stdout).toMatch(/^#compdef kseal\n[\s\S]*kseal __complete[\s\S]*compdef _kseal_complete kseal\n$/);
    expect((await runCli(['completion', 'fish'])).stdout).toMatch(/kseal __complete \$words\[2\.\.-1\][\s\S]*complete -c kseal -f -a '\(_kseal_complete\)'\n$/);
  });
});

describe('kseal --help', () => {
  it('lists the commands by task, sealing first, with examples', async () => {
    const help = (await runCli(['--help'])).stdout;
    expect(help).toMatch(/\nSealing:\n {2}encrypt\|seal \[options\] +seal Secrets into SealedSecrets\n/);
    expect(help.indexOf('Sealing:')).toBeLessThan(help.indexOf('Keys and recovery:'));
    expect(help).toContain('kseal encrypt --cert cert.pem < secret.yaml > sealed.yaml');
  });

  it('puts create with the sealing commands and lint with the offline checks, not under "Other commands"', async () => {
    const help = (await runCli(['--help'])).stdout;
    // The header line of the blank-line-separated section that lists `command`.
    const group = (command: string): string | undefined =>
      help
        .split(/\n\s*\n/)
        .find((section) => section.split('\n').slice(1).some((line) => line.trimStart().startsWith(`${command} `) || line.trim() === command))
        ?.split('\n')[0]
        ?.replace(/:$/, '');
    expect(group('create')).toBe('Sealing');
    expect(group('lint')).toBe('Checking files offline');
  });
});
