/**
 * Patch algorithms: JSON merge patch (RFC 7386), JSON patch (RFC 6902, evanphx/json-patch error
 * texts), a strategic merge patch for the built-in types kseal touches (maps merge, `null` deletes,
 * lists replace except where a patchMergeKey is declared), and the merge used by server-side apply.
 */
import { badRequest, genericServerResponse } from './errors.js';
import { clone, deepEqual, isObject } from './json.js';
import type { JsonObject, JsonValue } from './json.js';

/** RFC 7386: objects merge recursively, `null` deletes, anything else replaces. */
function mergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Applies a merge patch to an object; a patch that is not an object answers 400 like evanphx. */
export function applyMergePatch(target: JsonObject, patch: JsonValue): JsonObject {
  if (!isObject(patch)) throw badRequest('Invalid JSON Patch');
  return mergePatch(target, patch) as JsonObject;
}

interface JsonPatchOp {
  op: string;
  path: string;
  from?: string;
  value?: JsonValue;
  hasValue: boolean;
}

function decodeJsonPatch(patch: JsonValue): JsonPatchOp[] {
  if (!Array.isArray(patch)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  return patch.map((p) => {
    if (!isObject(p)) throw badRequest('json: cannot unmarshal into Go value of type jsonpatch.Operation');
    const op = p['op'];
    const path = p['path'];
    const from = p['from'];
    return {
      op: typeof op === 'string' ? op : '',
      path: typeof path === 'string' ? path : '',
      ...(typeof from === 'string' ? { from } : {}),
      ...(Object.prototype.hasOwnProperty.call(p, 'value') ? { value: p['value'] as JsonValue } : {}),
      hasValue: Object.prototype.hasOwnProperty.call(p, 'value'),
    };
  });
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw jsonPatchFailure(`invalid path ${JSON.stringify(path)}`);
  return path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function jsonPatchFailure(msg: string): Error {
  return genericServerResponse(422, msg);
}

function parentOf(doc: JsonValue, parts: string[], opName: string, path: string): JsonObject | JsonValue[] {
  let cur: JsonValue = doc;
  for (const part of parts.slice(0, -1)) {
    let nextVal: JsonValue | undefined;
    if (Array.isArray(cur)) {
      const i = Number(part);
      nextVal = /^\d+$/.test(part) ? cur[i] : undefined;
    } else if (isObject(cur)) {
      nextVal = cur[part];
    }
    if (nextVal === undefined || nextVal === null || (typeof nextVal !== 'object')) {
      throw jsonPatchFailure(`${opName} operation does not apply: doc is missing path: ${JSON.stringify(path)}: missing value`);
    }
    cur = nextVal;
  }
  if (!(Array.isArray(cur) || isObject(cur))) {
    throw jsonPatchFailure(`${opName} operation does not apply: doc is missing path: ${JSON.stringify(path)}: missing value`);
  }
  return cur;
}

function getAt(doc: JsonValue, path: string): JsonValue | undefined {
  let cur: JsonValue | undefined = doc;
  for (const part of pointer(path)) {
    if (Array.isArray(cur)) cur = /^\d+$/.test(part) ? cur[Number(part)] : undefined;
    else if (isObject(cur)) cur = Object.prototype.hasOwnProperty.call(cur, part) ? cur[part] : undefined;
    else return undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

function addAt(doc: JsonValue, path: string, value: JsonValue, opName = 'add'): JsonValue {
  const parts = pointer(path);
  if (parts.length === 0) return value;
  const parent = parentOf(doc, parts, opName, path);
  const key = parts[parts.length - 1]!;
  if (Array.isArray(parent)) {
    if (key === '-') { parent.push(value); return doc; }
    const i = Number(key);
    if (!/^\d+$/.test(key) || i > parent.length) throw jsonPatchFailure(`${opName} operation does not apply: doc is missing path: ${JSON.stringify(path)}: missing value`);
    parent.splice(i, 0, value);
  } else {
    parent[key] = value;
  }
  return doc;
}

function removeAt(doc: JsonValue, path: string, opName = 'remove'): JsonValue {
  const parts = pointer(path);
  const parent = parentOf(doc, parts, opName, path);
  const key = parts[parts.length - 1]!;
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!/^\d+$/.test(key) || i >= parent.length) throw jsonPatchFailure(`Unable to remove nonexistent key: ${key}: missing value`);
    parent.splice(i, 1);
  } else {
    if (!Object.prototype.hasOwnProperty.call(parent, key)) throw jsonPatchFailure(`Unable to remove nonexistent key: ${key}: missing value`);
    delete parent[key];
  }
  return doc;
}

/** RFC 6902 JSON patch; failures answer 422 with the evanphx message as the cause (like the real server). */
export function applyJsonPatch(target: JsonObject, patch: JsonValue): JsonObject {
  const ops = decodeJsonPatch(patch);
  if (ops.length > 10000) throw badRequest(`The allowed maximum operations in a JSON patch is 10000, got ${ops.length}`);
  let doc: JsonValue = clone(target);
  for (const op of ops) {
    switch (op.op) {
      case 'add':
        if (!op.hasValue) throw jsonPatchFailure('add operation does not apply: missing value');
        doc = addAt(doc, op.path, clone(op.value ?? null));
        break;
      case 'remove':
        doc = removeAt(doc, op.path);
        break;
      case 'replace': {
        if (!op.hasValue) throw jsonPatchFailure('replace operation does not apply: missing value');
        if (getAt(doc, op.path) === undefined) {
          throw jsonPatchFailure(`replace operation does not apply: doc is missing key: ${op.path}: missing value`);
        }
        if (op.path === '') { doc = clone(op.value ?? null); break; }
        doc = removeAt(doc, op.path, 'replace');
        doc = addAt(doc, op.path, clone(op.value ?? null), 'replace');
        break;
      }
      case 'move':
      case 'copy': {
        if (op.from === undefined) throw jsonPatchFailure(`${op.op} operation does not apply: missing from`);
        const v = getAt(doc, op.from);
        if (v === undefined) throw jsonPatchFailure(`${op.op} operation does not apply: doc is missing from path: ${op.from}: missing value`);
        if (op.op === 'move') doc = removeAt(doc, op.from, 'move');
        doc = addAt(doc, op.path, clone(v), op.op);
        break;
      }
      case 'test': {
        const v = getAt(doc, op.path);
        if (!deepEqual(v ?? null, op.value ?? null) || (v === undefined && op.value !== null && op.value !== undefined)) {
          throw jsonPatchFailure(`testing value ${op.path} failed: test failed`);
        }
        break;
      }
      default:
        throw badRequest(`Unexpected kind: ${op.op}`);
    }
  }
  if (!isObject(doc)) throw jsonPatchFailure('the patch did not produce an object');
  return doc;
}

/**
 * Merge strategy of a list in a strategic merge patch, keyed by dotted path from the object root
 * (e.g. `metadata.ownerReferences`): `{ key }` merges elements by that key, `'set'` merges a
 * primitive list as a set; lists without an entry are replaced.
 */
export type ListStrategies = Record<string, { key: string } | 'set'>;

/** The patchMergeKeys of ObjectMeta that every built-in type shares. */
export const META_LIST_STRATEGIES: ListStrategies = {
  'metadata.ownerReferences': { key: 'uid' },
  'metadata.finalizers': 'set',
};

/** Strategic merge patch for built-in types (k8s.io/apimachinery/pkg/util/strategicpatch, simplified). */
export function applyStrategicMergePatch(target: JsonObject, patch: JsonValue, lists: ListStrategies): JsonObject {
  if (!isObject(patch)) throw badRequest('json: cannot unmarshal array into Go value of type map[string]interface {}');
  const out = smpObject(target, patch, '', lists);
  return out ?? {};
}

function smpObject(orig: JsonObject | undefined, patch: JsonObject, path: string, lists: ListStrategies): JsonObject | undefined {
  const directive = patch['$patch'];
  if (directive === 'delete') return undefined;
  if (directive === 'replace') {
    const replaced: JsonObject = {};
    for (const [k, v] of Object.entries(patch)) if (k !== '$patch') replaced[k] = clone(v);
    return replaced;
  }
  const out: JsonObject = orig ? { ...orig } : {};
  const retain = patch['$retainKeys'];
  if (Array.isArray(retain)) {
    for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const cur = out[field];
      if (Array.isArray(cur) && Array.isArray(v)) out[field] = cur.filter((x) => !v.some((d) => deepEqual(d, x)));
      continue;
    }
    const childPath = path ? `${path}.${k}` : k;
    if (v === null) { delete out[k]; continue; }
    const cur = out[k];
    if (isObject(v)) {
      const merged = smpObject(isObject(cur) ? cur : undefined, v, childPath, lists);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
      continue;
    }
    if (Array.isArray(v)) {
      const strategy = lists[childPath];
      if (strategy === 'set') {
        const base = Array.isArray(cur) ? [...cur] : [];
        for (const x of v) if (!base.some((b) => deepEqual(b, x))) base.push(clone(x));
        out[k] = base;
      } else if (strategy) {
        out[k] = smpKeyedList(Array.isArray(cur) ? cur : [], v, strategy.key, childPath, lists);
      } else {
        out[k] = v.filter((x) => !(isObject(x) && x['$patch'] !== undefined)).map((x) => clone(x));
      }
      continue;
    }
    out[k] = v;
  }
  return out;
}

function smpKeyedList(orig: JsonValue[], patch: JsonValue[], key: string, path: string, lists: ListStrategies): JsonValue[] {
  if (patch.some((p) => isObject(p) && p['$patch'] === 'replace')) {
    return patch.filter((p) => !(isObject(p) && p['$patch'] === 'replace')).map((p) => clone(p));
  }
  const out = orig.map((x) => x);
  for (const p of patch) {
    if (!isObject(p)) continue;
    const idx = out.findIndex((o) => isObject(o) && deepEqual(o[key], p[key]));
    if (p['$patch'] === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) {
      const merged = smpObject(out[idx] as JsonObject, p, path, lists);
      if (merged === undefined) out.splice(idx, 1);
      else out[idx] = merged;
    } else {
      out.push(clone(p));
    }
  }
  return out;
}

/** Paths of the leaves of an applied configuration (maps recurse; lists and scalars are atomic leaves). */
export function leafPaths(v: JsonValue, prefix = ''): string[] {
  if (!isObject(v) || Object.keys(v).length === 0) return prefix ? [prefix] : [];
  const out: string[] = [];
  for (const [k, child] of Object.entries(v)) out.push(...leafPaths(child, `${prefix}.${k}`));
  return out;
}

/** The value at a leaf path produced by `leafPaths`, or undefined. */
export function valueAtPath(v: JsonValue | undefined, path: string): JsonValue | undefined {
  let cur = v;
  for (const part of path.split('.').slice(1)) {
    if (!isObject(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

/** Deletes the leaf at `path` and prunes maps the deletion leaves empty. */
export function deletePath(obj: JsonObject, path: string): void {
  const parts = path.split('.').slice(1);
  const chain: JsonObject[] = [obj];
  let cur: JsonObject = obj;
  for (const part of parts.slice(0, -1)) {
    const next = cur[part];
    if (!isObject(next)) return;
    chain.push(next);
    cur = next;
  }
  delete cur[parts[parts.length - 1]!];
  for (let i = chain.length - 1; i > 0; i--) {
    if (Object.keys(chain[i]!).length === 0) delete chain[i - 1]![parts[i - 1]!];
    else break;
  }
}

/** Server-side apply's merge of an applied configuration into the live object: maps merge, the rest replaces. */
export function applyMerge(live: JsonValue | undefined, applied: JsonValue): JsonValue {
  if (!isObject(applied) || !isObject(live)) return clone(applied);
  const out: JsonObject = { ...live };
  for (const [k, v] of Object.entries(applied)) out[k] = applyMerge(out[k], v);
  return out;
}
