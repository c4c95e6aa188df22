/**
 * The controller's HTTP API (Bitnami-compatible paths) and its metrics endpoint, on node:http only.
 *
 * API port (8080 in the cluster, reached by the CLI through the API server's service proxy):
 * - `GET /v1/cert.pem`   the newest sealing certificate; 503 before the first key exists.
 * - `POST /v1/verify`    one SealedSecret (YAML or JSON): 200 if every value unseals, 409 if not.
 *                        The 409 never says why (which key, which value, which failure).
 * - `POST /v1/rotate`    the SealedSecret re-sealed to the newest key, same scope/name/namespace,
 *                        in the request's format (or the one `Accept` asks for); 409 if it does not unseal.
 * - `GET /healthz`, `GET /readyz`.
 * Metrics port (8081): `GET /metrics`.
 *
 * Hardening: verify and rotate spend RSA private-key operations, so each has a token bucket (Bitnami's
 * 2/s burst 2) answering 429 with Retry-After; bodies over 1 MiB get 413 without being read further;
 * header and request timeouts cut slow clients; one object per request. Plaintext exists only inside
 * a rotate call, between the Unsealer and `resealSealedSecret`, and is zeroed afterwards. Each unseal counts in
 * kseal_unseal_requests_total (its RSA operations count once, in the pool, in kseal_private_key_operations_total). Responses, log lines
 * and metrics carry codes, paths, statuses and durations, never a value, a message from a parser, or a
 * stack trace.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KeyObject } from 'node:crypto';
import { ERROR_CODES, isKsealError, KsealError, type ErrorCode } from '../src/errors.js';
import { parseCertificate } from '../src/crypto/certificate.js';
import { writeManifests } from '../src/manifest/write.js';
import { resealSealedSecret } from '../src/model/reseal.js';
import { readSealedSecret, sealedSecretLabel, secretFromTemplate, type SealedSecret } from '../src/model/sealed-secret.js';
import type { KeyView, SealingKey, Unsealer, UnsealOutcome } from './contracts.js';
import type { Logger } from './logger.js';
import type { ControllerMetrics } from './metrics.js';
import { TokenBucket } from './rate-limit.js';
import { parseRequestBody } from './body-parser.js';
import { pageRoutes } from '../ui/server/page-routes.js';

/** Largest request body accepted (the size Kubernetes allows a Secret's values). */
const MAX_BODY_BYTES = 1024 * 1024;
/** Media types a SealedSecret may be sent as; a missing Content-Type is accepted too. */
const ACCEPTED_CONTENT_TYPES: readonly string[] = ['application/json', 'application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain'];
/** Bitnami's limit on verify and rotate: 2 requests a second, burst 2. */
const DEFAULT_VERIFY_RATE = { perSecond: 2, burst: 2 } as const;

export interface HttpServerOptions {
  /** Interface to bind; all interfaces by default. */
  readonly host?: string;
  /** API port; 0 picks a free one. */
  readonly port: number;
  /** Metrics port; 0 picks a free one. */
  readonly metricsPort: number;
  readonly keys: KeyView;
  readonly unsealer: Unsealer;
  readonly metrics: ControllerMetrics;
  readonly logger: Logger;
  /** True once the controller is ready to serve (informers synced); /readyz also needs a key. */
  readonly ready: () => boolean;
  /** Token bucket for each of verify and rotate (one bucket per endpoint, as Bitnami). */
  readonly verifyRate?: { readonly perSecond: number; readonly burst: number };
  /** Whole-request receive deadline (node's `requestTimeout`); 10 s by default. */
  readonly requestTimeoutMs?: number;
  /** Header receive deadline (node's `headersTimeout`); 5 s by default; at most requestTimeoutMs. */
  readonly headersTimeoutMs?: number;
  /** Idle keep-alive socket lifetime; 5 s by default. */
  readonly keepAliveTimeoutMs?: number;
  /** Largest body accepted; 1 MiB by default. */
  readonly maxBodyBytes?: number;
  /** How long close() waits for in-flight requests before cutting their sockets; 5 s by default. */
  readonly closeGraceMs?: number;
}

/** A running API and metrics server pair. */
export interface HttpServerHandle {
  /** Bound API port. */
  readonly port: number;
  /** Bound metrics port. */
  readonly metricsPort: number;
  /** Stops accepting, ends keep-alive sockets, waits for in-flight requests; resolves when both servers are closed. */
  close(): Promise<void>;
}

/** Error codes of the HTTP layer itself (the rest are KsealError codes). */
export type HttpErrorCode = 'NOT_FOUND' | 'METHOD_NOT_ALLOWED' | 'UNSUPPORTED_MEDIA_TYPE' | 'RATE_LIMITED' | 'NO_KEY' | 'REQUEST_ABORTED';

