/**
 * Decoding of Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) for the
 * core kinds kubectl's typed clients send that way (`kubectl create namespace|secret|configmap|
 * serviceaccount`): the `k8s\0` magic, the runtime.Unknown envelope, and the generated messages
 * of k8s.io/api/core/v1 (generated.proto) for those kinds. Responses are always JSON (kubectl
 * accepts it). Custom resources have no protobuf form, as on the real server.
 */
import { badRequest } from './errors.js';
import type { JsonObject, JsonValue } from './json.js';

type Scalar = 'string' | 'bytes' | 'int' | 'bool' | 'time';

interface FieldSpec {
  name: string;
  type: Scalar | 'message' | 'map';
  repeated?: boolean;
  message?: Schema;
  /** For maps: the value type (keys are strings). */
  mapValue?: 'string' | 'bytes';
}

type Schema = Record<number, FieldSpec>;

const OWNER_REFERENCE: Schema = {
  1: { name: 'kind', type: 'string' },
  3: { name: 'name', type: 'string' },
  4: { name: 'uid', type: 'string' },
  5: { name: 'apiVersion', type: 'string' },
  6: { name: 'controller', type: 'bool' },
  7: { name: 'blockOwnerDeletion', type: 'bool' },
};

const OBJECT_META: Schema = {
  1: { name: 'name', type: 'string' },
  2: { name: 'generateName', type: 'string' },
  3: { name: 'namespace', type: 'string' },
  5: { name: 'uid', type: 'string' },
  6: { name: 'resourceVersion', type: 'string' },
  7: { name: 'generation', type: 'int' },
  8: { name: 'creationTimestamp', type: 'time' },
  9: { name: 'deletionTimestamp', type: 'time' },
  10: { name: 'deletionGracePeriodSeconds', type: 'int' },
  11: { name: 'labels', type: 'map', mapValue: 'string' },
  12: { name: 'annotations', type: 'map', mapValue: 'string' },
  13: { name: 'ownerReferences', type: 'message', repeated: true, message: OWNER_REFERENCE },
  14: { name: 'finalizers', type: 'string', repeated: true },
};

const OBJECT_REFERENCE: Schema = {
  1: { name: 'kind', type: 'string' },
  2: { name: 'namespace', type: 'string' },
  3: { name: 'name', type: 'string' },
  4: { name: 'uid', type: 'string' },
  5: { name: 'apiVersion', type: 'string' },
  6: { name: 'resourceVersion', type: 'string' },
  7: { name: 'fieldPath', type: 'string' },
};

const KINDS: Record<string, Schema> = {
  Namespace: {
    1: { name: 'metadata', type: 'message', message: OBJECT_META },
    2: { name: 'spec', type: 'message', message: { 1: { name: 'finalizers', type: 'string', repeated: true } } },
    3: { name: 'status', type: 'message', message: { 1: { name: 'phase', type: 'string' } } },
  },
  Secret: {
    1: { name: 'metadata', type: 'message', message: OBJECT_META },
    2: { name: 'data', type: 'map', mapValue: 'bytes' },
    3: { name: 'type', type: 'string' },
    4: { name: 'stringData', type: 'map', mapValue: 'string' },
    5: { name: 'immutable', type: 'bool' },
  },
  ConfigMap: {
    1: { name: 'metadata', type: 'message', message: OBJECT_META },
    2: { name: 'data', type: 'map', mapValue: 'string' },
    3: { name: 'binaryData', type: 'map', mapValue: 'bytes' },
    4: { name: 'immutable', type: 'bool' },
  },
  ServiceAccount: {
    1: { name: 'metadata', type: 'message', message: OBJECT_META },
    2: { name: 'secrets', type: 'message', repeated: true, message: OBJECT_REFERENCE },
    3: { name: 'imagePullSecrets', type: 'message', repeated: true, message: { 1: { name: 'name', type: 'string' } } },
    4: { name: 'automountServiceAccountToken', type: 'bool' },
  },
};

