/**
 * The controller's HTTP servers: the API port (8080 in the cluster, reached by the CLI through the API
 * server's service proxy; routes in http-handlers.ts) and the metrics port (8081; metrics-server.ts).
 * This module wires them: options and defaults, the per-request log line and metrics, the error
 * boundary, listening and a graceful close.
 *
 * Hardening: verify and rotate spend RSA private-key operations, so they are bounded (http-limits.ts:
 * body size, values per request, requests in flight, a token bucket charged per sealed value) and
 * cancelled when the client goes away; their unseals run after every reconcile in the pool. Header and
 * request timeouts cut slow clients; one object per request. Responses, log lines and
 * metrics carry codes, paths, statuses and durations, never a value, a message from a parser, or a
 * stack trace.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isKsealError } from '../src/errors.js';
import { HTTP_PATHS } from '../src/wire.js';
import type { KeyView, Unsealer } from './contracts.js';
import { apiRoutes, type Route } from './http-handlers.js';
import { HttpLimits, type HttpLimitsConfig } from './http-limits.js';
import { RefusalLog } from './http-refusal-log.js';
import { closeServer, createHttpServer, listen, pathOf, sendError } from './http-transport.js';
import type { Logger } from './logger.js';
import type { ControllerMetrics } from './metrics.js';
import { createMetricsServer } from './metrics-server.js';
import { VerifyRotateService } from './verify-rotate-service.js';

export type { HttpErrorCode } from './http-transport.js';

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
  /** The verify/rotate bounds (http-limits.ts DEFAULT_HTTP_LIMITS for what is not given). */
  readonly limits?: Partial<HttpLimitsConfig>;
  /** Shorthand for limits.valuesPerSecond / valuesBurst: the token bucket, one token per sealed value. */
  readonly verifyRate?: { readonly perSecond: number; readonly burst: number };
  /** Whole-request receive deadline (node's `requestTimeout`); 10 s by default. */
  readonly requestTimeoutMs?: number;
  /** Header receive deadline (node's `headersTimeout`); 5 s by default; at most requestTimeoutMs. */
  readonly headersTimeoutMs?: number;
  /** Idle keep-alive socket lifetime; 5 s by default. */
  readonly keepAliveTimeoutMs?: number;
  /** Largest body accepted; 1 MiB by default (shorthand for limits.maxBodyBytes). */
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

const METHOD_LABELS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const API_PATH_LIST = `${HTTP_PATHS.cert}, ${HTTP_PATHS.verify}, ${HTTP_PATHS.rotate}, ${HTTP_PATHS.healthz} and ${HTTP_PATHS.readyz}`;

/** Starts the API server on `port` and the metrics server on `metricsPort`; resolves with the bound ports. */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServerHandle> {
  const { keys, unsealer, metrics, logger } = options;
  const limits = new HttpLimits({
    ...options.limits,
    ...(options.verifyRate === undefined ? {} : { valuesPerSecond: options.verifyRate.perSecond, valuesBurst: options.verifyRate.burst }),
    ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
  });
  const routes = apiRoutes({ keys, service: new VerifyRotateService({ keys, unsealer, metrics }), ready: options.ready, limits, metrics });
  let closing = false;
  const refusals = new RefusalLog(logger);

  const api = createHttpServer(
    { requestTimeoutMs: options.requestTimeoutMs ?? 10_000, headersTimeoutMs: options.headersTimeoutMs ?? 5_000, keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? 5_000 },
    (req, res) => {
      if (closing) res.setHeader('Connection', 'close');
      dispatch(routes, req, res, metrics, logger, refusals);
    },
  );
  const metricsServer = createMetricsServer(metrics);

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
      closed ??= Promise.all([closeServer(api, grace), closeServer(metricsServer, grace)]).then(() => refusals.close());
      return closed;
    },
  };
}

/**
 * Routes one request, logs it (probes and refused verify/rotate requests at debug, the refusals also
 * in `refusals`' summaries) and counts it; an unexpected failure is a 500 naming nothing.
 */
function dispatch(routes: ReadonlyMap<string, Route>, req: IncomingMessage, res: ServerResponse, metrics: ControllerMetrics, logger: Logger, refusals: RefusalLog): void {
  const started = process.hrtime.bigint();
  const path = pathOf(req.url);
  const route = routes.get(path);
  const label = route?.label ?? 'other';
  const method = METHOD_LABELS.has(req.method ?? '') ? (req.method as string) : 'OTHER';
  res.once('close', () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    metrics.httpRequests.inc({ path: label, method, code: String(res.statusCode) });
    metrics.httpDuration.observe({ path: label, method }, seconds);
    // Probes (every few seconds from the kubelet) log at debug; everything else at info.
    const probe = (label === HTTP_PATHS.healthz || label === HTTP_PATHS.readyz) && res.statusCode < 400;
    const refused = (label === HTTP_PATHS.verify || label === HTTP_PATHS.rotate) && RefusalLog.isRefusal(res.statusCode);
    if (refused) refusals.add(res.statusCode);
    logger[probe || refused ? 'debug' : 'info']('http request', {
      method,
      path: path.length > 128 ? `${path.slice(0, 128)}...` : path,
      status: res.statusCode,
      ms: Math.round(seconds * 1e4) / 10,
      aborted: res.writableFinished ? undefined : true,
    });
  });
  const run = async (): Promise<void> => {
    if (route === undefined) return sendError(res, 404, 'NOT_FOUND', `no such path; the API serves ${API_PATH_LIST}`);
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
}
