/**
 * Adoption of a Bitnami Sealed Secrets cluster (--adopt-bitnami), in-process against the in-repo API
 * with Bitnami's CRD: takeover with no Secret write, new objects, compromised keys, scope, adoption
 * off, and the way back (what kseal writes is what Bitnami's controller would leave alone).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { JsonObject, KubeApiServer } from '../../kube-api/server.js';
import type { KubeObject, SecretJson } from '../../controller/kube-client.js';
import { parseCertificate } from '../../src/crypto/certificate.js';
import { eventually } from './fixtures.js';
import { metricValue, startCluster, startController, type TestController } from './harness.js';
import { bitnamiCrd, bitnamiKey, bitnamiSynced, bitnamiWouldRewrite, independentObject, kubesealLike, secretMadeByBitnami, type BitnamiKey } from './bitnami-adoption.js';

let server: KubeApiServer | undefined;
let controllers: TestController[] = [];
afterEach(async () => {
  await Promise.all(controllers.map((c) => c.stop()));
  controllers = [];
  await server?.close();
  server = undefined;
});

type Cond = { type: string; status: string; reason?: string; message?: string };
const conditionsOf = (s: KubeApiServer, ns: string, name: string): Cond[] => ((s.store.get('bitnami.com/v1alpha1', 'SealedSecret', name, ns) as { status?: { conditions?: Cond[] } } | undefined)?.status?.conditions ?? []);
const secret = (s: KubeApiServer, ns: string, name: string) => s.store.get('v1', 'Secret', name, ns) as SecretJson | undefined;
const plain = (sec: SecretJson | undefined) => Object.fromEntries(Object.entries(sec?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

function waitSynced(s: KubeApiServer, ns: string, name: string, status = 'True') {
  return eventually(`${ns}/${name} Synced=${status}`, () => {
    const c = conditionsOf(s, ns, name);
    return c.find((x) => x.type === 'Synced')?.status === status && c.find((x) => x.type === 'Ready')?.status === status ? c : undefined;
  }, 15_000);
}

interface Scene {
  server: KubeApiServer;
  active: BitnamiKey;
  old: BitnamiKey;
  objects: KubeObject[];
  before: Map<string, string>;
}

/** A cluster as Bitnami leaves it: keys, objects from two sealers, Secrets made by Bitnami, Synced status. */
async function bitnamiCluster(): Promise<Scene> {
  const old = await bitnamiKey('sealed-secrets-keyold', 'compromised');
  const active = await bitnamiKey('sealed-secrets-keynew', 'active');
  const s = await startCluster({ withKey: true, namespaces: ['kube-system', 'other'], objects: [bitnamiCrd(), old.secret, active.secret] });
  const specs: Array<{ obj: KubeObject; plain: Record<string, string> }> = [
    { obj: await kubesealLike(active.certificatePem, 'db', 'app', { password: 'pw-1', user: 'admin' }, 'strict', '  labels:\n    team: a\n  annotations:\n    note: x\ntype: kubernetes.io/basic-auth\n'), plain: { password: 'pw-1', user: 'admin' } },
    { obj: independentObject(active.certificatePem, { name: 'api', namespace: 'app', values: { token: 't-2' }, scope: 'namespace-wide', template: { metadata: { labels: { app: 'api' }, annotations: { owner: 'me' } } } }), plain: { token: 't-2' } },
    { obj: independentObject(old.certificatePem, { name: 'legacy', namespace: 'app', values: { key: 'from-the-old-key' }, scope: 'cluster-wide' }), plain: { key: 'from-the-old-key' } },
    {
      obj: independentObject(active.certificatePem, { name: 'dsn', namespace: 'app', values: { user: 'u', password: 'p' }, scope: 'strict', template: { data: { url: 'postgres://{{ .user }}:{{ .password | urlsafe }}@db' } } }),
      plain: { user: 'u', password: 'p' },
    },
  ];
  // urlsafe is not a function kseal knows: use the supported form instead (the test of unsupported ones is in go-template.test.ts).
  (specs[3]!.obj.spec as { template: { data: Record<string, string> } }).template.data = { url: 'postgres://{{ .user }}:{{ .password | upper }}@db' };
  const objects: KubeObject[] = [];
  const before = new Map<string, string>();
  for (const { obj, plain: values } of specs) {
    const stored = s.store.create(obj as unknown as JsonObject) as unknown as KubeObject;
    objects.push(stored);
    const data = stored.metadata.name === 'dsn' ? { ...values, url: `postgres://u:P@db` } : values;
    const made = s.store.create(secretMadeByBitnami(stored, data) as unknown as JsonObject) as unknown as SecretJson;
    before.set(stored.metadata.name, made.metadata.resourceVersion ?? '');
    bitnamiSynced(s, stored);
  }
  return { server: s, active, old, objects, before };
}

