/**
 * Compact forms of the objects the controller caches, so that memory per SealedSecret stays small
 * (issue 15: ≤ 3 KiB per object held).
 *
 * - A SealedSecret that has been reconciled (or that another replica's shard reconciles) is kept as
 *   a stub: the metadata the controller needs between reconciles (name, namespace, uid,
 *   resourceVersion, generation, deletionTimestamp) and none of its spec, status or annotations.
 *   A reconcile that finds a stub reads the object again (one GET); one that follows a watch event
 *   finds the whole object, which the informer keeps until the reconcile is done.
 * - A managed Secret keeps every field the reconcile reads (its data is needed to check the
 *   integrity HMAC without a private-key operation), but the strings that repeat across thousands
 *   of Secrets (apiVersion, kind, type, namespace, label values, key ids, owner kinds, timestamps)
 *   share one copy each.
 */
import type { KubeObject, ObjectMetaJson, OwnerReferenceJson, SecretJson } from './kube-client.js';
import { OWNER_UID_ANNOTATION, UNSEALED_WITH_ANNOTATION } from '../src/wire.js';

/** Marks a stub: a SealedSecret without its spec (see the module comment). */
const STUB = 'kseal.dev/stub';

/** True when `obj` is a stub made by `sealedSecretStub` (its spec must be read again). */
export function isStub(obj: KubeObject): boolean {
  return obj[STUB] === true;
}

/**
 * The stub of a SealedSecret: metadata for keys, sharding, deletion and change detection only.
 *
 * Built as whole object literals in the usual case (every field present, not being deleted):
 * properties added to an object after its literal go to a separate property array, ~56 bytes each
 * (heap snapshot at 2,000 objects: two per stub, ~55 bytes per object in a micro-benchmark).
 */
export function sealedSecretStub(obj: KubeObject): KubeObject {
  if (isStub(obj)) return obj;
  const m = obj.metadata;
  const metadata: ObjectMetaJson =
    m.namespace !== undefined && m.uid !== undefined && m.resourceVersion !== undefined && m.generation !== undefined && m.deletionTimestamp === undefined
      ? { name: m.name, namespace: strings.intern(m.namespace), uid: m.uid, resourceVersion: m.resourceVersion, generation: m.generation }
      : stubMetadata(m);
  if (obj.apiVersion !== undefined && obj.kind !== undefined) return { apiVersion: strings.intern(obj.apiVersion), kind: strings.intern(obj.kind), metadata, [STUB]: true };
  const stub: KubeObject = { metadata, [STUB]: true };
  if (obj.apiVersion !== undefined) stub.apiVersion = strings.intern(obj.apiVersion);
  if (obj.kind !== undefined) stub.kind = strings.intern(obj.kind);
  return stub;
}

/** The stub's metadata when some field is missing or the object is being deleted (the rare shapes). */
function stubMetadata(m: ObjectMetaJson): ObjectMetaJson {
  const metadata: ObjectMetaJson = { name: m.name };
  if (m.namespace !== undefined) metadata.namespace = strings.intern(m.namespace);
  if (m.uid !== undefined) metadata.uid = m.uid;
  if (m.resourceVersion !== undefined) metadata.resourceVersion = m.resourceVersion;
  if (m.generation !== undefined) metadata.generation = m.generation;
  if (m.deletionTimestamp !== undefined) metadata.deletionTimestamp = m.deletionTimestamp;
  return metadata;
}

/**
 * A bounded table of shared strings. Only values that repeat across objects are passed in; when the
 * table is full it starts again (old copies stay valid, they are just no longer shared).
 */
class Interner {
  private table = new Map<string, string>();
  constructor(private readonly max: number) {}

  intern(s: string): string {
    const have = this.table.get(s);
    if (have !== undefined) return have;
    if (this.table.size >= this.max) this.table = new Map();
    // A flat copy: a string sliced or concatenated from a larger one would keep that one alive.
    const flat = (' ' + s).slice(1);
    this.table.set(flat, flat);
    return flat;
  }
}

const strings = new Interner(4096);

/**
 * One shared copy of a string that repeats across objects (a namespace, a key id, a reason), and a
 * flat one: a string built by concatenation or slicing would keep its parts or its parent alive.
 */
export function intern(s: string): string {
  return strings.intern(s);
}

/** A flat copy of a string built by concatenation (e.g. a `namespace/name` key), for a long-lived map key. */
export function flat(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

function internRecord(record: Record<string, string> | undefined, values: boolean): Record<string, string> | undefined {
  if (record === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record)) out[k] = values ? strings.intern(v) : v;
  return out;
}

/**
 * A managed Secret with its repeated strings shared (same fields and values as the original), and
 * without managedFields.
 */
export function compactSecret(secret: SecretJson): SecretJson {
  const { managedFields: _dropped, ...m } = secret.metadata;
  const metadata: ObjectMetaJson = { ...m };
  if (m.namespace !== undefined) metadata.namespace = strings.intern(m.namespace);
  if (m.creationTimestamp !== undefined) metadata.creationTimestamp = strings.intern(m.creationTimestamp);
  const labels = internRecord(m.labels, true);
  if (labels !== undefined) metadata.labels = labels;
  if (m.annotations !== undefined) {
    const annotations = internRecord(m.annotations, false) as Record<string, string>;
    const keyIds = annotations[UNSEALED_WITH_ANNOTATION];
    if (keyIds !== undefined) annotations[UNSEALED_WITH_ANNOTATION] = strings.intern(keyIds);
    metadata.annotations = annotations;
  }
  if (m.ownerReferences !== undefined) {
    // The owner's uid is also in the owner-uid annotation: one copy for both.
    const ownerUid = metadata.annotations?.[OWNER_UID_ANNOTATION];
    metadata.ownerReferences = m.ownerReferences.map(
      (r): OwnerReferenceJson => ({ ...r, apiVersion: strings.intern(r.apiVersion), kind: strings.intern(r.kind), name: r.name === m.name ? m.name : r.name, uid: r.uid === ownerUid ? ownerUid : r.uid }),
    );
  }
  const out: SecretJson = { ...secret, metadata };
  if (secret.apiVersion !== undefined) out.apiVersion = strings.intern(secret.apiVersion);
  if (secret.kind !== undefined) out.kind = strings.intern(secret.kind);
  if (secret.type !== undefined) out.type = strings.intern(secret.type);
  return out;
}
