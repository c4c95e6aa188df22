/**
 * The controller's recipient choice (FORMAT.md §9.2) with the real worker pool: it opens the cluster
 * ciphertext set its keys name first (one private operation per value however many recipients), falls
 * back to the others (ids are hints), never reads escrow entries; /v1/verify and /v1/rotate on
 * multi-recipient objects, rotate replacing only this cluster's ciphertexts.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readSealedSecret } from '../../src/model/sealed-secret.js';
import { openWithIdentities } from '../../src/model/object-recipients.js';
import { unsealSealedSecret } from '../../src/model/sealed-secret.js';
import type { KeyView, SealingKey } from '../../controller/contracts.js';
import { UnsealPool } from '../../controller/unseal-pool.js';
import { startHttpServer, type HttpServerHandle } from '../../controller/http-server.js';
import { ControllerMetrics } from '../../controller/metrics.js';
import { createLogger } from '../../controller/logger.js';
import { testKey } from '../helpers/keys.js';
import { cluster, multiSealed, multiSealedJson, newEscrow, otherClusterKey, type ClusterKey } from '../helpers/recipients.js';
import { sealingKey } from './fixtures.js';
import { KEY_ID_ANNOTATION } from '../../src/wire.js';

const A = testKey('rsa-2048');
const OLD = testKey('rsa-4096');
const escrow = newEscrow();
let X: ClusterKey;
beforeAll(async () => {
  X = await otherClusterKey();
});

const view = (keys: SealingKey[]): KeyView => ({ list: () => keys, newest: () => keys[0] });
const text = (data: ReadonlyMap<string, Buffer>) => Object.fromEntries([...data].map(([k, v]) => [k, v.toString('utf8')]));
const VALUES = { host: 'db.local', password: 'hunter2', user: 'admin' };

let pool: UnsealPool | undefined;
const servers: HttpServerHandle[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await pool?.close();
  pool = undefined;
});

describe('the unseal pool with several recipients', () => {
  it('opens a three-recipient object through the entry its key names, one private operation per value', async () => {
    pool = new UnsealPool({ keys: view([sealingKey('rsa-2048')]), workers: 1 });
    const out = await pool.unseal(multiSealed(X.certificate, [cluster(A.certificate), escrow.recipient]));
    expect(out.recipient).toBe(A.certificate.keyId);
    expect(text(out.data)).toEqual(VALUES);
    expect(out.privateOps).toBe(3);
  });

  it('opens through spec.encryptedData when its key is the first recipient', async () => {
    pool = new UnsealPool({ keys: view([sealingKey('rsa-2048')]), workers: 1 });
    const out = await pool.unseal(multiSealed(A.certificate, [cluster(X.certificate), escrow.recipient]));
    expect(out.recipient).toBe('encryptedData');
    expect(out.privateOps).toBe(3);
  });

  it('treats ids as hints: a wrong key-id hint costs one failed operation, then the right set opens', async () => {
    pool = new UnsealPool({ keys: view([sealingKey('rsa-2048')]), workers: 1 });
    const json = multiSealedJson(X.certificate, [cluster(A.certificate)]);
    json.metadata.annotations = { ...json.metadata.annotations, [KEY_ID_ANNOTATION]: A.certificate.keyId };
    const out = await pool.unseal(readSealedSecret(json, {}));
    expect(out.recipient).toBe(A.certificate.keyId);
    expect(out.privateOps).toBe(4);
  });

  it('never reads escrow entries: damaged escrow values do not stop the cluster set', async () => {
    pool = new UnsealPool({ keys: view([sealingKey('rsa-2048')]), workers: 1 });
    const json = multiSealedJson(A.certificate, [escrow.recipient]);
    const entry = json.spec.recipients?.[0];
    if (entry === undefined) throw new Error('no entry');
    for (const key of Object.keys(entry.encryptedData)) entry.encryptedData[key] = 'AAAA';
    expect((await pool.unseal(readSealedSecret(json, {}))).recipient).toBe('encryptedData');
  });

  it("opens through its own entry when another cluster's values are damaged", async () => {
    pool = new UnsealPool({ keys: view([sealingKey('rsa-2048')]), workers: 1 });
    const json = multiSealedJson(X.certificate, [cluster(A.certificate)]);
    json.spec.encryptedData = Object.fromEntries(Object.keys(json.spec.encryptedData).map((k) => [k, 'AAE=']));
    const out = await pool.unseal(readSealedSecret(json, {}));
    expect(out.recipient).toBe(A.certificate.keyId);
  });

  it('opens a copy moved to another namespace for no cluster recipient', async () => {
    pool = new UnsealPool({ keys: view([sealingKey('rsa-2048'), sealingKey('rsa-4096')]), workers: 1 });
    const json = multiSealedJson(OLD.certificate, [cluster(A.certificate), escrow.recipient]);
    json.metadata.namespace = 'elsewhere';
    await expect(pool.unseal(readSealedSecret(json, {}))).rejects.toMatchObject({ code: 'DECRYPT_FAILED' });
  });
});

/** A controller HTTP API holding the old (RSA-4096) and the newest (RSA-2048) key of one cluster. */
async function startApi(): Promise<HttpServerHandle> {
  const keys = [sealingKey('rsa-2048'), sealingKey('rsa-4096')];
  pool = new UnsealPool({ keys: view(keys), workers: 1 });
  const server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    metricsPort: 0,
    keys: view(keys),
    unsealer: pool,
    metrics: new ControllerMetrics(),
    logger: createLogger({ stream: { write: () => true } }),
    ready: () => true,
  });
  servers.push(server);
  return server;
}

