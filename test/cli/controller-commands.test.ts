/** kseal validate and kseal reencrypt against the controller's real HTTP API, with two keys (old and newest). */
import { readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServerHandle } from '../../controller/http-server.js';
import type { KeyView, SealingKey, Unsealer } from '../../controller/contracts.js';
import { silentLogger } from '../../controller/logger.js';
import { ControllerMetrics } from '../../controller/metrics.js';
import { readSealedSecret, unsealSealedSecret, type SealedSecret } from '../../src/model/sealed-secret.js';
import { runCli, tempDir, type TempDir } from '../helpers/cli.js';
import { testKey, type TestKey } from '../helpers/keys.js';
import { newEscrow, otherClusterKey } from '../helpers/recipients.js';

const oldKey = testKey('rsa-2048');
const newKey = testKey('rsa-4096');
const asSealingKey = (k: TestKey, notBefore: string): SealingKey => ({
  keyId: k.certificate.keyId,
  privateKey: k.privateKey,
  privateKeyPem: k.privateKeyPem,
  certificatePem: k.certificatePem,
  notBefore: new Date(notBefore),
  notAfter: k.certificate.notAfter,
  secretName: k.name,
});
const keys = [asSealingKey(newKey, '2025-01-01'), asSealingKey(oldKey, '2024-01-01')];
const keyView: KeyView = { list: () => keys, newest: () => keys[0] };
const unsealer: Unsealer = {
  unseal: (sealed) => {
    try {
      const { secret, keyIds, recipient } = unsealSealedSecret(sealed, [newKey.entry, oldKey.entry]);
      const data = new Map(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
      return Promise.resolve({ data, keyIds, privateOps: data.size, recipient });
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  },
};

let server: HttpServerHandle;
let url: string;
let dir: TempDir;
beforeAll(async () => {
  server = await startHttpServer({ host: '127.0.0.1', port: 0, metricsPort: 0, keys: keyView, unsealer, metrics: new ControllerMetrics(), logger: silentLogger, ready: () => true, verifyRate: { perSecond: 1000, burst: 1000 } });
  url = `http://127.0.0.1:${server.port}`;
});
afterAll(() => server.close());
beforeEach(() => {
  dir = tempDir();
  dir.write('old.pem', oldKey.certificatePem);
});
afterEach(() => dir.remove());

async function sealWithOld(name: string, extra = ''): Promise<string> {
  const run = await runCli(['encrypt', '--cert', 'old.pem'], { cwd: dir.path, stdin: `apiVersion: v1\nkind: Secret\nmetadata: {name: ${name}, namespace: app}\n${extra}stringData: {a: one, b: two}\n` });
  expect(run.code).toBe(0);
  return run.stdout;
}

describe('kseal validate', () => {
  it('checks every document and reports each one', async () => {
    const good = await sealWithOld('one');
    const moved = (await sealWithOld('two')).replace('name: two', 'name: moved');
    const file = dir.write('all.yaml', `${good}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n${moved}---\n${good}`);
    const run = await runCli(['validate', '--controller-url', url, '-f', file]);
    expect(run.stdout.split('\n').filter(Boolean)).toEqual([`ok      ${file}: document 1: app/one`, `FAILED  ${file}: document 3: app/moved: the controller cannot unseal it`, `ok      ${file}: document 4: app/one`]);
    expect(run.stderr).toContain('skipped');
    expect(run.stderr).toContain('1 of 3 objects failed validation');
    expect(run.code).toBe(5);
  });

  it('exits 0 when every SealedSecret unseals', async () => {
    const run = await runCli(['validate', '--controller-url', url], { stdin: await sealWithOld('one') });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('kseal: the SealedSecret can be unsealed\n');
  });

  it('fails with no SealedSecret in the input', async () => {
    const run = await runCli(['validate', '--controller-url', url], { stdin: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n' });
    expect(run.code).toBe(3);
  });

  it('waits and retries when the controller rate-limits', async () => {
    const limited = await startHttpServer({ host: '127.0.0.1', port: 0, metricsPort: 0, keys: keyView, unsealer, metrics: new ControllerMetrics(), logger: silentLogger, ready: () => true, verifyRate: { perSecond: 20, burst: 1 } });
    try {
      const sealed = await sealWithOld('one');
      const run = await runCli(['validate', '--controller-url', `http://127.0.0.1:${limited.port}`], { stdin: [sealed, sealed, sealed].join('---\n') });
      expect(run.stdout.match(/^ok/gm)).toHaveLength(3);
      expect(run.code).toBe(0);
    } finally {
      await limited.close();
    }
  });
});

describe('the controller bounds, as the CLI shows them', () => {
  it("says which bound and which controller flag when an object holds more values than --http-max-values", async () => {
    const capped = await startHttpServer({ host: '127.0.0.1', port: 0, metricsPort: 0, keys: keyView, unsealer, metrics: new ControllerMetrics(), logger: silentLogger, ready: () => true, limits: { maxValues: 1 } });
    try {
      const run = await runCli(['validate', '--controller-url', `http://127.0.0.1:${capped.port}`], { stdin: await sealWithOld('one') });
      expect(run.code).toBe(6);
      expect(run.stderr + run.stdout).toContain('TOO_MANY_VALUES');
      expect(run.stderr + run.stdout).toContain('--http-max-values');
    } finally {
      await capped.close();
    }
  });

  it('waits out a 503 BUSY and finishes every object when the controller allows one request in flight', async () => {
    const busy = await startHttpServer({ host: '127.0.0.1', port: 0, metricsPort: 0, keys: keyView, unsealer, metrics: new ControllerMetrics(), logger: silentLogger, ready: () => true, limits: { maxInFlight: 1 } });
    try {
      const sealed = await sealWithOld('one');
      const run = await runCli(['validate', '--concurrency', '4', '--controller-url', `http://127.0.0.1:${busy.port}`], { stdin: [sealed, sealed, sealed, sealed].join('---\n') });
      expect(run.stdout.match(/^ok/gm)).toHaveLength(4);
      expect(run.code).toBe(0);
    } finally {
      await busy.close();
    }
  });
});

describe('kseal reencrypt', () => {
  it('re-seals stdin with the newest key, keeping name, namespace, scope and template', async () => {
    const sealed = await sealWithOld('one', 'type: example.com/custom\n');
    const run = await runCli(['reencrypt', '--controller-url', url], { stdin: sealed });
    expect(run.code).toBe(0);
    const rotated = readSealedSecret(parse(run.stdout), {});
    expect(rotated.metadata.annotations?.['kseal.dev/key-id']).toBe(newKey.certificate.keyId);
    expect(rotated.spec.template?.type).toBe('example.com/custom');
    const { secret } = unsealSealedSecret(rotated, [newKey.entry]);
    expect(Buffer.from(secret.data.a!, 'base64').toString()).toBe('one');
  });

  it('edits files in place keeping comments and other documents, and shows progress', async () => {
    const a = dir.write('a.yaml', `# team A\n${await sealWithOld('one')}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n`);
    const b = dir.write('b.yaml', await sealWithOld('two'));
    const run = await runCli(['reencrypt', '--controller-url', url, '-f', a, b]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(`[1/2] ${a}: 1 re-sealed\n[2/2] ${b}: 1 re-sealed\nkseal: 2 re-sealed, 0 already current in 2 files\n`);
    const text = readFileSync(a, 'utf8');
    expect(text.startsWith('# team A\n')).toBe(true);
    const docs = parseAllDocuments(text).map((d) => d.toJS() as SealedSecret);
    expect(docs[1]).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } });
    expect(docs[0]?.metadata.annotations?.['kseal.dev/key-id']).toBe(newKey.certificate.keyId);
  });

  it('leaves objects already sealed with the newest key alone unless --force', async () => {
    dir.write('new.pem', newKey.certificatePem);
    const current = (await runCli(['encrypt', '--cert', 'new.pem'], { cwd: dir.path, stdin: 'apiVersion: v1\nkind: Secret\nmetadata: {name: fresh, namespace: app}\nstringData: {a: x}\n' })).stdout;
    const file = dir.write('n.yaml', current);
    const run = await runCli(['reencrypt', '--controller-url', url, '-f', file]);
    expect(run.stderr, run.stderr).toContain('0 re-sealed, 1 already current');
    expect(readFileSync(file, 'utf8')).toBe(current);
    await runCli(['reencrypt', '--controller-url', url, '-f', file, '--force']);
    expect(readFileSync(file, 'utf8')).not.toBe(current);
  });

  it("re-seals only this cluster's ciphertexts of a multi-recipient object; other recipients stay byte-identical", async () => {
    const other = await otherClusterKey();
    const escrow = newEscrow();
    dir.write('other.pem', other.certificatePem);
    const stdin = 'apiVersion: v1\nkind: Secret\nmetadata: {name: multi, namespace: app}\nstringData: {a: one, b: two}\n';
    const sealed = await runCli(['encrypt', '--cert', 'other.pem', '--cert', 'old.pem', '--recipient', escrow.identity.recipient], { cwd: dir.path, stdin });
    const file = dir.write('m.yaml', sealed.stdout);
    const before = readSealedSecret(parse(sealed.stdout), {});
    const run = await runCli(['reencrypt', '--controller-url', url, '-f', file]);
    expect(run.code, run.stderr).toBe(0);
    const after = readSealedSecret(parse(readFileSync(file, 'utf8')), {});
    expect(after.spec.encryptedData).toEqual(before.spec.encryptedData);
    expect(after.spec.recipients?.map((r) => r.id)).toEqual([newKey.certificate.keyId, escrow.identity.keyId]);
    expect(after.spec.recipients?.[1]).toEqual(before.spec.recipients?.[1]);
    expect(unsealSealedSecret(after, [newKey.entry]).recipient).toBe(newKey.certificate.keyId);
    const again = await runCli(['reencrypt', '--controller-url', url, '-f', file]);
    expect(again.stderr).toContain('0 re-sealed, 1 already current');
  });

  it('leaves a file unchanged when one of its objects cannot be re-sealed, and says so', async () => {
    const original = `${await sealWithOld('one')}---\n${(await sealWithOld('two')).replace('name: two', 'name: moved')}`;
    const file = dir.write('mixed.yaml', original);
    const run = await runCli(['reencrypt', '--controller-url', url, '-f', file]);
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/mixed\.yaml: document 2: .*not re-sealed: the controller cannot unseal it/);
    expect(run.stderr).toMatch(/\[1\/1\] .*mixed\.yaml: not changed: 1 object could not be re-sealed/);
    expect(readFileSync(file, 'utf8')).toBe(original);
  });
});
