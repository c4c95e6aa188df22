/**
 * docs/MIGRATING.md, step by step, against the in-repo API with Bitnami's CRD: back up the keys and
 * prove the backup opens the files, start kseal with --adopt-bitnami (the component's flag), keep
 * sealing, leave the Bitnami group with kseal convert, coexistence, and the way back.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { JsonObject, KubeApiServer } from '../../kube-api/server.js';
import type { KubeObject, SecretJson } from '../../controller/kube-client.js';
import { runCli, tempDir, type TempDir } from '../helpers/cli.js';
import { eventually } from './fixtures.js';
import { startCluster, startController, type TestController } from './harness.js';
import { bitnamiCrd, bitnamiKey, bitnamiSynced, bitnamiWouldRewrite, kubesealLike, secretMadeByBitnami } from './bitnami-adoption.js';

let server: KubeApiServer | undefined;
let ctl: TestController | undefined;
let dir: TempDir | undefined;
afterEach(async () => {
  await ctl?.stop();
  ctl = undefined;
  await server?.close();
  server = undefined;
  dir?.remove();
});

type Cond = { type: string; status: string };
const conds = (s: KubeApiServer, group: string, ns: string, name: string): Cond[] => ((s.store.get(`${group}/v1alpha1`, 'SealedSecret', name, ns) as { status?: { conditions?: Cond[] } } | undefined)?.status?.conditions ?? []);

describe('docs/MIGRATING.md end to end', () => {
  it('switches with no file edited, no value re-sealed, no Secret rewritten, and goes back', async () => {
    dir = tempDir();
    const key = await bitnamiKey('sealed-secrets-key1');
    server = await startCluster({ namespaces: ['kube-system'], objects: [bitnamiCrd(), key.secret] });
    const file = await kubesealLike(key.certificatePem, 'db', 'app', { password: 'pw' }, 'strict', '  labels:\n    team: a\n');
    const filePath = dir.write('db.sealed.yaml', `# the team's database\n${stringify(file)}`);
    const original = readFileSync(filePath, 'utf8');
    const obj = server.store.create(file as unknown as JsonObject) as unknown as KubeObject;
    const made = server.store.create(secretMadeByBitnami(obj, { password: 'pw' }) as unknown as JsonObject) as unknown as SecretJson;
    bitnamiSynced(server, obj);

    // 1. Back up the keys (kubectl get secret -l ... -o yaml is a List) and prove the backup opens the file.
    const backup = dir.write('bitnami-keys.yaml', stringify({ apiVersion: 'v1', kind: 'List', items: server.store.list('v1', 'Secret', 'kube-system') }));
    const opened = await runCli(['decrypt', '--key', backup, '-f', filePath]);
    expect(opened.code).toBe(0);
    expect(opened.stdout).toContain(Buffer.from('pw').toString('base64'));

    // 2 + 3. kseal with --adopt-bitnami (what the component adds), Bitnami scaled to zero.
    ctl = startController(server, { adoptBitnami: { keyNamespace: 'kube-system', sealingKeySource: 'bitnami' } });
    await eventually('Synced and Ready', () => conds(server!, 'bitnami.com', 'app', 'db').filter((c) => c.status === 'True').length === 2, 15_000);
    const secret = server.store.get('v1', 'Secret', 'db', 'app') as unknown as SecretJson;
    expect(secret.metadata.resourceVersion).toBe(made.metadata.resourceVersion);
    expect(readFileSync(filePath, 'utf8')).toBe(original);

    // 4. Keep sealing with Bitnami's key (--sealing-key-source bitnami): Bitnami can open what kseal seals.
    expect(ctl.controller.keys.newest()?.certificatePem.trim()).toBe(key.certificatePem.trim());

    // Both controllers: Bitnami rewriting the status (Synced only) gets kseal's conditions back; the Secret is not touched.
    bitnamiSynced(server, server.store.get('bitnami.com/v1alpha1', 'SealedSecret', 'db', 'app') as unknown as KubeObject);
    await eventually('kseal conditions restored', () => conds(server!, 'bitnami.com', 'app', 'db').some((c) => c.type === 'Ready'), 15_000);
    expect((server.store.get('v1', 'Secret', 'db', 'app') as unknown as SecretJson).metadata.resourceVersion).toBe(made.metadata.resourceVersion);

    // 5. Leave the Bitnami group: convert, let kseal.dev take the Secret over, orphan-delete the bitnami.com object.
    expect((await runCli(['convert', '--to', 'kseal', '-f', filePath])).code).toBe(0);
    const converted = readFileSync(filePath, 'utf8');
    expect(converted.split('\n').filter((l) => !original.split('\n').includes(l)).map((l) => l.trim()).sort()).toEqual(['apiVersion: kseal.dev/v1alpha1', 'kseal.dev/scope: strict']);
    server.store.patch('v1', 'Secret', 'db', 'app', { metadata: { annotations: { 'kseal.dev/managed': 'true' } } });
    const kss = server.store.create(parse(converted) as JsonObject) as unknown as KubeObject;
    await eventually('kseal.dev object Ready', () => conds(server!, 'kseal.dev', 'app', 'db').some((c) => c.type === 'Ready' && c.status === 'True'), 15_000);
    server.store.delete('bitnami.com/v1alpha1', 'SealedSecret', 'db', 'app', { propagationPolicy: 'Orphan' });
    const after = server.store.get('v1', 'Secret', 'db', 'app') as unknown as SecretJson;
    expect(after.metadata.ownerReferences?.map((r) => r.uid)).toEqual([kss.metadata.uid]);
    expect(Buffer.from(after.data!.password!, 'base64').toString()).toBe('pw');

    // The way back: convert back (byte-identical to the original), stop kseal; keys were never written.
    expect((await runCli(['convert', '--to', 'bitnami', '-f', filePath])).code).toBe(0);
    expect(readFileSync(filePath, 'utf8')).toBe(original);
    await ctl.stop();
    ctl = undefined;
    expect(server.store.get('v1', 'Secret', 'sealed-secrets-key1', 'kube-system')).toMatchObject({ metadata: { labels: { 'sealedsecrets.bitnami.com/sealed-secrets-key': 'active' } } });
  });

  it('the way back: a Secret kseal wrote for a bitnami.com object is one Bitnami would not rewrite', async () => {
    const key = await bitnamiKey('sealed-secrets-key2');
    server = await startCluster({ namespaces: ['kube-system'], objects: [bitnamiCrd(), key.secret] });
    ctl = startController(server, { adoptBitnami: { keyNamespace: 'kube-system', sealingKeySource: 'kseal' } });
    const obj = server.store.create((await kubesealLike(key.certificatePem, 'new', 'app', { a: '1' }, 'namespace-wide', '  annotations:\n    note: x\n')) as unknown as JsonObject) as unknown as KubeObject;
    await eventually('Synced', () => conds(server!, 'bitnami.com', 'app', 'new').some((c) => c.type === 'Synced' && c.status === 'True'), 15_000);
    const written = server.store.get('v1', 'Secret', 'new', 'app') as unknown as SecretJson;
    expect(bitnamiWouldRewrite(written, secretMadeByBitnami(obj, { a: '1' }))).toBe(false);
  });
});