type Format = 'json' | 'yaml';

interface Route {
  readonly label: string;
  readonly methods: readonly string[];
  readonly handle: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;
}

const METHOD_LABELS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const DECRYPT_CODES: ReadonlySet<ErrorCode> = new Set(
  (Object.keys(ERROR_CODES) as ErrorCode[]).filter((c) => ERROR_CODES[c] === 'decrypt' || c === 'NO_PRIVATE_KEYS'),
);
const UNSEAL_FAILED_BODY = { code: 'DECRYPT_FAILED', message: 'the SealedSecret cannot be unsealed by this controller' } as const;

/** Starts the API server on `port` and the metrics server on `metricsPort`; resolves with the bound ports. */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServerHandle> {
  const { keys, unsealer, metrics, logger } = options;
  const maxBody = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const rate = options.verifyRate ?? DEFAULT_VERIFY_RATE;
  const buckets = { verify: new TokenBucket(rate), rotate: new TokenBucket(rate) };
  const publicKeys = new PublicKeyCache();
  let closing = false;

  /** Reads, parses and checks the one SealedSecret of a POST; answers the error and returns undefined when it is not usable. */
  const readSealedBody = async (req: IncomingMessage, res: ServerResponse, bucket: TokenBucket): Promise<{ sealed: SealedSecret; format: Format } | undefined> => {
    const mediaType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (mediaType !== '' && !ACCEPTED_CONTENT_TYPES.includes(mediaType)) {
      sendError(res, 415, 'UNSUPPORTED_MEDIA_TYPE', `send the SealedSecret as ${ACCEPTED_CONTENT_TYPES.join(', ')}`);
      return undefined;
    }
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > maxBody) {
      sendTooLarge(res, maxBody);
      return undefined;
    }
    const taken = bucket.take();
    if (!taken.ok) {
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil(taken.retryAfterMs / 1000))));
      sendError(res, 429, 'RATE_LIMITED', 'too many requests; retry later');
      return undefined;
    }
    // Expect: 100-continue (curl and Go send it before large bodies): ask for the body only now,
    // once every check that needs no body passed, so a refused client never sends it.
    if (expectsContinue(req)) res.writeContinue();
    const body = await readBody(req, maxBody);
    if (body === 'too-large') {
      sendTooLarge(res, maxBody);
      return undefined;
    }
    if (body === 'aborted') {
      sendError(res, 400, 'REQUEST_ABORTED', 'the request body did not arrive');
      return undefined;
    }
    try {
      // Parsed off the main thread when large, with a deadline, and cancelled when the client leaves.
      const gone = new AbortController();
      res.once('close', () => gone.abort());
      const objects = await parseRequestBody(body, { signal: gone.signal });
      const first = objects[0];
      if (first === undefined) throw new KsealError('NO_DOCUMENTS', 'the request body holds no object; send one SealedSecret');
      if (objects.length > 1 || first.location.item !== undefined) {
        throw new KsealError('USAGE', 'the request body holds more than one object; send exactly one SealedSecret per request');
      }
      const sealed = readSealedSecret(first.value, {});
      // The scope must be readable and complete (namespace, name) before any key is tried.
      sealedSecretLabel(sealed);
      const lead = body.findIndex((b) => b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0xef && b !== 0xbb && b !== 0xbf);
      return { sealed, format: body[lead] === 0x7b || body[lead] === 0x5b ? 'json' : 'yaml' };
    } catch (e) {
      if (isKsealError(e)) {
        sendError(res, 400, e.code, e.message);
        return undefined;
      }
      // The client went away while its body was parsed: nobody to answer.
      if (res.destroyed || res.writableEnded) return undefined;
      throw e;
    }
  };

  /** Unseals through the Unsealer; answers 409 (no reason given) or 400 and returns undefined when it fails. */
  const unsealOrAnswer = async (res: ServerResponse, sealed: SealedSecret): Promise<UnsealOutcome | undefined> => {
    metrics.unsealRequests.inc();
    try {
      // RSA operations are counted once, by the pool that does them (onPrivateOps), not here again.
      return await unsealer.unseal(sealed);
    } catch (e) {
      if (isKsealError(e) && DECRYPT_CODES.has(e.code)) {
        sendJson(res, 409, UNSEAL_FAILED_BODY);
        return undefined;
      }
      if (isKsealError(e) && ERROR_CODES[e.code] === 'input') {
        sendError(res, 400, e.code, e.message);
        return undefined;
      }
      throw e;
    }
  };

  const routes = new Map<string, Route>([
    // The sealing page at / and /ui/ (ui/server/page-routes.ts).
    ...pageRoutes('controller'),
    ['/healthz', { label: '/healthz', methods: ['GET', 'HEAD'], handle: (_req, res) => sendText(res, 200, 'text/plain; charset=utf-8', 'ok\n') }],
    [
      '/readyz',
      {
        label: '/readyz',
        methods: ['GET', 'HEAD'],
        handle: (_req, res) => {
          const ok = options.ready() && keys.newest() !== undefined;
          sendText(res, ok ? 200 : 503, 'text/plain; charset=utf-8', ok ? 'ok\n' : 'not ready\n');
        },
      },
    ],
    [
      '/v1/cert.pem',
      {
        label: '/v1/cert.pem',
        methods: ['GET', 'HEAD'],
        handle: (_req, res) => {
          const newest = keys.newest();
          if (newest === undefined) return sendError(res, 503, 'NO_KEY', 'the controller has no sealing key yet; retry shortly');
          sendText(res, 200, 'application/x-pem-file', ensureNewline(newest.certificatePem));
        },
      },
    ],
    [
      '/v1/verify',
      {
        label: '/v1/verify',
        methods: ['POST'],
        handle: async (req, res) => {
          const input = await readSealedBody(req, res, buckets.verify);
          if (input === undefined) return;
          // A template the controller cannot turn into a Secret fails here too, before any private-key work.
          try {
            secretFromTemplate(input.sealed, new Map());
          } catch (e) {
            if (isKsealError(e) && ERROR_CODES[e.code] === 'input') return sendError(res, 400, e.code, e.message);
            throw e;
          }
          const outcome = await unsealOrAnswer(res, input.sealed);
          if (outcome === undefined) return;
          wipe(outcome);
          sendText(res, 200, 'text/plain; charset=utf-8', '');
        },
      },
    ],
    [
      '/v1/rotate',
      {
        label: '/v1/rotate',
        methods: ['POST'],
        handle: async (req, res) => {
          const input = await readSealedBody(req, res, buckets.rotate);
          if (input === undefined) return;
          const newest = keys.newest();
          if (newest === undefined) return sendError(res, 503, 'NO_KEY', 'the controller has no sealing key yet; retry shortly');
          const outcome = await unsealOrAnswer(res, input.sealed);
          if (outcome === undefined) return;
          let rotated: SealedSecret;
          try {
            rotated = resealSealedSecret(input.sealed, outcome.data, { publicKey: publicKeys.get(newest), keyId: newest.keyId });
          } finally {
            wipe(outcome);
          }
          const format = responseFormat(req.headers.accept, input.format);
          sendText(res, 200, format === 'json' ? 'application/json' : 'application/yaml', writeManifests([rotated], format));
        },
      },
    ],
  ]);

  const api = createServer(
    {
      requestTimeout: options.requestTimeoutMs ?? 10_000,
      headersTimeout: options.headersTimeoutMs ?? 5_000,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
      // Node checks the two deadlines above on this interval (30 s by default, too coarse for them).
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor((options.headersTimeoutMs ?? 5_000) / 4))),
    },
    (req, res) => {
      const started = process.hrtime.bigint();
      const path = pathOf(req.url);
      const route = routes.get(path);
      const label = route?.label ?? 'other';
      const method = METHOD_LABELS.has(req.method ?? '') ? (req.method as string) : 'OTHER';
      if (closing) res.setHeader('Connection', 'close');
      res.once('close', () => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        metrics.httpRequests.inc({ path: label, method, code: String(res.statusCode) });
        metrics.httpDuration.observe({ path: label, method }, seconds);
        // Probes (every few seconds from the kubelet) log at debug; everything else at info.
        const probe = (label === '/healthz' || label === '/readyz') && res.statusCode < 400;
        logger[probe ? 'debug' : 'info']('http request', {
          method,
          path: path.length > 128 ? `${path.slice(0, 128)}...` : path,
          status: res.statusCode,
          ms: Math.round(seconds * 1e4) / 10,
          aborted: res.writableFinished ? undefined : true,
        });
      });
      const run = async (): Promise<void> => {
        if (route === undefined) return sendError(res, 404, 'NOT_FOUND', 'no such path; the API serves /v1/cert.pem, /v1/verify, /v1/rotate, /healthz and /readyz');
        if (!route.methods.includes(req.method ?? '')) {
          res.setHeader('Allow', route.methods.join(', '));
          return sendError(res, 405, 'METHOD_NOT_ALLOWED', `use ${route.methods.join(' or ')}`);
        }
        await route.handle(req, res);
      };
      run().catch((e: unknown) => {
        // Only the kind of failure is logged: messages of unexpected errors may quote data.
        logger.error('http handler failed', { path: label, error: e instanceof Error ? e.name : typeof e, code: isKsealError(e) ? e.code : undefined });
        if (!res.headersSent) sendError(res, 500, 'INTERNAL', 'internal error');
        else res.destroy();
      });
    },
  );

  // With this listener node no longer answers 100 Continue by itself before the handler runs (which
  // made a client send a body over the limit only to be cut off mid-upload and miss the 413).
  api.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => api.emit('request', req, res));

  const metricsServer = createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, (req, res) => {
    const path = pathOf(req.url);
    if (path !== '/metrics') return sendError(res, 404, 'NOT_FOUND', 'no such path; metrics are at /metrics');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return sendError(res, 405, 'METHOD_NOT_ALLOWED', 'use GET');
    }
    metrics.registry.metrics().then(
      (text) => sendText(res, 200, metrics.registry.contentType, text),
      () => sendError(res, 500, 'INTERNAL', 'metrics could not be collected'),
    );
  });

  const host = options.host;
  let port: number;
  let metricsPort: number;
  try {
    port = await listen(api, options.port, host);
    metricsPort = await listen(metricsServer, options.metricsPort, host);
  } catch (e) {
    await Promise.all([closeServer(api, 0), closeServer(metricsServer, 0)]);
    throw e;
  }
  logger.info('http server listening', { port, metricsPort });

  let closed: Promise<void> | undefined;
  const grace = options.closeGraceMs ?? 5_000;
  return {
    port,
    metricsPort,
    close(): Promise<void> {
      closing = true;
      closed ??= Promise.all([closeServer(api, grace), closeServer(metricsServer, grace)]).then(() => undefined);
      return closed;
    },
  };
}

