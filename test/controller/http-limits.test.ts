// The verify/rotate resource bounds (controller/http-limits.ts) against the real worker pool: the
// token bucket charged per sealed value, the values cap, the in-flight cap, cancellation when the
// client goes away and reconcile priority under a flood. Counts and orderings only, no timings.
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { KeyView } from '../../controller/contracts.js';
import { startHttpServer, type HttpServerHandle, type HttpServerOptions } from '../../controller/http-server.js';
import { createLogger, silentLogger } from '../../controller/logger.js';
import { ControllerMetrics } from '../../controller/metrics.js';
import { UnsealPool } from '../../controller/unseal-pool.js';
import { readSealedSecret } from '../../src/model/sealed-secret.js';
import { eventually, sealedObject, sealingKey } from './fixtures.js';

const key = sealingKey('rsa-2048');
const keys: KeyView = { list: () => [key], newest: () => key };
let pool: UnsealPool | undefined;
let server: HttpServerHandle | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.close();
  await pool?.close();
  server = undefined;
  pool = undefined;
});

async function start(options: Partial<HttpServerOptions> = {}, workers = 1): Promise<{ port: number; pool: UnsealPool; metrics: ControllerMetrics }> {
  pool = new UnsealPool({ keys, workers });
  const metrics = new ControllerMetrics();
  server = await startHttpServer({ host: '127.0.0.1', port: 0, metricsPort: 0, keys, unsealer: pool, metrics, logger: silentLogger, ready: () => true, ...options });
  return { port: server.port, pool, metrics };
}

