/**
 * The built-in kinds the server serves and their strategies, following the real registries
 * (pkg/registry/core/{namespace,secret,configmap,serviceaccount,event}, pkg/registry/coordination/lease,
 * pkg/apis/core/validation). Core and events.k8s.io Events share one storage, converted like
 * pkg/apis/events/v1/conversion.go.
 */
import { fieldError } from './errors.js';
import type { FieldError } from './errors.js';
import { isObject, text } from './json.js';
import type { JsonObject, JsonValue } from './json.js';
import { configKeyErrors, qualifiedNameError } from './names.js';
import { metaOf, nameOf } from './objects.js';
import { META_LIST_STRATEGIES } from './patch.js';
import type { KindHooks, ResourceDef } from './resources.js';
import { AGE_COLUMN, NAME_COLUMN, ageOf, humanDuration } from './table.js';
import { base64DecodedLength, checkBytesMap, checkMicroTime, checkStringMap, decodeError, typeMismatch } from './validation.js';

/** The verbs of a namespaced built-in resource. */
const NAMESPACED_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** Secrets and ConfigMaps may hold at most 1 MiB (corevalidation.MaxSecretSize). */
const MAX_SECRET_SIZE = 1024 * 1024;

const IMMUTABLE_MSG = 'field is immutable when `immutable` is set';

function col(name: string, type = 'string', description = '', priority = 0): { name: string; type: string; format: string; description: string; priority: number } {
  return { name, type, format: '', description, priority };
}

function str(o: JsonObject | undefined, key: string): string {
  const v = o?.[key];
  return typeof v === 'string' ? v : '';
}

function checkScalar(obj: JsonObject, key: string, type: 'string' | 'boolean' | 'number', kind: string, version: string, goField: string): void {
  const v = obj[key];
  if (v === undefined || v === null) return;
  if (typeof v !== type) throw decodeError(kind, version, typeMismatch(v, goField, type === 'number' ? 'int32' : type === 'boolean' ? 'bool' : 'string'));
}

function immutableUpdateErrors(obj: JsonObject, old: JsonObject, dataFields: string[]): FieldError[] {
  const errs: FieldError[] = [];
  if (old['immutable'] === true) {
    if (obj['immutable'] !== true) errs.push(fieldError.forbidden('immutable', IMMUTABLE_MSG));
    for (const f of dataFields) {
      if (JSON.stringify(obj[f] ?? {}) !== JSON.stringify(old[f] ?? {})) errs.push(fieldError.forbidden(f, IMMUTABLE_MSG));
    }
  }
  return errs;
}

