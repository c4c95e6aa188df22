/**
 * End to end: `kseal-controller` as a real process (dist/kseal-controller.mjs, built by the global
 * setup) against the in-repo API server, or a real cluster when KSEAL_E2E_KUBECONFIG is set. Every
 * step goes through the API, as kubectl would.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate } from '../../src/crypto/certificate.js';
import { eventually, sealedObject } from './fixtures.js';
import {
  createSealed,
  e2eEnv,
  keySecretNames,
  kill,
  leaseHolder,
  readSealed,
  runControllerProcess,
  secretValues,
  waitReady,
  type ControllerProcess,
  type E2eEnv,
} from './e2e-env.js';

let env: E2eEnv;
let processes: ControllerProcess[] = [];

beforeAll(async () => {
  env = await e2eEnv();
});
afterAll(async () => {
  await env?.close();
});
afterEach(async () => {
  await Promise.all(processes.map(kill));
  processes = [];
});

function run(namespace: string, identity: string, extra: string[] = []): ControllerProcess {
  const p = runControllerProcess(env, namespace, identity, extra);
  processes.push(p);
  return p;
}

/** Runs kubectl (v1.32 at /usr/bin/kubectl, as the in-repo API's own suite) against the cluster. */
function kubectl(args: string[], home: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('/usr/bin/kubectl', ['--kubeconfig', env.kubeconfigPath, '--cache-dir', join(home, 'cache'), ...args], { env: { ...process.env, HOME: home }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function certFrom(p: ControllerProcess): Promise<ReturnType<typeof parseCertificate>> {
  const { port } = await p.ports();
  const pem = await eventually('the certificate', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/cert.pem`);
    return res.status === 200 ? res.text() : undefined;
  }, 20_000, 100);
  return parseCertificate(pem);
}

describe(`kseal-controller process (${process.env.KSEAL_E2E_KUBECONFIG ? 'real cluster' : 'in-repo API'})`, () => {
  it('generates a key, serves its certificate and unseals a SealedSecret sealed to it', async () => {
    const ns = await env.namespace('kseal-e2e');
    const app = await env.namespace('kseal-e2e-app');
    const p = run(ns, 'solo');
    const cert = await certFrom(p);
    await createSealed(env, sealedObject({ name: 'db', namespace: app, values: { password: 'e2e-pw' }, cert }));
    await waitReady(env, app, 'db');
    expect(await secretValues(env, app, 'db')).toEqual({ password: 'e2e-pw' });
    expect(await keySecretNames(env, ns)).toHaveLength(1);
  });

  it('stops reconciling, releases the lease and exits 0 on SIGTERM', async () => {
    const ns = await env.namespace('kseal-e2e');
    const p = run(ns, 'graceful');
    await eventually('it leads', async () => (await leaseHolder(env, ns)) === 'graceful', 20_000, 100);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(await leaseHolder(env, ns)).toBe('');
    expect(p.logs()).toContain('"msg":"lease released"');
  });

  it('fails over to the other replica when the leader is killed: no duplicate key, no lost update', async () => {
    const ns = await env.namespace('kseal-e2e');
    const app = await env.namespace('kseal-e2e-app');
    const a = run(ns, 'replica-a');
    const cert = await certFrom(a);
    await eventually('a leads', async () => (await leaseHolder(env, ns)) === 'replica-a', 20_000, 100);
    const b = run(ns, 'replica-b');
    await b.ports();
    for (let i = 0; i < 5; i++) await createSealed(env, sealedObject({ name: `s${i}`, namespace: app, values: { v: `one-${i}` }, cert }));
    for (let i = 0; i < 5; i++) await waitReady(env, app, `s${i}`);

    await kill(a);
    // Changes made while nobody leads must land once the other replica takes over.
    for (let i = 0; i < 5; i++) {
      const current = await readSealed(env, app, `s${i}`);
      const next = sealedObject({ name: `s${i}`, namespace: app, values: { v: `two-${i}` }, cert });
      await env.custom.replaceNamespacedCustomObject({ group: 'kseal.dev', version: 'v1alpha1', plural: 'sealedsecrets', namespace: app, name: `s${i}`, body: { ...current, spec: next.spec } });
    }
    await createSealed(env, sealedObject({ name: 'new-after-failover', namespace: app, values: { v: 'x' }, cert }));
    await eventually('b leads', async () => (await leaseHolder(env, ns)) === 'replica-b', 20_000, 100);
    for (let i = 0; i < 5; i++) await waitReady(env, app, `s${i}`, 2);
    await waitReady(env, app, 'new-after-failover');
    for (let i = 0; i < 5; i++) expect(await secretValues(env, app, `s${i}`)).toEqual({ v: `two-${i}` });
    expect(await keySecretNames(env, ns)).toHaveLength(1);
  });

  it('works with kubectl: apply, wait --for=condition=Ready, get shows Ready and Reason', async () => {
    const ns = await env.namespace('kseal-e2e');
    const app = await env.namespace('kseal-e2e-app');
    const cert = await certFrom(run(ns, 'kubectl-user'));
    const home = mkdtempSync(join(tmpdir(), 'kseal-kubectl-'));
    try {
      const file = join(home, 'sealed.yaml');
      writeFileSync(file, stringify(sealedObject({ name: 'web', namespace: app, values: { token: 't' }, cert })));
      expect((await kubectl(['apply', '-f', file], home)).code).toBe(0);
      const waited = await kubectl(['wait', '--for=condition=Ready', '-n', app, 'sealedsecret/web', '--timeout=30s'], home);
      expect(waited.stderr).toBe('');
      expect(waited.code).toBe(0);
      const got = await kubectl(['get', 'kss', '-n', app, 'web'], home);
      expect(got.stdout).toMatch(/web\s+True\s+Unsealed/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('exits 2 with a message on a bad flag', async () => {
    const ns = 'unused';
    const p = run(ns, 'bad', ['--resync-period', 'soon']);
    expect(await p.exited).toBe(2);
    expect(p.logs()).toContain('invalid duration');
  });
});
