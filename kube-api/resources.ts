/**
 * Resource definitions (what discovery lists and the REST layer serves) and the registry that maps
 * group/version/resource and apiVersion/kind to them. Built-in kinds are fixed; custom resources
 * are registered and unregistered as their CustomResourceDefinitions come and go.
 */
import type { FieldError } from './errors.js';
import type { JsonObject, JsonValue } from './json.js';
import type { ListStrategies } from './patch.js';

/** A table column (meta.k8s.io/v1 TableColumnDefinition). */
export interface TableColumn {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

/** Per-served-version facts. */
export interface VersionInfo {
  name: string;
  statusSubresource: boolean;
  /** openAPIV3Schema for custom resources. */
  schema?: JsonObject | undefined;
  /** additionalPrinterColumns for custom resources. */
  printerColumns?: JsonObject[] | undefined;
}

/** The per-kind behaviour the generic REST layer calls (the real server's "strategy"). */
export interface KindHooks {
  /** Top-level fields of the type; others are dropped (warning) or rejected (fieldValidation=Strict). */
  fields?: readonly string[];
  /** Decode-time checks and conversions on the versioned body; throws 400 (e.g. bad base64, MicroTime). */
  decode?(obj: JsonObject, version: string, def: ResourceDef): void;
  /** Versioned body → storage form (default: identity with the storage apiVersion). */
  toStorage?(obj: JsonObject, version: string): JsonObject;
  /** Storage form → the representation of `version` (default: identity with that apiVersion). */
  fromStorage?(obj: JsonObject, version: string): JsonObject;
  /** Defaults and server-set fields on create (after system fields are filled). */
  prepareForCreate?(obj: JsonObject, version: string, def: ResourceDef): void;
  /** Carries fields an update may not change (e.g. status kept from `old`). */
  prepareForUpdate?(obj: JsonObject, old: JsonObject, version: string, def: ResourceDef): void;
  /** Unknown-field pruning and defaulting beyond `fields` (custom resources). Returns pruned paths. */
  prune?(obj: JsonObject, version: string, def: ResourceDef): string[];
  /** Validation on create (422 when non-empty). */
  validate?(obj: JsonObject, version: string, def: ResourceDef): FieldError[];
  /** Validation on update (422 when non-empty), on top of `validate`. */
  validateUpdate?(obj: JsonObject, old: JsonObject, version: string, def: ResourceDef): FieldError[];
  /** Whether metadata.generation exists: 'none' (most core types), 'spec' (bumps on spec change), 'custom' (custom resources). */
  generation: 'none' | 'spec' | 'custom';
  allowCreateOnUpdate: boolean;
  allowUnconditionalUpdate: boolean;
  /** DELETE answers the object rather than a Status (ReturnDeletedObject). */
  returnDeletedObject: boolean;
  /** List strategies for strategic merge patch; undefined = strategic merge unsupported (415). */
  smp?: ListStrategies | undefined;
  /** Field selector labels besides metadata.name / metadata.namespace. */
  fieldLabels?: readonly string[];
  /** Values for field selectors besides metadata.*. */
  fieldSet?(obj: JsonObject): Record<string, string>;
  /** Table columns and cells for `kubectl get` (server-side printing). */
  table?: { columns: TableColumn[]; cells(obj: JsonObject, now: number): JsonValue[] };
}

/** One served resource. */
export interface ResourceDef {
  group: string;
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  /** Served versions, preferred first. */
  versions: VersionInfo[];
  storageVersion: string;
  /** Objects live in the store under this key; two defs may share one (core and events.k8s.io Events). */
  storageKey: string;
  builtin: boolean;
  hooks: KindHooks;
  /** For custom resources: the name of the defining CRD. */
  crdName?: string;
  /** Extra subresources listed in discovery besides `status` (e.g. namespaces/finalize). */
  extraSubresources?: string[];
}

/** `v1` or `group/v1`. */
export function groupVersion(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

/** Splits `apiVersion` into group and version. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.lastIndexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

/** The version entry of `def` for `version`, if served. */
export function versionInfo(def: ResourceDef, version: string): VersionInfo | undefined {
  return def.versions.find((v) => v.name === version);
}

/**
 * Kube-aware version ordering (apimachinery/pkg/version.CompareKubeAwareVersionStrings): GA before
 * beta before alpha, higher numbers first, non-conforming strings last in lexical order.
 */
export function compareKubeVersions(a: string, b: string): number {
  const parse = (v: string): [number, number, number] | undefined => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return undefined;
    const stage = m[2] === undefined ? 2 : m[2] === 'beta' ? 1 : 0;
    return [stage, Number(m[1]), m[3] === undefined ? 0 : Number(m[3])];
  };
  const pa = parse(a);
  const pb = parse(b);
  if (pa && !pb) return -1;
  if (!pa && pb) return 1;
  if (!pa || !pb) return a < b ? -1 : a > b ? 1 : 0;
  if (pa[0] !== pb[0]) return pb[0] - pa[0];
  if (pa[1] !== pb[1]) return pb[1] - pa[1];
  return pb[2] - pa[2];
}

/** The set of served resources. */
export class ResourceRegistry {
  private readonly defs = new Map<string, ResourceDef>();
  private generation = 0;

  /** Adds or replaces a resource (keyed by group and plural). */
  register(def: ResourceDef): void {
    this.defs.set(`${def.group}/${def.plural}`, def);
    this.generation++;
  }

  /** Removes a resource. */
  unregister(group: string, plural: string): void {
    this.defs.delete(`${group}/${plural}`);
    this.generation++;
  }

  /** Increases whenever the set changes (discovery caches key on it). */
  get version(): number {
    return this.generation;
  }

  /** Every served resource. */
  all(): ResourceDef[] {
    return [...this.defs.values()];
  }

  /** The resource `plural` of `group`, regardless of version. */
  byGroupResource(group: string, plural: string): ResourceDef | undefined {
    return this.defs.get(`${group}/${plural}`);
  }

  /** The resource serving `group/version/plural`. */
  byGroupVersionResource(group: string, version: string, plural: string): ResourceDef | undefined {
    const def = this.defs.get(`${group}/${plural}`);
    return def && versionInfo(def, version) ? def : undefined;
  }

  /** The resource of `kind` in `group` that serves `version` (version optional). */
  byGroupKind(group: string, kind: string, version?: string): ResourceDef | undefined {
    for (const def of this.defs.values()) {
      if (def.group === group && def.kind === kind && (version === undefined || versionInfo(def, version))) return def;
    }
    return undefined;
  }

  /** The resource for an object's apiVersion and kind. */
  byApiVersionKind(apiVersion: string, kind: string): ResourceDef | undefined {
    const { group, version } = splitApiVersion(apiVersion);
    return this.byGroupKind(group, kind, version);
  }

  /** The primary resource for a storage key (the one whose storage version is the stored form). */
  byStorageKey(storageKey: string): ResourceDef | undefined {
    let found: ResourceDef | undefined;
    for (const def of this.defs.values()) {
      if (def.storageKey !== storageKey) continue;
      if (!found || def.group === '') found = def;
    }
    return found;
  }

  /** Groups with their served versions (preferred first) for discovery. */
  groups(): { name: string; versions: string[] }[] {
    const byGroup = new Map<string, Set<string>>();
    for (const def of this.defs.values()) {
      const set = byGroup.get(def.group) ?? new Set<string>();
      for (const v of def.versions) set.add(v.name);
      byGroup.set(def.group, set);
    }
    return [...byGroup.entries()].map(([name, vs]) => ({ name, versions: [...vs].sort(compareKubeVersions) }));
  }
}
