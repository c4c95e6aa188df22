/**
 * `Controller.stop()` must return whatever state start-up is in. A leader waits for its caches'
 * first lists before it reconciles; when those lists are refused (RBAC, a wrong --watch-namespaces)
 * they never come, and stop() used to wait for them forever.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeApiServer } from '../../kube-api/server.js';
import { eventually } from './fixtures.js';
import { keySecretObject, startCluster, startController, type TestController } from './harness.js';

let server: KubeApiServer | undefined;
let ctl: TestController | undefined;

afterEach(async () => {
  await ctl?.stop();
  await server?.close();
  ctl = undefined;
  server = undefined;
});

describe('Controller.stop()', () => {
  it('returns while the replica leads and every list of SealedSecrets is refused', async () => {
    server = await startCluster({ objects: [keySecretObject('kseal-key-test')] });
    server.faults.failNext({ method: 'GET', path: /sealedsecrets(?!.*watch=)/, status: 403, count: 1_000_000 });
    const started = startController(server);
    await eventually('the replica leads', () => started.controller.isLeader());
    await eventually('a refused SealedSecret list', () => started.logs().includes('http-403'));
    let stopped = false;
    const stopping = started.stop().then(() => (stopped = true));
    await eventually('stop() returned', () => stopped, 10_000);
    await stopping;
    expect(started.controller.ready()).toBe(false);
  });
});
