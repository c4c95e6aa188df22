/**
 * One parse entry, one reading: a SealedSecret whose annotation is an unquoted date
 * (`created: 2024-01-01`) behaves the same in every command and at the controller's HTTP API
 * (before, validate and decrypt read it as a string but --merge-into, reencrypt -f and set read a Date and failed).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyView, SealingKey, Unsealer } from '../../controller/contracts.js';
import { startHttpServer, type HttpServerHandle } from '../../controller/http-server.js';
import { silentLogger } from '../../controller/logger.js';
import { ControllerMetrics } from '../../controller/metrics.js';
import { readManifests } from '../../src/manifest/read.js';
import { readSealedSecret, unsealSealedSecret } from '../../src/model/sealed-secret.js';
import { runCli, tempDir, type TempDir } from '../helpers/cli.js';
import { testKey } from '../helpers/keys.js';

const key = testKey('rsa-2048');
const sealing: SealingKey = { keyId: key.certificate.keyId, privateKey: key.privateKey, privateKeyPem: key.privateKeyPem, certificatePem: key.certificatePem, notBefore: new Date('2024-01-01'), notAfter: key.certificate.notAfter, secretName: key.name };
const keyView: KeyView = { list: () => [sealing], newest: () => sealing };
const unsealer: Unsealer = {
  unseal: (sealed) => {
    const { secret, keyIds, recipient } = unsealSealedSecret(sealed, [key.entry]);
    const data = new Map(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
    return Promise.resolve({ data, keyIds, privateOps: data.size, recipient });
  },
};

let server: HttpServerHandle;
let url: string;
let dir: TempDir;
let sealed: string;
beforeAll(async () => {
  server = await startHttpServer({ host: '127.0.0.1', port: 0, metricsPort: 0, keys: keyView, unsealer, metrics: new ControllerMetrics(), logger: silentLogger, ready: () => true, verifyRate: { perSecond: 1000, burst: 1000 } });
  url = `http://127.0.0.1:${server.port}`;
  dir = tempDir();
  dir.write('cert.pem', key.certificatePem);
  dir.write('key.pem', key.privateKeyPem);
  const run = await runCli(['encrypt', '--cert', 'cert.pem'], { cwd: dir.path, stdin: 'apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: app}\nstringData: {a: one}\n' });
  expect(run.code).toBe(0);
  sealed = run.stdout.includes('  annotations:\n') ? run.stdout.replace('  annotations:\n', '  annotations:\n    created: 2024-01-01\n') : run.stdout.replace('metadata:\n', 'metadata:\n  annotations:\n    created: 2024-01-01\n');
  expect(sealed).toContain('    created: 2024-01-01\n');
});
afterAll(async () => {
  await server.close();
  dir.remove();
});

const file = (name: string): string => dir.write(name, sealed);
const createdOf = (text: string): unknown => (readSealedSecret(readManifests(text, 'x')[0]?.value, {}).metadata.annotations ?? {})['created'];

describe('an unquoted timestamp annotation', () => {
  it('is read as the string 2024-01-01', () => {
    expect(createdOf(sealed)).toBe('2024-01-01');
  });

  it('passes kseal validate (POST /v1/verify)', async () => {
    const run = await runCli(['validate', '--controller-url', url, '-f', file('validate.yaml')]);
    expect(run.stderr).not.toContain('error');
    expect(run.code).toBe(0);
  });

  it('is decrypted by kseal decrypt', async () => {
    const run = await runCli(['decrypt', '--key', 'key.pem', '-f', file('decrypt.yaml')], { cwd: dir.path });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('kind: Secret');
  });

  it('is kept, as written, by kseal encrypt --merge-into', async () => {
    const path = file('merge.yaml');
    const run = await runCli(['encrypt', '--cert', 'cert.pem', '--merge-into', path], { cwd: dir.path, stdin: 'apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: app}\nstringData: {b: two}\n' });
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    const after = readFileSync(path, 'utf8');
    expect(after).toContain('    created: 2024-01-01\n');
    expect(Object.keys(readSealedSecret(readManifests(after, 'x')[0]?.value, {}).spec.encryptedData)).toEqual(['a', 'b']);
  });

  it('is kept, as written, by kseal set', async () => {
    const path = file('set.yaml');
    const run = await runCli(['set', path, 'c', '--cert', 'cert.pem'], { cwd: dir.path, stdin: 'three' });
    expect(run.code).toBe(0);
    expect(readFileSync(path, 'utf8')).toContain('    created: 2024-01-01\n');
  });

  it('is kept by kseal reencrypt -f (POST /v1/rotate)', async () => {
    const path = file('reencrypt.yaml');
    const run = await runCli(['reencrypt', '--controller-url', url, '-f', path, '--force']);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    expect(createdOf(readFileSync(path, 'utf8'))).toBe('2024-01-01');
  });

  it('gives no finding in kseal lint', async () => {
    const run = await runCli(['lint', '-o', 'json', file('lint.yaml')], { cwd: dir.path });
    const report = JSON.parse(run.stdout) as { findings: Array<{ ruleId: string }> };
    expect(report.findings.filter((f) => f.ruleId === 'KS001' || f.ruleId.startsWith('KS4'))).toEqual([]);
  });

  it('is answered 200 by POST /v1/verify and kept as a string by POST /v1/rotate', async () => {
    const verify = await fetch(`${url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: sealed });
    expect(verify.status).toBe(200);
    const rotate = await fetch(`${url}/v1/rotate`, { method: 'POST', headers: { 'content-type': 'application/yaml', accept: 'application/yaml' }, body: sealed });
    expect(rotate.status).toBe(200);
    expect(createdOf(await rotate.text())).toBe('2024-01-01');
  });
});
