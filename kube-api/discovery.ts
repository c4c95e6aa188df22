/**
 * Discovery documents (legacy, unaggregated form: kubectl and client-go fall back to it when the
 * response is plain `application/json`): /api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version>,
 * and /version. Custom resources appear once their CRD is established and disappear with it.
 */
import type { JsonObject } from './json.js';
import { groupVersion, versionInfo } from './resources.js';
import type { ResourceDef, ResourceRegistry } from './resources.js';

/** The Kubernetes version the server reports (and behaves like). */
const SERVER_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-kseal' } as const;

/** GET /version. */
export function versionInfoDoc(): JsonObject {
  return {
    major: SERVER_VERSION.major,
    minor: SERVER_VERSION.minor,
    gitVersion: SERVER_VERSION.gitVersion,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'go1.23.4',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

/** GET /api. */
export function apiVersionsDoc(serverAddress: string): JsonObject {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupDoc(name: string, versions: string[]): JsonObject {
  const vs = versions.map((v) => ({ groupVersion: groupVersion(name, v), version: v }));
  return { name, versions: vs, preferredVersion: vs[0]! };
}

/** GET /apis. */
export function apiGroupListDoc(registry: ResourceRegistry): JsonObject {
  const groups = registry
    .groups()
    .filter((g) => g.name !== '')
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((g) => groupDoc(g.name, g.versions));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

/** GET /apis/<group>, or undefined when the group is not served. */
export function apiGroupDoc(registry: ResourceRegistry, group: string): JsonObject | undefined {
  const g = registry.groups().find((x) => x.name === group);
  if (!g || group === '') return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(g.name, g.versions) };
}

function resourceEntries(def: ResourceDef, version: string): JsonObject[] {
  const main: JsonObject = {
    name: def.plural,
    singularName: def.singular,
    namespaced: def.namespaced,
    kind: def.kind,
    verbs: def.verbs,
  };
  if (def.shortNames.length > 0) main['shortNames'] = def.shortNames;
  if (def.categories.length > 0) main['categories'] = def.categories;
  const out: JsonObject[] = [main];
  if (versionInfo(def, version)?.statusSubresource) {
    out.push({ name: `${def.plural}/status`, singularName: '', namespaced: def.namespaced, kind: def.kind, verbs: ['get', 'patch', 'update'] });
  }
  for (const sub of def.extraSubresources ?? []) {
    out.push({ name: `${def.plural}/${sub}`, singularName: '', namespaced: def.namespaced, kind: def.kind, verbs: ['update'] });
  }
  return out;
}

/** GET /api/v1 or /apis/<group>/<version>, or undefined when not served. */
export function apiResourceListDoc(registry: ResourceRegistry, group: string, version: string): JsonObject | undefined {
  const defs = registry
    .all()
    .filter((d) => d.group === group && versionInfo(d, version))
    .sort((a, b) => (a.plural < b.plural ? -1 : a.plural > b.plural ? 1 : 0));
  if (defs.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupVersion(group, version),
    resources: defs.flatMap((d) => resourceEntries(d, version)),
  };
}
