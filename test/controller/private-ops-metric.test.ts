/**
 * kseal_private_key_operations_total counts each RSA operation once, whether a reconcile or an HTTP
 * verify/rotate asked for it: it equals the worker pool's own count (issue 9, finding 8).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startHttpServer, type HttpServerHandle } from '../../controller/http-server.js';
import { silentLogger } from '../../controller/logger.js';
import type { UnsealPool } from '../../controller/unseal-pool.js';
import type { KubeApiServer } from '../../kube-api/server.js';
import { eventually, sealedObject } from './fixtures.js';
import { applySealed, metricValue, startCluster, startController, waitForReason, type TestController } from './harness.js';

let server: KubeApiServer;
let ctl: TestController;
let http: HttpServerHandle;

beforeAll(async () => {
  server = await startCluster({ withKey: true });
  ctl = startController(server);
  await eventually('key loaded', () => ctl.controller.keys.newest());
  http = await startHttpServer({ host: '127.0.0.1', port: 0, metricsPort: 0, keys: ctl.controller.keys, unsealer: ctl.controller.unsealer, metrics: ctl.options.metrics, logger: silentLogger, ready: () => true, verifyRate: { perSecond: 1000, burst: 1000 } });
});
afterAll(async () => {
  await http?.close();
  await ctl?.stop();
  await server?.close();
});

describe('kseal_private_key_operations_total', () => {
  it('equals the worker pool count after reconciles and HTTP verify and rotate calls', async () => {
    applySealed(server, sealedObject({ name: 'db', namespace: 'app', values: { a: '1', b: '2' } }));
    await waitForReason(server, 'app', 'db', 'Unsealed');
    const body = stringify(sealedObject({ name: 'web', namespace: 'app', values: { x: '1', y: '2', z: '3' } }));
    for (const path of ['/v1/verify', '/v1/rotate']) {
      const res = await fetch(`http://127.0.0.1:${http.port}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/yaml' }, body });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    const pool = ctl.controller.unsealer as UnsealPool;
    expect(pool.privateOps).toBe(2 + 3 + 3);
    expect(await metricValue(ctl.options.metrics.privateKeyOperations)).toBe(pool.privateOps);
  });
});
