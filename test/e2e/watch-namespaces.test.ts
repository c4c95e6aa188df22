/**
 * `--watch-namespaces` against a real API server, with the controller running under exactly the RBAC
 * that `kubectl kustomize examples/watch-namespaces` renders (the watch-namespaces component: no
 * ClusterRole binding, a Role in each watched namespace, the base Role in the controller's own): the
 * watched namespaces' objects unseal, an object in another namespace is never touched, and the
 * harness fails the test on any request the real authorizer refused.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sealedObject } from '../controller/fixtures.js';
import { renderDeploy } from '../../control-plane/admin.js';
import { eventually, useE2e } from './cluster/e2e.js';
import { certFrom, createSealed, readSealed, readSecret, secretValues, waitReady } from './cluster/objects.js';

const e2e = useE2e();
const EXAMPLE = fileURLToPath(new URL('../../examples/watch-namespaces', import.meta.url));

describe('kseal-controller --watch-namespaces under the namespaced RBAC', () => {
  it('unseals in the watched namespaces only, with Roles there and no cluster-wide grant', async () => {
    const rendered = renderDeploy(EXAMPLE);
    expect(rendered).not.toMatch(/^kind: ClusterRoleBinding$/m);
    const a = await e2e.namespace('team-a');
    const b = await e2e.namespace('team-b');
    const other = await e2e.namespace('other');
    const ctl = await e2e.controllerNamespace('kseal-ns', { deployYaml: rendered, moved: { 'team-a': a, 'team-b': b } });
    const p = e2e.run(ctl, 'tenant', ['--watch-namespaces', `${a},${b}`]);
    const cert = await certFrom(p);
    for (const ns of [a, b, other]) await createSealed(e2e, sealedObject({ name: 'db', namespace: ns, values: { password: `pw-${ns}` }, cert }));
    await waitReady(e2e, a, 'db');
    await waitReady(e2e, b, 'db');
    expect(await secretValues(e2e, a, 'db')).toEqual({ password: `pw-${a}` });
    expect(await secretValues(e2e, b, 'db')).toEqual({ password: `pw-${b}` });

    // An owned Secret edited in a watched namespace is repaired through the per-namespace watch.
    const secret = await readSecret(e2e, b, 'db');
    await e2e.core.replaceNamespacedSecret({ namespace: b, name: 'db', body: { ...secret!, data: { password: Buffer.from('tampered').toString('base64') } } as never });
    await eventually('the tampered Secret restored', async () => (await secretValues(e2e, b, 'db'))?.password === `pw-${b}`);

    // The object in the other namespace: no Secret, no status, and nothing refused (it is never listed).
    await new Promise((r) => setTimeout(r, 2000));
    expect(await readSecret(e2e, other, 'db')).toBeUndefined();
    expect((await readSealed(e2e, other, 'db')).status).toBeUndefined();
    expect(p.logs()).not.toContain(other);
    expect(e2e.forbiddenRequests()).toEqual([]);
  });

  it('gets 403 from the real authorizer when it watches every namespace under the same RBAC (the check can fail)', async () => {
    const rendered = renderDeploy(EXAMPLE);
    const a = await e2e.namespace('team-a');
    const b = await e2e.namespace('team-b');
    const ctl = await e2e.controllerNamespace('kseal-ns', { deployYaml: rendered, moved: { 'team-a': a, 'team-b': b } });
    const p = e2e.run(ctl, 'greedy');
    await certFrom(p);
    const refused = await eventually('a refused cluster-wide list', () => {
      const found = e2e.forbiddenRequests([ctl.identity.username]);
      return found.some((r) => r.includes('/apis/kseal.dev/v1alpha1/sealedsecrets')) ? found : undefined;
    });
    expect(refused.some((r) => r.includes(' /api/v1/secrets?'))).toBe(true);
    // Expected refusals: stop the controller and tell the harness they were the point of this test.
    await p.kill();
    e2e.tolerateForbiddenUntil(new Date(Date.now() + 1000));
  });
});
