/**
 * kseal-controller as a real process (dist/kseal-controller.mjs) against a real API server, as
 * its ServiceAccount with exactly the deploy's RBAC: key generation, unsealing, status, Events,
 * update, SIGTERM. The harness fails any test in which the controller got a 403.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { containsCanary, newCanary } from '../helpers/canary.js';
import { sealedObject } from '../controller/fixtures.js';
import { eventually, useE2e } from './cluster/e2e.js';
import { certFrom, createSealed, eventsFor, keySecretNames, leaseHolder, readSealed, readSecret, readyCondition, replaceSpec, secretValues, waitReady } from './cluster/objects.js';

const e2e = useE2e();

/** Runs kubectl (the machine's, as a user would) with the admin kubeconfig. */
function kubectl(args: string[], home: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('kubectl', ['--kubeconfig', e2e.ctx.kubeconfigPath, '--cache-dir', join(home, 'cache'), ...args], { env: { ...process.env, HOME: home, KUBECONFIG: '' }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('kseal-controller against a real API server, under its deploy RBAC', () => {
  it('generates one key Secret in its namespace and serves that key\'s certificate', async () => {
    const ctl = await e2e.controllerNamespace();
    const p = e2e.run(ctl, 'solo');
    const cert = await certFrom(p);
    const keys = await keySecretNames(e2e, ctl.namespace);
    expect(keys).toHaveLength(1);
    const key = await readSecret(e2e, ctl.namespace, keys[0]!);
    expect(key?.type).toBe('kubernetes.io/tls');
    expect(Buffer.from(key?.data?.['tls.crt'] ?? '', 'base64').toString('utf8')).toContain('BEGIN CERTIFICATE');
    expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it('unseals a SealedSecret into a Secret it owns, with Ready=True and an Unsealed Event', async () => {
    const ctl = await e2e.controllerNamespace();
    const app = await e2e.namespace('kseal-app');
    const p = e2e.run(ctl, 'unsealer');
    const cert = await certFrom(p);
    const canary = newCanary();
    await createSealed(e2e, sealedObject({ name: 'db', namespace: app, values: { password: canary, user: 'app' }, cert }));
    await waitReady(e2e, app, 'db');
    expect(await secretValues(e2e, app, 'db')).toEqual({ password: canary, user: 'app' });
    const sealed = await readSealed(e2e, app, 'db');
    const secret = await readSecret(e2e, app, 'db');
    expect(secret?.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'SealedSecret', name: 'db', uid: sealed.metadata.uid, controller: true })]);
    const ready = await readyCondition(e2e, app, 'db');
    expect(ready).toMatchObject({ status: 'True', reason: 'Unsealed', observedGeneration: 1 });
    expect(sealed.status?.observedGeneration).toBe(1);
    const events = await eventually('an Unsealed event', async () => {
      const list = await eventsFor(e2e, app, 'db');
      return list.some((ev) => ev.reason === 'Unsealed') ? list : undefined;
    });
    expect(events.find((ev) => ev.reason === 'Unsealed')).toMatchObject({ type: 'Normal', involvedObject: { kind: 'SealedSecret', name: 'db', uid: sealed.metadata.uid } });
    expect(containsCanary(canary, JSON.stringify({ events, status: sealed.status, logs: p.logs() }))).toBe(false);
  });

  it('applies a changed spec: the Secret follows and Ready moves to the new generation', async () => {
    const ctl = await e2e.controllerNamespace();
    const app = await e2e.namespace('kseal-app');
    const cert = await certFrom(e2e.run(ctl, 'updater'));
    await createSealed(e2e, sealedObject({ name: 'api', namespace: app, values: { token: 'one' }, cert }));
    await waitReady(e2e, app, 'api');
    await replaceSpec(e2e, app, 'api', sealedObject({ name: 'api', namespace: app, values: { token: 'two', extra: 'x' }, cert }).spec);
    await waitReady(e2e, app, 'api', 2);
    expect(await secretValues(e2e, app, 'api')).toEqual({ token: 'two', extra: 'x' });
  });

  it('reports Ready=False with a Warning Event for a SealedSecret no key of it can open', async () => {
    const ctl = await e2e.controllerNamespace();
    const app = await e2e.namespace('kseal-app');
    const p = e2e.run(ctl, 'refuser');
    await certFrom(p);
    // Sealed to the repository's RSA-2048 test key, which this controller does not hold.
    await createSealed(e2e, sealedObject({ name: 'foreign', namespace: app, values: { v: 'x' } }));
    const ready = await eventually('Ready=False', async () => {
      const c = await readyCondition(e2e, app, 'foreign');
      return c?.status === 'False' ? c : undefined;
    });
    expect(ready.reason).not.toBe('');
    expect(await secretValues(e2e, app, 'foreign')).toBeUndefined();
    const warning = await eventually('a Warning event', async () => (await eventsFor(e2e, app, 'foreign')).find((ev) => ev.type === 'Warning'));
    expect(warning.reason).toMatch(/^[A-Z][A-Za-z]+$/);
  });

  it('works with kubectl: apply, wait --for=condition=Ready, get shows Ready and the reason', async () => {
    const ctl = await e2e.controllerNamespace();
    const app = await e2e.namespace('kseal-app');
    const cert = await certFrom(e2e.run(ctl, 'kubectl-user'));
    const home = mkdtempSync(join(e2e.tmp, 'kubectl-'));
    try {
      const file = join(home, 'sealed.yaml');
      writeFileSync(file, stringify(sealedObject({ name: 'web', namespace: app, values: { token: 't' }, cert })));
      const applied = await kubectl(['apply', '-f', file], home);
      expect(applied.stderr).toBe('');
      expect(applied.code).toBe(0);
      const waited = await kubectl(['wait', '--for=condition=Ready', '-n', app, 'sealedsecret/web', '--timeout=60s'], home);
      expect(waited.code).toBe(0);
      const got = await kubectl(['get', 'kss', '-n', app, 'web'], home);
      expect(got.stdout).toMatch(/web\s+True\s+Unsealed/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('releases the lease and exits 0 on SIGTERM', async () => {
    const ctl = await e2e.controllerNamespace();
    const p = e2e.run(ctl, 'graceful');
    await eventually('it leads', async () => (await leaseHolder(e2e, ctl.namespace)) === 'graceful');
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(await leaseHolder(e2e, ctl.namespace)).toBe('');
  });
});
