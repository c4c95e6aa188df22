// The install manifests (controller/deploy, rendered with `kubectl kustomize`): every object is
// there, hardened, wired to each other, and the RBAC grants exactly the requests declared in
// controller/api-permissions.ts, which are in turn checked against the calls in the controller code.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseFlags } from '../../controller/main.js';
import { BITNAMI_ADOPTION_PERMISSIONS, CONTROLLER_API_PERMISSIONS, isDeclaredRequest, type ApiPermission } from '../../controller/api-permissions.js';

type Obj = Record<string, unknown>;

const NAMESPACE = 'kseal-system';
const NAME = 'kseal-controller';

/** The value at a dotted path (`spec.template.spec`; numeric parts index lists), or undefined. */
function dig(value: unknown, path: string): unknown {
  let current = value;
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function list(value: unknown, path: string): Obj[] {
  const found = dig(value, path);
  return Array.isArray(found) ? (found as Obj[]) : [];
}

function findKubectl(): string | undefined {
  const candidates = [process.env.KUBECTL, ...(process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'kubectl')), '/usr/bin/kubectl'];
  return candidates.find((c): c is string => c !== undefined && c !== '' && existsSync(c));
}

const kubectl = findKubectl();
let objects: Obj[] = [];

function find(kind: string, name: string): Obj {
  const found = objects.find((o) => o.kind === kind && dig(o, 'metadata.name') === name);
  if (found === undefined) throw new Error(`${kind} ${name} is not in the rendered manifests`);
  return found;
}

/** `group|resource|verb` for every grant of a role's rules. */
function grants(role: Obj): string[] {
  const out: string[] = [];
  for (const rule of list(role, 'rules')) {
    for (const group of dig(rule, 'apiGroups') as string[]) for (const resource of dig(rule, 'resources') as string[]) for (const verb of dig(rule, 'verbs') as string[]) out.push(`${group}|${resource}|${verb}`);
  }
  return out.sort();
}

function declared(scope: ApiPermission['scope']): string[] {
  return CONTROLLER_API_PERMISSIONS.filter((p) => p.scope === scope)
    .flatMap((p) => p.verbs.map((v) => `${p.group}|${p.resource}|${v}`))
    .sort();
}

