/**
 * The controller's identity on a real authorizer: the RBAC objects installed are exactly those
 * `kubectl kustomize controller/deploy` renders, the ServiceAccount token from TokenRequest is
 * allowed what the controller needs and refused the rest, and the harness sees such a refusal
 * in the API server's audit log (the check that fails every other e2e test on a 403).
 */
import { CoordinationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { controllerIdentity, deleteIdentity, deployObjects } from '../../control-plane/admin.js';
import { eventually, useE2e } from './cluster/e2e.js';

const e2e = useE2e();

function codeOf(e: unknown): number | undefined {
  return (e as { code?: number }).code;
}

async function status(call: () => Promise<unknown>): Promise<number> {
  try {
    await call();
    return 200;
  } catch (e) {
    return codeOf(e) ?? -1;
  }
}

describe('the deploy RBAC on a real authorizer', () => {
  it('installs the ClusterRole with exactly the rules kubectl kustomize renders', async () => {
    const rendered = deployObjects(e2e.ctx.deployYaml).find((o) => o.kind === 'ClusterRole') as unknown as { metadata: { name: string }; rules: unknown[] };
    const live = await e2e.admin.rbac.readClusterRole({ name: rendered.metadata.name });
    expect(JSON.parse(JSON.stringify(live.rules))).toEqual(rendered.rules.map((r) => ({ ...(r as object) })));
  });

  it('lets the ServiceAccount token do what the controller needs and refuses anything else', async () => {
    const ctlNs = await e2e.namespace('kseal-rbac');
    const app = await e2e.namespace('kseal-rbac-app');
    const identity = await controllerIdentity(e2e.admin, e2e.ctx.deployYaml, ctlNs);
    try {
      const kc = new KubeConfig();
      kc.loadFromFile(identity.kubeconfig(e2e.tmp));
      const core = kc.makeApiClient(CoreV1Api);
      const leases = kc.makeApiClient(CoordinationV1Api);
      await e2e.core.createNamespacedSecret({ namespace: app, body: { metadata: { name: 'other' }, stringData: { v: 'x' } } });

      expect(await status(() => core.listSecretForAllNamespaces({ limit: 1 }))).toBe(200);
      expect(await status(() => core.readNamespacedSecret({ namespace: app, name: 'other' }))).toBe(200);
      expect(await status(() => leases.createNamespacedLease({ namespace: ctlNs, body: { metadata: { name: 'probe' }, spec: {} } }))).toBe(200);

      expect(await status(() => core.deleteNamespacedSecret({ namespace: app, name: 'other' }))).toBe(403);
      expect(await status(() => core.listNamespacedConfigMap({ namespace: app }))).toBe(403);
      expect(await status(() => leases.createNamespacedLease({ namespace: app, body: { metadata: { name: 'probe' }, spec: {} } }))).toBe(403);
      expect(await status(() => core.listNamespace())).toBe(403);
      expect(await status(() => core.patchNamespacedSecret({ namespace: app, name: 'other', body: [{ op: 'add', path: '/metadata/labels', value: { a: 'b' } }] }))).toBe(403);

      if (e2e.ownControlPlane) {
        const refused = await eventually('the refusals in the audit log', () => {
          const r = e2e.forbiddenRequests([identity.username]);
          return r.length >= 5 ? r : undefined;
        }, 10_000);
        expect(refused.some((r) => r.includes(' delete ') && r.includes(`/namespaces/${app}/secrets/other`))).toBe(true);
      }
    } finally {
      await deleteIdentity(e2e.admin, e2e.ctx.deployYaml, ctlNs);
    }
  });
});
