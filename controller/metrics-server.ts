/**
 * The controller's metrics listener (port 8081 in the cluster): `GET /metrics` in the Prometheus text
 * format, 404 for any other path, 405 for other methods. Kept apart from the API port so a scrape
 * never competes with verify/rotate limits, and the API can be exposed without the metrics.
 */
import type { Server } from 'node:http';
import { HTTP_PATHS } from '../src/wire.js';
import type { ControllerMetrics } from './metrics.js';
import { createHttpServer, pathOf, sendError, sendText } from './http-transport.js';

/** A metrics server (not yet listening). */
export function createMetricsServer(metrics: ControllerMetrics): Server {
  return createHttpServer({ requestTimeoutMs: 10_000, headersTimeoutMs: 5_000 }, (req, res) => {
    const path = pathOf(req.url);
    if (path !== HTTP_PATHS.metrics) return sendError(res, 404, 'NOT_FOUND', `no such path; metrics are at ${HTTP_PATHS.metrics}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return sendError(res, 405, 'METHOD_NOT_ALLOWED', 'use GET');
    }
    metrics.registry.metrics().then(
      (text) => sendText(res, 200, metrics.registry.contentType, text),
      () => sendError(res, 500, 'INTERNAL', 'metrics could not be collected'),
    );
  });
}
