// Fault injection (in-process and over the admin endpoint), request accounting, restarts, and
// the server run as a separate process (dist/kube-api.mjs).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startKubeApi } from '../../kube-api/server.js';
import type { KubeApiServer } from '../../kube-api/server.js';
import { call, meta, secret } from './test-helpers.js';

let server: KubeApiServer;
const SECRETS = '/api/v1/namespaces/f/secrets';

beforeEach(async () => {
  server = await startKubeApi({ namespaces: ['f'] });
});

afterEach(async () => {
  await server.close();
});

describe('in-process faults', () => {
  it('fails the next N matching requests with a Status of the given code', async () => {
    server.faults.failNext({ method: 'GET', path: /\/secrets/, status: 503, count: 2, retryAfterSeconds: 1 });
    const a = await call(server, 'GET', SECRETS);
    expect(a.status).toBe(503);
    expect(a.headers.get('retry-after')).toBe('1');
    expect(a.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'ServiceUnavailable', code: 503 });
    expect((await call(server, 'GET', '/api/v1/namespaces/f/configmaps')).status).toBe(200);
    expect((await call(server, 'POST', SECRETS, secret('ok', 'f'))).status).toBe(201);
    expect((await call(server, 'GET', SECRETS)).status).toBe(503);
    expect((await call(server, 'GET', SECRETS)).status).toBe(200);
  });

  it('delays matching requests', async () => {
    server.faults.addLatency({ ms: 300, path: 'configmaps', count: 1 });
    let t = Date.now();
    await call(server, 'GET', SECRETS);
    expect(Date.now() - t).toBeLessThan(250);
    t = Date.now();
    await call(server, 'GET', '/api/v1/namespaces/f/configmaps');
    expect(Date.now() - t).toBeGreaterThanOrEqual(290);
    t = Date.now();
    await call(server, 'GET', '/api/v1/namespaces/f/configmaps');
    expect(Date.now() - t).toBeLessThan(250);
  });

  it('answers a seeded, reproducible fraction of updates with 409', async () => {
    server.store.create(secret('c', 'f'));
    const run = async (): Promise<number[]> => {
      server.faults.setConflictRate(0.5, 42);
      const codes: number[] = [];
      for (let i = 0; i < 16; i++) {
        codes.push((await call(server, 'PATCH', `${SECRETS}/c`, { metadata: { labels: { i: String(i) } } }, { 'Content-Type': 'application/merge-patch+json' })).status);
      }
      return codes;
    };
    const first = await run();
    const second = await run();
    expect(first).toEqual(second);
    expect(first.filter((c) => c === 409).length).toBeGreaterThan(2);
    expect(first.filter((c) => c === 200).length).toBeGreaterThan(2);
    server.faults.setConflictRate(1);
    expect((await call(server, 'POST', SECRETS, secret('not-affected', 'f'))).status).toBe(201);
    const res = await call(server, 'PUT', `${SECRETS}/c`, secret('c', 'f'));
    expect(res.status).toBe(409);
    expect(res.body['message']).toBe('Operation cannot be fulfilled on secrets "c": the object has been modified; please apply your changes to the latest version and try again');
    server.faults.clear();
    expect((await call(server, 'PUT', `${SECRETS}/c`, secret('c', 'f'))).status).toBe(200);
  });

  it('counts requests by verb and resource', async () => {
    server.stats.reset();
    await call(server, 'POST', SECRETS, secret('s1', 'f'));
    await call(server, 'GET', `${SECRETS}/s1`);
    await call(server, 'GET', SECRETS);
    await call(server, 'GET', '/api/v1');
    expect(server.stats.count({ verb: 'create', resource: 'secrets' })).toBe(1);
    expect(server.stats.count({ verb: 'get', resource: 'secrets' })).toBe(1);
    expect(server.stats.count({ resource: 'secrets' })).toBe(3);
    expect(server.stats.count({ verb: 'discovery' })).toBe(1);
    expect(server.stats.snapshot()).toMatchObject({ total: 4, byCode: { '200': 3, '201': 1 } });
  });

  it('restarts on the same port keeping the store, and watches from older resourceVersions then get 410', async () => {
    const created = server.store.create(secret('kept', 'f'));
    const port = server.port;
    await server.restart();
    expect(server.port).toBe(port);
    expect((await call(server, 'GET', `${SECRETS}/kept`)).status).toBe(200);
    const rv = meta(created)['resourceVersion'] as string;
    const w = await call(server, 'GET', `${SECRETS}?watch=true&resourceVersion=${Number(rv) - 1}&timeoutSeconds=1`);
    expect(w.text).toContain('"code":410');
  });

  it('restarts losing the store while resourceVersions keep increasing', async () => {
    server.store.create(secret('lost', 'f'));
    const rv = Number(server.store.resourceVersion());
    await server.restart({ keepStore: false });
    expect((await call(server, 'GET', `${SECRETS}/lost`)).status).toBe(404);
    expect((await call(server, 'GET', '/api/v1/namespaces/default')).status).toBe(200);
    expect(Number(server.store.resourceVersion())).toBeGreaterThan(rv);
  });

  it('answers 401 without the token when requireToken is set', async () => {
    const locked = await startKubeApi({ requireToken: true, token: 'secret-token' });
    try {
      expect((await call(locked, 'GET', '/api/v1/namespaces')).status).toBe(401);
      expect((await call(locked, 'GET', '/api/v1/namespaces', undefined, { Authorization: 'Bearer secret-token' })).status).toBe(200);
    } finally {
      await locked.close();
    }
  });

  it('writes a kubeconfig for http with insecure-skip-tls-verify and a token, and removes it on close', async () => {
    const s = await startKubeApi();
    const text = readFileSync(s.kubeconfigPath, 'utf8');
    expect(text).toBe(s.kubeconfig);
    expect(text).toContain(`server: http://127.0.0.1:${s.port}`);
    expect(text).toContain('insecure-skip-tls-verify: true');
    expect(text).toContain('token: kseal-test-token');
    await s.close();
    expect(existsSync(s.kubeconfigPath)).toBe(false);
  });
});

