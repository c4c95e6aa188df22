/**
 * A fault-injecting proxy on 127.0.0.1 in front of the real API server, for the e2e fault
 * scenarios: it terminates TLS with the API server's own serving certificate (so clients keep
 * verifying against the cluster CA), forwards each request over TLS with the client's own
 * Authorization header (the upstream still authenticates and authorizes the ServiceAccount), and
 * can end watches cleanly, reset every connection (TCP RST), add latency, or answer requests with
 * a 5xx Status before they reach the server.
 */
import { readFileSync } from 'node:fs';
import { request as httpsRequest, createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ControlPlaneCerts } from '../../../control-plane/certs.js';

export interface FailRule {
  readonly status: number;
  readonly method?: string;
  /** Matched against the path and query. */
  readonly path?: RegExp;
  count: number;
}

export interface FaultProxy {
  readonly url: string;
  /** Requests forwarded or failed so far, by a short label (`watch secrets`, `PUT secrets`...). */
  readonly seen: ReadonlyMap<string, number>;
  /** Open watch streams now. */
  readonly openWatches: number;
  /** Answers the next `count` matching requests with `status` (a Status body, as the server would). */
  failNext(rule: Omit<FailRule, 'count'> & { count?: number }): void;
  /** Delays every request by `ms` (0 clears). */
  setLatency(ms: number): void;
  /** Ends every open watch cleanly (as the server does at its timeout); returns how many. */
  endWatches(): number;
  /** Destroys every client connection with a TCP reset; returns how many. */
  resetConnections(): number;
  close(): Promise<void>;
}

const REASONS: Record<number, string> = { 500: 'InternalError', 502: 'BadGateway', 503: 'ServiceUnavailable', 504: 'Timeout', 429: 'TooManyRequests' };

function label(method: string, url: string): string {
  const [path = '', query = ''] = url.split('?');
  const parts = path.split('/').filter((p) => p !== '');
  // /api/v1/namespaces/NS/secrets/NAME or /apis/G/V/namespaces/NS/R/NAME[/status]
  const start = parts[0] === 'api' ? 2 : 3;
  let rest = parts.slice(start);
  if (rest[0] === 'namespaces' && rest.length > 2) rest = rest.slice(2);
  const resource = (rest[0] ?? '') + (rest[2] === undefined ? '' : `/${rest[2]}`);
  const watch = /(^|&)watch=(true|1)/.test(query);
  return `${watch ? 'watch' : method} ${resource}`;
}

/** Starts the proxy in front of `upstream` (https://127.0.0.1:PORT of the API server). */
export async function startFaultProxy(upstream: string, certs: ControlPlaneCerts): Promise<FaultProxy> {
  const target = new URL(upstream);
  const rules: FailRule[] = [];
  const seen = new Map<string, number>();
  const sockets = new Set<Socket>();
  const watches = new Set<{ res: ServerResponse; upstream: IncomingMessage | undefined }>();
  let latencyMs = 0;

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const name = label(req.method ?? 'GET', url);
    seen.set(name, (seen.get(name) ?? 0) + 1);
    const rule = rules.find((r) => r.count > 0 && (r.method === undefined || r.method === req.method) && (r.path === undefined || r.path.test(url)));
    if (rule !== undefined) {
      rule.count--;
      req.resume();
      const reason = REASONS[rule.status] ?? 'InternalError';
      res.writeHead(rule.status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `injected ${rule.status} by the e2e fault proxy`, reason, code: rule.status }));
      return;
    }
    const headers = { ...req.headers, host: target.host };
    const up = httpsRequest({ host: target.hostname, port: target.port, method: req.method, path: url, headers, ca: certs.pem.ca }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      const isWatch = name.startsWith('watch ');
      const entry = { res, upstream: upRes };
      if (isWatch) watches.add(entry);
      upRes.pipe(res);
      const done = (): void => {
        watches.delete(entry);
      };
      res.on('close', () => {
        done();
        upRes.destroy();
      });
      upRes.on('end', done);
    });
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.destroy();
    });
    req.pipe(up);
  };

  const server: Server = createServer({ cert: readFileSync(certs.servingCert), key: readFileSync(certs.servingKey) }, (req, res) => {
    if (latencyMs > 0) setTimeout(() => handle(req, res), latencyMs);
    else handle(req, res);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `https://127.0.0.1:${port}`,
    seen,
    get openWatches() {
      return watches.size;
    },
    failNext(rule) {
      rules.push({ ...rule, count: rule.count ?? 1 });
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    endWatches() {
      const n = watches.size;
      for (const w of [...watches]) {
        watches.delete(w);
        w.upstream?.destroy();
        w.res.end();
      }
      return n;
    },
    resetConnections() {
      const n = sockets.size;
      for (const s of [...sockets]) s.resetAndDestroy();
      return n;
    },
    async close() {
      for (const s of [...sockets]) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