describe.skipIf(kubectl === undefined)('controller/deploy rendered with kubectl kustomize', () => {
  beforeAll(() => {
    const text = execFileSync(kubectl as string, ['kustomize', 'controller/deploy'], { encoding: 'utf8', timeout: 20_000 });
    objects = parseAllDocuments(text).map((d) => d.toJS() as Obj);
  });

  it('holds exactly the expected objects', () => {
    const ids = objects.map((o) => [o.kind, dig(o, 'metadata.namespace') ?? '', dig(o, 'metadata.name')].map((part) => (typeof part === 'string' ? part : '?')).join('/')).sort();
    expect(ids).toEqual(
      [
        `ClusterRole//${NAME}`,
        `ClusterRoleBinding//${NAME}`,
        'CustomResourceDefinition//sealedsecrets.kseal.dev',
        `Deployment/${NAMESPACE}/${NAME}`,
        `Namespace//${NAMESPACE}`,
        `PodDisruptionBudget/${NAMESPACE}/${NAME}`,
        `Role/${NAMESPACE}/${NAME}`,
        `RoleBinding/${NAMESPACE}/${NAME}`,
        `Service/${NAMESPACE}/${NAME}`,
        `ServiceAccount/${NAMESPACE}/${NAME}`,
      ].sort(),
    );
  });

  it('defines the SealedSecret CRD with names, scope, status subresource and printer columns', () => {
    const crd = find('CustomResourceDefinition', 'sealedsecrets.kseal.dev');
    expect(dig(crd, 'spec.group')).toBe('kseal.dev');
    expect(dig(crd, 'spec.scope')).toBe('Namespaced');
    expect(dig(crd, 'spec.names')).toMatchObject({ kind: 'SealedSecret', plural: 'sealedsecrets', singular: 'sealedsecret', shortNames: ['kss'] });
    const versions = list(crd, 'spec.versions');
    expect(versions).toHaveLength(1);
    expect(versions[0]).toMatchObject({ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } });
    // Columns shown by default (priority 0), in order; wide-only columns may follow.
    expect(list(versions[0], 'additionalPrinterColumns').filter((c) => (c.priority ?? 0) === 0).map((c) => [c.name, c.jsonPath])).toEqual([
      ['Ready', '.status.conditions[?(@.type=="Ready")].status'],
      ['Reason', '.status.conditions[?(@.type=="Ready")].reason'],
      ['Age', '.metadata.creationTimestamp'],
    ]);
  });

  it('gives the CRD a schema with required encryptedData, the template and the status conditions', () => {
    const schema = dig(find('CustomResourceDefinition', 'sealedsecrets.kseal.dev'), 'spec.versions.0.schema.openAPIV3Schema');
    expect(dig(schema, 'properties.spec.required')).toEqual(['encryptedData']);
    expect(dig(schema, 'properties.spec.properties.encryptedData')).toMatchObject({ type: 'object', additionalProperties: { type: 'string' } });
    const template = dig(schema, 'properties.spec.properties.template.properties');
    expect(dig(template, 'metadata.properties.labels.additionalProperties')).toEqual({ type: 'string' });
    expect(dig(template, 'metadata.properties.annotations.additionalProperties')).toEqual({ type: 'string' });
    expect(dig(template, 'type.type')).toBe('string');
    expect(dig(template, 'immutable.type')).toBe('boolean');
    expect(dig(template, 'data.additionalProperties')).toEqual({ type: 'string' });
    const status = dig(schema, 'properties.status.properties');
    expect(dig(status, 'observedGeneration.type')).toBe('integer');
    expect(Object.keys(dig(status, 'conditions.items.properties') as Obj).sort()).toEqual(['lastTransitionTime', 'message', 'observedGeneration', 'reason', 'status', 'type']);
  });

  it('runs two hardened replicas as a non-root user with a read-only root filesystem', () => {
    const deployment = find('Deployment', NAME);
    const pod = dig(deployment, 'spec.template.spec');
    const container = dig(pod, 'containers.0');
    expect(dig(deployment, 'spec.replicas')).toBe(2);
    expect(dig(pod, 'serviceAccountName')).toBe(NAME);
    expect(dig(pod, 'securityContext')).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    expect(dig(container, 'securityContext')).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(dig(container, 'securityContext.capabilities.add')).toBeUndefined();
    expect(dig(container, 'image')).toMatch(/^ghcr\.io\/kseal\/kseal-controller:\d+\.\d+\.\d+$/);
  });

  it('takes the image from the kustomization images: entry, so users set it in one place', () => {
    const text = readFileSync('controller/deploy/kustomization.yaml', 'utf8');
    const images = (parseAllDocuments(text)[0]?.toJS() as { images?: Array<{ name: string; newName: string; newTag: string }> }).images;
    expect(images).toEqual([{ name: 'kseal-controller', newName: 'ghcr.io/kseal/kseal-controller', newTag: '0.1.0' }]);
    expect(readFileSync('controller/deploy/deployment.yaml', 'utf8')).toMatch(/image: kseal-controller\b/);
  });

  it('passes the container args to the controller, which the image entrypoint starts', () => {
    const container = dig(find('Deployment', NAME), 'spec.template.spec.containers.0');
    // Kubernetes `args` replace the image's CMD, so the controller must be in the ENTRYPOINT.
    const entrypoint = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(readFileSync('Dockerfile', 'utf8'))?.[1];
    expect(entrypoint).toBeDefined();
    const argv = JSON.parse(entrypoint ?? '[]') as string[];
    expect(argv[0]).toBe('/nodejs/bin/node');
    expect(argv.at(-1)).toBe('dist/kseal-controller.mjs');
    expect(dig(container, 'command')).toBeUndefined();
    const args = list(container, 'args') as unknown as string[];
    expect(args.length).toBeGreaterThan(0);
    expect(() => parseFlags(args, {})).not.toThrow();
  });

  it('probes /healthz for liveness and /readyz for readiness on the http port', () => {
    const container = dig(find('Deployment', NAME), 'spec.template.spec.containers.0');
    expect(dig(container, 'livenessProbe.httpGet')).toEqual({ path: '/healthz', port: 'http' });
    expect(dig(container, 'readinessProbe.httpGet')).toEqual({ path: '/readyz', port: 'http' });
    expect(list(container, 'ports').map((p) => [p.name, p.containerPort])).toEqual([
      ['http', 8080],
      ['metrics', 8081],
    ]);
  });

  it('sets resource requests and limits, the downward-API env and host anti-affinity', () => {
    const deployment = find('Deployment', NAME);
    const container = dig(deployment, 'spec.template.spec.containers.0');
    expect(Object.keys(dig(container, 'resources.requests') as Obj).sort()).toEqual(['cpu', 'memory']);
    expect(dig(container, 'resources.limits.memory')).toBeDefined();
    const env = Object.fromEntries(list(container, 'env').map((e) => [e.name, dig(e, 'valueFrom.fieldRef.fieldPath')]));
    expect(env).toMatchObject({ POD_NAMESPACE: 'metadata.namespace', POD_NAME: 'metadata.name' });
    const term = dig(deployment, 'spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution.0.podAffinityTerm');
    expect(dig(term, 'topologyKey')).toBe('kubernetes.io/hostname');
    expect(dig(term, 'labelSelector.matchLabels')).toEqual(dig(deployment, 'spec.selector.matchLabels'));
  });

  it('exposes port http 8080 (the CLI proxy path) and metrics 8081 on the pods the Deployment runs', () => {
    const service = find('Service', NAME);
    expect(list(service, 'spec.ports').map((p) => [p.name, p.port, p.targetPort])).toEqual([
      ['http', 8080, 'http'],
      ['metrics', 8081, 'metrics'],
    ]);
    expect(dig(find('Deployment', NAME), 'spec.template.metadata.labels')).toMatchObject(dig(service, 'spec.selector') as Obj);
  });

  it('keeps one replica through disruptions', () => {
    const pdb = find('PodDisruptionBudget', NAME);
    expect(dig(pdb, 'spec.minAvailable')).toBe(1);
    expect(dig(find('Deployment', NAME), 'spec.template.metadata.labels')).toMatchObject(dig(pdb, 'spec.selector.matchLabels') as Obj);
  });

  it('binds the ClusterRole and the Role to the controller ServiceAccount', () => {
    const subject = { kind: 'ServiceAccount', name: NAME, namespace: NAMESPACE };
    const clusterBinding = find('ClusterRoleBinding', NAME);
    const binding = find('RoleBinding', NAME);
    expect(clusterBinding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NAME });
    expect(clusterBinding.subjects).toEqual([subject]);
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: NAME });
    expect(binding.subjects).toEqual([subject]);
  });

  it('grants in the ClusterRole exactly the declared cluster-scope requests', () => {
    expect(grants(find('ClusterRole', NAME))).toEqual(declared('cluster'));
  });

  it('grants in the Role exactly the declared requests in the controller namespace', () => {
    expect(grants(find('Role', NAME))).toEqual(declared('namespace'));
  });

  it('uses no wildcard, resource name or non-resource URL in any rule', () => {
    for (const role of objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')) {
      for (const rule of list(role, 'rules')) {
        expect(JSON.stringify(rule)).not.toContain('*');
        expect(rule.resourceNames).toBeUndefined();
        expect(rule.nonResourceURLs).toBeUndefined();
      }
    }
  });
});