describe('--adopt-bitnami', () => {
  it('adopts every Bitnami object: Synced=True and Ready=True, 0 Secret writes, one private-key operation per value (plus one per older key tried)', async () => {
    const scene = await bitnamiCluster();
    server = scene.server;
    const ctl = startController(server, { adoptBitnami: { keyNamespace: 'kube-system', sealingKeySource: 'kseal' } });
    controllers.push(ctl);
    for (const o of scene.objects) {
      const c = await waitSynced(server, 'app', o.metadata.name);
      expect(c[0]?.type).toBe('Synced');
      expect(c.find((x) => x.type === 'Stalled' || x.type === 'Reconciling')).toBeUndefined();
    }
    await eventually('idle', () => ctl.controller.idle());
    for (const o of scene.objects) expect(secret(server, 'app', o.metadata.name)?.metadata.resourceVersion).toBe(scene.before.get(o.metadata.name));
    expect(await metricValue(ctl.options.metrics.apiWrites)).toBe(await statusWrites(ctl));
    const values = scene.objects.reduce((n, o) => n + Object.keys((o.spec as { encryptedData: object }).encryptedData).length, 0);
    // kubeseal's objects name no key: Bitnami's newest key is tried first, so only "legacy" (sealed with
    // the older, compromised key) costs one extra operation.
    expect(await metricValue(ctl.options.metrics.privateKeyOperations)).toBe(values + 1);
    expect(plain(secret(server, 'app', 'legacy'))).toEqual({ key: 'from-the-old-key' });
  });

  it('unseals a new bitnami.com object into the Secret Bitnami would write (and leave alone after a rollback)', async () => {
    const scene = await bitnamiCluster();
    server = scene.server;
    controllers.push(startController(server, { adoptBitnami: { keyNamespace: 'kube-system', sealingKeySource: 'bitnami' } }));
    const fresh = server.store.create((await kubesealLike(scene.active.certificatePem, 'fresh', 'app', { a: 'new' }, 'strict', '  labels:\n    x: z\n')) as unknown as JsonObject) as unknown as KubeObject;
    await waitSynced(server, 'app', 'fresh');
    const written = secret(server, 'app', 'fresh')!;
    expect(plain(written)).toEqual({ a: 'new' });
    expect(written.metadata.ownerReferences).toEqual([{ apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', name: 'fresh', uid: fresh.metadata.uid, controller: true }]);
    expect(Object.keys(written.metadata.labels ?? {}).filter((k) => k.startsWith('kseal.dev/'))).toEqual([]);
    expect(Object.keys(written.metadata.annotations ?? {}).filter((k) => k.startsWith('kseal.dev/'))).toEqual([]);
    expect(bitnamiWouldRewrite(written, secretMadeByBitnami(fresh, { a: 'new' }))).toBe(false);
  });

  it('opens values sealed with a compromised key but never seals with it', async () => {
    const scene = await bitnamiCluster();
    server = scene.server;
    const ctl = startController(server, { adoptBitnami: { keyNamespace: 'kube-system', sealingKeySource: 'bitnami' } });
    controllers.push(ctl);
    await waitSynced(server, 'app', 'legacy');
    const compromisedId = parseCertificate(scene.old.certificatePem).keyId;
    expect(ctl.controller.keys.list().map((k) => k.keyId)).toContain(compromisedId);
    expect(ctl.controller.keys.newest()?.keyId).toBe(parseCertificate(scene.active.certificatePem).keyId);
    // Relabel the active key compromised too: nothing seals any more, and still nothing is written to kube-system.
    const activeSecret = server.store.get('v1', 'Secret', 'sealed-secrets-keynew', 'kube-system')!;
    server.store.update({ ...activeSecret, metadata: { ...(activeSecret.metadata as object), labels: { 'sealedsecrets.bitnami.com/sealed-secrets-key': 'compromised' } } });
    await eventually('no sealing key', () => ctl.controller.keys.newest() === undefined);
    const keyVersions = server.store.list('v1', 'Secret', 'kube-system').map((k) => (k.metadata as { resourceVersion: string }).resourceVersion);
    await eventually('idle', () => ctl.controller.idle());
    expect(server.store.list('v1', 'Secret', 'kube-system').map((k) => (k.metadata as { resourceVersion: string }).resourceVersion)).toEqual(keyVersions);
  });

  it('fails a Bitnami object copied to another namespace (Synced=False, Stalled=True) and writes no Secret there', async () => {
    const scene = await bitnamiCluster();
    server = scene.server;
    controllers.push(startController(server, { adoptBitnami: { keyNamespace: 'kube-system', sealingKeySource: 'kseal' } }));
    const db = scene.objects[0]!;
    server.store.create({ apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name: 'db', namespace: 'other' }, spec: db.spec } as unknown as JsonObject);
    const c = await waitSynced(server, 'other', 'db', 'False');
    expect(c.find((x) => x.type === 'Synced')?.message).toContain('no key could decrypt');
    expect(c.find((x) => x.type === 'Stalled')?.status).toBe('True');
    expect(secret(server, 'other', 'db')).toBeUndefined();
  });

  it('leaves every Bitnami object, key and Secret untouched when adoption is off', async () => {
    const scene = await bitnamiCluster();
    server = scene.server;
    const snapshot = () => JSON.stringify([server!.store.list('bitnami.com/v1alpha1', 'SealedSecret'), server!.store.list('v1', 'Secret', 'app'), server!.store.list('v1', 'Secret', 'kube-system')]);
    const before = snapshot();
    const ctl = startController(server);
    controllers.push(ctl);
    await eventually('leading and idle', () => ctl.controller.isLeader() && ctl.controller.idle());
    await new Promise((r) => setTimeout(r, 300));
    expect(snapshot()).toBe(before);
  });
});

async function statusWrites(ctl: TestController): Promise<number> {
  const values = (await ctl.options.metrics.apiWrites.get()).values;
  return values.filter((v) => v.labels.resource !== 'secrets').reduce((n, v) => n + v.value, 0);
}
