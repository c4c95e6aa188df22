/**
 * Two clusters (two in-repo API servers, each with its own in-process controller, generated keys and
 * HTTP API) and one escrow identity, driven through the CLI as a platform team would: one file sealed
 * for both opens in both; a copy in another namespace opens in neither; /v1/verify and /v1/rotate work
 * on the multi-recipient object (rotate in one cluster leaves the other's ciphertexts byte-identical);
 * the escrow identity opens it offline after both clusters' keys are deleted.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generateSealingKey } from '../../src/crypto/keygen.js';
import { keySecretManifest } from '../../src/model/key-secret.js';
import { readSealedSecret, type SealedSecret } from '../../src/model/sealed-secret.js';
import type { KubeApiServer, JsonObject } from '../../kube-api/server.js';
import type { KubeObject } from '../../controller/kube-client.js';
import { startHttpServer, type HttpServerHandle } from '../../controller/http-server.js';
import { runCli, tempDir, type TempDir } from '../helpers/cli.js';
import { eventually } from './fixtures.js';
import { CONTROLLER_NS, applySealed, keySecrets, readyOf, sealedOf, secretOf, startCluster, startController, valuesOf, waitForReason, type TestController } from './harness.js';

interface Cluster {
  readonly name: string;
  readonly server: KubeApiServer;
  readonly ctl: TestController;
  readonly http: HttpServerHandle;
  readonly url: string;
}

const clusters: Cluster[] = [];
let dir: TempDir;
const SECRET = 'apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: app}\nstringData: {password: hunter2, user: admin}\n';

async function startOne(name: string): Promise<Cluster> {
  const server = await startCluster({ namespaces: ['other'] });
  const ctl = startController(server);
  const http = await startHttpServer({ host: '127.0.0.1', port: 0, metricsPort: 0, keys: ctl.controller.keys, unsealer: ctl.controller.unsealer, metrics: ctl.options.metrics, logger: ctl.options.logger, ready: () => true, verifyRate: { perSecond: 1000, burst: 1000 } });
  await eventually(`${name} has a key`, () => ctl.controller.keys.newest(), 30_000);
  return { name, server, ctl, http, url: `http://127.0.0.1:${http.port}` };
}

const [a, b] = [() => clusters[0] as Cluster, () => clusters[1] as Cluster];
const file = () => resolve(dir.path, 'db.yaml');
const sealedFile = (): SealedSecret => readSealedSecret(parse(readFileSync(file(), 'utf8')), {});
const cli = (argv: string[]) => runCli(argv, { cwd: dir.path });

beforeAll(async () => {
  dir = tempDir();
  clusters.push(await startOne('staging'), await startOne('prod'));
  for (const c of clusters) expect((await cli(['cert', '--controller-url', c.url, '-w', `${c.name}.pem`])).code).toBe(0);
  expect((await cli(['identity', 'new', '-o', 'escrow.txt'])).code).toBe(0);
  const escrow = readFileSync(resolve(dir.path, 'escrow.txt'), 'utf8').match(/public key: (kseal1\S+)/)?.[1] ?? '';
  const sealed = await runCli(['encrypt', '--cert', 'staging.pem', '--cert', 'prod.pem', '--recipient', escrow, '-w', 'db.yaml'], { cwd: dir.path, stdin: SECRET });
  expect(sealed.code, sealed.stderr).toBe(0);
}, 90_000);

afterAll(async () => {
  for (const c of clusters) {
    await c.http.close();
    await c.ctl.stop();
    await c.server.close();
  }
  dir.remove();
});

describe('one SealedSecret for two clusters and an escrow identity', () => {
  it('opens in both clusters, each through the ciphertexts its own key names', async () => {
    for (const c of clusters) applySealed(c.server, sealedFile() as unknown as KubeObject);
    for (const c of clusters) {
      await waitForReason(c.server, 'app', 'db', 'Unsealed');
      expect(valuesOf(secretOf(c.server, 'app', 'db'))).toEqual({ password: 'hunter2', user: 'admin' });
    }
    expect(readyOf(a().server, 'app', 'db')?.message).toContain('recipient spec.encryptedData');
    expect(readyOf(b().server, 'app', 'db')?.message).toContain(`recipient spec.recipients ${(b().ctl.controller.keys.newest()?.keyId ?? '').slice(0, 16)}`);
  });

  it('opens in neither cluster when copied to another namespace', async () => {
    const copy = sealedFile();
    copy.metadata.namespace = 'other';
    for (const c of clusters) applySealed(c.server, copy as unknown as KubeObject);
    for (const c of clusters) {
      await waitForReason(c.server, 'other', 'db', 'DecryptFailed');
      expect(secretOf(c.server, 'other', 'db')).toBeUndefined();
    }
  });

  it('passes /v1/verify in both clusters (kseal validate), and fails the copy', async () => {
    const copy = readFileSync(file(), 'utf8').replace('namespace: app', 'namespace: other');
    for (const c of clusters) {
      expect((await cli(['validate', '--controller-url', c.url, '-f', 'db.yaml'])).code).toBe(0);
      expect((await runCli(['validate', '--controller-url', c.url], { cwd: dir.path, stdin: copy })).code).toBe(5);
    }
  });

  it("rotates with /v1/rotate in one cluster, replacing only its ciphertexts; the result opens in both", async () => {
    // Keys made in the same second tie on NotBefore, and the Secret name then decides (newestFirst):
    // make the new key strictly newer than the controller's own, as a rotation's key is.
    const current = b().ctl.controller.keys.newest();
    if (current !== undefined) await eventually('a second after the current key', () => Date.now() >= current.notBefore.getTime() + 1000 || undefined);
    const fresh = await generateSealingKey({ bits: 2048 });
    const manifest = keySecretManifest({ name: 'kseal-key-rotated', namespace: CONTROLLER_NS, privateKeyPem: fresh.privateKeyPem, certificatePem: fresh.certificatePem }) as unknown as JsonObject;
    b().server.store.create(manifest);
    await eventually('prod seals with the new key', () => b().ctl.controller.keys.newest()?.keyId === fresh.keyId || undefined);
    const before = sealedFile();
    const run = await cli(['reencrypt', '--controller-url', b().url, '-f', 'db.yaml']);
    expect(run.code, run.stderr).toBe(0);
    const after = sealedFile();
    expect(after.spec.encryptedData).toEqual(before.spec.encryptedData);
    expect(after.spec.recipients?.[0]?.id).toBe(fresh.keyId);
    expect(after.spec.recipients?.[1]).toEqual(before.spec.recipients?.[1]);
    for (const c of clusters) {
      const stored = sealedOf(c.server, 'app', 'db') as KubeObject & { spec: unknown };
      c.server.store.update({ ...stored, spec: after.spec } as unknown as JsonObject);
    }
    await eventually('prod opened the rotated object with the new key', () => (readyOf(b().server, 'app', 'db')?.message.includes(fresh.keyId.slice(0, 16)) === true ? true : undefined));
    expect(readyOf(a().server, 'app', 'db')?.reason).toBe('Unsealed');
    expect(valuesOf(secretOf(b().server, 'app', 'db'))).toEqual({ password: 'hunter2', user: 'admin' });
  });

  it("opens offline with the escrow identity after both clusters' keys are deleted", async () => {
    for (const c of clusters) {
      await c.ctl.stop();
      for (const key of keySecrets(c.server)) c.server.store.delete('v1', 'Secret', key.metadata.name, CONTROLLER_NS);
      expect(keySecrets(c.server)).toEqual([]);
    }
    const run = await cli(['decrypt', '--identity', 'escrow.txt', '-f', 'db.yaml']);
    expect(run.code, run.stderr).toBe(0);
    const secret = parse(run.stdout) as { data: Record<string, string> };
    expect(Buffer.from(secret.data.password ?? '', 'base64').toString()).toBe('hunter2');
    expect(run.stderr).toContain('opened with escrow identity');
  });
});
