/**
 * Multi-recipient objects through the whole controller, in-process against the in-repo API: the
 * Secret is written from whichever cluster set its key names, Ready and kseal_opened_by_info say which
 * recipient opened it (also after a restart that unseals nothing), and the series goes with the object.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { KubeApiServer } from '../../kube-api/server.js';
import type { KubeObject } from '../../controller/kube-client.js';
import { testKey } from '../helpers/keys.js';
import { cluster, multiSealedJson, newEscrow, otherClusterKey, type ClusterKey } from '../helpers/recipients.js';
import { eventually } from './fixtures.js';
import { applySealed, metricValue, secretOf, startCluster, startController, valuesOf, waitForReason, type TestController } from './harness.js';

const A = testKey('rsa-2048');
let X: ClusterKey;
beforeAll(async () => {
  X = await otherClusterKey();
});

let server: KubeApiServer | undefined;
let controllers: TestController[] = [];
afterEach(async () => {
  await Promise.all(controllers.map((c) => c.stop()));
  controllers = [];
  await server?.close();
  server = undefined;
});

async function openedBy(ctl: TestController): Promise<Array<Record<string, string | number>>> {
  return (await ctl.options.metrics.openedBy.get()).values.map((v) => v.labels);
}

describe('reconciling multi-recipient objects', () => {
  it('writes the Secret from the entry its key names and says which recipient opened it', async () => {
    server = await startCluster({ withKey: true });
    const ctl = startController(server);
    controllers.push(ctl);
    const escrow = newEscrow();
    applySealed(server, multiSealedJson(X.certificate, [cluster(A.certificate), escrow.recipient]) as unknown as KubeObject);
    const ready = await waitForReason(server, 'app', 'db', 'Unsealed');
    expect(valuesOf(secretOf(server, 'app', 'db'))).toEqual({ host: 'db.local', password: 'hunter2', user: 'admin' });
    expect(ready.message).toContain(`recipient spec.recipients ${A.certificate.keyId.slice(0, 16)}`);
    expect(await openedBy(ctl)).toEqual([{ namespace: 'app', name: 'db', recipient: A.certificate.keyId, key_id: A.certificate.keyId.slice(0, 16) }]);
    expect(await metricValue(ctl.options.metrics.privateKeyOperations)).toBe(3);
  });

  it('says spec.encryptedData when its key is the first recipient', async () => {
    server = await startCluster({ withKey: true });
    const ctl = startController(server);
    controllers.push(ctl);
    applySealed(server, multiSealedJson(A.certificate, [cluster(X.certificate)]) as unknown as KubeObject);
    const ready = await waitForReason(server, 'app', 'db', 'Unsealed');
    expect(ready.message).toContain('recipient spec.encryptedData');
    expect((await openedBy(ctl))[0]?.recipient).toBe('encryptedData');
  });

  it('still names the recipient after a restart that needs no private-key operation', async () => {
    server = await startCluster({ withKey: true });
    const first = startController(server);
    controllers.push(first);
    applySealed(server, multiSealedJson(X.certificate, [cluster(A.certificate)]) as unknown as KubeObject);
    await waitForReason(server, 'app', 'db', 'Unsealed');
    await first.stop();
    controllers = [];
    const next = startController(server);
    controllers.push(next);
    await eventually('second controller done', () => next.controller.isLeader() && next.controller.idle() && undefined !== secretOf(server!, 'app', 'db'), 10_000);
    await eventually('opened-by series', async () => ((await openedBy(next))[0]?.recipient === A.certificate.keyId ? true : undefined));
    expect(await metricValue(next.options.metrics.privateKeyOperations)).toBe(0);
  });

  it('fails a copy under another name for every recipient, and drops the opened-by series when the object goes', async () => {
    server = await startCluster({ withKey: true });
    const ctl = startController(server);
    controllers.push(ctl);
    const json = multiSealedJson(X.certificate, [cluster(A.certificate)]);
    applySealed(server, json as unknown as KubeObject);
    applySealed(server, { ...json, metadata: { ...json.metadata, name: 'moved' } });
    await waitForReason(server, 'app', 'db', 'Unsealed');
    await waitForReason(server, 'app', 'moved', 'DecryptFailed');
    expect(secretOf(server, 'app', 'moved')).toBeUndefined();
    expect((await openedBy(ctl)).map((l) => l.name)).toEqual(['db']);
    server.store.delete('kseal.dev/v1alpha1', 'SealedSecret', 'db', 'app');
    await eventually('series dropped', async () => ((await openedBy(ctl)).length === 0 ? true : undefined));
  });
});
