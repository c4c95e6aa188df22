/**
 * Byte compatibility with Bitnami Sealed Secrets, proved against Bitnami's own code on the real
 * control plane: its controller and kubeseal built from its Go module (`npm run peer:build`),
 * its CRD from the module source (control-plane/bitnami.ts). kseal's CLI seals for the
 * certificate Bitnami's controller generated and serves, and Bitnami's controller unseals it;
 * Bitnami's kubeseal seals, and kseal's CLI opens it with the key Bitnami generated.
 * Skipped, saying why, when the peer is not built (CI does not build it) or cannot run here.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bitnamiBinary, bitnamiIdentity, bitnamiUnavailable, installBitnamiCrd, startBitnami, type BitnamiController } from '../../control-plane/bitnami.js';
import { newCanary } from '../helpers/canary.js';
import { eventually, useE2e } from './cluster/e2e.js';
import { secretValues } from './cluster/objects.js';

const KSEAL = resolve('dist/kseal.cjs');
const PEER_NAMESPACE = 'bitnami-peer';
const unavailable = bitnamiUnavailable();
if (unavailable !== '') console.log(`[e2e] skipping the Bitnami peer tests: ${unavailable}`);

/** Runs a program with `input` on stdin; resolves with its exit code and output. */
function run(bin: string, args: readonly string[], input: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(bin, [...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

describe.skipIf(unavailable !== '')('Bitnami Sealed Secrets (its controller and kubeseal, built from its Go module) and kseal', () => {
  const e2e = useE2e();
  let peer: BitnamiController;
  let certPath: string;
  let tmp: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(e2e.tmp, 'bitnami-'));
    await installBitnamiCrd(e2e.admin);
    const id = await bitnamiIdentity(e2e.admin, PEER_NAMESPACE);
    const cluster = e2e.admin.kc.getCurrentCluster();
    peer = await startBitnami({
      apiServerUrl: cluster?.server ?? '',
      caPem: Buffer.from(cluster?.caData ?? '', 'base64').toString('utf8'),
      token: id.token,
      namespace: PEER_NAMESPACE,
      dir: tmp,
      keySize: 2048,
    });
    certPath = join(tmp, 'bitnami-cert.pem');
    writeFileSync(certPath, await peer.certificatePem());
  });
  afterAll(async () => {
    await peer?.process.stop();
    await e2e.admin.rbac.deleteClusterRoleBinding({ name: `bitnami-peer-${PEER_NAMESPACE}` }).catch(() => undefined);
    await e2e.admin.core.deleteNamespace({ name: PEER_NAMESPACE }).catch(() => undefined);
  });

  it('Bitnami\'s controller unseals what `kseal encrypt --api-version bitnami.com/v1alpha1` sealed for its certificate', async () => {
    const app = await e2e.namespace('bitnami-app');
    const canary = newCanary();
    const secret = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: app }, stringData: { password: canary, user: 'app' } });
    const sealed = await run(process.execPath, [KSEAL, 'encrypt', '--cert', certPath, '--api-version', 'bitnami.com/v1alpha1', '-o', 'json'], secret);
    expect(sealed.stderr).toBe('');
    expect(sealed.code).toBe(0);
    const body = JSON.parse(sealed.stdout) as { apiVersion: string; metadata: { name: string } };
    expect(body.apiVersion).toBe('bitnami.com/v1alpha1');
    await e2e.admin.kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ group: 'bitnami.com', version: 'v1alpha1', namespace: app, plural: 'sealedsecrets', body });
    const values = await eventually('the Secret unsealed by Bitnami\'s controller', () => secretValues(e2e, app, 'db'), 60_000, 250);
    expect(values).toEqual({ password: canary, user: 'app' });
  });

  it('`kseal decrypt` opens what Bitnami\'s kubeseal sealed, with the key Bitnami\'s controller generated', async () => {
    const canary = newCanary();
    const secret = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'api', namespace: 'bitnami-app' }, data: { token: Buffer.from(canary).toString('base64') } });
    const sealed = await run(bitnamiBinary('kubeseal'), ['--cert', certPath, '--format', 'json'], secret, { KUBECONFIG: e2e.ctx.kubeconfigPath });
    expect(sealed.code, sealed.stderr).toBe(0);
    expect((JSON.parse(sealed.stdout) as { apiVersion: string }).apiVersion).toBe('bitnami.com/v1alpha1');
    const keys = await e2e.admin.core.listNamespacedSecret({ namespace: PEER_NAMESPACE, labelSelector: 'sealedsecrets.bitnami.com/sealed-secrets-key=active' });
    expect(keys.items).toHaveLength(1);
    const keyPath = join(tmp, 'bitnami-key.json');
    writeFileSync(keyPath, JSON.stringify({ apiVersion: 'v1', kind: 'Secret', ...keys.items[0] }), { mode: 0o600 });
    const sealedPath = join(tmp, 'kubeseal-output.json');
    writeFileSync(sealedPath, sealed.stdout);
    const opened = await run(process.execPath, [KSEAL, 'decrypt', '-k', keyPath, '-f', sealedPath, '-o', 'json'], '');
    expect(opened.code, opened.stderr).toBe(0);
    const out = JSON.parse(opened.stdout) as { metadata: { name: string; namespace: string }; data: Record<string, string> };
    expect(out.metadata).toMatchObject({ name: 'api', namespace: 'bitnami-app' });
    expect(Buffer.from(out.data['token'] ?? '', 'base64').toString('utf8')).toBe(canary);
  });
});
