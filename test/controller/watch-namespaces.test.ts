/**
 * `--watch-namespaces` on the embedded API, with the controller behind an RBAC-enforcing proxy whose
 * rules are exactly what `kubectl kustomize examples/watch-namespaces` renders (the watch-namespaces
 * component: Roles in team-a and team-b, the base Role in kseal-system, no ClusterRole binding):
 * objects in the watched namespaces unseal and are repaired, objects elsewhere are never read or
 * written, and no request is refused. The same proxy refuses a controller that watches every
 * namespace, so the check can fail.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { isDeclaredRequest } from '../../controller/api-permissions.js';
import type { KubeApiServer } from '../../kube-api/server.js';
import { rulesFromManifests, startRbacProxy, type RbacProxy } from '../helpers/rbac-proxy.js';
import { eventually, sealedObject } from './fixtures.js';
import { applySealed, CONTROLLER_NS, keySecretObject, readyOf, sealedOf, secretOf, startCluster, startController, valuesOf, waitForReason, type TestController } from './harness.js';

const kubectl = existsSync('/usr/bin/kubectl') ? '/usr/bin/kubectl' : undefined;
const WATCHED = ['team-a', 'team-b'];

let server: KubeApiServer | undefined;
let proxy: RbacProxy | undefined;
let ctl: TestController | undefined;

afterEach(async () => {
  await ctl?.stop();
  await proxy?.close();
  await server?.close();
  ctl = undefined;
  proxy = undefined;
  server = undefined;
});

/** The rendered examples/watch-namespaces objects. */
function rendered(): Array<Record<string, unknown>> {
  return parseAllDocuments(execFileSync(kubectl as string, ['kustomize', 'examples/watch-namespaces'], { encoding: 'utf8', timeout: 20_000 })).map((d) => d.toJS() as Record<string, unknown>);
}

/** The in-repo API with the key, team-a, team-b and other, and a proxy enforcing the rendered RBAC. */
async function namespacedCluster(): Promise<{ server: KubeApiServer; proxy: RbacProxy }> {
  server = await startCluster({ namespaces: [...WATCHED, 'other'], objects: [keySecretObject('kseal-key-test')] });
  proxy = await startRbacProxy(server.port, rulesFromManifests(rendered(), { namespace: CONTROLLER_NS, name: 'kseal-controller' }));
  return { server, proxy };
}

describe.skipIf(kubectl === undefined)('--watch-namespaces under the watch-namespaces component RBAC (embedded API)', () => {
  it('unseals objects in the watched namespaces, never touches the others, and needs no request the Roles lack', async () => {
    const { server, proxy } = await namespacedCluster();
    for (const ns of [...WATCHED, 'other']) applySealed(server, sealedObject({ name: 'db', namespace: ns, values: { password: `pw-${ns}` } }));
    ctl = startController(server, { watchNamespaces: WATCHED }, { url: proxy.url });
    for (const ns of WATCHED) {
      await waitForReason(server, ns, 'db', 'Unsealed');
      expect(valuesOf(secretOf(server, ns, 'db')).password).toBe(`pw-${ns}`);
    }
    // Created after the start: the per-namespace watch sees it.
    applySealed(server, sealedObject({ name: 'late', namespace: 'team-b', values: { token: 't' } }));
    applySealed(server, sealedObject({ name: 'late', namespace: 'other', values: { token: 't' } }));
    await waitForReason(server, 'team-b', 'late', 'Unsealed');
    await eventually('the controller idle', () => ctl?.controller.idle());
    expect(secretOf(server, 'other', 'db')).toBeUndefined();
    expect(secretOf(server, 'other', 'late')).toBeUndefined();
    expect(readyOf(server, 'other', 'db')).toBeUndefined();
    expect((sealedOf(server, 'other', 'db') as { status?: unknown }).status).toBeUndefined();
    expect(proxy.refused()).toEqual([]);
    expect(proxy.requests.filter((r) => r.namespace === 'other')).toEqual([]);
    expect(proxy.requests.filter((r) => r.namespace === undefined)).toEqual([]);
    const undeclared = proxy.requests.filter((r) => !isDeclaredRequest({ verb: r.verb as never, group: r.group, resource: r.resource, namespace: r.namespace }, CONTROLLER_NS, undefined, WATCHED));
    expect(undeclared).toEqual([]);
  });

  it('repairs an owned Secret edited in a watched namespace (the managed-Secret watch is per namespace too)', async () => {
    const { server, proxy } = await namespacedCluster();
    applySealed(server, sealedObject({ name: 'api', namespace: 'team-a', values: { token: 'right' } }));
    ctl = startController(server, { watchNamespaces: WATCHED }, { url: proxy.url });
    await waitForReason(server, 'team-a', 'api', 'Unsealed');
    const secret = secretOf(server, 'team-a', 'api')!;
    server.store.update({ ...secret, data: { ...secret.data, token: Buffer.from('wrong').toString('base64'), LD_PRELOAD: Buffer.from('/x.so').toString('base64') } } as never);
    await eventually('the Secret restored', () => {
      const values = valuesOf(secretOf(server, 'team-a', 'api'));
      return values.token === 'right' && values.LD_PRELOAD === undefined;
    });
    expect(proxy.refused()).toEqual([]);
  });

  it('is refused by the same RBAC when it watches every namespace (the check can fail)', async () => {
    const { server, proxy } = await namespacedCluster();
    ctl = startController(server, {}, { url: proxy.url });
    await eventually('refused cluster-wide lists of SealedSecrets and Secrets', () => proxy.refused().includes('list kseal.dev/sealedsecrets (cluster)') && proxy.refused().includes('list /secrets (cluster)'));
  });
});
