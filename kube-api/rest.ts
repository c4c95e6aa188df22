/**
 * The generic REST storage: create / get / list / update / patch / apply / delete with the real
 * server's semantics (k8s.io/apiserver/pkg/registry/generic/registry/store.go, rest/create.go,
 * rest/update.go, endpoints/handlers/patch.go): system fields, optimistic concurrency,
 * no-op updates that do not bump resourceVersion, the status subresource, generation,
 * finalizers and deletionTimestamp, GC finalizers from propagationPolicy, namespace lifecycle
 * admission, and consistent paginated lists. Objects are held in storage form; callers convert
 * with `toVersion` for output.
 */
import { randomUUID } from 'node:crypto';
import {
  ApiError,
  OPTIMISTIC_LOCK_MSG,
  alreadyExists,
  badRequest,
  conflict,
  expired,
  fieldError,
  forbidden,
  invalid,
  methodNotAllowed,
  notFound,
  tooLargeResourceVersion,
  unsupportedMediaType,
} from './errors.js';
import type { FieldError, GroupResource } from './errors.js';
import { clone, deepEqual, isObject, text } from './json.js';
import type { JsonObject, JsonValue } from './json.js';
import { generateName } from './names.js';
import {
  deletionTimestampOf,
  finalizersOf,
  labelsOf,
  metaOf,
  nameOf,
  namespaceOf,
  nowTimestamp,
  resourceVersionOf,
  setCondition,
  uidOf,
} from './objects.js';
import { applyJsonPatch, applyMerge, applyMergePatch, applyStrategicMergePatch, deletePath, leafPaths, valueAtPath } from './patch.js';
import { groupVersion, versionInfo } from './resources.js';
import type { ResourceDef, ResourceRegistry } from './resources.js';
import { matchFields, matchLabels, parseFieldSelector, parseLabelSelector, pinnedName } from './selectors.js';
import type { FieldSelector, LabelSelector } from './selectors.js';
import type { ObjectStore, StoreEvent } from './store.js';
import { checkMetadataTypes, validateObjectMeta, validateObjectMetaUpdate } from './validation.js';
import { CRD_CLEANUP_FINALIZER, CRD_STORAGE_KEY } from './crd.js';

/** Options every write accepts (query parameters of the request). */
export interface WriteOptions {
  dryRun?: boolean | undefined;
  fieldManager?: string | undefined;
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore' | undefined;
  /** Collects `Warning` header texts. */
  warnings?: string[] | undefined;
}

/** DeleteOptions (body or query). */
export interface DeleteOptions {
  propagationPolicy?: string | undefined;
  orphanDependents?: boolean | undefined;
  preconditions?: { uid?: string | undefined; resourceVersion?: string | undefined } | undefined;
  dryRun?: boolean | undefined;
}

/** List query parameters. */
export interface ListOptions {
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  limit?: number | undefined;
  continueToken?: string | undefined;
  resourceVersion?: string | undefined;
  resourceVersionMatch?: string | undefined;
}

/** A page of a list, in storage form. */
export interface ListResult {
  items: JsonObject[];
  resourceVersion: string;
  continueToken?: string;
  remainingItemCount?: number;
}

/** The result of a write. `object` is in storage form; `status` is a Success Status (delete). */
export interface WriteResult {
  object?: JsonObject;
  status?: JsonObject;
  code: number;
}

/** Subresources with write semantics. */
export type Subresource = 'status' | 'finalize' | undefined;

/** The patch content types the server accepts. */
export const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

const PROTECTED_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);
const NAMESPACES_KEY = 'core/namespaces';

/** `{group, resource}` of a def, for error messages. */
export function grOf(def: ResourceDef): GroupResource {
  return { group: def.group, resource: def.plural };
}

/** Matching of objects against a list/watch request's selectors. */
export interface Selection {
  labels: LabelSelector;
  fields: FieldSelector;
}

/** Parses the selectors of a request for `def` (400 on bad syntax or unsupported field labels). */
export function parseSelection(def: ResourceDef, labelSelector: string | undefined, fieldSelector: string | undefined): Selection {
  const supported = ['metadata.name', ...(def.namespaced ? ['metadata.namespace'] : []), ...(def.hooks.fieldLabels ?? [])];
  return { labels: parseLabelSelector(labelSelector), fields: parseFieldSelector(fieldSelector, supported) };
}

