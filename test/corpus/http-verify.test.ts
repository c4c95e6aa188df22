/**
 * The sealed-secrets corpus family through the controller's real HTTP API (`POST /v1/verify`) and its
 * real worker-thread unseal pool: every case must get 200 (opens), 409 with the one fixed body (does
 * not open, no reason given) or 400 with the expected error code (not a valid SealedSecret), and no
 * response or log line may carry the canary value.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyView } from '../../controller/contracts.js';
import { startHttpServer, type HttpServerHandle } from '../../controller/http-server.js';
import { createLogger } from '../../controller/logger.js';
import { ControllerMetrics } from '../../controller/metrics.js';
import { UnsealPool } from '../../controller/unseal-pool.js';
import { ERROR_CODES, type ErrorCode } from '../../src/errors.js';
import { containsCanary } from '../helpers/canary.js';
import { sealingKey } from '../controller/fixtures.js';

const CANARY = 'CANARY-corpus-3f9b2c71d5e8a046';
const FAMILY = fileURLToPath(new URL('./sealed-secrets/', import.meta.url));
const spec = JSON.parse(readFileSync(join(FAMILY, 'cases.json'), 'utf8')) as { cases: Array<{ file: string; code: string; why: string }> };

const testSealingKey = sealingKey('rsa-2048');
const keys: KeyView = { list: () => [testSealingKey], newest: () => testSealingKey };
let pool: UnsealPool;
let server: HttpServerHandle;
let logs = '';

beforeAll(async () => {
  pool = new UnsealPool({ keys, workers: 2 });
  const logger = createLogger({ level: 'debug', stream: { write: (s: string) => ((logs += s), true) } });
  server = await startHttpServer({ host: '127.0.0.1', port: 0, metricsPort: 0, keys, unsealer: pool, metrics: new ControllerMetrics(), logger, ready: () => true, verifyRate: { perSecond: 10_000, burst: 10_000 } });
});
afterAll(async () => {
  await server.close();
  await pool.close();
});

function post(body: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/v1/verify', headers: { 'Content-Type': 'application/yaml', 'Content-Length': body.length } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('corpus sealed-secrets through POST /v1/verify', () => {
  for (const c of spec.cases) {
    const family = c.code === 'ok' ? 'ok' : ERROR_CODES[c.code as ErrorCode];
    const expected = family === 'ok' ? 200 : family === 'decrypt' ? 409 : 400;
    it(`${c.file}: ${c.why} → ${expected}`, async () => {
      const reply = await post(readFileSync(join(FAMILY, c.file)));
      expect(reply.status).toBe(expected);
      if (expected === 409) expect(JSON.parse(reply.body)).toEqual({ code: 'DECRYPT_FAILED', message: 'the SealedSecret cannot be unsealed by this controller' });
      if (expected === 400) expect((JSON.parse(reply.body) as { code: string }).code).toBe(c.code);
      expect(containsCanary(CANARY, reply.body)).toBe(false);
    });
  }

  it('logged nothing that carries a value', () => {
    expect(logs).not.toBe('');
    expect(containsCanary(CANARY, logs)).toBe(false);
  });
});