function object(name: string, n: number) {
  return sealedObject({ name, namespace: 'app', values: Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}`])) });
}
const body = (name: string, n: number): string => stringify(object(name, n));

function post(port: number, text: string, path = '/v1/verify'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path, agent: false, headers: { 'Content-Type': 'application/yaml' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** A raw connection that sends `head` and whatever part of a body the test wants. */
async function raw(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  sockets.push(socket);
  await new Promise((r) => socket.once('connect', r));
  return socket;
}

async function inFlight(metrics: ControllerMetrics): Promise<number> {
  return (await metrics.httpInFlight.get()).values[0]?.value ?? 0;
}

describe('HTTP endpoint bounds', () => {
  it('charges the token bucket one token per sealed value, not per request', async () => {
    const { port, pool } = await start({ verifyRate: { perSecond: 0.001, burst: 5 } });
    expect((await post(port, body('a', 3))).status).toBe(200);
    const second = await post(port, body('b', 3));
    expect(second.status).toBe(429);
    expect(JSON.parse(second.body).code).toBe('RATE_LIMITED');
    expect(Number(second.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(pool.privateOps).toBe(3);
  });

  it('refuses a request the token bucket cannot pay for before its body arrives (charged the most values its length can hold)', async () => {
    const { port, pool } = await start({ verifyRate: { perSecond: 0.001, burst: 10 }, limits: { refusalHoldMs: 0 } });
    expect((await post(port, body('a', 3))).status).toBe(200);
    // 200 values declared by their length; only a first part of the body is ever sent.
    const text = body('big', 200);
    const socket = await raw(port);
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('utf8')));
    socket.write(`POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/yaml\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text.slice(0, 1000)}`);
    await eventually('the 429 while the body is still missing', () => answer.startsWith('HTTP/1.1 429'));
    expect(pool.privateOps).toBe(3);
  });

  it('refuses more values than --http-max-values with 413 TOO_MANY_VALUES before any private operation', async () => {
    const { port, pool } = await start({ limits: { maxValues: 4 } });
    const reply = await post(port, body('a', 5));
    expect(reply.status).toBe(413);
    const error = JSON.parse(reply.body) as { code: string; message: string };
    expect(error.code).toBe('TOO_MANY_VALUES');
    expect(error.message).toContain('at most 4');
    expect(error.message).toContain('--http-max-values');
    expect(pool.privateOps).toBe(0);
    expect((await post(port, body('b', 4))).status).toBe(200);
  });

  it('answers 503 with Retry-After beyond --http-max-in-flight, and serves again once a slot is free', async () => {
    const { port, metrics } = await start({ limits: { maxInFlight: 1 } });
    const holder = await raw(port);
    holder.write('POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/yaml\r\nContent-Length: 100\r\n\r\nkind: Sea');
    await eventually('one request in flight', async () => (await inFlight(metrics)) === 1);
    const refused = await post(port, body('a', 1));
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'BUSY' });
    expect(JSON.parse(refused.body).message).toContain('--http-max-in-flight');
    holder.destroy();
    await eventually('the slot is free', async () => (await inFlight(metrics)) === 0);
    expect((await post(port, body('b', 1))).status).toBe(200);
  });

  it('holds refused requests before answering them, at most maxHeldRefusals at once, and frees the place of a client that leaves', async () => {
    const { port, metrics } = await start({ limits: { maxInFlight: 1, refusalHoldMs: 600_000, maxHeldRefusals: 2 }, closeGraceMs: 100 });
    const held = async (): Promise<number> => (await metrics.httpRefusalsHeld.get()).values[0]?.value ?? 0;
    const holder = await raw(port);
    holder.write('POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/yaml\r\nContent-Length: 100\r\n\r\nkind: Sea');
    await eventually('one request in flight', async () => (await inFlight(metrics)) === 1);
    const waiting: Socket[] = [];
    for (const name of ['a', 'b']) {
      const socket = await raw(port);
      const text = body(name, 1);
      socket.write(`POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/yaml\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
      waiting.push(socket);
    }
    await eventually('two refusals held', async () => (await held()) === 2);
    // The hold is full: the next refusal is answered at once (the hold here would last ten minutes).
    expect((await post(port, body('c', 1))).status).toBe(503);
    waiting[0]?.destroy();
    await eventually('the place of the client that left is free', async () => (await held()) === 1);
    expect(await inFlight(metrics)).toBe(1);
  });

  it('drops the queued work of a client that disconnects: no private operation is spent on it', async () => {
    const { port, pool } = await start({ limits: { maxInFlight: 10 } });
    // Reconciles keep the one worker busy (they always go first), so the HTTP job can only wait.
    let flooding = true;
    let reconcileOps = 0;
    const small = readSealedSecret(object('r', 2), {});
    const loops = Array.from({ length: 3 }, async () => {
      while (flooding) {
        const { privateOps } = await pool.unseal(small);
        reconcileOps += privateOps;
      }
    });
    const client = await raw(port);
    const text = body('h', 40);
    client.write(`POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/yaml\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
    await eventually('the HTTP job waits in the pool', () => pool.stats().queuedHttp === 1);
    client.destroy();
    await eventually('the HTTP job was dropped', () => pool.stats().aborted === 1);
    flooding = false;
    await Promise.all(loops);
    expect(pool.stats().queuedHttp).toBe(0);
    expect(pool.privateOps).toBe(reconcileOps);
  });

  it('lets a reconcile through before a flood of maximal HTTP requests already in the pool', async () => {
    const { port, pool } = await start({ limits: { maxInFlight: 100, valuesBurst: 10_000, valuesPerSecond: 10_000 } });
    let answered = 0;
    const flood = Array.from({ length: 6 }, (_, i) => post(port, body(`h${i}`, 128)).then((r) => ((answered += 1), r.status)));
    await eventually('six HTTP jobs in the pool', () => pool.stats().queuedHttp + pool.stats().running === 6);
    await pool.unseal(readSealedSecret(object('r', 3), {}));
    const answeredBeforeReconcile = answered;
    expect(await Promise.all(flood)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(answeredBeforeReconcile).toBe(0);
  });

  it('logs refused requests in one summary line rather than one line each', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ stream: { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) } as never });
    const { port } = await start({ logger, verifyRate: { perSecond: 0.001, burst: 1 }, limits: { refusalHoldMs: 0 } });
    expect((await post(port, body('a', 1))).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await post(port, body(`b${i}`, 1))).status).toBe(429);
    const refusedLines = () => lines.filter((l) => l['msg'] === 'http requests refused');
    expect(lines.filter((l) => l['msg'] === 'http request').map((l) => l['status'])).toEqual([200]);
    expect(refusedLines()).toMatchObject([{ refused: 1, rateLimited: 1, unavailable: 0 }]);
    await server?.close();
    expect(refusedLines()).toMatchObject([{ refused: 1 }, { refused: 4, rateLimited: 4, unavailable: 0 }]);
  });
});
