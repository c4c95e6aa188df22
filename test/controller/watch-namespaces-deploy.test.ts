// `--watch-namespaces` as a flag, and the watch-namespaces kustomize component (examples/watch-namespaces
// renders base + component): it passes the flag, removes the ClusterRole and its binding, and grants in
// each watched namespace exactly the cluster-scope requests of CONTROLLER_API_PERMISSIONS.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CONTROLLER_API_PERMISSIONS, isDeclaredRequest } from '../../controller/api-permissions.js';
import { parseFlags } from '../../controller/main.js';

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
type Obj = { kind: string; metadata: { name: string; namespace?: string }; rules?: Rule[]; roleRef?: { kind: string; name: string }; subjects?: unknown[]; spec?: { template: { spec: { containers: Array<{ args: string[] }> } } } };

const kubectl = existsSync('/usr/bin/kubectl') ? '/usr/bin/kubectl' : undefined;
const render = (dir: string): Obj[] => parseAllDocuments(execFileSync(kubectl as string, ['kustomize', dir], { encoding: 'utf8', timeout: 20_000 })).map((d) => d.toJS() as Obj);
const grants = (role: Obj) => (role.rules ?? []).flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}|${res}|${v}`)))).sort();
const declared = (scope: 'cluster' | 'namespace') => CONTROLLER_API_PERMISSIONS.filter((p) => p.scope === scope).flatMap((p) => p.verbs.map((v) => `${p.group}|${p.resource}|${v}`)).sort();

describe('--watch-namespaces', () => {
  it('watches every namespace unless given', () => {
    expect(parseFlags([], {}).watchNamespaces).toBeUndefined();
  });

  it('reads a comma-separated list, trimming blanks and repeats', () => {
    expect(parseFlags(['--watch-namespaces', 'team-a, team-b,team-a,'], {}).watchNamespaces).toEqual(['team-a', 'team-b']);
  });

  it('refuses an empty list and a name that is not a namespace name', () => {
    expect(() => parseFlags(['--watch-namespaces', ','], {})).toThrow(/one or more namespace names/);
    expect(() => parseFlags(['--watch-namespaces', 'team-a,Team_B'], {})).toThrow(/namespace "Team_B" must be lowercase/);
  });

  it('cannot be combined with --adopt-bitnami, which watches every namespace', () => {
    expect(() => parseFlags(['--watch-namespaces', 'a', '--adopt-bitnami'], {})).toThrow(/cannot be combined with --watch-namespaces/);
  });

  it('limits the cluster-scope permissions to the watched namespaces in isDeclaredRequest', () => {
    const list = { verb: 'list', group: 'kseal.dev', resource: 'sealedsecrets' } as const;
    expect(isDeclaredRequest({ ...list, namespace: 'a' }, 'kseal-system', undefined, ['a'])).toBe(true);
    expect(isDeclaredRequest({ ...list, namespace: 'b' }, 'kseal-system', undefined, ['a'])).toBe(false);
    expect(isDeclaredRequest(list, 'kseal-system', undefined, ['a'])).toBe(false);
    expect(isDeclaredRequest(list, 'kseal-system')).toBe(true);
  });
});

describe.skipIf(kubectl === undefined)('controller/deploy/components/watch-namespaces', () => {
  const base = render('controller/deploy');
  const namespaced = render('examples/watch-namespaces');
  const roles = namespaced.filter((o) => o.kind === 'Role' && o.metadata.name === 'kseal-controller-watched');

  it('passes --watch-namespaces to the controller, naming exactly the namespaces that get a Role', () => {
    const args = namespaced.find((o) => o.kind === 'Deployment')!.spec!.template.spec.containers[0]!.args;
    const flag = args.find((a) => a.startsWith('--watch-namespaces='));
    expect(flag).toBeDefined();
    const watched = parseFlags([flag!], {}).watchNamespaces;
    expect(roles.map((r) => r.metadata.namespace).sort()).toEqual([...(watched ?? [])].sort());
    expect(base.find((o) => o.kind === 'Deployment')!.spec!.template.spec.containers[0]!.args.some((a) => a.startsWith('--watch-namespaces'))).toBe(false);
  });

  it('drops the ClusterRole and ClusterRoleBinding: nothing is granted cluster-wide', () => {
    expect(namespaced.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toEqual([]);
    expect(base.some((o) => o.kind === 'ClusterRoleBinding')).toBe(true);
  });

  it('grants in each watched namespace exactly what the base ClusterRole grants everywhere', () => {
    expect(roles.length).toBeGreaterThan(0);
    for (const role of roles) expect(grants(role)).toEqual(declared('cluster'));
    for (const role of roles) {
      const binding = namespaced.find((o) => o.kind === 'RoleBinding' && o.metadata.name === role.metadata.name && o.metadata.namespace === role.metadata.namespace);
      expect(binding?.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
      expect(binding?.subjects).toEqual([{ kind: 'ServiceAccount', name: 'kseal-controller', namespace: 'kseal-system' }]);
    }
  });

  it('keeps the base Role in the controller namespace (keys and leases)', () => {
    const own = namespaced.find((o) => o.kind === 'Role' && o.metadata.name === 'kseal-controller' && o.metadata.namespace === 'kseal-system');
    expect(grants(own!)).toEqual(declared('namespace'));
  });
});
