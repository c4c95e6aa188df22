/**
 * The HTTP server of `kseal ui`: the sealing page and one pinned certificate, for sealing in a browser
 * without trusting any server. It serves the page's routes (page-routes.ts) and `GET /v1/cert.pem`
 * with the certificate it was started with, nothing else; it holds no secret and receives no value.
 *
 * Bound to loopback (the default), it answers only requests whose Host header names a loopback
 * address, so a web page that rebinds its own DNS name to 127.0.0.1 cannot read it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import { PAGE_HEADERS, pageRoutes, type PageRoute } from './page-routes.js';

export interface LocalPageServerOptions {
  /** The sealing certificate (PEM) the page seals to. */
  readonly certificatePem: string;
  /** Interface to bind; 127.0.0.1 by default. */
  readonly host?: string;
  /** Port; 0 picks a free one. */
  readonly port: number;
}

export interface LocalPageServer {
  /** The page's address, e.g. http://127.0.0.1:8080/. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** True when `host` is a loopback address or name. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/** Starts the server; resolves once it listens. */
export async function startLocalPageServer(options: LocalPageServerOptions): Promise<LocalPageServer> {
  const host = options.host ?? '127.0.0.1';
  const certificate = Buffer.from(options.certificatePem.endsWith('\n') ? options.certificatePem : `${options.certificatePem}\n`, 'utf8');
  const routes = new Map<string, PageRoute>(pageRoutes('local'));
  routes.set('/v1/cert.pem', { label: '/v1/cert.pem', methods: ['GET', 'HEAD'], handle: (req, res) => send(req, res, 200, 'application/x-pem-file', certificate) });
  let port = 0;
  const server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, (req, res) => {
    if (isLoopback(host) && !loopbackHost(req.headers.host, port)) return send(req, res, 421, 'text/plain; charset=utf-8', Buffer.from('this server answers only to loopback host names\n'));
    const path = (req.url ?? '/').split(/[?#]/, 1)[0] ?? '';
    const route = routes.get(path);
    if (route === undefined) return send(req, res, 404, 'text/plain; charset=utf-8', Buffer.from('not found\n'));
    if (!route.methods.includes(req.method ?? '')) {
      res.setHeader('Allow', route.methods.join(', '));
      return send(req, res, 405, 'text/plain; charset=utf-8', Buffer.from(`use ${route.methods.join(' or ')}\n`));
    }
    route.handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${shown}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** True when a Host header names a loopback address on `port`. */
function loopbackHost(header: string | undefined, port: number): boolean {
  if (header === undefined) return false;
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(header.toLowerCase());
  if (match === null) return false;
  const [, name = '', given] = match;
  if (given !== undefined && Number(given) !== port) return false;
  return LOOPBACK_NAMES.has(name) || (isIP(name) === 4 && name.startsWith('127.'));
}

function send(req: IncomingMessage, res: ServerResponse, status: number, contentType: string, body: Buffer): void {
  res.writeHead(status, { ...PAGE_HEADERS, 'Content-Type': contentType, 'Content-Length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
}
