/**
 * Bulk `kseal encrypt` on worker threads (cli/seal-pool.ts) against the main-thread path: the same
 * output but for the randomness of the ciphertexts, the same errors, nothing written on failure.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { readSealedSecret, unsealSealedSecret } from '../../src/model/sealed-secret.js';
import { certFixture, runCli } from '../helpers/cli.js';
import { startFakeController } from '../helpers/fake-controller.js';
import { testKey } from '../helpers/keys.js';

const key = testKey('rsa-2048');
const fixture = certFixture(key);

/** `count` Secrets of 5 values each, with labels, annotations, data and stringData. */
function secrets(count: number, replace?: { document: number; text: string }): string {
  return Array.from({ length: count }, (_, i) =>
    replace?.document === i + 1
      ? replace.text
      : `apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-${i}\n  namespace: ns-${i % 7}\n  labels: {tier: t${i % 3}}\n  annotations: {note: "n ${i}"}\ntype: Opaque\ndata:\n  blob: ${Buffer.from(`bytes-${i}`).toString('base64')}\nstringData:\n${[1, 2, 3, 4].map((k) => `  key${k}: value-${i}-${k}`).join('\n')}\n`,
  ).join('---\n');
}

/** The output with every ciphertext replaced by its plaintext: what must not differ between the paths. */
function opened(stdout: string, json = false): unknown[] {
  const docs = json ? stdout.split(/(?<=^\})\n(?=\{)/m).map((t) => JSON.parse(t) as unknown) : parseAllDocuments(stdout).map((d) => d.toJS() as unknown);
  return docs.map((doc, i) => {
    const sealed = readSealedSecret(doc, { document: i + 1 });
    const { secret } = unsealSealedSecret(sealed, [key.entry]);
    return { ...sealed, spec: { ...sealed.spec, encryptedData: secret.data } };
  });
}

const debug = { KSEAL_DEBUG: '1' };

