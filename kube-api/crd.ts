/**
 * CustomResourceDefinitions (apiextensions.k8s.io/v1) and the custom resources they define:
 * the CRD strategy and validation (apiextensions-apiserver/pkg/registry/customresourcedefinition,
 * pkg/apis/apiextensions/validation), how a CRD becomes a served ResourceDef, and the custom
 * resource strategy (pkg/registry/customresource/strategy.go: status dropped on create when the
 * status subresource is on, generation bumped on any change outside metadata).
 */
import { fieldError } from './errors.js';
import type { FieldError } from './errors.js';
import { deepEqual, isObject } from './json.js';
import type { JsonObject, JsonValue } from './json.js';
import { dns1123LabelErrors, dns1123SubdomainErrors } from './names.js';
import { metaOf } from './objects.js';
import { pruneAndDefault, validateAgainstSchema } from './openapi-schema.js';
import { META_LIST_STRATEGIES } from './patch.js';
import { compareKubeVersions, versionInfo } from './resources.js';
import type { KindHooks, ResourceDef, VersionInfo } from './resources.js';

/** The finalizer the server adds when a CRD is deleted; removed once its objects are gone. */
export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

/** The storage key of CustomResourceDefinitions. */
export const CRD_STORAGE_KEY = 'apiextensions.k8s.io/customresourcedefinitions';

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function obj(v: JsonValue | undefined): JsonObject {
  return isObject(v) ? v : {};
}

function s(v: JsonValue | undefined): string {
  return typeof v === 'string' ? v : '';
}

/** SetDefaults_CustomResourceDefinition: singular, listKind, conversion strategy. */
function defaultCrd(crd: JsonObject): void {
  const spec = obj(crd['spec']);
  const names = obj(spec['names']);
  if (!names['singular'] && typeof names['kind'] === 'string') names['singular'] = names['kind'].toLowerCase();
  if (!names['listKind'] && typeof names['kind'] === 'string') names['listKind'] = `${names['kind']}List`;
  if (isObject(spec['names'])) spec['names'] = names;
  if (!isObject(spec['conversion'])) spec['conversion'] = { strategy: 'None' };
}

function storageVersionOf(crd: JsonObject): string | undefined {
  const versions = obj(crd['spec'])['versions'];
  if (!Array.isArray(versions)) return undefined;
  const st = versions.find((v) => isObject(v) && v['storage'] === true);
  return isObject(st) ? s(st['name']) : undefined;
}

function validateCrd(crd: JsonObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = obj(crd['spec']);
  const names = obj(spec['names']);
  const group = s(spec['group']);
  const plural = s(names['plural']);
  const name = s(metaOf(crd)['name']);
  if (name !== `${plural}.${group}`) errs.push(fieldError.invalid('metadata.name', name, 'must be spec.names.plural+"."+spec.group'));
  if (!group) errs.push(fieldError.required('spec.group'));
  else {
    for (const m of dns1123SubdomainErrors(group)) errs.push(fieldError.invalid('spec.group', group, m));
    if (!group.includes('.')) errs.push(fieldError.invalid('spec.group', group, 'should be a domain with at least one dot'));
  }
  const scope = s(spec['scope']);
  if (scope !== 'Cluster' && scope !== 'Namespaced') {
    if (!scope) errs.push(fieldError.required('spec.scope'));
    else errs.push(fieldError.notSupported('spec.scope', scope, ['Cluster', 'Namespaced']));
  }
  if (!plural) errs.push(fieldError.required('spec.names.plural'));
  else for (const m of dns1123LabelErrors(plural)) errs.push(fieldError.invalid('spec.names.plural', plural, m));
  const singular = s(names['singular']);
  if (singular) for (const m of dns1123LabelErrors(singular)) errs.push(fieldError.invalid('spec.names.singular', singular, m));
  const kind = s(names['kind']);
  if (!kind) errs.push(fieldError.required('spec.names.kind'));
  else if (!/^[A-Za-z][A-Za-z0-9]*$/.test(kind)) errs.push(fieldError.invalid('spec.names.kind', kind, 'may have mixed case, but should otherwise match: [a-z]([-a-z0-9]*[a-z0-9])?'));
  const versions = spec['versions'];
  if (!Array.isArray(versions) || versions.length === 0) {
    errs.push(fieldError.invalid('spec.versions', null, 'must have exactly one version marked as storage version'));
    return errs;
  }
  let storage = 0;
  const seen = new Set<string>();
  versions.forEach((v, i) => {
    const p = `spec.versions[${i}]`;
    const ver = obj(v);
    const vname = s(ver['name']);
    if (!vname) errs.push(fieldError.required(`${p}.name`));
    else for (const m of dns1123LabelErrors(vname)) errs.push(fieldError.invalid(`${p}.name`, vname, m));
    if (seen.has(vname)) errs.push(fieldError.duplicate(`${p}.name`, vname));
    seen.add(vname);
    if (ver['storage'] === true) storage++;
    const schema = obj(ver['schema'])['openAPIV3Schema'];
    if (!isObject(schema)) errs.push(fieldError.required(`${p}.schema.openAPIV3Schema`, 'schemas are required'));
    else if (schema['type'] !== 'object') errs.push(fieldError.required(`${p}.schema.openAPIV3Schema.type`, 'must not be empty at the root'));
  });
  if (storage !== 1) errs.push(fieldError.invalid('spec.versions', 'array', 'must have exactly one version marked as storage version'));
  if (!versions.some((v) => isObject(v) && v['served'] === true)) errs.push(fieldError.invalid('spec.versions', 'array', 'must have at least one version marked as served'));
  return errs;
}