/** True when a stored object matches the selection. */
export function selects(def: ResourceDef, sel: Selection, obj: JsonObject): boolean {
  if (sel.labels.requirements.length > 0 && !matchLabels(sel.labels, labelsOf(obj))) return false;
  if (sel.fields.requirements.length === 0) return true;
  const meta = metaOf(obj);
  const fields: Record<string, string> = {
    'metadata.name': typeof meta['name'] === 'string' ? meta['name'] : '',
    'metadata.namespace': typeof meta['namespace'] === 'string' ? meta['namespace'] : '',
    ...(def.hooks.fieldSet?.(obj) ?? {}),
  };
  return matchFields(sel.fields, fields);
}

interface ContinueToken {
  rv: number;
  start: string;
}

function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start })).toString('base64url');
}

function decodeContinue(token: string): ContinueToken {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw badRequest('continue key is not valid: illegal base64 data');
  }
  if (!isObject(parsed) || parsed['v'] !== 'meta.k8s.io/v1') throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  const rv = parsed['rv'];
  const start = parsed['start'];
  if (typeof rv !== 'number' || typeof start !== 'string' || rv <= 0) throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  return { rv, start };
}

const EXPIRED_CONTINUE_MSG =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

function listKey(namespaced: boolean, nsScoped: boolean, ns: string, name: string): string {
  return namespaced && !nsScoped ? `${ns}/${name}` : name;
}

/** Listener called after every committed write (outside the store's own listener chain). */
export type CommitListener = (event: StoreEvent, def: ResourceDef) => void;

/** The REST storage. */
export class RestStorage {
  private readonly committed: CommitListener[] = [];
  /** Server-side apply ownership: uid → manager → leaf paths it applied. */
  private readonly applied = new Map<string, Map<string, Set<string>>>();

  constructor(
    readonly store: ObjectStore,
    readonly registry: ResourceRegistry,
  ) {
    store.onEvent((e) => {
      if (e.type === 'DELETED') this.applied.delete(uidOf(e.object));
    });
  }

  /** Registers a listener for committed writes. */
  onCommitted(fn: CommitListener): void {
    this.committed.push(fn);
  }

  /** Forgets server-side apply ownership (used when the store is wiped). */
  resetApplyOwnership(): void {
    this.applied.clear();
  }

  private commit(type: StoreEvent['type'], def: ResourceDef, ns: string, name: string, obj: JsonObject | undefined, prev: JsonObject | undefined): StoreEvent {
    const e = this.store.commit(type, def.storageKey, ns, name, obj, prev);
    for (const fn of this.committed) fn(e, def);
    return e;
  }

  /** The representation of a stored object in `version` of `def`. */
  toVersion(def: ResourceDef, version: string, stored: JsonObject): JsonObject {
    if (def.hooks.fromStorage) return def.hooks.fromStorage(stored, version);
    return { ...stored, apiVersion: groupVersion(def.group, version) };
  }

  /** The stored object, or 404. */
  get(def: ResourceDef, ns: string, name: string): JsonObject {
    const obj = this.store.get(def.storageKey, def.namespaced ? ns : '', name);
    if (!obj) throw notFound(grOf(def), name);
    return obj;
  }

  // --- list -------------------------------------------------------------------------------------

