// The adopt-bitnami kustomize component (examples/adopt-bitnami renders base + component): it turns
// on --adopt-bitnami and adds exactly BITNAMI_ADOPTION_PERMISSIONS, read-only on kube-system.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { BITNAMI_ADOPTION_PERMISSIONS } from '../../controller/api-permissions.js';

type Obj = { kind: string; metadata: { name: string; namespace?: string }; rules?: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>; spec?: { template: { spec: { containers: Array<{ args: string[] }> } } } };

const kubectl = existsSync('/usr/bin/kubectl') ? '/usr/bin/kubectl' : undefined;
const render = (dir: string): Obj[] => parseAllDocuments(execFileSync(kubectl as string, ['kustomize', dir], { encoding: 'utf8', timeout: 20_000 })).map((d) => d.toJS() as Obj);
const grants = (role: Obj) => (role.rules ?? []).flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}|${res}|${v}`)))).sort();
const declared = (scope: string) => BITNAMI_ADOPTION_PERMISSIONS.filter((p) => p.scope === scope).flatMap((p) => p.verbs.map((v) => `${p.group}|${p.resource}|${v}`)).sort();

describe.skipIf(kubectl === undefined)('controller/deploy/components/adopt-bitnami', () => {
  it('adds --adopt-bitnami to the controller and the RBAC it needs, nothing more', () => {
    const base = render('controller/deploy');
    const adopted = render('examples/adopt-bitnami');
    const deployment = adopted.find((o) => o.kind === 'Deployment')!;
    expect(deployment.spec!.template.spec.containers[0]!.args).toContain('--adopt-bitnami');
    expect(base.find((o) => o.kind === 'Deployment')!.spec!.template.spec.containers[0]!.args).not.toContain('--adopt-bitnami');
    const extra = adopted.filter((o) => !base.some((b) => b.kind === o.kind && b.metadata.name === o.metadata.name && b.metadata.namespace === o.metadata.namespace));
    expect(extra.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort()).toEqual(
      ['ClusterRole//kseal-controller-adopt-bitnami', 'ClusterRoleBinding//kseal-controller-adopt-bitnami', 'Role/kube-system/kseal-controller-bitnami-keys', 'RoleBinding/kube-system/kseal-controller-bitnami-keys'].sort(),
    );
    expect(grants(extra.find((o) => o.kind === 'ClusterRole')!)).toEqual(declared('cluster'));
    expect(grants(extra.find((o) => o.kind === 'Role')!)).toEqual(declared('bitnami-keys'));
  });
});
