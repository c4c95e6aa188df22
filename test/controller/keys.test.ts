/**
 * Sealing keys end to end against the in-repo API: generation when none exists (once, even with
 * two replicas and a flaky API), renewal with the old key kept, and key Secrets added, relabelled or
 * deleted by people taking effect live.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseCertificate } from '../../src/crypto/certificate.js';
import type { KubeApiServer } from '../../kube-api/server.js';
import { testKey } from '../helpers/keys.js';
import { eventually, sealedObject } from './fixtures.js';
import { applySealed, CONTROLLER_NS, keySecretObject, keySecrets, startCluster, startController, waitForReason, type TestController } from './harness.js';

let server: KubeApiServer | undefined;
let controllers: TestController[] = [];

afterEach(async () => {
  await Promise.all(controllers.map((c) => c.stop()));
  controllers = [];
  await server?.close();
  server = undefined;
});

function start(overrides: Parameters<typeof startController>[1] = {}): TestController {
  const c = startController(server!, overrides);
  controllers.push(c);
  return c;
}

describe('keys', () => {
  it('generates one RSA key with a self-signed certificate when none exists', async () => {
    server = await startCluster();
    const ctl = start({ keySize: 2048, commonName: 'my-cn', keyTtlMs: 10 * 86_400_000 });
    const key = await eventually('a key', () => ctl.controller.keys.newest(), 15_000);
    const secrets = keySecrets(server);
    expect(secrets).toHaveLength(1);
    expect(secrets[0]!.type).toBe('kubernetes.io/tls');
    const cert = parseCertificate(key.certificatePem);
    expect(cert.bits).toBe(2048);
    expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBe(10 * 86_400_000);
    expect(key.certificatePem).toContain('BEGIN CERTIFICATE');
  });

  it('creates exactly one key when two replicas start on an empty cluster', async () => {
    server = await startCluster();
    const a = start();
    const b = start();
    await eventually('both see a key', () => a.controller.keys.newest() !== undefined && b.controller.keys.newest() !== undefined, 15_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(keySecrets(server)).toHaveLength(1);
  });

  it('creates no extra key when the API fails while listing keys', async () => {
    server = await startCluster();
    server.faults.failNext({ method: 'GET', path: `namespaces/${CONTROLLER_NS}/secrets`, status: 500, count: 3 });
    const ctl = start();
    await eventually('a key', () => ctl.controller.keys.newest(), 15_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(keySecrets(server)).toHaveLength(1);
  });

  it('does not generate a key when one exists', async () => {
    server = await startCluster({ withKey: true });
    const ctl = start();
    await eventually('the key loaded and leading', () => ctl.controller.isLeader() && ctl.controller.keys.newest());
    await new Promise((r) => setTimeout(r, 300));
    expect(keySecrets(server).map((s) => s.metadata.name)).toEqual(['kseal-key-test']);
  });

  it('renews the key every renew period, keeping the old ones for unsealing', async () => {
    server = await startCluster({ withKey: true });
    const ctl = start({ renewPeriodMs: 2000 });
    // The test key's certificate dates from 2020: a renewal is due at once.
    await eventually('a renewed key', () => ctl.controller.keys.list().length === 2, 15_000);
    const newest = ctl.controller.keys.newest()!;
    expect(newest.secretName).not.toBe('kseal-key-test');
    await eventually('another renewal after the period', () => ctl.controller.keys.list().length === 3, 15_000);
    // Values sealed with the oldest key still unseal.
    applySealed(server, sealedObject({ name: 'old', namespace: 'app', values: { a: 'x' } }));
    await waitForReason(server, 'app', 'old', 'Unsealed');
  });

  it('generates a new key at start when the newest is older than the cutoff time', async () => {
    server = await startCluster({ withKey: true });
    const ctl = start({ cutoffTime: new Date('2021-01-01T00:00:00Z') });
    await eventually('a new key', () => ctl.controller.keys.list().length === 2, 15_000);
  });

  it('takes key Secrets added, relabelled and deleted by people into account live', async () => {
    server = await startCluster({ withKey: true });
    const ctl = start();
    await eventually('one key', () => ctl.controller.keys.list().length === 1);
    server.store.create(keySecretObject('added-by-hand', 'rsa-4096'));
    await eventually('two keys', () => ctl.controller.keys.list().length === 2);
    const added = server.store.get('v1', 'Secret', 'added-by-hand', CONTROLLER_NS)!;
    server.store.update({ ...added, metadata: { ...(added['metadata'] as object), labels: { 'kseal.dev/sealing-key': 'retired' } } });
    await eventually('relabelled key dropped', () => ctl.controller.keys.list().length === 1);
    expect(ctl.controller.keys.get(testKey('rsa-4096').certificate.keyId)).toBeUndefined();
    server.store.delete('v1', 'Secret', 'kseal-key-test', CONTROLLER_NS);
    // With no key left, the leader generates one.
    await eventually('a generated key', () => ctl.controller.keys.newest()?.secretName.startsWith('kseal-key-') && ctl.controller.keys.newest()?.secretName !== 'kseal-key-test', 15_000);
  });

  it('serves keys on followers too', async () => {
    server = await startCluster({ withKey: true });
    const a = start();
    await eventually('a leads', () => a.controller.isLeader());
    const b = start();
    await eventually('b has the key', () => b.controller.keys.newest() !== undefined && b.controller.ready());
    expect(b.controller.isLeader()).toBe(false);
  });
});