  /** A (page of a) list; `ns` undefined lists across namespaces. */
  list(def: ResourceDef, ns: string | undefined, opts: ListOptions): ListResult {
    const sel = parseSelection(def, opts.labelSelector, opts.fieldSelector);
    const nsScope = def.namespaced ? ns : undefined;
    const limit = opts.limit !== undefined && opts.limit > 0 ? opts.limit : 0;
    const current = this.store.resourceVersion;
    let snapshotRv = current;
    let start = '';
    if (opts.continueToken) {
      if (opts.resourceVersion) throw badRequest('specifying resource version is not allowed when using continue');
      const tok = decodeContinue(opts.continueToken);
      snapshotRv = tok.rv;
      start = tok.start;
    } else if (opts.resourceVersionMatch && !opts.resourceVersion) {
      throw invalid('meta.k8s.io', 'ListOptions', '', [fieldError.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided')]);
    } else if (opts.resourceVersionMatch === 'Exact') {
      const rv = Number(opts.resourceVersion);
      if (!opts.resourceVersion || !Number.isInteger(rv) || rv <= 0) throw badRequest('resourceVersionMatch "Exact" requires a resourceVersion greater than zero');
      if (rv > current) throw tooLargeResourceVersion(rv, current);
      snapshotRv = rv;
    } else if (opts.resourceVersionMatch && opts.resourceVersionMatch !== 'NotOlderThan') {
      throw badRequest(`resourceVersionMatch: Unsupported value: "${opts.resourceVersionMatch}": supported values: "Exact", "NotOlderThan", ""`);
    } else if (opts.resourceVersion && opts.resourceVersion !== '0') {
      const rv = Number(opts.resourceVersion);
      if (!Number.isInteger(rv) || rv < 0) throw badRequest(`resourceVersion: Invalid value: "${opts.resourceVersion}": must be a non-negative integer`);
      if (rv > current) throw tooLargeResourceVersion(rv, current);
    }

    // A name pinned by the field selector needs no scan (the real server's key-based matcher).
    const pinned = pinnedName(sel.fields);
    // One entry or a cursor from `start`: a page costs what it returns, not a walk of the whole kind.
    let cursor: { next(): { key: [string, string]; obj: JsonObject } | undefined; remaining(): number } | undefined;
    if (snapshotRv === current) {
      const one = (o: JsonObject | undefined, key: [string, string]): typeof cursor => {
        let done = o === undefined;
        return { next: () => (done ? undefined : ((done = true), { key, obj: o as JsonObject })), remaining: () => (done ? 0 : 1) };
      };
      if (pinned !== undefined && nsScope !== undefined) cursor = one(this.store.get(def.storageKey, nsScope, pinned), [nsScope, pinned]);
      else if (pinned !== undefined && !def.namespaced) cursor = one(this.store.get(def.storageKey, '', pinned), ['', pinned]);
    }
    if (!cursor) {
      // Continue tokens hold the last key plus "\0": the page starts strictly after that key.
      cursor = this.store.snapshotFrom(def.storageKey, nsScope, snapshotRv, start);
      if (!cursor) {
        if (opts.continueToken) {
          const err = expired(EXPIRED_CONTINUE_MSG);
          err.metadata = {};
          throw err;
        }
        throw expired('The resourceVersion for the provided list is too old.');
      }
    }
    const items: JsonObject[] = [];
    let lastKey = '';
    let more = false;
    let remaining = 0;
    const noSelectors = sel.labels.requirements.length === 0 && sel.fields.requirements.length === 0;
    for (let e = cursor.next(); e !== undefined; e = cursor.next()) {
      if (!selects(def, sel, e.obj)) continue;
      if (limit && items.length >= limit) {
        more = true;
        if (!noSelectors) break;
        remaining = cursor.remaining() + 1;
        break;
      }
      items.push(e.obj);
      lastKey = listKey(def.namespaced, nsScope !== undefined, e.key[0], e.key[1]);
    }
    const result: ListResult = { items, resourceVersion: String(snapshotRv) };
    if (more) {
      result.continueToken = encodeContinue(snapshotRv, `${lastKey}\u0000`);
      if (noSelectors) result.remainingItemCount = remaining;
    }
    return result;
  }

  // --- decoding ---------------------------------------------------------------------------------

  /** Decodes a request body of `version` into a fresh storage-form object (400 on undecodable input). */
  decode(def: ResourceDef, version: string, body: JsonValue, opts: WriteOptions): JsonObject {
    const gv = groupVersion(def.group, version);
    if (!isObject(body)) {
      throw badRequest(
        `the object provided is unrecognized (must be of type ${def.kind}): couldn't get version/kind; json parse error: json: cannot unmarshal ${Array.isArray(body) ? 'array' : typeof body} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`,
      );
    }
    const obj = clone(body);
    const bodyKind = obj['kind'];
    const bodyApiVersion = obj['apiVersion'];
    if (bodyApiVersion !== undefined && bodyApiVersion !== '' && bodyApiVersion !== gv) {
      throw badRequest(`the API version in the data (${text(bodyApiVersion)}) does not match the expected API version (${gv})`);
    }
    if (bodyKind !== undefined && bodyKind !== '' && bodyKind !== def.kind) {
      throw badRequest(`${text(bodyKind)} in version "${version}" cannot be handled as a ${def.kind}: no kind "${text(bodyKind)}" is registered for version "${gv}"`);
    }
    obj['apiVersion'] = gv;
    obj['kind'] = def.kind;
    checkMetadataTypes(obj, def.kind, version);
    const meta = metaOf(obj);
    delete meta['managedFields'];
    delete meta['selfLink'];
    for (const k of ['labels', 'annotations', 'finalizers', 'ownerReferences'] as const) if (meta[k] === null) delete meta[k];
    def.hooks.decode?.(obj, version, def);
    const unknown: string[] = [];
    if (def.hooks.fields) {
      for (const k of Object.keys(obj)) if (!def.hooks.fields.includes(k)) { unknown.push(k); delete obj[k]; }
    }
    if (def.hooks.prune) unknown.push(...def.hooks.prune(obj, version, def));
    if (unknown.length > 0) {
      const texts = unknown.map((u) => `unknown field "${u}"`);
      if (opts.fieldValidation === 'Strict') throw badRequest(`strict decoding error: ${texts.join(', ')}`);
      if (opts.fieldValidation !== 'Ignore') opts.warnings?.push(...texts);
    }
    if (def.hooks.toStorage) return def.hooks.toStorage(obj, version);
    obj['apiVersion'] = groupVersion(def.group, def.storageVersion);
    return obj;
  }

  // --- create -----------------------------------------------------------------------------------

  /** POST. Returns 201 with the stored object. */
  create(def: ResourceDef, version: string, ns: string, body: JsonValue, opts: WriteOptions = {}): WriteResult {
    const obj = this.decode(def, version, body, opts);
    return this.createDecoded(def, version, ns, obj, opts);
  }

  private admitNamespace(def: ResourceDef, ns: string, name: string): void {
    if (!def.namespaced) return;
    const nsObj = this.store.get(NAMESPACES_KEY, '', ns);
    if (!nsObj) throw notFound({ group: '', resource: 'namespaces' }, ns);
    if (deletionTimestampOf(nsObj)) {
      throw forbidden(grOf(def), name, `unable to create new content in namespace ${ns} because it is being terminated`, {
        reason: 'NamespaceTerminating',
        message: `namespace ${ns} is being terminated`,
        field: 'metadata.namespace',
      });
    }
  }

  private createDecoded(def: ResourceDef, version: string, ns: string, obj: JsonObject, opts: WriteOptions): WriteResult {
    const meta = metaOf(obj);
    if (def.namespaced) {
      const bodyNs = meta['namespace'];
      if (typeof bodyNs === 'string' && bodyNs !== '' && bodyNs !== ns) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta['namespace'] = ns;
    } else {
      delete meta['namespace'];
    }
    if (typeof meta['resourceVersion'] === 'string' && meta['resourceVersion'] !== '') {
      throw badRequest('resourceVersion should not be set on objects to be created');
    }
    delete meta['resourceVersion'];
    const nsKey = def.namespaced ? ns : '';
    if (!meta['name'] && typeof meta['generateName'] === 'string' && meta['generateName']) {
      let n = generateName(meta['generateName']);
      while (this.store.get(def.storageKey, nsKey, n)) n = generateName(meta['generateName']);
      meta['name'] = n;
    }
    const name = nameOf(obj);
    if (def.crdName) {
      // crdHandler: a terminating CRD accepts no new objects.
      const crd = this.store.get(CRD_STORAGE_KEY, '', def.crdName);
      if (crd && deletionTimestampOf(crd)) throw methodNotAllowed('create not allowed while custom resource definition is terminating');
    }
    this.admitNamespace(def, ns, name);
    // FillObjectMetaSystemFields + BeforeCreate
    meta['uid'] = randomUUID();
    meta['creationTimestamp'] = nowTimestamp();
    delete meta['deletionTimestamp'];
    delete meta['deletionGracePeriodSeconds'];
    delete meta['generation'];
    def.hooks.prepareForCreate?.(obj, version, def);
    if (!def.builtin && versionInfo(def, version)?.statusSubresource) delete obj['status'];
    if (def.hooks.generation !== 'none') meta['generation'] = 1;
    const errs = [
      ...validateObjectMeta(meta, { namespaced: def.namespaced, nameKind: def.plural === 'namespaces' && def.group === '' ? 'label' : 'subdomain' }),
      ...(def.hooks.validate?.(obj, version, def) ?? []),
    ];
    if (errs.length > 0) throw invalid(def.group, def.kind, name, errs);
    if (this.store.get(def.storageKey, nsKey, name)) throw alreadyExists(grOf(def), name);
    if (opts.dryRun) return { object: obj, code: 201 };
    this.commit('ADDED', def, nsKey, name, obj, undefined);
    return { object: obj, code: 201 };
  }

  // --- update -----------------------------------------------------------------------------------

  /** PUT (on the object, `/status` or `/finalize`). 200, or 201 when it created (AllowCreateOnUpdate). */
  update(def: ResourceDef, version: string, ns: string, name: string, body: JsonValue, opts: WriteOptions = {}, subresource?: Subresource): WriteResult {
    const obj = this.decode(def, version, body, opts);
    return this.updateDecoded(def, version, ns, name, obj, opts, subresource, false);
  }

  private updateDecoded(
    def: ResourceDef,
    version: string,
    ns: string,
    name: string,
    obj: JsonObject,
    opts: WriteOptions,
    subresource: Subresource,
    forceAllowCreate: boolean,
  ): WriteResult {
    const meta = metaOf(obj);
    const bodyName = typeof meta['name'] === 'string' ? meta['name'] : '';
    if (bodyName !== name) throw badRequest(`the name of the object (${bodyName}) does not match the name on the URL (${name})`);
    if (def.namespaced) {
      const bodyNs = meta['namespace'];
      if (typeof bodyNs === 'string' && bodyNs !== '' && bodyNs !== ns) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta['namespace'] = ns;
    } else {
      delete meta['namespace'];
    }
    const nsKey = def.namespaced ? ns : '';
    const existing = this.store.get(def.storageKey, nsKey, name);
    if (!existing) {
      if (subresource || !(def.hooks.allowCreateOnUpdate || forceAllowCreate)) throw notFound(grOf(def), name);
      if (typeof meta['uid'] === 'string' && meta['uid']) {
        throw conflict(grOf(def), name, `uid mismatch: the provided object specified uid ${meta['uid']}, and no existing object was found`);
      }
      return this.createDecoded(def, version, ns, obj, opts);
    }
    const oldMeta = metaOf(existing);
    const newRv = typeof meta['resourceVersion'] === 'string' ? meta['resourceVersion'] : '';
    if (!newRv) {
      if (!def.hooks.allowUnconditionalUpdate) {
        throw invalid(def.group, def.plural, name, [{ type: 'FieldValueInvalid', field: 'metadata.resourceVersion', rawValue: '0x0', detail: 'must be specified for an update' }]);
      }
    } else if (newRv !== resourceVersionOf(existing)) {
      throw conflict(grOf(def), name, OPTIMISTIC_LOCK_MSG);
    }
    let next: JsonObject;
    if (subresource === 'status') {
      // statusStrategy.PrepareForUpdate: everything but status comes from the stored object.
      next = clone(existing);
      if (obj['status'] !== undefined) next['status'] = obj['status'];
      else delete next['status'];
    } else if (subresource === 'finalize') {
      next = clone(existing);
      const spec = isObject(next['spec']) ? next['spec'] : {};
      const newSpec = isObject(obj['spec']) ? obj['spec'] : {};
      if (newSpec['finalizers'] !== undefined) spec['finalizers'] = newSpec['finalizers'];
      else delete spec['finalizers'];
      next['spec'] = spec;
    } else {
      next = obj;
      const nextMeta = metaOf(next);
      // BeforeUpdate: requests cannot change these.
      if (!nextMeta['uid']) nextMeta['uid'] = oldMeta['uid'] ?? '';
      nextMeta['creationTimestamp'] = oldMeta['creationTimestamp'] ?? null;
      if (oldMeta['deletionTimestamp']) nextMeta['deletionTimestamp'] = oldMeta['deletionTimestamp'];
      else delete nextMeta['deletionTimestamp'];
      if (oldMeta['deletionGracePeriodSeconds'] !== undefined) nextMeta['deletionGracePeriodSeconds'] = oldMeta['deletionGracePeriodSeconds'];
      else delete nextMeta['deletionGracePeriodSeconds'];
      if (oldMeta['generation'] !== undefined) nextMeta['generation'] = oldMeta['generation'];
      else delete nextMeta['generation'];
      if (versionInfo(def, version)?.statusSubresource) {
        if (existing['status'] !== undefined) next['status'] = existing['status'];
        else delete next['status'];
      }
      def.hooks.prepareForUpdate?.(next, existing, version, def);
      if (def.hooks.generation === 'spec' && !deepEqual(next['spec'], existing['spec'])) {
        nextMeta['generation'] = (typeof oldMeta['generation'] === 'number' ? oldMeta['generation'] : 0) + 1;
      } else if (def.hooks.generation === 'custom' && !deepEqual(withoutMetadata(next), withoutMetadata(existing))) {
        nextMeta['generation'] = (typeof oldMeta['generation'] === 'number' ? oldMeta['generation'] : 0) + 1;
      }
    }
    const nextMeta = metaOf(next);
    nextMeta['resourceVersion'] = resourceVersionOf(existing);
    const errs: FieldError[] = [
      ...validateObjectMeta(nextMeta, { namespaced: def.namespaced, nameKind: def.plural === 'namespaces' && def.group === '' ? 'label' : 'subdomain' }),
      ...validateObjectMetaUpdate(nextMeta, oldMeta),
      ...(def.hooks.validate?.(next, version, def) ?? []),
      ...(def.hooks.validateUpdate?.(next, existing, version, def) ?? []),
    ];
    if (errs.length > 0) throw invalid(def.group, def.kind, name, errs);
    // etcd3 GuaranteedUpdate: an identical object is not written (no new resourceVersion, no event).
    if (deepEqual(next, existing)) return { object: existing, code: 200 };
    // ShouldDeleteDuringUpdate: the last finalizer of an object being deleted was removed.
    const nsFinalizers = def.group === '' && def.plural === 'namespaces' && isObject(next['spec']) && Array.isArray(next['spec']['finalizers']) ? next['spec']['finalizers'].length : 0;
    if (nextMeta['deletionTimestamp'] && finalizersOf(next).length === 0 && nextMeta['deletionGracePeriodSeconds'] === 0 && nsFinalizers === 0) {
      if (!opts.dryRun) this.commit('DELETED', def, nsKey, name, undefined, existing);
      return { object: existing, code: 200 };
    }
    if (opts.dryRun) return { object: next, code: 200 };
    this.commit('MODIFIED', def, nsKey, name, next, existing);
    return { object: next, code: 200 };
  }

  // --- patch ------------------------------------------------------------------------------------

  /** PATCH with one of PATCH_TYPES; `force` applies to server-side apply. */
  patch(
    def: ResourceDef,
    version: string,
    ns: string,
    name: string,
    contentType: string,
    patch: JsonValue,
    opts: WriteOptions = {},
    subresource?: Subresource,
    force = false,
  ): WriteResult {
    const accepted = def.hooks.smp
      ? [PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.strategic, PATCH_TYPES.apply]
      : [PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.apply];
    if (!(accepted as string[]).includes(contentType)) throw unsupportedMediaType(accepted);
    if (contentType === PATCH_TYPES.apply) return this.apply(def, version, ns, name, patch, opts, subresource, force);
    if (force) {
      throw invalid('meta.k8s.io', 'PatchOptions', '', [fieldError.forbidden('force', 'may not be specified for non-apply patch')]);
    }
    const existing = this.get(def, ns, name);
    const current = clone(this.toVersion(def, version, existing));
    let patched: JsonObject;
    if (contentType === PATCH_TYPES.json) patched = applyJsonPatch(current, patch);
    else if (contentType === PATCH_TYPES.merge) patched = applyMergePatch(current, patch);
    else patched = applyStrategicMergePatch(current, patch, def.hooks.smp ?? {});
    const obj = this.decode(def, version, patched, opts);
    return this.updateDecoded(def, version, ns, name, obj, opts, subresource, false);
  }

  /**
   * Server-side apply, simplified: the applied configuration is merged into the live object (maps
   * merge, lists and scalars replace); fields this manager applied before and no longer applies are
   * removed unless another apply manager owns them; a field another apply manager set to a different
   * value is a 409 conflict unless `force`. Ownership is tracked for apply managers only (PUT/PATCH
   * do not take ownership) and managedFields are not written.
   */
  private apply(def: ResourceDef, version: string, ns: string, name: string, patch: JsonValue, opts: WriteOptions, subresource: Subresource, force: boolean): WriteResult {
    const manager = opts.fieldManager;
    if (!manager) {
      throw invalid('meta.k8s.io', 'PatchOptions', '', [fieldError.required('fieldManager', 'is required for apply patch')]);
    }
    if (!isObject(patch)) throw badRequest('error decoding YAML: the applied configuration must be an object');
    if (!patch['apiVersion'] || !patch['kind']) {
      throw badRequest(`error decoding YAML: Object 'Kind' is missing in '${JSON.stringify(patch).slice(0, 200)}'`);
    }
    const appliedMeta = isObject(patch['metadata']) ? patch['metadata'] : {};
    if (appliedMeta['name'] !== undefined && appliedMeta['name'] !== name) {
      throw badRequest(`the name of the object (${text(appliedMeta['name'])}) does not match the name on the URL (${name})`);
    }
    const identity = new Set(['.apiVersion', '.kind', '.metadata.name', '.metadata.namespace', '.metadata.resourceVersion', '.metadata.uid']);
    const paths = new Set(leafPaths(patch).filter((p) => !identity.has(p) && (subresource !== 'status' || p.startsWith('.status'))));
    const nsKey = def.namespaced ? ns : '';
    const existing = this.store.get(def.storageKey, nsKey, name);
    if (!existing) {
      if (subresource) throw notFound(grOf(def), name);
      const obj = this.decode(def, version, { ...patch, metadata: { ...appliedMeta, name } }, opts);
      const res = this.createDecoded(def, version, ns, obj, opts);
      if (res.object && !opts.dryRun) this.ownership(uidOf(res.object)).set(manager, paths);
      return res;
    }
    const current = this.toVersion(def, version, existing);
    const owners = this.ownership(uidOf(existing));
    const conflicts: { manager: string; path: string }[] = [];
    for (const p of paths) {
      for (const [m, set] of owners) {
        if (m === manager || !set.has(p)) continue;
        if (deepEqual(valueAtPath(current, p), valueAtPath(patch, p))) continue;
        if (force) set.delete(p);
        else conflicts.push({ manager: m, path: p });
      }
    }
    if (conflicts.length > 0) {
      const gv = groupVersion(def.group, version);
      const err = new ApiError(
        409,
        'Conflict',
        `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? 's' : ''}: ${conflicts.map((c) => `conflict with "${c.manager}" using ${gv}: ${c.path}`).join('\n')}`,
        {
          ...(def.group ? { group: def.group } : {}),
          kind: def.plural,
          name,
          causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}" using ${gv}`, field: c.path })),
        },
      );
      throw err;
    }
    let merged = applyMerge(current, patch) as JsonObject;
    merged = clone(merged);
    const previous = owners.get(manager) ?? new Set<string>();
    for (const p of previous) {
      if (paths.has(p)) continue;
      let ownedElsewhere = false;
      for (const [m, set] of owners) if (m !== manager && set.has(p)) ownedElsewhere = true;
      if (!ownedElsewhere) deletePath(merged, p);
    }
    const mergedMeta = metaOf(merged);
    mergedMeta['resourceVersion'] = typeof appliedMeta['resourceVersion'] === 'string' ? appliedMeta['resourceVersion'] : resourceVersionOf(existing);
    const obj = this.decode(def, version, merged, opts);
    const res = this.updateDecoded(def, version, ns, name, obj, opts, subresource, true);
    if (!opts.dryRun) owners.set(manager, paths);
    return res;
  }

  private ownership(uid: string): Map<string, Set<string>> {
    let m = this.applied.get(uid);
    if (!m) {
      m = new Map();
      this.applied.set(uid, m);
    }
    return m;
  }

  // --- delete -----------------------------------------------------------------------------------

  /** DELETE of one object. */
  delete(def: ResourceDef, ns: string, name: string, opts: DeleteOptions = {}): WriteResult {
    const nsKey = def.namespaced ? ns : '';
    const existing = this.get(def, ns, name);
    const pre = opts.preconditions;
    // rest.BeforeDelete checks preconditions first; its Conflict names the kind, not the resource.
    const kindGr = { group: def.group, resource: def.kind };
    if (pre?.uid !== undefined && pre.uid !== uidOf(existing)) {
      throw conflict(kindGr, name, `the UID in the precondition (${pre.uid}) does not match the UID in record (${uidOf(existing)}). The object might have been deleted and then recreated`);
    }
    if (pre?.resourceVersion !== undefined && pre.resourceVersion !== resourceVersionOf(existing)) {
      throw conflict(kindGr, name, `the ResourceVersion in the precondition (${pre.resourceVersion}) does not match the ResourceVersion in record (${resourceVersionOf(existing)}). The object might have been modified`);
    }
    if (opts.propagationPolicy !== undefined && opts.orphanDependents !== undefined) {
      throw invalid('meta.k8s.io', 'DeleteOptions', '', [fieldError.invalid('propagationPolicy', opts.propagationPolicy, 'orphanDependents and deletionPropagation cannot be both set')]);
    }
    if (opts.propagationPolicy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(opts.propagationPolicy)) {
      throw invalid('meta.k8s.io', 'DeleteOptions', '', [fieldError.notSupported('propagationPolicy', opts.propagationPolicy, ['Foreground', 'Background', 'Orphan', 'nil'])]);
    }
    const accepted = opts.orphanDependents === false ? 202 : 200;
    const isNamespace = def.group === '' && def.plural === 'namespaces';
    const isCrd = def.group === 'apiextensions.k8s.io' && def.plural === 'customresourcedefinitions';
    if (isNamespace && PROTECTED_NAMESPACES.has(name)) {
      throw forbidden(grOf(def), name, 'this namespace may not be deleted');
    }
    const finalizers = gcFinalizers(existing, opts);
    if ((isNamespace || isCrd) && !deletionTimestampOf(existing)) {
      // namespace/storage.go and customresourcedefinition/etcd.go: the first delete only marks the object.
      const next = clone(existing);
      const meta = metaOf(next);
      meta['deletionTimestamp'] = nowTimestamp();
      meta['deletionGracePeriodSeconds'] = 0;
      if (!deepEqual(finalizers, finalizersOf(existing))) meta['finalizers'] = finalizers;
      if (meta['finalizers'] !== undefined && finalizersOf(next).length === 0) delete meta['finalizers'];
      const status = isObject(next['status']) ? { ...next['status'] } : {};
      if (isNamespace) {
        status['phase'] = 'Terminating';
      } else {
        if (!finalizersOf(next).includes(CRD_CLEANUP_FINALIZER)) meta['finalizers'] = [...finalizersOf(next), CRD_CLEANUP_FINALIZER];
        setCondition(status, {
          type: 'Terminating',
          status: 'True',
          reason: 'InstanceDeletionPending',
          message: 'CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon',
        });
      }
      next['status'] = status;
      if (opts.dryRun) return { object: next, code: accepted };
      this.commit('MODIFIED', def, nsKey, name, next, existing);
      return { object: next, code: accepted };
    }
    if (isNamespace) {
      const spec = isObject(existing['spec']) ? existing['spec'] : {};
      if (Array.isArray(spec['finalizers']) && spec['finalizers'].length > 0) return { object: existing, code: accepted };
    }
    if (finalizers.length > 0) {
      // Pending finalizers: mark as deleting (or update the GC finalizers of an object already being deleted).
      if (deletionTimestampOf(existing) && sameSet(finalizers, finalizersOf(existing))) return { object: existing, code: accepted };
      const next = clone(existing);
      const meta = metaOf(next);
      if (!meta['deletionTimestamp']) {
        meta['deletionTimestamp'] = nowTimestamp();
        meta['deletionGracePeriodSeconds'] = 0;
        if (typeof meta['generation'] === 'number' && meta['generation'] > 0) meta['generation'] = meta['generation'] + 1;
      }
      meta['finalizers'] = finalizers;
      if (opts.dryRun) return { object: next, code: accepted };
      this.commit('MODIFIED', def, nsKey, name, next, existing);
      return { object: next, code: accepted };
    }
    if (!opts.dryRun) this.commit('DELETED', def, nsKey, name, undefined, existing);
    return this.deletedResult(def, existing, 200);
  }

  private deletedResult(def: ResourceDef, existing: JsonObject, code: number): WriteResult {
    if (def.hooks.returnDeletedObject) return { object: existing, code };
    const details: JsonObject = { name: nameOf(existing) };
    if (def.group) details['group'] = def.group;
    details['kind'] = def.plural;
    details['uid'] = uidOf(existing);
    return { status: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details }, code };
  }