describe('admin endpoint', () => {
  it('injects faults, reads and resets stats, and restarts over HTTP', async () => {
    const add = await call(server, 'POST', '/__kube-api/faults', { action: 'failNext', method: 'DELETE', path: 'secrets', status: 500 });
    expect(add.status).toBe(200);
    server.store.create(secret('d', 'f'));
    const failed = await call(server, 'DELETE', `${SECRETS}/d`);
    expect(failed.status).toBe(500);
    expect(failed.body['reason']).toBe('InternalError');
    expect((await call(server, 'DELETE', `${SECRETS}/d`)).status).toBe(200);
    const stats = await call(server, 'GET', '/__kube-api/stats');
    expect(stats.body).toMatchObject({ byResource: { secrets: { delete: 2 } } });
    expect((await call(server, 'DELETE', '/__kube-api/stats')).status).toBe(200);
    expect(server.stats.count()).toBe(0);
    expect((await call(server, 'POST', '/__kube-api/faults', { action: 'nope' })).status).toBe(400);
    server.store.create(secret('before-restart', 'f'));
    const restart = await call(server, 'POST', '/__kube-api/restart', { keepStore: false });
    expect(restart.status).toBe(202);
    let status = 0;
    for (let i = 0; i < 200 && status !== 404; i++) {
      await new Promise((r) => setTimeout(r, 10));
      status = (await call(server, 'GET', `${SECRETS}/before-restart`).catch(() => ({ status: 0 }))).status;
    }
    expect(status).toBe(404);
    // The configured namespaces are created again on the fresh store.
    expect((await call(server, 'GET', '/api/v1/namespaces/f')).status).toBe(200);
  });
});

describe('process mode', () => {
  it('starts from dist/kube-api.mjs, prints its URL, writes the kubeconfig and stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kube-api-proc-'));
    const kubeconfig = join(dir, 'config');
    const child = spawn(process.execPath, ['dist/kube-api.mjs', '--port', '0', '--kubeconfig-out', kubeconfig, '--namespace', 'proc'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const line = out.split('\n')[0];
          if (out.includes('\n') && line) resolve(line.trim());
        });
        child.on('exit', (code) => reject(new Error(`exited with ${String(code)}`)));
        setTimeout(() => reject(new Error('no URL printed')), 10_000).unref();
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(readFileSync(kubeconfig, 'utf8')).toContain(`server: ${url}`);
      expect((await call(url, 'GET', '/api/v1/namespaces/proc')).status).toBe(200);
      await call(url, 'POST', '/__kube-api/faults', { action: 'failNext', status: 429, path: 'namespaces' });
      expect((await call(url, 'GET', '/api/v1/namespaces')).status).toBe(429);
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
