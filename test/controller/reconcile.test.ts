/**
 * The reconcile rules, in-process against the in-repo API server with a real client-node: every
 * Ready reason, ownership and take-over rules, zero-cost restarts, status and Event hygiene, and no
 * value anywhere it must not be.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeApiServer } from '../../kube-api/server.js';
import { testKey } from '../helpers/keys.js';
import { containsCanary, newCanary } from '../helpers/canary.js';
import { eventually, sealedObject } from './fixtures.js';
import {
  applySealed,
  keySecretObject,
  metricValue,
  readyOf,
  sealedOf,
  secretOf,
  startCluster,
  startController,
  valuesOf,
  waitForReason,
  type TestController,
} from './harness.js';

let server: KubeApiServer | undefined;
let controllers: TestController[] = [];

afterEach(async () => {
  await Promise.all(controllers.map((c) => c.stop()));
  controllers = [];
  await server?.close();
  server = undefined;
});

async function setup(options: Parameters<typeof startCluster>[0] = { withKey: true }, overrides: Parameters<typeof startController>[1] = {}) {
  server = await startCluster(options);
  const ctl = startController(server, overrides);
  controllers.push(ctl);
  return { server, ctl };
}

function events(s: KubeApiServer, namespace: string): Array<{ reason: string; type: string; message: string; count: number; involvedObject: { name: string } }> {
  return s.store.list('v1', 'Event', namespace) as never;
}

describe('reconcile', () => {
  it('creates the Secret from the template with an ownerReference and the managed-by label, and reports Ready', async () => {
    const { server, ctl } = await setup();
    const obj = applySealed(server, sealedObject({ name: 'db', namespace: 'app', values: { user: 'admin', password: 'pw' }, type: 'kubernetes.io/basic-auth', labels: { team: 'a' }, annotations: { note: 'x' } }));
    const ready = await waitForReason(server, 'app', 'db', 'Unsealed');
    expect(ready).toMatchObject({ status: 'True', observedGeneration: 1 });
    const secret = secretOf(server, 'app', 'db')!;
    expect(valuesOf(secret)).toEqual({ password: 'pw', user: 'admin' });
    expect(secret.type).toBe('kubernetes.io/basic-auth');
    expect(secret.metadata.labels).toEqual({ team: 'a', 'kseal.dev/managed-by': 'kseal-controller' });
    expect(secret.metadata.annotations?.note).toBe('x');
    expect(secret.metadata.ownerReferences).toEqual([
      { apiVersion: 'kseal.dev/v1alpha1', kind: 'SealedSecret', name: 'db', uid: obj.metadata.uid, controller: true, blockOwnerDeletion: true },
    ]);
    expect((sealedOf(server, 'app', 'db') as { status?: { observedGeneration?: number } }).status?.observedGeneration).toBe(1);
    expect(await metricValue(ctl.options.metrics.privateKeyOperations)).toBe(2);
  });

  it('writes an immutable Secret when the template says so', async () => {
    const { server } = await setup();
    applySealed(server, sealedObject({ name: 'frozen', namespace: 'app', values: { a: '1' }, immutable: true }));
    await waitForReason(server, 'app', 'frozen', 'Unsealed');
    expect(secretOf(server, 'app', 'frozen')?.immutable).toBe(true);
  });

  it('honours namespace-wide, cluster-wide and Bitnami scope annotations from the object itself', async () => {
    const { server } = await setup();
    applySealed(server, sealedObject({ name: 'nsw', namespace: 'app', values: { a: 'n' }, scope: 'namespace-wide' }));
    applySealed(server, sealedObject({ name: 'cw', namespace: 'app', values: { a: 'c' }, scope: 'cluster-wide' }));
    const bitnamiStyle = sealedObject({ name: 'bn', namespace: 'app', values: { a: 'b' }, scope: 'cluster-wide' });
    delete bitnamiStyle.metadata.annotations!['kseal.dev/scope'];
    bitnamiStyle.metadata.annotations!['sealedsecrets.bitnami.com/cluster-wide'] = 'true';
    applySealed(server, bitnamiStyle);
    for (const name of ['nsw', 'cw', 'bn']) await waitForReason(server, 'app', name, 'Unsealed');
    expect(valuesOf(secretOf(server, 'app', 'bn'))).toEqual({ a: 'b' });
  });

  it('writes nothing when one value does not unseal, names the key, and never shows a value', async () => {
    const { server, ctl } = await setup();
    const canary = newCanary();
    const good = sealedObject({ name: 'mixed', namespace: 'app', values: { fine: canary } });
    const bad = sealedObject({ name: 'mixed', namespace: 'app', values: { broken: canary }, cert: testKey('rsa-4096').certificate });
    applySealed(server, { ...good, spec: { ...good.spec, encryptedData: { ...good.spec.encryptedData, ...bad.spec.encryptedData } } });
    const ready = await waitForReason(server, 'app', 'mixed', 'DecryptFailed');
    expect(ready.status).toBe('False');
    expect(ready.message).toContain('key "broken"');
    expect(secretOf(server, 'app', 'mixed')).toBeUndefined();
    await eventually('a Warning event', () => events(server, 'app').find((e) => e.reason === 'DecryptFailed'));
    const everything = [ctl.logs(), JSON.stringify(server.store.list('v1', 'Event', 'app')), JSON.stringify(sealedOf(server, 'app', 'mixed')), await ctl.options.metrics.registry.metrics()].join('\n');
    expect(containsCanary(canary, everything)).toBe(false);
  });

  it('does not retry a DecryptFailed object in a loop', async () => {
    const { server, ctl } = await setup();
    applySealed(server, sealedObject({ name: 'other-key', namespace: 'app', values: { a: 'x' }, cert: testKey('rsa-4096').certificate }));
    await waitForReason(server, 'app', 'other-key', 'DecryptFailed');
    const ops = await metricValue(ctl.options.metrics.privateKeyOperations);
    await new Promise((r) => setTimeout(r, 500));
    expect(await metricValue(ctl.options.metrics.privateKeyOperations)).toBe(ops);
  });

  it('unseals a DecryptFailed object as soon as the missing key is added, without a restart', async () => {
    const { server } = await setup();
    applySealed(server, sealedObject({ name: 'later', namespace: 'app', values: { a: 'x' }, cert: testKey('rsa-4096').certificate }));
    await waitForReason(server, 'app', 'later', 'DecryptFailed');
    server.store.create(keySecretObject('restored-key', 'rsa-4096'));
    await waitForReason(server, 'app', 'later', 'Unsealed');
    expect(valuesOf(secretOf(server, 'app', 'later'))).toEqual({ a: 'x' });
  });

  it('reports InvalidSpec for contradicting scope annotations and Go templates', async () => {
    const { server } = await setup();
    const contradicting = sealedObject({ name: 'bad-scope', namespace: 'app', values: { a: 'x' } });
    contradicting.metadata.annotations!['sealedsecrets.bitnami.com/cluster-wide'] = 'true';
    applySealed(server, contradicting);
    const templated = sealedObject({ name: 'templated', namespace: 'app', values: { a: 'x' } });
    applySealed(server, { ...templated, spec: { ...templated.spec, template: { ...templated.spec.template, data: { url: 'http://{{ .a }}' } } } });
    expect((await waitForReason(server, 'app', 'bad-scope', 'InvalidSpec')).message).toMatch(/scope/);
    expect((await waitForReason(server, 'app', 'templated', 'InvalidSpec')).message).toMatch(/key "url".*Go template/);
  });

  it('reports NoKeys until a key exists, then unseals', async () => {
    const { server } = await setup({}, { generateKey: () => new Promise(() => undefined) });
    applySealed(server, sealedObject({ name: 'early', namespace: 'app', values: { a: 'x' } }));
    await waitForReason(server, 'app', 'early', 'NoKeys');
    server.store.create(keySecretObject('kseal-key-test'));
    await waitForReason(server, 'app', 'early', 'Unsealed');
  });

  it('updates the Secret when the SealedSecret changes and records the new generation', async () => {
    const { server } = await setup();
    applySealed(server, sealedObject({ name: 'db', namespace: 'app', values: { a: 'one' } }));
    await waitForReason(server, 'app', 'db', 'Unsealed');
    const current = sealedOf(server, 'app', 'db')!;
    const next = sealedObject({ name: 'db', namespace: 'app', values: { a: 'two', b: 'new' } });
    server.store.update({ ...current, spec: next.spec } as never);
    await eventually('generation 2 observed', () => readyOf(server, 'app', 'db')?.observedGeneration === 2);
    expect(valuesOf(secretOf(server, 'app', 'db'))).toEqual({ a: 'two', b: 'new' });
  });

  it('recreates a deleted Secret', async () => {
    const { server } = await setup();
    applySealed(server, sealedObject({ name: 'db', namespace: 'app', values: { a: 'x' } }));
    await waitForReason(server, 'app', 'db', 'Unsealed');
    server.store.delete('v1', 'Secret', 'db', 'app');
    await eventually('Secret recreated', () => secretOf(server, 'app', 'db'));
    expect(valuesOf(secretOf(server, 'app', 'db'))).toEqual({ a: 'x' });
  });

  it('restores a hand-edited value (the integrity HMAC no longer matches)', async () => {
    const { server } = await setup();
    applySealed(server, sealedObject({ name: 'db', namespace: 'app', values: { a: 'original' } }));
    await waitForReason(server, 'app', 'db', 'Unsealed');
    const secret = secretOf(server, 'app', 'db')!;
    server.store.update({ ...secret, data: { a: Buffer.from('tampered').toString('base64') } } as never);
    await eventually('value restored', () => valuesOf(secretOf(server, 'app', 'db')).a === 'original');
  });

  it('reconciles from the object the watch delivered, and reads a reconciled one again only when its Secret drifts', async () => {
    const { server } = await setup();
    applySealed(server, sealedObject({ name: 'db', namespace: 'app', values: { a: 'original' } }));
    await waitForReason(server, 'app', 'db', 'Unsealed');
    const reads = (): number => server.stats.count({ resource: 'sealedsecrets.kseal.dev', verb: 'get' });
    expect(reads()).toBe(0);
    const secret = secretOf(server, 'app', 'db')!;
    server.store.update({ ...secret, data: { a: Buffer.from('tampered').toString('base64') } } as never);
    await eventually('value restored', () => valuesOf(secretOf(server, 'app', 'db')).a === 'original');
    expect(reads()).toBe(1);
  });

  it('leaves a Secret it does not own untouched and says SecretConflict', async () => {
    const { server } = await setup();
    server.store.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'app' }, data: { mine: Buffer.from('keep').toString('base64') } });
    applySealed(server, sealedObject({ name: 'db', namespace: 'app', values: { a: 'x' } }));
    const ready = await waitForReason(server, 'app', 'db', 'SecretConflict');
    expect(ready.message).toContain('kseal.dev/managed');
    expect(valuesOf(secretOf(server, 'app', 'db'))).toEqual({ mine: 'keep' });
  });

  it('takes over an existing Secret annotated kseal.dev/managed', async () => {
    const { server } = await setup();
    server.store.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'app', annotations: { 'kseal.dev/managed': 'true' } }, data: { old: 'b2xk' } });
    const obj = applySealed(server, sealedObject({ name: 'db', namespace: 'app', values: { a: 'x' } }));
    await waitForReason(server, 'app', 'db', 'Unsealed');
    const secret = secretOf(server, 'app', 'db')!;
    expect(valuesOf(secret)).toEqual({ a: 'x' });
    expect(secret.metadata.ownerReferences?.[0]?.uid).toBe(obj.metadata.uid);
  });

  it('merges its keys into an existing Secret annotated kseal.dev/patch, leaving the others', async () => {
    const { server } = await setup();
    server.store.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'app', labels: { own: 'yes' }, annotations: { 'kseal.dev/patch': 'true' } }, data: { keep: Buffer.from('k').toString('base64'), a: Buffer.from('old').toString('base64') } });
    applySealed(server, sealedObject({ name: 'db', namespace: 'app', values: { a: 'new' } }));
    await waitForReason(server, 'app', 'db', 'Unsealed');
    const secret = secretOf(server, 'app', 'db')!;
    expect(valuesOf(secret)).toEqual({ a: 'new', keep: 'k' });
    expect(secret.metadata.labels?.own).toBe('yes');
    expect(secret.metadata.ownerReferences ?? []).toEqual([]);
  });

  it('says SecretImmutable when an immutable Secret would need new data', async () => {
    const { server } = await setup();
    applySealed(server, sealedObject({ name: 'frozen', namespace: 'app', values: { a: 'one' }, immutable: true }));
    await waitForReason(server, 'app', 'frozen', 'Unsealed');
    const current = sealedOf(server, 'app', 'frozen')!;
    server.store.update({ ...current, spec: sealedObject({ name: 'frozen', namespace: 'app', values: { a: 'two' }, immutable: true }).spec } as never);
    const ready = await waitForReason(server, 'app', 'frozen', 'SecretImmutable');
    expect(ready.message).toContain('immutable');
    expect(valuesOf(secretOf(server, 'app', 'frozen'))).toEqual({ a: 'one' });
  });

  it('writes no ownerReference when the template says kseal.dev/skip-owner-reference, and still manages the Secret', async () => {
    const { server } = await setup();
    applySealed(server, sealedObject({ name: 'loose', namespace: 'app', values: { a: 'one' }, annotations: { 'kseal.dev/skip-owner-reference': 'true' } }));
    await waitForReason(server, 'app', 'loose', 'Unsealed');
    expect(secretOf(server, 'app', 'loose')?.metadata.ownerReferences).toBeUndefined();
    const current = sealedOf(server, 'app', 'loose')!;
    const next = sealedObject({ name: 'loose', namespace: 'app', values: { a: 'two' }, annotations: { 'kseal.dev/skip-owner-reference': 'true' } });
    server.store.update({ ...current, spec: next.spec } as never);
    await eventually('updated', () => valuesOf(secretOf(server, 'app', 'loose')).a === 'two');
  });

  it('lets the garbage collector delete the Secret with its SealedSecret', async () => {
    const { server } = await setup();
    applySealed(server, sealedObject({ name: 'db', namespace: 'app', values: { a: 'x' } }));
    await waitForReason(server, 'app', 'db', 'Unsealed');
    server.store.delete('kseal.dev/v1alpha1', 'SealedSecret', 'db', 'app');
    await eventually('Secret collected', () => secretOf(server, 'app', 'db') === undefined);
  });

  it('emits Normal Unsealed once, and writes status only when it changes', async () => {
    const { server, ctl } = await setup({ withKey: true }, { resyncMs: 100 });
    applySealed(server, sealedObject({ name: 'db', namespace: 'app', values: { a: 'x' } }));
    await waitForReason(server, 'app', 'db', 'Unsealed');
    await new Promise((r) => setTimeout(r, 600)); // several resyncs
    const stats = server.stats.snapshot().byResource;
    expect(stats['sealedsecrets.kseal.dev/status']?.patch).toBe(1);
    expect((stats['secrets']?.create ?? 0) + (stats['secrets']?.update ?? 0)).toBe(1);
    expect(events(server, 'app').filter((e) => e.reason === 'Unsealed')).toHaveLength(1);
    expect(await metricValue(ctl.options.metrics.privateKeyOperations)).toBe(1);
  });

  it('tries the key named by the hint first: one private operation per value with several keys', async () => {
    const { server, ctl } = await setup({ withKey: true, objects: [keySecretObject('second', 'rsa-4096')] });
    applySealed(server, sealedObject({ name: 'db', namespace: 'app', values: { a: '1', b: '2', c: '3' } }));
    await waitForReason(server, 'app', 'db', 'Unsealed');
    expect(await metricValue(ctl.options.metrics.privateKeyOperations)).toBe(3);
  });

  it('costs no private-key operation and no write on restart when the Secrets are current', async () => {
    const { server, ctl } = await setup();
    for (let i = 0; i < 5; i++) applySealed(server, sealedObject({ name: `s${i}`, namespace: 'app', values: { a: `${i}`, b: 'x' } }));
    for (let i = 0; i < 5; i++) await waitForReason(server, 'app', `s${i}`, 'Unsealed');
    await ctl.stop();
    controllers = [];
    server.stats.reset();
    const next = startController(server);
    controllers.push(next);
    await eventually('second controller done', () => next.controller.isLeader() && next.controller.idle(), 10_000);
    expect(await metricValue(next.options.metrics.privateKeyOperations)).toBe(0);
    const stats = server.stats.snapshot().byResource;
    expect(stats['secrets']?.update ?? 0).toBe(0);
    expect(stats['secrets']?.create ?? 0).toBe(0);
    expect(stats['sealedsecrets.kseal.dev/status']?.patch ?? 0).toBe(0);
    await eventually('the key usage line', () => /"msg":"key usage".*"sealedSecrets":5/.test(next.logs()));
  });

  it('watches only the Secrets it manages', async () => {
    const { server } = await setup();
    for (let i = 0; i < 20; i++) server.store.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `unrelated-${i}`, namespace: 'app' }, data: { a: 'eA==' } });
    applySealed(server, sealedObject({ name: 'db', namespace: 'app', values: { a: 'x' } }));
    await waitForReason(server, 'app', 'db', 'Unsealed');
    const managed = (controllers[0]!.controller as unknown as { secrets: { size: number } }).secrets.size;
    expect(managed).toBe(1);
  });

  it('reports per key how many SealedSecrets it unseals', async () => {
    const { server, ctl } = await setup({ withKey: true, objects: [keySecretObject('unused', 'rsa-4096')] });
    applySealed(server, sealedObject({ name: 'a', namespace: 'app', values: { a: 'x' } }));
    applySealed(server, sealedObject({ name: 'b', namespace: 'app', values: { a: 'x' } }));
    await waitForReason(server, 'app', 'a', 'Unsealed');
    await waitForReason(server, 'app', 'b', 'Unsealed');
    expect(ctl.controller.usage.count(testKey('rsa-2048').certificate.keyId)).toBe(2);
    expect(ctl.controller.usage.count(testKey('rsa-4096').certificate.keyId)).toBe(0);
  });
});

