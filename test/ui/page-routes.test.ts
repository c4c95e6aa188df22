/**
 * Serving the sealing page: the controller's API port (at / and /ui/) and `kseal ui`'s local server,
 * with the page's security headers, asset paths that work at both addresses, Subresource Integrity
 * hashes that match the assets, the pinned certificate, and the local server's Host check.
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../controller/logger.js';
import { ControllerMetrics } from '../../controller/metrics.js';
import { startHttpServer } from '../../controller/http-server.js';
import { PAGE_CSP } from '../../ui/server/page-routes.js';
import { startLocalPageServer } from '../../ui/server/local-server.js';
import { testKey } from '../helpers/keys.js';

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

function get(port: number, path: string, options: { method?: string; host?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.host === undefined ? {} : { Host: options.host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function controllerPort(): Promise<number> {
  const server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    metricsPort: 0,
    keys: { list: () => [], newest: () => undefined },
    unsealer: { unseal: () => Promise.reject(new Error('not used')) },
    metrics: new ControllerMetrics(),
    logger: createLogger({ stream: { write: () => true } as unknown as NodeJS.WritableStream, level: 'error' }),
    ready: () => true,
  });
  closers.push(() => server.close());
  return server.port;
}

async function localPort(): Promise<number> {
  const server = await startLocalPageServer({ certificatePem: testKey('rsa-2048').certificatePem, port: 0 });
  closers.push(() => server.close());
  return server.port;
}

function expectPageHeaders(reply: Reply): void {
  expect(reply.headers['content-security-policy']).toBe(PAGE_CSP);
  expect(reply.headers['x-content-type-options']).toBe('nosniff');
  expect(reply.headers['referrer-policy']).toBe('no-referrer');
  expect(reply.headers['x-frame-options']).toBe('DENY');
}

describe('the page on the controller API port', () => {
  it('has a CSP that allows only this origin, no inline code and no framing', () => {
    for (const part of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"]) expect(PAGE_CSP).toContain(part);
    expect(PAGE_CSP).not.toContain('unsafe');
  });

  it('serves the page at / with the security headers and assets under ui/', async () => {
    const reply = await get(await controllerPort(), '/');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('text/html; charset=utf-8');
    expectPageHeaders(reply);
    const html = reply.body.toString();
    expect(html).toContain('src="ui/app.js"');
    expect(html).toContain('href="ui/app.css"');
    expect(html).toContain('<meta name="kseal-mode" content="controller">');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=|<style|\son[a-z]+=/i);
  });

  it('serves the same page at /ui/ with assets beside it, and redirects /ui there', async () => {
    const port = await controllerPort();
    const reply = await get(port, '/ui/');
    expect(reply.status).toBe(200);
    expect(reply.body.toString()).toContain('src="app.js"');
    const redirect = await get(port, '/ui');
    expect(redirect.status).toBe(308);
    expect(redirect.headers.location).toBe('ui/');
  });

  it('serves the script and style sheet with their types and integrity hashes matching the page', async () => {
    const port = await controllerPort();
    const html = (await get(port, '/ui/')).body.toString();
    for (const [path, type] of [['/ui/app.js', 'text/javascript; charset=utf-8'], ['/ui/app.css', 'text/css; charset=utf-8'], ['/ui/icon.svg', 'image/svg+xml']] as const) {
      const reply = await get(port, path);
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toBe(type);
      expectPageHeaders(reply);
      if (path !== '/ui/icon.svg') expect(html).toContain(`integrity="sha384-${createHash('sha384').update(reply.body).digest('base64')}"`);
    }
  });

  it('answers HEAD without a body and refuses POST with 405', async () => {
    const port = await controllerPort();
    const head = await get(port, '/', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
    expect(head.body.length).toBe(0);
    const post = await get(port, '/', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('keeps the API next to the page: /v1/cert.pem still answers (503 with no key yet)', async () => {
    expect((await get(await controllerPort(), '/v1/cert.pem')).status).toBe(503);
  });
});

describe('the local server of kseal ui', () => {
  it('serves the page in local mode and the pinned certificate at /v1/cert.pem', async () => {
    const port = await localPort();
    const page = await get(port, '/');
    expect(page.status).toBe(200);
    expectPageHeaders(page);
    expect(page.body.toString()).toContain('<meta name="kseal-mode" content="local">');
    const cert = await get(port, '/v1/cert.pem');
    expect(cert.status).toBe(200);
    expect(cert.body.toString()).toBe(testKey('rsa-2048').certificatePem);
  });

  it('has no verify endpoint and nothing else', async () => {
    const port = await localPort();
    expect((await get(port, '/v1/verify', { method: 'POST' })).status).toBe(404);
    expect((await get(port, '/etc/passwd')).status).toBe(404);
  });

  it('answers only to loopback host names, so a DNS-rebinding page cannot read it', async () => {
    const port = await localPort();
    expect((await get(port, '/', { host: `evil.example:${port}` })).status).toBe(421);
    expect((await get(port, '/', { host: `localhost:${port}` })).status).toBe(200);
    expect((await get(port, '/', { host: `[::1]:${port}` })).status).toBe(200);
    expect((await get(port, '/', { host: `127.0.0.1:${port + 1 === 65536 ? 1 : port + 1}` })).status).toBe(421);
  });
});