describe('kseal encrypt on worker threads', () => {
  it('gives output that opens to the same objects as the main thread gives, in the same order', async () => {
    const input = secrets(40);
    const workers = await runCli(['encrypt', '--cert', fixture.certPath, '--jobs', '2'], { stdin: input, env: debug });
    const main = await runCli(['encrypt', '--cert', fixture.certPath, '--jobs', '1'], { stdin: input });
    expect(workers.stderr).toBe('kseal: debug: sealed 40 Secrets with 2 worker threads\n');
    expect(workers.code).toBe(0);
    expect(main.code).toBe(0);
    expect(opened(workers.stdout)).toEqual(opened(main.stdout));
    expect(opened(workers.stdout)).toHaveLength(40);
    expect(workers.stdout).not.toBe(main.stdout);
  });

  it('lays out every object exactly as the main thread does, but for the ciphertexts', async () => {
    const input = secrets(12);
    const mask = (s: string): string => s.replace(/[A-Za-z0-9+/=]{300,}/g, 'SEALED');
    const workers = await runCli(['encrypt', '--cert', fixture.certPath, '--jobs', '3'], { stdin: input, env: debug });
    const main = await runCli(['encrypt', '--cert', fixture.certPath, '--jobs', '1'], { stdin: input });
    expect(workers.stderr).toContain('with 3 worker threads');
    expect(mask(workers.stdout)).toBe(mask(main.stdout));
  });

  it('writes JSON output that opens to the same objects as the main thread gives', async () => {
    const input = secrets(10);
    const workers = await runCli(['encrypt', '--cert', fixture.certPath, '--jobs', '2', '-o', 'json'], { stdin: input, env: debug });
    const main = await runCli(['encrypt', '--cert', fixture.certPath, '--jobs', '1', '-o', 'json'], { stdin: input });
    expect(workers.stderr).toContain('with 2 worker threads');
    expect(opened(workers.stdout, true)).toEqual(opened(main.stdout, true));
  });

  it('reports an invalid document N with the same error as the main thread and writes nothing', async () => {
    const input = secrets(30, { document: 23, text: 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: Bad_Name\n  namespace: ns\nstringData:\n  a: b\n' });
    const workers = await runCli(['encrypt', '--cert', fixture.certPath, '--jobs', '2', '-w', 'out.yaml', '--error-format', 'json'], { stdin: input, cwd: fixture.dir.path });
    const main = await runCli(['encrypt', '--cert', fixture.certPath, '--jobs', '1', '-w', 'out.yaml', '--error-format', 'json'], { stdin: input, cwd: fixture.dir.path });
    expect(main.code).toBe(3);
    expect(JSON.parse(main.stderr)).toMatchObject({ error: { document: 23 } });
    expect(workers.code).toBe(main.code);
    expect(workers.stderr).toBe(main.stderr);
    expect(workers.stdout).toBe('');
    expect(existsSync(join(fixture.dir.path, 'out.yaml'))).toBe(false);
  });

  it('reports a YAML syntax error after valid documents as the main thread does', async () => {
    const input = secrets(30, { document: 17, text: 'apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: y\nstringData:\n  a: b\n' });
    const workers = await runCli(['encrypt', '--cert', fixture.certPath, '--jobs', '2'], { stdin: input, env: debug });
    const main = await runCli(['encrypt', '--cert', fixture.certPath, '--jobs', '1'], { stdin: input });
    expect(main.code).not.toBe(0);
    expect(workers.code).toBe(main.code);
    expect(workers.stderr).toBe(`kseal: debug: sealing while parsing stopped (INVALID_YAML); sealing again on the main thread\n${main.stderr}`);
    expect(workers.stdout).toBe('');
  });

  it('reports a missing certificate as the main thread does, after the documents it would reject first', async () => {
    const input = secrets(20, { document: 15, text: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n' });
    const workers = await runCli(['encrypt', '--cert', join(fixture.dir.path, 'missing.pem'), '--jobs', '2'], { stdin: input });
    const main = await runCli(['encrypt', '--cert', join(fixture.dir.path, 'missing.pem'), '--jobs', '1'], { stdin: input });
    expect(main.stderr).toContain('document 15');
    expect(workers.stderr).toBe(main.stderr);
    expect(workers.code).toBe(main.code);
  });

  it('asks a controller that refuses the certificate once, not again on the main-thread path', async () => {
    let asked = 0;
    const refusing = await startFakeController('', (_req, _body, res) => {
      asked++;
      res.writeHead(503).end('no key yet');
      return true;
    });
    try {
      const run = await runCli(['encrypt', '--controller-url', refusing.url, '--jobs', '2'], { stdin: secrets(20), env: debug });
      expect(run.code).toBe(6);
      expect(run.stderr).toContain('answered 503');
      expect(asked).toBe(1);
    } finally {
      await refusing.close();
    }
  });

  it('seals Secrets for an escrow recipient on the main thread, so one ephemeral key serves the run', async () => {
    const identityFile = join(fixture.dir.path, 'escrow.txt');
    expect((await runCli(['identity', 'new', '-o', identityFile], { cwd: fixture.dir.path })).code).toBe(0);
    const recipient = (await runCli(['identity', 'public', identityFile])).stdout.trim();
    const run = await runCli(['encrypt', '--cert', fixture.certPath, '--recipient', recipient, '--jobs', '2'], { stdin: secrets(6), env: debug });
    expect(run.code).toBe(0);
    const docs = parseAllDocuments(run.stdout).map((d) => readSealedSecret(d.toJS(), {}));
    expect(docs).toHaveLength(6);
    const opened6 = await runCli(['decrypt', '--identity', identityFile], { stdin: run.stdout });
    expect(opened6.code).toBe(0);
  });

  it('keeps a 5-value Secret on the main thread by default', async () => {
    const run = await runCli(['encrypt', '--cert', fixture.certPath], { stdin: secrets(1), env: debug });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
  });

  it('refuses a --jobs that is not a whole number of threads', async () => {
    const run = await runCli(['encrypt', '--cert', fixture.certPath, '--jobs', '0'], { stdin: secrets(1) });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--jobs takes a whole number');
  });
});
