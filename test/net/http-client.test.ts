import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { fetchBuffered, parseHttpUrl, RequestFailed } from '../../net/http-client.js';
import { ksealErrorOf } from '../helpers/errors.js';

describe('parseHttpUrl', () => {
  it('accepts http and https URLs', () => {
    expect(parseHttpUrl('http://127.0.0.1:8080/x', '--controller-url').href).toBe('http://127.0.0.1:8080/x');
  });

  it('says a host:port without a scheme needs one', () => {
    const e = ksealErrorOf(() => parseHttpUrl('localhost:8080', '--controller-url'));
    expect(e.code).toBe('USAGE');
    expect(e.format()).toBe('--controller-url "localhost:8080" is not an http(s) URL\n  hint: add the scheme: --controller-url http://localhost:8080');
  });

  it('refuses other schemes', () => {
    expect(ksealErrorOf(() => parseHttpUrl('ftp://x/cert.pem', '--cert')).code).toBe('USAGE');
  });
});

describe('fetchBuffered', () => {
  it('returns status, headers and body', async () => {
    const server = createServer((req, res) => {
      res.setHeader('Retry-After', '3');
      res.writeHead(429).end(`${req.method ?? ''} ${req.url ?? ''}`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetchBuffered({ method: 'GET', url: new URL(`http://127.0.0.1:${port}/v1/x`) });
      expect(response.status).toBe(429);
      expect(response.headers['retry-after']).toBe('3');
      expect(response.body.toString()).toBe('GET /v1/x');
    } finally {
      server.close();
    }
  });

  it('reads a body that arrives in many chunks whole', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200);
      let i = 0;
      const next = (): void => {
        if (i === 50) return void res.end();
        res.write(`${String(i++).padStart(3, '0')},`);
        setImmediate(next);
      };
      next();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetchBuffered({ method: 'GET', url: new URL(`http://127.0.0.1:${port}/`) });
      expect(response.body.toString()).toBe(Array.from({ length: 50 }, (_, i) => `${String(i).padStart(3, '0')},`).join(''));
    } finally {
      server.close();
    }
  });

  it('fails with ECONNRESET when the connection closes before the end of the body', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Length': '100' });
      res.write('only part of it');
      setImmediate(() => res.socket?.destroy());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const e: unknown = await fetchBuffered({ method: 'GET', url: new URL(`http://127.0.0.1:${port}/x`) }).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(RequestFailed);
      expect((e as RequestFailed).code).toBe('ECONNRESET');
    } finally {
      server.close();
    }
  });

  it('fails with the errno as code when nothing listens', async () => {
    const e: unknown = await fetchBuffered({ method: 'GET', url: new URL('http://127.0.0.1:1/') }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(RequestFailed);
    expect((e as RequestFailed).code).toBe('ECONNREFUSED');
  });

  it('fails with TIMEOUT when the answer does not come in time', async () => {
    const server = createServer(() => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const e: unknown = await fetchBuffered({ method: 'GET', url: new URL(`http://127.0.0.1:${port}/`), timeoutMs: 50 }).catch((err: unknown) => err);
      expect((e as RequestFailed).code).toBe('TIMEOUT');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