/** Overwrites plaintext buffers once they are no longer needed. */
function wipe(outcome: UnsealOutcome): void {
  for (const bytes of outcome.data.values()) bytes.fill(0);
}

/** The public key of the newest certificate, parsed once per key id. */
class PublicKeyCache {
  private keyId: string | undefined;
  private key: KeyObject | undefined;

  get(sealingKey: SealingKey): KeyObject {
    if (this.key === undefined || this.keyId !== sealingKey.keyId) {
      this.key = parseCertificate(sealingKey.certificatePem, { skipValidity: true }).publicKey;
      this.keyId = sealingKey.keyId;
    }
    return this.key;
  }
}

/** The format rotate answers in: what `Accept` names first (JSON or YAML), else the request's own. */
function responseFormat(accept: string | undefined, requestFormat: Format): Format {
  for (const part of (accept ?? '').split(',')) {
    const type = part.split(';')[0]?.trim().toLowerCase() ?? '';
    if (type === 'application/json') return 'json';
    if (type === 'application/yaml' || type === 'application/x-yaml' || type === 'text/yaml') return 'yaml';
  }
  return requestFormat;
}

/**
 * Reads a body up to `limit` bytes. Past the limit it stops collecting and returns 'too-large' (the
 * caller answers 413 and closes the connection, so the rest is never buffered).
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large' | 'aborted'> {
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

/** True when the client waits for 100 Continue before sending its body. */
function expectsContinue(req: IncomingMessage): boolean {
  return (req.headers.expect ?? '').toLowerCase() === '100-continue';
}

