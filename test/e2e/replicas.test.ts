/**
 * Two controller replicas against a real API server: one leads through the Lease, the other takes
 * over after a SIGKILL with no duplicate key and no lost update; and the real garbage collector
 * (kube-controller-manager) removes the Secrets the controller owns with their SealedSecret.
 */
import { describe, expect, it } from 'vitest';
import { sealedObject } from '../controller/fixtures.js';
import { eventually, useE2e } from './cluster/e2e.js';
import { certFrom, createSealed, deleteSealed, keySecretNames, leaseHolder, readSecret, replaceSpec, secretValues, waitReady } from './cluster/objects.js';

const e2e = useE2e();

describe('two replicas and the garbage collector on a real control plane', () => {
  it('fails over to the other replica after SIGKILL of the leader: one key, no lost update', async () => {
    const ctl = await e2e.controllerNamespace();
    const app = await e2e.namespace('kseal-app');
    const a = e2e.run(ctl, 'replica-a');
    const cert = await certFrom(a);
    await eventually('a leads', async () => (await leaseHolder(e2e, ctl.namespace)) === 'replica-a');
    const b = e2e.run(ctl, 'replica-b');
    // The follower serves the same certificate (it watches the keys too) but does not reconcile.
    expect((await certFrom(b)).pem).toBe(cert.pem);
    for (let i = 0; i < 5; i++) await createSealed(e2e, sealedObject({ name: `s${i}`, namespace: app, values: { v: `one-${i}` }, cert }));
    for (let i = 0; i < 5; i++) await waitReady(e2e, app, `s${i}`);

    await a.kill();
    // Changes made while nobody leads land once the other replica takes over.
    for (let i = 0; i < 5; i++) await replaceSpec(e2e, app, `s${i}`, sealedObject({ name: `s${i}`, namespace: app, values: { v: `two-${i}` }, cert }).spec);
    await createSealed(e2e, sealedObject({ name: 'after-failover', namespace: app, values: { v: 'x' }, cert }));
    await eventually('b leads', async () => (await leaseHolder(e2e, ctl.namespace)) === 'replica-b');
    for (let i = 0; i < 5; i++) await waitReady(e2e, app, `s${i}`, 2);
    await waitReady(e2e, app, 'after-failover');
    for (let i = 0; i < 5; i++) expect(await secretValues(e2e, app, `s${i}`)).toEqual({ v: `two-${i}` });
    expect(await keySecretNames(e2e, ctl.namespace)).toHaveLength(1);
  });

  it('two replicas started together elect one leader and generate one key', async () => {
    const ctl = await e2e.controllerNamespace();
    const a = e2e.run(ctl, 'twin-a');
    const b = e2e.run(ctl, 'twin-b');
    const [ca, cb] = await Promise.all([certFrom(a), certFrom(b)]);
    expect(ca.pem).toBe(cb.pem);
    expect(['twin-a', 'twin-b']).toContain(await leaseHolder(e2e, ctl.namespace));
    expect(await keySecretNames(e2e, ctl.namespace)).toHaveLength(1);
  });

  it('the garbage collector deletes the owned Secret with its SealedSecret, and leaves an unowned one alone', async () => {
    const ctl = await e2e.controllerNamespace();
    const app = await e2e.namespace('kseal-app');
    const cert = await certFrom(e2e.run(ctl, 'gc'));
    await createSealed(e2e, sealedObject({ name: 'owned', namespace: app, values: { v: '1' }, cert }));
    await e2e.core.createNamespacedSecret({ namespace: app, body: { metadata: { name: 'bystander' }, stringData: { v: 'keep' } } });
    await waitReady(e2e, app, 'owned');
    expect(await readSecret(e2e, app, 'owned')).toBeDefined();
    await deleteSealed(e2e, app, 'owned');
    await eventually('the owned Secret collected', async () => (await readSecret(e2e, app, 'owned')) === undefined, 60_000, 200);
    expect(await secretValues(e2e, app, 'bystander')).toEqual({ v: 'keep' });
  });

  it('the namespace controller removes a namespace with SealedSecrets and Secrets in it', async () => {
    const ctl = await e2e.controllerNamespace();
    const app = await e2e.namespace('kseal-app');
    const cert = await certFrom(e2e.run(ctl, 'ns-delete'));
    await createSealed(e2e, sealedObject({ name: 'x', namespace: app, values: { v: '1' }, cert }));
    await waitReady(e2e, app, 'x');
    await e2e.core.deleteNamespace({ name: app });
    await eventually(`namespace ${app} gone`, async () => {
      try {
        await e2e.core.readNamespace({ name: app });
        return false;
      } catch (e) {
        return (e as { code?: number }).code === 404;
      }
    }, 90_000, 250);
  });
});
