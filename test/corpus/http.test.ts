/**
 * The `http/` corpus family: requests to the controller's HTTP API (real `startHttpServer`, real
 * worker-thread unseal pool, the RSA-2048 test key), one body file per case with its method, path,
 * Content-Type and framing in cases.json, each expecting a status and, for errors, a stable code with
 * a one-line message — never a stack trace, a parser's message quoting the input, or a value. Sent on
 * a raw socket so bodies can be framed as a client chooses (Content-Length or chunked, any bytes).
 *
 * The server runs with a long parse deadline (--http-parse-timeout) so that what a case answers does not
 * depend on how busy the machine is; PARSE_TIMEOUT itself is tested in test/controller/body-parser.test.ts.
 *
 * Slow clients, floods of /v1/verify (429 while /healthz stays up) and connection handling are tested
 * in depth in test/controller/http-server.test.ts and not repeated here.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyView } from '../../controller/contracts.js';
import { startHttpServer, type HttpServerHandle } from '../../controller/http-server.js';
import { createLogger } from '../../controller/logger.js';
import { ControllerMetrics } from '../../controller/metrics.js';
import { UnsealPool } from '../../controller/unseal-pool.js';
import { ERROR_CODES, type ErrorCode } from '../../src/errors.js';
import { readSealedSecret } from '../../src/model/sealed-secret.js';
import { readManifests } from '../../src/manifest/read.js';
import { containsCanary } from '../helpers/canary.js';
import { sealingKey } from '../controller/fixtures.js';

const CANARY = 'CANARY-corpus-3f9b2c71d5e8a046';
const FAMILY = fileURLToPath(new URL('./http/', import.meta.url));
/** Codes of the HTTP layer itself, besides the KsealError codes. */
const HTTP_CODES = new Set(['NOT_FOUND', 'METHOD_NOT_ALLOWED', 'UNSUPPORTED_MEDIA_TYPE', 'RATE_LIMITED', 'NO_KEY', 'REQUEST_ABORTED']);

interface HttpCase {
  readonly file: string;
  readonly method: string;
  readonly path: string;
  readonly contentType?: string;
  /** Pad the body with a YAML comment to exactly this many bytes. */
  readonly padTo?: number;
  /** Send without Content-Length, in 64 KiB chunks. */
  readonly chunked?: boolean;
  /** Send Expect: 100-continue and the body only once the server asks for it. */
  readonly expectContinue?: boolean;
  readonly status: number;
  readonly code?: string;
  readonly why: string;
}
const spec = JSON.parse(readFileSync(join(FAMILY, 'cases.json'), 'utf8')) as { runner: string; cases: HttpCase[] };

const testSealingKey = sealingKey('rsa-2048');
const keys: KeyView = { list: () => [testSealingKey], newest: () => testSealingKey };
const metrics = new ControllerMetrics();
let pool: UnsealPool;
let server: HttpServerHandle;
let logs = '';
const replies: string[] = [];

beforeAll(async () => {
  pool = new UnsealPool({ keys, workers: 1 });
  const logger = createLogger({ level: 'debug', stream: { write: (s: string) => ((logs += s), true) } });
  server = await startHttpServer({ host: '127.0.0.1', port: 0, metricsPort: 0, keys, unsealer: pool, metrics, logger, ready: () => true, verifyRate: { perSecond: 10_000, burst: 10_000 }, limits: { parseTimeoutMs: 120_000 } });
});
afterAll(async () => {
  await server?.close();
  await pool?.close();
});

/** The body of a case: its file, padded with a trailing YAML comment when `padTo` says so. */
function bodyOf(c: HttpCase): Buffer {
  const file = readFileSync(join(FAMILY, c.file));
  if (c.padTo === undefined) return file;
  const head = Buffer.concat([file, Buffer.from('#')]);
  if (head.length + 1 > c.padTo) throw new Error(`${c.file} is longer than padTo`);
  return Buffer.concat([head, Buffer.alloc(c.padTo - head.length - 1, 'x'), Buffer.from('\n')]);
}

interface Reply {
  readonly status: number;
  readonly headers: string;
  readonly body: string;
  /** Whether any byte of the body was sent (an Expect: 100-continue client waits for the go-ahead). */
  readonly bodySent: boolean;
}

/**
 * Sends one request on its own connection and reads the answer until the server closes. The body
 * goes in one write (Content-Length) or as 64 KiB chunks whose terminating chunk follows only if no
 * answer came within 100 ms (so an early 413 is read before anything could reset the connection);
 * with `expectContinue` it waits for 100 Continue first and sends nothing on a final answer.
 */