/** True when the request has a body that has not been read to its end. */
function bodyUnread(req: IncomingMessage): boolean {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? '0') > 0;
  return hasBody && !req.readableEnded;
}

function sendTooLarge(res: ServerResponse, limit: number): void {
  // Close the connection rather than drain a body nobody will read.
  res.setHeader('Connection', 'close');
  sendError(res, 413, 'INPUT_TOO_LARGE', `the request body is larger than ${limit} bytes`);
}

function sendError(res: ServerResponse, status: number, code: ErrorCode | HttpErrorCode, message: string): void {
  sendJson(res, status, { code, message });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendText(res, status, 'application/json', `${JSON.stringify(body)}\n`);
}

function sendText(res: ServerResponse, status: number, contentType: string, body: string): void {
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

function ensureNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** The path of a request target, without query or fragment; '' when it cannot be parsed. Not decoded. */
function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  if (raw.startsWith('/')) return raw.split(/[?#]/, 1)[0] ?? '';
  try {
    // Absolute form (`GET http://host/path`), which HTTP/1.1 servers must accept.
    return new URL(raw).pathname;
  } catch {
    return '';
  }
}

function listen(server: Server, port: number, host: string | undefined): Promise<number> {
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
function closeServer(server: Server, graceMs: number): Promise<void> {
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
