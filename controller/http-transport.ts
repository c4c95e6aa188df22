/**
 * HTTP transport helpers of the controller's API, on node:http only: the server with its receive
 * deadlines and 100-continue handling, bounded body reading, content negotiation, a signal that fires
 * when the client goes away, and the response writers (every answer is a short JSON or text body with
 * `no-store` and `nosniff`, and closes the connection when a request body was left unread).
 *
 * Nothing here knows SealedSecrets: handlers (http-handlers.ts) use these to read and answer.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ErrorCode } from '../src/errors.js';

/** Largest request body accepted by default (the size Kubernetes allows a Secret's values). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Media types a SealedSecret may be sent as; a missing Content-Type is accepted too. */
export const ACCEPTED_CONTENT_TYPES: readonly string[] = ['application/json', 'application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain'];

/** Error codes of the HTTP layer itself (the rest are KsealError codes). */
export type HttpErrorCode = 'NOT_FOUND' | 'METHOD_NOT_ALLOWED' | 'UNSUPPORTED_MEDIA_TYPE' | 'RATE_LIMITED' | 'BUSY' | 'NO_KEY' | 'REQUEST_ABORTED';

/** The two serialisations of a SealedSecret the API reads and writes. */
export type Format = 'json' | 'yaml';

/** Receive deadlines of a server (node's own knobs). */
export interface ServerTimeouts {
  /** Whole-request receive deadline (`requestTimeout`). */
  readonly requestTimeoutMs: number;
  /** Header receive deadline (`headersTimeout`); at most requestTimeoutMs. */
  readonly headersTimeoutMs: number;
  /** Idle keep-alive socket lifetime. */
  readonly keepAliveTimeoutMs?: number;
}

/**
 * A node:http server with the given deadlines. Requests that send `Expect: 100-continue` reach the
 * listener too, without node's automatic 100 Continue: the handler asks for the body (writeContinue)
 * only once every check that needs no body passed, so a refused client never uploads it.
 */
export function createHttpServer(timeouts: ServerTimeouts, listener: RequestListener): Server {
  const server = createServer(
    {
      requestTimeout: timeouts.requestTimeoutMs,
      headersTimeout: timeouts.headersTimeoutMs,
      ...(timeouts.keepAliveTimeoutMs === undefined ? {} : { keepAliveTimeout: timeouts.keepAliveTimeoutMs }),
      // Node checks the two deadlines above on this interval (30 s by default, too coarse for them).
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(timeouts.headersTimeoutMs / 4))),
    },
    listener,
  );
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => server.emit('request', req, res));
  return server;
}

/** The request's media type (lower case, no parameters); '' when there is no Content-Type. */
export function mediaTypeOf(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** True when the request's Content-Type is one a SealedSecret may be sent as (or absent). */
export function acceptableMediaType(req: IncomingMessage): boolean {
  const type = mediaTypeOf(req);
  return type === '' || ACCEPTED_CONTENT_TYPES.includes(type);
}

/** The declared body length (Content-Length), 0 when absent. */
export function declaredLength(req: IncomingMessage): number {
  return Number(req.headers['content-length'] ?? '0');
}

/** The format to answer in: what `Accept` names first (JSON or YAML), else the request's own. */
export function responseFormat(accept: string | undefined, requestFormat: Format): Format {
  for (const part of (accept ?? '').split(',')) {
    const type = part.split(';')[0]?.trim().toLowerCase() ?? '';
    if (type === 'application/json') return 'json';
    if (type === 'application/yaml' || type === 'application/x-yaml' || type === 'text/yaml') return 'yaml';
  }
  return requestFormat;
}

/** True when the client waits for 100 Continue before sending its body. */
export function expectsContinue(req: IncomingMessage): boolean {
  return (req.headers.expect ?? '').toLowerCase() === '100-continue';
}

/**
 * Reads a body up to `limit` bytes. Past the limit it stops collecting and returns 'too-large' (the
 * caller answers 413 and closes the connection, so the rest is never buffered).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = (result: Buffer | 'too-large' | 'aborted'): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('close', onAbort);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limit) {
        chunks.length = 0;
        done('too-large');
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => done(Buffer.concat(chunks, total));
    const onAbort = (): void => done('aborted');
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onAbort);
    req.once('close', onAbort);
  });
}

/**
 * A signal that aborts when the client goes away before the response is complete (the socket closed,
 * or the request was cut off): work done for this request can then be dropped. The response's
 * 'close' is the one event that fires for both (the request's own 'close' fires once its body is read).
 */
export function clientGoneSignal(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** True when the request has a body that has not been read to its end. */
function bodyUnread(req: IncomingMessage): boolean {
  const hasBody = req.headers['transfer-encoding'] !== undefined || declaredLength(req) > 0;
  return hasBody && !req.readableEnded;
}

/** 413 for a body over `limit`; closes the connection rather than drain a body nobody will read. */
export function sendTooLarge(res: ServerResponse, limit: number): void {
  res.setHeader('Connection', 'close');
  sendError(res, 413, 'INPUT_TOO_LARGE', `the request body is larger than ${limit} bytes`);
}

/** A JSON error body `{code, message}`: a stable code and one line, never a value or a stack. */
export function sendError(res: ServerResponse, status: number, code: ErrorCode | HttpErrorCode, message: string): void {
  sendJson(res, status, { code, message });
}

/** A JSON body. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendText(res, status, 'application/json', `${JSON.stringify(body)}\n`);
}

/** A complete response with the given type and body; does nothing when headers were already sent. */
export function sendText(res: ServerResponse, status: number, contentType: string, body: string): void {
  if (res.headersSent) return;
  // Answering before reading a body (404, 405, 415, 413, 429): close rather than let node drain it.
  if (bodyUnread(res.req)) res.setHeader('Connection', 'close');
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': bytes.length,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(bytes);
}

/** The text with a final newline. */
export function ensureNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** The path of a request target, without query or fragment; '' when it cannot be parsed. Not decoded. */
export function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  if (raw.startsWith('/')) return raw.split(/[?#]/, 1)[0] ?? '';
  try {
    // Absolute form (`GET http://host/path`), which HTTP/1.1 servers must accept.
    return new URL(raw).pathname;
  } catch {
    return '';
  }
}

/** Listens on `port` (0: any free one) and resolves with the bound port. */
export function listen(server: Server, port: number, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    const onListening = (): void => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    if (host === undefined) server.listen(port, onListening);
    else server.listen(port, host, onListening);
  });
}

/** Stops accepting, drops idle keep-alive sockets now and busy ones after `graceMs`; resolves once closed. */
export function closeServer(server: Server, graceMs: number): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