/** The protobuf media type. */
export const PROTOBUF_TYPE = 'application/vnd.kubernetes.protobuf';

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw badRequest('protobuf: unexpected end of data');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw badRequest('protobuf: varint overflow');
    }
  }

  bytes(): Buffer {
    const len = Number(this.varint());
    if (this.pos + len > this.buf.length) throw badRequest('protobuf: length out of range');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw badRequest(`protobuf: unsupported wire type ${wire}`);
  }
}

function timeOf(buf: Buffer): string | null {
  const r = new Reader(buf);
  let seconds = 0n;
  while (!r.done) {
    const tag = Number(r.varint());
    if (tag >>> 3 === 1 && (tag & 7) === 0) seconds = r.varint();
    else r.skip(tag & 7);
  }
  if (seconds === 0n) return null;
  return new Date(Number(seconds) * 1000).toISOString().replace('.000Z', 'Z');
}

function decodeMessage(buf: Buffer, schema: Schema): JsonObject {
  const out: JsonObject = {};
  const r = new Reader(buf);
  while (!r.done) {
    const tag = Number(r.varint());
    const field = tag >>> 3;
    const wire = tag & 7;
    const spec = schema[field];
    if (!spec) {
      r.skip(wire);
      continue;
    }
    let value: JsonValue;
    if (spec.type === 'map') {
      const entry = r.bytes();
      const er = new Reader(entry);
      let key = '';
      let val: JsonValue = spec.mapValue === 'bytes' ? '' : '';
      while (!er.done) {
        const t = Number(er.varint());
        if (t >>> 3 === 1) key = er.bytes().toString('utf8');
        else if (t >>> 3 === 2) {
          const raw = er.bytes();
          val = spec.mapValue === 'bytes' ? raw.toString('base64') : raw.toString('utf8');
        } else er.skip(t & 7);
      }
      const m = (out[spec.name] ?? {}) as JsonObject;
      m[key] = val;
      out[spec.name] = m;
      continue;
    }
    switch (spec.type) {
      case 'string': value = r.bytes().toString('utf8'); break;
      case 'bytes': value = r.bytes().toString('base64'); break;
      case 'int': value = Number(BigInt.asIntN(64, r.varint())); break;
      case 'bool': value = r.varint() !== 0n; break;
      case 'time': value = timeOf(r.bytes()); break;
      default: value = decodeMessage(r.bytes(), spec.message ?? {});
    }
    // Go's JSON omits empty optional scalars; the protobuf encoding does not.
    if (!spec.repeated && (value === '' || value === 0 || value === null)) continue;
    if (spec.repeated) {
      const list = (out[spec.name] ?? []) as JsonValue[];
      list.push(value);
      out[spec.name] = list;
    } else {
      out[spec.name] = value;
    }
  }
  return out;
}

/**
 * Decodes a protobuf request body into its JSON form, or returns undefined when the kind has no
 * decoder here (the caller answers 415). Malformed data answers 400.
 */
export function decodeProtobufObject(body: Buffer): JsonObject | undefined {
  if (body.length < 4 || body.readUInt32BE(0) !== 0x6b387300) throw badRequest('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
  const env = decodeMessage(body.subarray(4), {
    1: { name: 'typeMeta', type: 'message', message: { 1: { name: 'apiVersion', type: 'string' }, 2: { name: 'kind', type: 'string' } } },
    2: { name: 'raw', type: 'bytes' },
  });
  const tm = (env['typeMeta'] ?? {}) as JsonObject;
  const kind = typeof tm['kind'] === 'string' ? tm['kind'] : '';
  const apiVersion = typeof tm['apiVersion'] === 'string' ? tm['apiVersion'] : '';
  const schema = KINDS[kind];
  if (!schema || apiVersion !== 'v1') return undefined;
  const raw = Buffer.from(typeof env['raw'] === 'string' ? env['raw'] : '', 'base64');
  return { apiVersion, kind, ...decodeMessage(raw, schema) };
}