/** The CRD strategy. */
const crdHooks: KindHooks = {
  fields: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
  decode: (o) => defaultCrd(o),
  prepareForCreate(o) {
    const sv = storageVersionOf(o);
    o['status'] = { acceptedNames: { kind: '', plural: '' }, ...(sv ? { storedVersions: [sv] } : {}) };
  },
  prepareForUpdate(o) {
    const sv = storageVersionOf(o);
    const status = obj(o['status']);
    const stored = Array.isArray(status['storedVersions']) ? [...status['storedVersions']] : [];
    if (sv && !stored.includes(sv)) {
      stored.push(sv);
      o['status'] = { ...status, storedVersions: stored };
    }
  },
  validate: (o) => validateCrd(o),
  validateUpdate(o, old) {
    const errs: FieldError[] = [];
    const a = obj(o['spec']);
    const b = obj(old['spec']);
    if (s(a['scope']) !== s(b['scope'])) errs.push(fieldError.invalid('spec.scope', s(a['scope']), 'field is immutable'));
    if (s(a['group']) !== s(b['group'])) errs.push(fieldError.invalid('spec.group', s(a['group']), 'field is immutable'));
    return errs;
  },
  generation: 'spec',
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: false,
  returnDeletedObject: false,
  smp: META_LIST_STRATEGIES,
};

/** The CustomResourceDefinition resource itself. */
export function crdDef(): ResourceDef {
  return {
    group: 'apiextensions.k8s.io',
    plural: 'customresourcedefinitions',
    singular: 'customresourcedefinition',
    kind: 'CustomResourceDefinition',
    listKind: 'CustomResourceDefinitionList',
    namespaced: false,
    shortNames: ['crd', 'crds'],
    categories: ['api-extensions'],
    verbs: VERBS,
    versions: [{ name: 'v1', statusSubresource: true }],
    storageVersion: 'v1',
    storageKey: CRD_STORAGE_KEY,
    builtin: true,
    hooks: crdHooks,
  };
}

/** The custom resource strategy (shared by every CRD-defined resource). */
const customResourceHooks: KindHooks = {
  prune(o, version, def) {
    return pruneAndDefault(o, versionInfo(def, version)?.schema);
  },
  validate(o, version, def) {
    return validateAgainstSchema(o, versionInfo(def, version)?.schema);
  },
  generation: 'custom',
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: false,
  returnDeletedObject: false,
  smp: undefined,
};

/** The ResourceDef a CRD defines (served versions only, preferred first), or undefined if none is served. */
export function defFromCrd(crd: JsonObject): ResourceDef | undefined {
  const spec = obj(crd['spec']);
  const names = obj(spec['names']);
  const group = s(spec['group']);
  const plural = s(names['plural']);
  const kind = s(names['kind']);
  const versions: VersionInfo[] = [];
  let storageVersion = '';
  for (const v of Array.isArray(spec['versions']) ? spec['versions'] : []) {
    const ver = obj(v);
    const name = s(ver['name']);
    if (ver['storage'] === true) storageVersion = name;
    if (ver['served'] !== true) continue;
    const schema = obj(ver['schema'])['openAPIV3Schema'];
    const cols = ver['additionalPrinterColumns'];
    versions.push({
      name,
      statusSubresource: isObject(obj(ver['subresources'])['status']),
      schema: isObject(schema) ? schema : undefined,
      printerColumns: Array.isArray(cols) ? cols.filter(isObject) : undefined,
    });
  }
  if (versions.length === 0 || !group || !plural || !kind) return undefined;
  versions.sort((a, b) => compareKubeVersions(a.name, b.name));
  const stringList = (v: JsonValue | undefined): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  return {
    group,
    plural,
    singular: s(names['singular']) || kind.toLowerCase(),
    kind,
    listKind: s(names['listKind']) || `${kind}List`,
    namespaced: s(spec['scope']) !== 'Cluster',
    shortNames: stringList(names['shortNames']),
    categories: stringList(names['categories']),
    verbs: VERBS,
    versions,
    storageVersion: storageVersion || versions[0]!.name,
    storageKey: `${group}/${plural}`,
    builtin: false,
    hooks: customResourceHooks,
    crdName: s(metaOf(crd)['name']),
  };
}

/** True when the CRD's status already says what the establishing controller would write. */
export function crdStatusEstablished(crd: JsonObject): boolean {
  const status = obj(crd['status']);
  const names = obj(obj(crd['spec'])['names']);
  const conds = Array.isArray(status['conditions']) ? status['conditions'] : [];
  const established = conds.some((c) => isObject(c) && c['type'] === 'Established' && c['status'] === 'True');
  return established && deepEqual(status['acceptedNames'], names);
}
