/**
 * Fault scenarios of the controller's HTTP API (issue 9): clients that go away in the middle of a
 * verify request, against a running controller (in-repo API server, the real unseal pool) serving
 * the API as kseal-controller does. A client that sends half a body and leaves, and one that leaves
 * while its unseal waits in the pool behind a reconcile backlog or runs on a worker: afterwards no
 * work of theirs is left running or queued, no in-flight slot leaks, the probes answer and every
 * SealedSecret converges. Counts only, no timings.
 */
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startHttpServer, type HttpServerHandle } from '../../controller/http-server.js';
import { silentLogger } from '../../controller/logger.js';
import { ControllerMetrics } from '../../controller/metrics.js';
import type { UnsealPool } from '../../controller/unseal-pool.js';
import type { KubeApiServer } from '../../kube-api/server.js';
import { eventually, sealedObject } from './fixtures.js';
import { applySealed, readyOf, startCluster, startController, type TestController } from './harness.js';

let server: KubeApiServer | undefined;
let ctl: TestController | undefined;
let http: HttpServerHandle | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await http?.close();
  http = undefined;
  await ctl?.stop();
  ctl = undefined;
  await server?.close();
  server = undefined;
});

const values = (n: number): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}`]));

/** A leading controller with its key, serving the HTTP API on a free loopback port. */
async function running(): Promise<{ port: number; pool: UnsealPool; metrics: ControllerMetrics }> {
  server = await startCluster({ withKey: true });
  ctl = startController(server);
  await eventually('leader with keys', () => ctl!.controller.isLeader() && ctl!.controller.keys.newest() !== undefined);
  const metrics = new ControllerMetrics();
  const pool = ctl.controller.unsealer as UnsealPool;
  http = await startHttpServer({ host: '127.0.0.1', port: 0, metricsPort: 0, keys: ctl.controller.keys, unsealer: pool, metrics, logger: silentLogger, ready: () => true });
  return { port: http.port, pool, metrics };
}

/** Sends a verify request's head and the first `sendBytes` of its body on a raw connection. */
async function partialVerify(port: number, body: string, sendBytes = Buffer.byteLength(body)): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  sockets.push(socket);
  await new Promise((r) => socket.once('connect', r));
  const bytes = Buffer.from(body);
  socket.write(`POST /v1/verify HTTP/1.1\r\nHost: kseal\r\nContent-Type: application/yaml\r\nContent-Length: ${bytes.length}\r\n\r\n`);
  socket.write(bytes.subarray(0, sendBytes));
  return socket;
}

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function gauge(metrics: ControllerMetrics): Promise<number> {
  return (await metrics.httpInFlight.get()).values[0]?.value ?? 0;
}

/** Nothing of the HTTP requests left: no slot, no queued or running job. */
async function nothingLeft(pool: UnsealPool, metrics: ControllerMetrics): Promise<void> {
  await eventually('no request in flight and an idle pool', async () => (await gauge(metrics)) === 0 && pool.stats().queuedHttp === 0 && pool.stats().running === 0);
}

async function allReady(names: readonly string[]): Promise<void> {
  await eventually(`${names.length} objects Ready`, () => names.every((n) => readyOf(server!, 'app', n)?.reason === 'Unsealed'), 30_000, 50);
}

describe('HTTP clients that go away', { timeout: 60_000 }, () => {
  it('frees everything when a client sends half a body and leaves: no private operation, the slot back, the controller healthy', async () => {
    const { port, pool, metrics } = await running();
    const socket = await partialVerify(port, stringify(sealedObject({ name: 'half', namespace: 'app', values: values(20) })), 2_000);
    await eventually('the request in flight', async () => (await gauge(metrics)) === 1);
    socket.destroy();
    await nothingLeft(pool, metrics);
    expect(pool.privateOps).toBe(0);
    expect(await get(port, '/healthz')).toBe(200);
    applySealed(server!, sealedObject({ name: 'after', namespace: 'app', values: values(2) }));
    await allReady(['after']);
  });

  it('drops the unseal of a client that leaves while it waits in the pool behind a reconcile backlog', async () => {
    const { port, pool, metrics } = await running();
    const names = Array.from({ length: 30 }, (_, i) => `s${i}`);
    for (const name of names) applySealed(server!, sealedObject({ name, namespace: 'app', values: values(5) }));
    await eventually('reconciles in the pool', () => pool.privateOps > 0);
    const socket = await partialVerify(port, stringify(sealedObject({ name: 'queued', namespace: 'app', values: values(100) })));
    await eventually('the verify queued in the pool', () => pool.stats().queuedHttp === 1);
    socket.destroy();
    await allReady(names);
    await nothingLeft(pool, metrics);
    expect(pool.stats().aborted).toBe(1);
    // Every reconcile's values, and at most what the verify ran before it was dropped.
    expect(pool.privateOps).toBeLessThan(30 * 5 + 100);
    expect(await get(port, '/healthz')).toBe(200);
  });

  it('stops the unseal of a client that leaves while it runs on a worker', async () => {
    const { port, pool, metrics } = await running();
    const socket = await partialVerify(port, stringify(sealedObject({ name: 'running', namespace: 'app', values: values(400) })));
    await eventually('the verify running', () => pool.privateOps > 0, 30_000, 2);
    socket.destroy();
    await nothingLeft(pool, metrics);
    expect(pool.stats().aborted).toBe(1);
    expect(pool.privateOps).toBeLessThan(400);
    expect(await get(port, '/healthz')).toBe(200);
    applySealed(server!, sealedObject({ name: 'after', namespace: 'app', values: values(2) }));
    await allReady(['after']);
  });
});