async function post(server: HttpServerHandle, path: string, body: unknown): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${server.port}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.text() };
}

describe('/v1/verify and /v1/rotate on multi-recipient objects', () => {
  it('verifies an object this cluster opens through an entry, and refuses a copy in another namespace', async () => {
    const server = await startApi();
    const json = multiSealedJson(X.certificate, [cluster(OLD.certificate), escrow.recipient]);
    expect((await post(server, '/v1/verify', json)).status).toBe(200);
    expect((await post(server, '/v1/verify', { ...json, metadata: { ...json.metadata, namespace: 'elsewhere' } })).status).toBe(409);
  });

  it("rotates only this cluster's entry to the newest key; the other cluster and escrow stay byte-identical", async () => {
    const server = await startApi();
    const before = multiSealedJson(X.certificate, [cluster(OLD.certificate), escrow.recipient]);
    const reply = await post(server, '/v1/rotate', before);
    expect(reply.status).toBe(200);
    const after = readSealedSecret(parse(reply.body), {});
    expect(after.spec.encryptedData).toEqual(before.spec.encryptedData);
    expect(after.metadata.annotations?.[KEY_ID_ANNOTATION]).toBe(X.certificate.keyId);
    expect(after.spec.recipients?.map((r) => [r.id, r.kind])).toEqual([
      [A.certificate.keyId, 'cluster'],
      [escrow.identity.keyId, 'escrow'],
    ]);
    expect(after.spec.recipients?.[1]).toEqual(before.spec.recipients?.[1]);
    expect(unsealSealedSecret(after, [A.entry]).recipient).toBe(A.certificate.keyId);
    expect(unsealSealedSecret(after, [X.entry]).recipient).toBe('encryptedData');
    expect(text(openWithIdentities(after, [escrow.identity]).data)).toEqual(VALUES);
  });

  it('rotates spec.encryptedData when this cluster is the first recipient, leaving every entry byte-identical', async () => {
    const server = await startApi();
    const before = multiSealedJson(OLD.certificate, [cluster(X.certificate), escrow.recipient]);
    const after = readSealedSecret(parse((await post(server, '/v1/rotate', before)).body), {});
    expect(after.metadata.annotations?.[KEY_ID_ANNOTATION]).toBe(A.certificate.keyId);
    expect(after.spec.encryptedData).not.toEqual(before.spec.encryptedData);
    expect(after.spec.recipients).toEqual(before.spec.recipients);
    expect(unsealSealedSecret(after, [A.entry]).recipient).toBe('encryptedData');
  });

  it('drops an entry already sealed to the newest key, so ids stay unique', async () => {
    const server = await startApi();
    const before = multiSealedJson(OLD.certificate, [cluster(A.certificate), escrow.recipient]);
    const after = readSealedSecret(parse((await post(server, '/v1/rotate', before)).body), {});
    expect(after.metadata.annotations?.[KEY_ID_ANNOTATION]).toBe(A.certificate.keyId);
    expect(after.spec.recipients?.map((r) => r.id)).toEqual([escrow.identity.keyId]);
  });
});