describe('controller/api-permissions.ts', () => {
  it('declares each group, resource and scope once, with verbs listed once', () => {
    const keys = CONTROLLER_API_PERMISSIONS.map((p) => `${p.scope}|${p.group}|${p.resource}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const p of CONTROLLER_API_PERMISSIONS) expect(new Set(p.verbs).size).toBe(p.verbs.length);
  });

  it('covers a namespace entry only in the controller namespace', () => {
    const lease = { verb: 'update', group: 'coordination.k8s.io', resource: 'leases' } as const;
    expect(isDeclaredRequest({ ...lease, namespace: NAMESPACE }, NAMESPACE)).toBe(true);
    expect(isDeclaredRequest({ ...lease, namespace: 'default' }, NAMESPACE)).toBe(false);
    expect(isDeclaredRequest({ verb: 'delete', group: '', resource: 'secrets', namespace: 'default' }, NAMESPACE)).toBe(false);
  });
});

// ---- Cross-check against the controller code -------------------------------------------------
// A static scan of controller/*.ts: the client-node calls it makes (readNamespacedSecret...) and the
// REST collection paths it lists and watches. Every call found must be declared, and every declared
// verb must be found, so the declaration cannot drift from the code in either direction.

const CONTROLLER_DIR = 'controller';
const VERB_OF_PREFIX: Readonly<Record<string, string>> = { read: 'get', list: 'list', create: 'create', replace: 'update', patch: 'patch', delete: 'delete', deleteCollection: 'deletecollection' };
const RESOURCE_OF_KIND: Readonly<Record<string, [string, string]>> = {
  Secret: ['', 'secrets'],
  Event: ['', 'events'],
  Lease: ['coordination.k8s.io', 'leases'],
  Namespace: ['', 'namespaces'],
  ConfigMap: ['', 'configmaps'],
  CustomObject: ['kseal.dev', 'sealedsecrets'],
};

function controllerSources(): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of readdirSync(CONTROLLER_DIR)) {
    // The HTTP API and this declaration make no Kubernetes requests.
    if (!name.endsWith('.ts') || name === 'api-permissions.ts') continue;
    files.set(name, readFileSync(join(CONTROLLER_DIR, name), 'utf8'));
  }
  return files;
}

/** `group|resource|verb` of every request the controller code makes, as far as a static scan can tell. */
function scannedRequests(sources: Map<string, string>): Set<string> {
  const found = new Set<string>();
  const text = [...sources.values()].join('\n');
  // Typed client-node calls: readNamespacedSecret, patchNamespacedCustomObjectStatus, listSecretForAllNamespaces...
  for (const m of text.matchAll(/\.(read|list|create|replace|patch|deleteCollection|delete)(Namespaced|Cluster)?([A-Z][A-Za-z]*?)(Status)?(ForAllNamespaces)?\(/g)) {
    const [, prefix, , kind, status] = m;
    const target = RESOURCE_OF_KIND[kind ?? ''];
    if (target === undefined) continue;
    found.add(`${target[0]}|${target[1]}${status === undefined ? '' : '/status'}|${VERB_OF_PREFIX[prefix ?? '']}`);
  }
  // REST collection paths given to the list/watch transport, with `${CONSTANT}` resolved.
  const constants = new Map<string, string>();
  for (const m of text.matchAll(/export const ([A-Z_]+) = '([^']*)'/g)) constants.set(m[1]!, m[2]!);
  for (const m of text.matchAll(/[`'](\/apis?\/[^`'\s]*)[`']/g)) {
    const path = m[1]!.replace(/\$\{([A-Z_]+)\}/g, (whole, name: string) => constants.get(name) ?? whole);
    const core = /^\/api\/v1\/(?:namespaces\/[^/]+\/)?([a-z]+)$/.exec(path);
    const grouped = /^\/apis\/([a-z0-9.-]+)\/[a-z0-9]+\/(?:namespaces\/[^/]+\/)?([a-z]+)$/.exec(path);
    const target = core !== null ? ['', core[1]] : grouped !== null ? [grouped[1], grouped[2]] : undefined;
    if (target === undefined) continue;
    found.add(`${target[0]}|${target[1]}|list`).add(`${target[0]}|${target[1]}|watch`);
  }
  return found;
}

describe('declared permissions against the controller code', () => {
  const sources = controllerSources();
  const hasKubeClient = sources.has('kube-client.ts');

  it.skipIf(!hasKubeClient)('declares every request the controller code makes', () => {
    const declaredAny = new Set([...CONTROLLER_API_PERMISSIONS, ...BITNAMI_ADOPTION_PERMISSIONS].flatMap((p) => p.verbs.map((v) => `${p.group}|${p.resource}|${v}`)));
    const undeclared = [...scannedRequests(sources)].filter((r) => !declaredAny.has(r));
    expect(undeclared).toEqual([]);
  });

  it.skipIf(!hasKubeClient)('makes every declared request somewhere in the controller code', () => {
    const scanned = scannedRequests(sources);
    const unused = CONTROLLER_API_PERMISSIONS.flatMap((p) => p.verbs.map((v) => `${p.group}|${p.resource}|${v}`)).filter((r) => !scanned.has(r));
    expect(unused).toEqual([]);
  });
});