const secretHooks: KindHooks = {
  fields: ['apiVersion', 'kind', 'metadata', 'data', 'stringData', 'type', 'immutable'],
  decode(obj, version) {
    checkBytesMap(obj, 'data', 'Secret', version);
    const sdErr = checkStringMap(obj, 'stringData', 'Secret.stringData');
    if (sdErr) throw decodeError('Secret', version, sdErr);
    checkScalar(obj, 'type', 'string', 'Secret', version, 'Secret.type');
    checkScalar(obj, 'immutable', 'boolean', 'Secret', version, 'Secret.immutable');
    // v1 → internal conversion: stringData is merged into data (stringData wins) and never stored.
    const sd = obj['stringData'];
    if (isObject(sd)) {
      const data: JsonObject = isObject(obj['data']) ? { ...obj['data'] } : {};
      for (const [k, v] of Object.entries(sd)) data[k] = Buffer.from(text(v), 'utf8').toString('base64');
      obj['data'] = data;
    }
    delete obj['stringData'];
    if (obj['data'] === null) delete obj['data'];
    // SetDefaults_Secret
    if (!obj['type']) obj['type'] = 'Opaque';
  },
  validate(obj) {
    const errs: FieldError[] = [];
    const data = isObject(obj['data']) ? obj['data'] : {};
    let total = 0;
    for (const [k, v] of Object.entries(data)) {
      for (const msg of configKeyErrors(k)) errs.push(fieldError.invalid(`data[${k}]`, k, msg));
      if (typeof v === 'string') total += base64DecodedLength(v);
    }
    if (total > MAX_SECRET_SIZE) errs.push(fieldError.tooLong('data', MAX_SECRET_SIZE));
    const type = str(obj, 'type');
    const need = (key: string): void => {
      if (!(key in data)) errs.push(fieldError.required(`data[${key}]`));
    };
    switch (type) {
      case 'kubernetes.io/tls':
        need('tls.crt');
        need('tls.key');
        break;
      case 'kubernetes.io/dockerconfigjson': {
        need('.dockerconfigjson');
        const raw = data['.dockerconfigjson'];
        if (typeof raw === 'string') {
          try {
            JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
          } catch (e) {
            errs.push(fieldError.invalid('data[.dockerconfigjson]', '<secret contents redacted>', (e as Error).message));
          }
        }
        break;
      }
      case 'kubernetes.io/dockercfg':
        need('.dockercfg');
        break;
      case 'kubernetes.io/basic-auth':
        if (!('username' in data) && !('password' in data)) errs.push(fieldError.required('data[username]'));
        break;
      case 'kubernetes.io/ssh-auth':
        need('ssh-privatekey');
        break;
      case 'kubernetes.io/service-account-token': {
        const ann = metaOf(obj)['annotations'];
        if (!isObject(ann) || !ann['kubernetes.io/service-account.name']) {
          errs.push(fieldError.required('metadata.annotations[kubernetes.io/service-account.name]'));
        }
        break;
      }
      default:
        break;
    }
    return errs;
  },
  validateUpdate(obj, old) {
    const errs = immutableUpdateErrors(obj, old, ['data']);
    if (str(obj, 'type') !== str(old, 'type')) errs.push(fieldError.invalid('type', str(obj, 'type'), 'field is immutable'));
    return errs;
  },
  generation: 'none',
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  returnDeletedObject: false,
  smp: META_LIST_STRATEGIES,
  fieldLabels: ['type'],
  fieldSet: (obj) => ({ type: str(obj, 'type') }),
  table: {
    columns: [NAME_COLUMN, col('Type', 'string', 'Used to facilitate programmatic handling of secret data.'), col('Data', 'string', 'Data contains the secret data.'), AGE_COLUMN],
    cells: (o, now) => [nameOf(o), str(o, 'type'), isObject(o['data']) ? Object.keys(o['data']).length : 0, ageOf(o, now)],
  },
};

const configMapHooks: KindHooks = {
  fields: ['apiVersion', 'kind', 'metadata', 'data', 'binaryData', 'immutable'],
  decode(obj, version) {
    const err = checkStringMap(obj, 'data', 'ConfigMap.data');
    if (err) throw decodeError('ConfigMap', version, err);
    checkBytesMap(obj, 'binaryData', 'ConfigMap', version);
    checkScalar(obj, 'immutable', 'boolean', 'ConfigMap', version, 'ConfigMap.immutable');
  },
  validate(obj) {
    const errs: FieldError[] = [];
    const data = isObject(obj['data']) ? obj['data'] : {};
    const bin = isObject(obj['binaryData']) ? obj['binaryData'] : {};
    let total = 0;
    for (const [k, v] of Object.entries(data)) {
      for (const msg of configKeyErrors(k)) errs.push(fieldError.invalid(`data[${k}]`, k, msg));
      total += Buffer.byteLength(k) + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
    }
    for (const [k, v] of Object.entries(bin)) {
      for (const msg of configKeyErrors(k)) errs.push(fieldError.invalid(`binaryData[${k}]`, k, msg));
      if (k in data) errs.push(fieldError.invalid(`data[${k}]`, k, 'duplicate of key present in binaryData'));
      total += Buffer.byteLength(k) + (typeof v === 'string' ? base64DecodedLength(v) : 0);
    }
    if (total > MAX_SECRET_SIZE) errs.push(fieldError.tooLong('', MAX_SECRET_SIZE));
    return errs;
  },
  validateUpdate: (obj, old) => immutableUpdateErrors(obj, old, ['data', 'binaryData']),
  generation: 'none',
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  returnDeletedObject: false,
  smp: META_LIST_STRATEGIES,
  table: {
    columns: [NAME_COLUMN, col('Data', 'string', 'Data contains the configuration data.'), AGE_COLUMN],
    cells: (o, now) => [
      nameOf(o),
      (isObject(o['data']) ? Object.keys(o['data']).length : 0) + (isObject(o['binaryData']) ? Object.keys(o['binaryData']).length : 0),
      ageOf(o, now),
    ],
  },
};

