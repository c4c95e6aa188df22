/**
 * The one small HTTP(S) client of the CLI and the controller, on node:http/node:https (loaded on
 * first use, so offline CLI commands never pay for them): one request, TLS and auth options passed
 * through (from a kubeconfig), a timeout for the answer's headers, cancellation by AbortSignal, and
 * failures as `RequestFailed` with a short code (never a body dump). Callers turn it into their own
 * error type (KsealError in the CLI, KubeError in the controller).
 */
import type { IncomingHttpHeaders, IncomingMessage, RequestOptions } from 'node:http';
import { KsealError } from '../src/errors.js';

/** One request. */
export interface HttpRequest {
  readonly method: string;
  readonly url: URL;
  /** TLS, agent and auth options (applyToHTTPSOptions output); its headers are merged in. */
  readonly options?: RequestOptions;
  readonly headers?: Readonly<Record<string, string | number>>;
  readonly body?: Buffer;
  /** Longest wait for the answer (headers and, for `fetchBuffered`, the body). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Called with the socket (e.g. to set TCP keep-alive). */
  readonly onSocket?: (socket: import('node:net').Socket) => void;
}

/** A buffered answer. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A request that got no answer: `code` is the errno (ECONNREFUSED...), TIMEOUT or ABORTED. */
export class RequestFailed extends Error {
  override readonly name = 'RequestFailed';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The error an aborted request rejects with (name AbortError, as fetch and node use). */
export function abortError(): Error {
  const e = new Error('aborted');
  e.name = 'AbortError';
  return e;
}

type RequestFunction = typeof import('node:http').request;
let httpRequest: RequestFunction | undefined;
let httpsRequest: RequestFunction | undefined;

/** node:http's or node:https's `request`, imported on first use and then kept (the controller sends thousands). */
async function requestFunction(https: boolean): Promise<RequestFunction> {
  if (https) return (httpsRequest ??= (await import('node:https')).request);
  return (httpRequest ??= (await import('node:http')).request);
}

/**
 * Sends a request and resolves with the response as soon as its headers arrive (the body is the
 * caller's to read). Aborting after the response completed does nothing: destroying a finished
 * request would kill a keep-alive socket already back in the pool.
 */
export async function openRequest(request: HttpRequest): Promise<IncomingMessage> {
  const make = await requestFunction(request.url.protocol === 'https:');
  const { signal } = request;
  if (signal?.aborted === true) throw abortError();
  const headers: Record<string, string | number> = { ...(request.options?.headers as Record<string, string> | undefined), ...request.headers };
  if (request.body !== undefined) headers['Content-Length'] = request.body.length;
  return new Promise<IncomingMessage>((resolve, reject) => {
    let response: IncomingMessage | undefined;
    const req = make(request.url, { ...request.options, method: request.method, headers }, (res) => {
      response = res;
      resolve(res);
    });
    const onAbort = (): void => {
      if (response?.complete !== true) req.destroy(abortError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    req.once('close', () => signal?.removeEventListener('abort', onAbort));
    if (request.onSocket !== undefined) req.on('socket', request.onSocket);
    if (request.timeoutMs !== undefined) {
      const ms = request.timeoutMs;
      req.setTimeout(ms, () => req.destroy(new RequestFailed('TIMEOUT', `${request.method} ${request.url.pathname}: no answer within ${ms} ms`)));
    }
    req.on('error', (e: Error & { code?: string }) => {
      if (e instanceof RequestFailed) reject(e);
      else if (e.name === 'AbortError') reject(abortError());
      else reject(new RequestFailed(e.code ?? e.name, `${request.method} ${request.url.pathname}: ${e.code ?? e.name}`));
    });
    req.end(request.body);
  });
}

/**
 * Reads a whole response body; rejects (ECONNRESET) when the connection closes before its end. On
 * 'data'/'end' events rather than an async iterator, which costs a stream wrapper, promises and
 * listeners per response (the controller reads thousands of small answers).
 */
export function readBody(response: IncomingMessage): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let ended = false;
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.once('end', () => {
      ended = true;
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    });
    response.once('error', reject);
    response.once('close', () => {
      if (!ended) reject(Object.assign(new Error('the answer was cut off'), { code: 'ECONNRESET' }));
    });
  });
}

/** Sends a request and reads the whole answer. */
export async function fetchBuffered(request: HttpRequest): Promise<HttpResponse> {
  const response = await openRequest(request);
  try {
    const body = await readBody(response);
    return { status: response.statusCode ?? 0, headers: response.headers, body };
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err.name === 'AbortError') throw abortError();
    throw new RequestFailed(err.code ?? 'ECONNRESET', `${request.method} ${request.url.pathname}: the answer was cut off`);
  }
}

/**
 * Parses a URL the user gave (`--controller-url`, `--cert https://...`): it must be absolute
 * http(s). `localhost:8080` parses as scheme "localhost:", so it gets its own message.
 */
export function parseHttpUrl(text: string, flag: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || !/^https?:$/.test(url.protocol) || url.host === '') {
    const looksHostPort = /^[\w.-]+(:\d+)?(\/.*)?$/.test(text);
    throw new KsealError('USAGE', `${flag} ${JSON.stringify(text)} is not an http(s) URL`, {
      hint: looksHostPort ? `add the scheme: ${flag} http://${text}` : `use the form ${flag} https://HOST[:PORT]`,
    });
  }
  return url;
}
