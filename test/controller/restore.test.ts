/**
 * The key backup and restore procedure of docs/SECURITY.md, end to end with the real kubectl against
 * the in-repo API and an in-process controller: back up the key Secrets as the document says, lose
 * them all, let the controller regenerate a key, restore the backup. Both keys must then be present
 * (the regenerated one untouched) and SealedSecrets sealed to either key must open (issue 9, finding 1).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate } from '../../src/crypto/certificate.js';
import type { KubeApiServer } from '../../kube-api/server.js';
import { tempDir, type TempDir } from '../helpers/cli.js';
import { eventually, sealedObject } from './fixtures.js';
import { applySealed, CONTROLLER_NS, keySecrets, startCluster, startController, valuesOf, secretOf, waitForReason, type TestController } from './harness.js';

const KUBECTL = '/usr/bin/kubectl';
let server: KubeApiServer;
let ctl: TestController;
let dir: TempDir;

/** Runs a shell line as the document writes it, with kubectl pointed at the test API. */
function sh(line: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-o', 'pipefail', '-c', line], { cwd: dir.path, env: { ...process.env, HOME: dir.path, KUBECONFIG: server.kubeconfigPath, PATH: `${join(KUBECTL, '..')}:${process.env.PATH ?? ''}` }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  dir = tempDir();
  server = await startCluster();
  ctl = startController(server, { leaderElection: { enabled: false, leaseName: 'kseal-controller', leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 100 } });
});
afterAll(async () => {
  await ctl?.stop();
  await server?.close();
  dir?.remove();
});

describe('docs/SECURITY.md: backing up and restoring keys', () => {
  it('back up, delete, regenerate, restore: both keys present and objects sealed to either open', async () => {
    const first = await eventually('first key generated', () => ctl.controller.keys.newest(), 30_000);
    const firstCert = parseCertificate(first.certificatePem);

    // Back up, exactly as the document says.
    const backup = await sh(`kubectl get secret -n ${CONTROLLER_NS} -l kseal.dev/sealing-key -o yaml | grep -v '^    resourceVersion: ' > kseal-keys.yaml`);
    expect(backup.code, backup.stderr).toBe(0);

    // Certificates have one-second times: let the regenerated key be newer than the first, as it is
    // in a real disaster (newest by notBefore seals).
    await new Promise((r) => setTimeout(r, Math.max(0, firstCert.notBefore.getTime() + 1100 - Date.now())));

    // Disaster: every key Secret is gone. The controller makes a new key, under a new name.
    const deleted = await sh(`kubectl delete secret -n ${CONTROLLER_NS} -l kseal.dev/sealing-key`);
    expect(deleted.code, deleted.stderr).toBe(0);
    const second = await eventually('a new key generated', () => {
      const k = ctl.controller.keys.newest();
      return k !== undefined && k.keyId !== first.keyId ? k : undefined;
    }, 30_000);
    expect(second.secretName).not.toBe(first.secretName);
    const secondCert = parseCertificate(second.certificatePem);
    const secondData = JSON.stringify(keySecrets(server).find((s) => s.metadata.name === second.secretName)?.data);

    // Restore, exactly as the document says.
    const restored = await sh(`kubectl apply -f kseal-keys.yaml`);
    expect(restored.code, restored.stderr).toBe(0);

    await eventually('both keys loaded', () => ctl.controller.keys.list().length === 2, 10_000);
    expect(keySecrets(server).map((s) => s.metadata.name).sort()).toEqual([first.secretName, second.secretName].sort());
    expect(JSON.stringify(keySecrets(server).find((s) => s.metadata.name === second.secretName)?.data)).toBe(secondData);

    applySealed(server, sealedObject({ name: 'old', namespace: 'app', values: { v: 'sealed to the first key' }, cert: firstCert }));
    applySealed(server, sealedObject({ name: 'new', namespace: 'app', values: { v: 'sealed to the second key' }, cert: secondCert }));
    await waitForReason(server, 'app', 'old', 'Unsealed');
    await waitForReason(server, 'app', 'new', 'Unsealed');
    expect(valuesOf(secretOf(server, 'app', 'old'))).toEqual({ v: 'sealed to the first key' });
    expect(valuesOf(secretOf(server, 'app', 'new'))).toEqual({ v: 'sealed to the second key' });
    // The regenerated key still seals.
    expect(ctl.controller.keys.newest()?.keyId).toBe(second.keyId);
  });
});