function send(c: HttpCase, body: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const received: Buffer[] = [];
    let bodySent = false;
    const socket = connect(server.port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to ${c.file}`));
    }, 10_000);
    const text = (): string => Buffer.concat(received).toString('utf8');
    const sendBody = (): void => {
      bodySent = body.length > 0;
      if (c.chunked !== true) {
        socket.write(body);
        return;
      }
      const chunks: Buffer[] = [];
      for (let at = 0; at < body.length; at += 64 * 1024) {
        const chunk = body.subarray(at, at + 64 * 1024);
        chunks.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
      }
      socket.write(Buffer.concat(chunks));
      setTimeout(() => {
        if (received.length === 0 && !socket.destroyed) socket.write('0\r\n\r\n');
      }, 100);
    };
    socket.on('data', (d: Buffer) => {
      received.push(d);
      if (c.expectContinue === true && !bodySent && /^HTTP\/1\.1 100 [^\r]*\r\n\r\n/.test(text())) sendBody();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const all = text().replace(/^(HTTP\/1\.1 100 [^\r]*\r\n\r\n)+/, '');
      const split = all.indexOf('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(all)?.[1] ?? 0);
      resolve({ status, headers: split < 0 ? all : all.slice(0, split), body: split < 0 ? '' : all.slice(split + 4), bodySent });
    });
    socket.on('connect', () => {
      const head = [`${c.method} ${c.path} HTTP/1.1`, 'Host: kseal', 'Connection: close'];
      if (c.contentType !== undefined) head.push(`Content-Type: ${c.contentType}`);
      head.push(c.chunked === true ? 'Transfer-Encoding: chunked' : `Content-Length: ${body.length}`);
      if (c.expectContinue === true) head.push('Expect: 100-continue');
      socket.write(`${head.join('\r\n')}\r\n\r\n`);
      if (c.expectContinue !== true) sendBody();
    });
  });
}

describe(`corpus http: ${spec.cases.length} requests to the controller HTTP API`, () => {
  for (const c of spec.cases) {
    it(`${c.file}: ${c.why} → ${c.status}${c.code === undefined ? '' : ` ${c.code}`}`, async () => {
      const reply = await send(c, bodyOf(c));
      replies.push(reply.headers, reply.body);
      expect(reply.status, reply.body).toBe(c.status);
      if (c.expectContinue === true) expect(reply.bodySent, 'the body was asked for').toBe(c.status === 200 || c.status === 409);
      expect(reply.headers).toMatch(/\r\ncontent-type: /i);
      expect(containsCanary(CANARY, reply.body + reply.headers)).toBe(false);
      expect(reply.body).not.toMatch(/\bat .+:\d+:\d+/);
      if (c.status === 200) {
        if (c.path.startsWith('/v1/rotate')) {
          const rotated = readSealedSecret(readManifests(reply.body, 'reply')[0]?.value, {});
          expect(rotated.metadata).toMatchObject({ name: 'db', namespace: 'app' });
        } else {
          expect(reply.body).toBe('');
        }
        return;
      }
      const answer = JSON.parse(reply.body) as { code: string; message: string };
      expect(Object.keys(answer).sort()).toEqual(['code', 'message']);
      expect(answer.code).toBe(c.code);
      expect(answer.message).toMatch(/^[^\n]+$/);
      if (c.status === 409) expect(answer).toEqual({ code: 'DECRYPT_FAILED', message: 'the SealedSecret cannot be unsealed by this controller' });
      if (c.status === 400) expect(ERROR_CODES[answer.code as ErrorCode]).toBeDefined();
      else if (c.status !== 409 && c.status !== 413) expect(HTTP_CODES.has(answer.code)).toBe(true);
    });
  }
});

describe('corpus http, afterwards', () => {
  it('is a runner-http family whose cases each name a status', () => {
    expect(spec.runner).toBe('http');
    for (const c of spec.cases) expect(c.status >= 200 && c.status < 600, c.file).toBe(true);
  });

  it('still serves: /healthz answers 200 after every case', async () => {
    const reply = await send({ file: '', method: 'GET', path: '/healthz', status: 200, why: '' }, Buffer.alloc(0));
    expect(reply.status).toBe(200);
  });

  it('let no value into responses, logs or metrics', async () => {
    expect(replies.length).toBe(2 * spec.cases.length);
    expect(logs.split('\n').filter((l) => l.includes('"msg":"http request"')).length).toBeGreaterThanOrEqual(spec.cases.length);
    expect(logs).not.toMatch(/http handler failed/);
    expect(containsCanary(CANARY, [logs, ...replies, await metrics.registry.metrics()].join('\n'))).toBe(false);
  });
});