  /** DELETE on a collection: deletes every matching object (NotFound races ignored); returns them. */
  deleteCollection(def: ResourceDef, ns: string | undefined, list: ListOptions, opts: DeleteOptions = {}): ListResult {
    const page = this.list(def, ns, { ...list, limit: undefined, continueToken: undefined });
    for (const o of page.items) {
      try {
        this.delete(def, namespaceOf(o), nameOf(o), opts);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
    return page;
  }

  /** Sets a status condition through the status path (used by the built-in controllers). */
  writeStatus(def: ResourceDef, ns: string, name: string, mutate: (status: JsonObject, obj: JsonObject) => boolean): JsonObject | undefined {
    const existing = this.store.get(def.storageKey, def.namespaced ? ns : '', name);
    if (!existing) return undefined;
    const next = clone(this.toVersion(def, def.storageVersion, existing));
    const status = isObject(next['status']) ? next['status'] : {};
    if (!mutate(status, next)) return existing;
    next['status'] = status;
    return this.update(def, def.storageVersion, ns, name, next, {}, versionInfo(def, def.storageVersion)?.statusSubresource ? 'status' : undefined).object;
  }

  /** A list sorted like the store's keys, across namespaces (helper for controllers). */
  sortedAll(def: ResourceDef, ns?: string): JsonObject[] {
    return this.store.keys(def.storageKey, ns).map(([n, name]) => this.store.get(def.storageKey, n, name)!).filter(Boolean);
  }
}

function withoutMetadata(o: JsonObject): JsonObject {
  const copy: JsonObject = { ...o };
  delete copy['metadata'];
  return copy;
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/**
 * deletionFinalizersForGarbageCollection (store.go): the finalizers an object gets from the
 * propagation policy (Orphan → `orphan`, Foreground → `foregroundDeletion`, Background → neither;
 * unset keeps what the object already has).
 */
function gcFinalizers(obj: JsonObject, opts: DeleteOptions): string[] {
  const current = finalizersOf(obj);
  let orphan = current.includes('orphan');
  let foreground = current.includes('foregroundDeletion');
  if (opts.propagationPolicy !== undefined) {
    orphan = opts.propagationPolicy === 'Orphan';
    foreground = opts.propagationPolicy === 'Foreground';
  } else if (opts.orphanDependents !== undefined) {
    orphan = opts.orphanDependents;
    foreground = false;
  }
  const out = current.filter((f) => f !== 'orphan' && f !== 'foregroundDeletion');
  if (orphan) out.push('orphan');
  if (foreground) out.push('foregroundDeletion');
  return out;
}