const serviceAccountHooks: KindHooks = {
  fields: ['apiVersion', 'kind', 'metadata', 'secrets', 'imagePullSecrets', 'automountServiceAccountToken'],
  generation: 'none',
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  returnDeletedObject: true,
  smp: { ...META_LIST_STRATEGIES, secrets: { key: 'name' }, imagePullSecrets: { key: 'name' } },
  table: {
    columns: [NAME_COLUMN, col('Secrets', 'string', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'), AGE_COLUMN],
    cells: (o, now) => [nameOf(o), Array.isArray(o['secrets']) ? o['secrets'].length : 0, ageOf(o, now)],
  },
};

const namespaceHooks: KindHooks = {
  fields: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
  decode(obj) {
    // SetDefaults_Namespace: the immutable name label.
    const meta = metaOf(obj);
    const name = meta['name'];
    if (typeof name === 'string' && name) {
      const labels = isObject(meta['labels']) ? { ...meta['labels'] } : {};
      labels['kubernetes.io/metadata.name'] = name;
      meta['labels'] = labels;
    }
  },
  prepareForCreate(obj) {
    obj['status'] = { phase: 'Active' };
    const spec = isObject(obj['spec']) ? obj['spec'] : {};
    const fins = Array.isArray(spec['finalizers']) ? [...spec['finalizers']] : [];
    if (!fins.includes('kubernetes')) fins.push('kubernetes');
    spec['finalizers'] = fins;
    obj['spec'] = spec;
  },
  prepareForUpdate(obj, old) {
    const spec = isObject(obj['spec']) ? { ...obj['spec'] } : {};
    const oldSpec = isObject(old['spec']) ? old['spec'] : {};
    if (oldSpec['finalizers'] !== undefined) spec['finalizers'] = oldSpec['finalizers'];
    else delete spec['finalizers'];
    obj['spec'] = spec;
  },
  validate(obj) {
    const errs: FieldError[] = [];
    const spec = isObject(obj['spec']) ? obj['spec'] : {};
    const fins = Array.isArray(spec['finalizers']) ? spec['finalizers'] : [];
    fins.forEach((f, i) => {
      if (typeof f !== 'string') return;
      const e = f === 'kubernetes' ? undefined : qualifiedNameError(f);
      if (e) errs.push(fieldError.invalid(`spec.finalizers[${i}]`, f, e));
    });
    return errs;
  },
  generation: 'none',
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  returnDeletedObject: false,
  smp: { ...META_LIST_STRATEGIES, 'status.conditions': { key: 'type' } },
  fieldLabels: ['status.phase'],
  fieldSet: (obj) => ({ 'status.phase': str(isObject(obj['status']) ? obj['status'] : undefined, 'phase') }),
  table: {
    columns: [NAME_COLUMN, col('Status', 'string', 'The status of the namespace'), AGE_COLUMN],
    cells: (o, now) => [nameOf(o), str(isObject(o['status']) ? o['status'] : undefined, 'phase'), ageOf(o, now)],
  },
};

const leaseHooks: KindHooks = {
  fields: ['apiVersion', 'kind', 'metadata', 'spec'],
  decode(obj, version) {
    const spec = obj['spec'];
    if (spec === undefined || spec === null) return;
    if (!isObject(spec)) throw decodeError('Lease', version, typeMismatch(spec, 'Lease.spec', 'v1.LeaseSpec'));
    checkScalar(spec, 'holderIdentity', 'string', 'Lease', version, 'LeaseSpec.spec.holderIdentity');
    checkScalar(spec, 'leaseDurationSeconds', 'number', 'Lease', version, 'LeaseSpec.spec.leaseDurationSeconds');
    checkScalar(spec, 'leaseTransitions', 'number', 'Lease', version, 'LeaseSpec.spec.leaseTransitions');
    checkMicroTime(spec['acquireTime'], 'Lease', version);
    checkMicroTime(spec['renewTime'], 'Lease', version);
  },
  validate(obj) {
    const errs: FieldError[] = [];
    const spec = isObject(obj['spec']) ? obj['spec'] : {};
    const d = spec['leaseDurationSeconds'];
    if (typeof d === 'number' && d <= 0) errs.push(fieldError.invalid('spec.leaseDurationSeconds', d, 'must be greater than 0'));
    const t = spec['leaseTransitions'];
    if (typeof t === 'number' && t < 0) errs.push(fieldError.invalid('spec.leaseTransitions', t, 'must be greater than or equal to 0'));
    return errs;
  },
  generation: 'none',
  allowCreateOnUpdate: true,
  allowUnconditionalUpdate: true,
  returnDeletedObject: false,
  smp: META_LIST_STRATEGIES,
  table: {
    columns: [NAME_COLUMN, col('Holder', 'string', 'The holder of the lease'), AGE_COLUMN],
    cells: (o, now) => [nameOf(o), str(isObject(o['spec']) ? o['spec'] : undefined, 'holderIdentity'), ageOf(o, now)],
  },
};

// --- Events -------------------------------------------------------------------------------------

const CORE_TO_V1: [string, string][] = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
  ['reportingComponent', 'reportingController'],
];
const SAME_EVENT_FIELDS = ['eventTime', 'series', 'reportingInstance', 'action', 'reason', 'related', 'type'];

function isEmptyValue(v: JsonValue | undefined): boolean {
  return v === undefined || v === null || v === '' || v === 0 || (isObject(v) && Object.keys(v).length === 0);
}

/** events.k8s.io/v1 Event → stored (core v1) form. */
function eventsV1ToCore(obj: JsonObject): JsonObject {
  const out: JsonObject = { apiVersion: 'v1', kind: 'Event', metadata: obj['metadata'] ?? {} };
  for (const [core, v1] of CORE_TO_V1) if (obj[v1] !== undefined) out[core] = obj[v1];
  for (const f of SAME_EVENT_FIELDS) if (obj[f] !== undefined) out[f] = obj[f];
  return out;
}

/** Stored (core v1) Event → events.k8s.io/v1 representation. */
function coreToEventsV1(obj: JsonObject): JsonObject {
  const out: JsonObject = { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: obj['metadata'] ?? {} };
  out['eventTime'] = obj['eventTime'] ?? null;
  for (const f of SAME_EVENT_FIELDS) if (f !== 'eventTime' && !isEmptyValue(obj[f])) out[f] = obj[f]!;
  for (const [core, v1] of CORE_TO_V1) if (!isEmptyValue(obj[core])) out[v1] = obj[core]!;
  return out;
}

function eventDefaults(obj: JsonObject): void {
  if (!isObject(obj['involvedObject'])) obj['involvedObject'] = {};
  if (!isObject(obj['source'])) obj['source'] = {};
  if (obj['firstTimestamp'] === undefined) obj['firstTimestamp'] = null;
  if (obj['lastTimestamp'] === undefined) obj['lastTimestamp'] = null;
  if (obj['eventTime'] === undefined) obj['eventTime'] = null;
  if (obj['reportingComponent'] === undefined) obj['reportingComponent'] = '';
  if (obj['reportingInstance'] === undefined) obj['reportingInstance'] = '';
}

/** ValidateEventCreate (pkg/apis/core/validation/events.go): legacy rules, strict ones for events.k8s.io. */
function validateEvent(obj: JsonObject, strict: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ns = str(metaOf(obj), 'namespace');
  const involved = isObject(obj['involvedObject']) ? obj['involvedObject'] : {};
  const involvedNs = str(involved, 'namespace');
  const involvedField = strict ? 'regarding.namespace' : 'involvedObject.namespace';
  const controllerField = strict ? 'reportingController' : 'reportingComponent';
  const hasEventTime = typeof obj['eventTime'] === 'string' && obj['eventTime'] !== '';
  if (!hasEventTime) {
    if (!involvedNs) {
      if (ns !== '' && ns !== 'default') errs.push(fieldError.invalid(involvedField, involvedNs, 'does not match event.namespace'));
    } else if (ns !== involvedNs) {
      errs.push(fieldError.invalid(involvedField, involvedNs, 'does not match event.namespace'));
    }
  } else {
    if (!involvedNs && ns !== 'default' && ns !== 'kube-system') errs.push(fieldError.invalid(involvedField, involvedNs, 'does not match event.namespace'));
    const controller = str(obj, 'reportingComponent');
    if (!controller) errs.push(fieldError.required(controllerField));
    else {
      const e = qualifiedNameError(controller);
      if (e) errs.push(fieldError.invalid(controllerField, controller, e));
    }
    const instance = str(obj, 'reportingInstance');
    if (!instance) errs.push(fieldError.required('reportingInstance'));
    if (instance.length > 128) errs.push(fieldError.invalid('reportingInstance', '', 'can have at most 128 characters'));
    const action = str(obj, 'action');
    if (!action) errs.push(fieldError.required('action'));
    if (action.length > 128) errs.push(fieldError.invalid('action', '', 'can have at most 128 characters'));
    const reason = str(obj, 'reason');
    if (!reason) errs.push(fieldError.required('reason'));
    if (reason.length > 128) errs.push(fieldError.invalid('reason', '', 'can have at most 128 characters'));
    if (str(obj, 'message').length > 1024) errs.push(fieldError.invalid(strict ? 'note' : 'message', '', 'can have at most 1024 characters'));
  }
  if (strict) {
    if (!hasEventTime) errs.push(fieldError.required('eventTime'));
    const type = str(obj, 'type');
    if (type !== 'Normal' && type !== 'Warning') errs.push(fieldError.invalid('type', '', `has invalid value: ${type}`));
    if (obj['firstTimestamp']) errs.push(fieldError.invalid('deprecatedFirstTimestamp', '', 'needs to be unset'));
    if (obj['lastTimestamp']) errs.push(fieldError.invalid('deprecatedLastTimestamp', '', 'needs to be unset'));
    if (typeof obj['count'] === 'number' && obj['count'] !== 0) errs.push(fieldError.invalid('deprecatedCount', '', 'needs to be unset'));
    const src = isObject(obj['source']) ? obj['source'] : {};
    if (str(src, 'component') || str(src, 'host')) errs.push(fieldError.invalid('deprecatedSource', '', 'needs to be unset'));
  }
  return errs;
}

const EVENT_FIELD_LABELS = [
  'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion',
  'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type',
];

function eventFieldSet(obj: JsonObject): Record<string, string> {
  const inv = isObject(obj['involvedObject']) ? obj['involvedObject'] : {};
  const src = isObject(obj['source']) ? obj['source'] : {};
  const out: Record<string, string> = {
    reason: str(obj, 'reason'),
    reportingComponent: str(obj, 'reportingComponent'),
    source: str(src, 'component'),
    type: str(obj, 'type'),
  };
  for (const f of ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath']) out[`involvedObject.${f}`] = str(inv, f);
  return out;
}

function eventLastSeen(o: JsonObject, now: number): string {
  const series = isObject(o['series']) ? o['series'] : undefined;
  const t = str(series, 'lastObservedTime') || str(o, 'lastTimestamp') || str(o, 'eventTime') || str(metaOf(o), 'creationTimestamp');
  return t ? humanDuration(now - Date.parse(t)) : '<unknown>';
}

const eventTable: NonNullable<KindHooks['table']> = {
  columns: [col('Last Seen'), col('Type'), col('Reason'), col('Object'), col('Message')],
  cells: (o, now) => {
    const inv = isObject(o['involvedObject']) ? o['involvedObject'] : {};
    return [eventLastSeen(o, now), str(o, 'type'), str(o, 'reason'), `${str(inv, 'kind').toLowerCase()}/${str(inv, 'name')}`, str(o, 'message')];
  },
};

function eventCommon(strict: boolean): Omit<KindHooks, 'decode' | 'toStorage' | 'fromStorage'> {
  return {
    prepareForCreate: (obj) => eventDefaults(obj),
    prepareForUpdate: (obj) => eventDefaults(obj),
    validate: (obj) => validateEvent(obj, strict),
    generation: 'none',
    allowCreateOnUpdate: true,
    allowUnconditionalUpdate: true,
    returnDeletedObject: false,
    smp: META_LIST_STRATEGIES,
    fieldLabels: EVENT_FIELD_LABELS,
    fieldSet: eventFieldSet,
    table: eventTable,
  };
}

function checkEventTimes(obj: JsonObject, version: string): void {
  checkMicroTime(obj['eventTime'], 'Event', version);
  const series = obj['series'];
  if (isObject(series)) checkMicroTime(series['lastObservedTime'], 'Event', version);
}

const coreEventHooks: KindHooks = {
  ...eventCommon(false),
  decode: (obj, version) => checkEventTimes(obj, version),
};

const eventsV1Hooks: KindHooks = {
  ...eventCommon(true),
  decode: (obj, version) => checkEventTimes(obj, version),
  toStorage: (obj) => eventsV1ToCore(obj),
  fromStorage: (obj) => coreToEventsV1(obj),
};

function builtin(
  group: string,
  version: string,
  plural: string,
  kind: string,
  namespaced: boolean,
  hooks: KindHooks,
  extra: Partial<ResourceDef> = {},
): ResourceDef {
  return {
    group,
    plural,
    singular: kind.toLowerCase(),
    kind,
    listKind: `${kind}List`,
    namespaced,
    shortNames: [],
    categories: [],
    verbs: NAMESPACED_VERBS,
    versions: [{ name: version, statusSubresource: false }],
    storageVersion: version,
    storageKey: `${group || 'core'}/${plural}`,
    builtin: true,
    hooks,
    ...extra,
  };
}

/** The built-in resources other than CustomResourceDefinitions (see crd.ts). */
export function builtinDefs(): ResourceDef[] {
  return [
    builtin('', 'v1', 'namespaces', 'Namespace', false, namespaceHooks, {
      shortNames: ['ns'],
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      versions: [{ name: 'v1', statusSubresource: true }],
      extraSubresources: ['finalize'],
    }),
    builtin('', 'v1', 'secrets', 'Secret', true, secretHooks),
    builtin('', 'v1', 'configmaps', 'ConfigMap', true, configMapHooks, { shortNames: ['cm'] }),
    builtin('', 'v1', 'serviceaccounts', 'ServiceAccount', true, serviceAccountHooks, { shortNames: ['sa'] }),
    builtin('', 'v1', 'events', 'Event', true, coreEventHooks, { shortNames: ['ev'], storageKey: 'core/events' }),
    builtin('events.k8s.io', 'v1', 'events', 'Event', true, eventsV1Hooks, { shortNames: ['ev'], storageKey: 'core/events' }),
    builtin('coordination.k8s.io', 'v1', 'leases', 'Lease', true, leaseHooks),
  ];
}
