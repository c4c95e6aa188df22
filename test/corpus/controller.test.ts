/**
 * The SealedSecret corpus families (`sealed-secrets/`, generated, and `controller-templates/`) as the
 * controller sees them: every case is POSTed as JSON to the SealedSecret collection of the in-repo API
 * (as `kubectl create` would), one cluster and one in-process controller for all cases, one case at a
 * time, then removed again. Each case must end with the expected Ready reason — `Unsealed` with the
 * right Secret (the canary as `password`), `DecryptFailed`/`InvalidSpec`/`WriteFailed` with no Secret
 * created or changed anywhere — or be refused by the API server itself (CRD schema, apiVersion/kind,
 * name rules), which then stores nothing. Ready messages never hold a stack trace, and at the end no
 * log line, Event, status or metric holds the canary.
 *
 * The sealed-secrets family's cases.json is generated for the CLI; where the controller's outcome
 * differs from what the CLI code implies, `SEALED_SECRETS_OVERRIDES` says so and why.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecretJson } from '../../controller/kube-client.js';
import type { ReadyReason } from '../../controller/status.js';
import { readManifests } from '../../src/manifest/read.js';
import { ERROR_CODES, type ErrorCode } from '../../src/errors.js';
import type { KubeApiServer } from '../../kube-api/server.js';
import { containsCanary } from '../helpers/canary.js';
import { eventually } from '../controller/fixtures.js';
import { CONTROLLER_NS, readyOf, sealedOf, secretOf, startCluster, startController, valuesOf, type TestController } from '../controller/harness.js';

const CANARY = 'CANARY-corpus-3f9b2c71d5e8a046';
const ROOT = fileURLToPath(new URL('./', import.meta.url));
const FAMILIES = ['sealed-secrets', 'controller-templates'] as const;
const OWNER_UID = 'kseal.dev/owner-uid';
const MANAGED_BY = 'kseal.dev/managed-by';

/** What the Secret written for an `Unsealed` case must look like, beyond holding the right values. */
interface SecretExpect {
  readonly ownerReference?: boolean;
  readonly immutable?: boolean;
  readonly type?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly values?: Readonly<Record<string, string>>;
  readonly ownerUidIsObject?: boolean;
}
/** The controller's outcome for a case: a Ready reason, or the API server refusing the object. */
interface ControllerExpect {
  readonly reason?: ReadyReason;
  readonly api?: number;
  /** A substring of the Ready message. */
  readonly says?: string;
  readonly secret?: SecretExpect;
  /** Secrets that must not exist afterwards (a template naming them, a moved object). */
  readonly absent?: ReadonlyArray<readonly [string, string]>;
  /** After an API refusal: the same object with its apiVersion changed to kseal.dev/v1alpha1. */
  readonly converted?: ControllerExpect;
  /** Why the controller's outcome is not the one the CLI code implies. */
  readonly note?: string;
}
interface Case {
  readonly file: string;
  readonly code: string;
  readonly why: string;
  readonly controller?: ControllerExpect;
}
interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string; [k: string]: unknown };
  spec?: { encryptedData?: Record<string, unknown>; template?: { data?: Record<string, unknown> } };
  [k: string]: unknown;
}

/** sealed-secrets cases whose controller outcome differs from what their CLI code implies. */
const SEALED_SECRETS_OVERRIDES: Readonly<Record<string, ControllerExpect & { readonly note: string }>> = {
  'not-a-sealed-secret.yaml': { api: 400, note: 'a v1 Secret sent to the SealedSecret collection: apiVersion and kind do not match' },
  'api-version-unknown.yaml': { api: 400, note: 'kseal.dev/v9 does not match the collection version v1alpha1' },
  'spec-missing.yaml': { api: 422, note: 'the CRD schema requires spec' },
  'encrypted-data-list.yaml': { api: 422, note: 'the CRD schema types encryptedData as a map of strings' },
  'base64-number.yaml': { api: 422, note: 'the CRD schema types encryptedData values as strings' },
  'name-missing.yaml': { api: 422, note: 'the API server requires metadata.name' },
  'legacy-spec-data.yaml': { api: 400, converted: { api: 422 }, note: 'bitnami.com/v1alpha1 is not served by the kseal.dev CRD; converted, the schema requires spec.encryptedData' },
  'moved-bitnami-cluster-wide.yaml': { api: 400, converted: { reason: 'DecryptFailed' }, note: 'bitnami.com/v1alpha1 is not served by the kseal.dev CRD; converted, it still does not open' },
  'unknown-fields.yaml': { api: 400, note: 'metadata.resourceVersion must not be set on create (the unknown fields are exercised by controller-templates/template-unknown-fields.yaml)' },
  'namespace-missing.yaml': { reason: 'Unsealed', note: 'the API server gives the object the namespace it is applied to (app), where it was sealed' },
};

function loadFamily(family: string): Case[] {
  return (JSON.parse(readFileSync(join(ROOT, family, 'cases.json'), 'utf8')) as { cases: Case[] }).cases;
}

/** The expectation of a case: its own `controller` field, an override, or what its CLI code implies. */
function expectationOf(family: string, c: Case): ControllerExpect {
  if (c.controller !== undefined) return c.controller;
  const override = family === 'sealed-secrets' ? SEALED_SECRETS_OVERRIDES[c.file] : undefined;
  if (override !== undefined) return override;
  if (c.code === 'ok') return { reason: 'Unsealed' };
  return { reason: ERROR_CODES[c.code as ErrorCode] === 'decrypt' ? 'DecryptFailed' : 'InvalidSpec' };
}

function describeExpect(e: ControllerExpect): string {
  if (e.api !== undefined) return `API ${e.api}${e.converted === undefined ? '' : `, converted ${describeExpect(e.converted)}`}`;
  return e.reason ?? '?';
}

let server: KubeApiServer;
let ctl: TestController;
/** Every status the controller wrote, kept for the final leak scan (the objects are deleted). */
const statuses: string[] = [];
const refused: string[] = [];

beforeAll(async () => {
  const namespaces = new Set<string>(['attacker']);
  for (const family of FAMILIES) {
    for (const c of loadFamily(family)) {
      const ns = objectOf(family, c.file).metadata?.namespace;
      if (typeof ns === 'string' && /^[a-z0-9-]{1,63}$/.test(ns)) namespaces.add(ns);
    }
  }
  server = await startCluster({ withKey: true, namespaces: [...namespaces].filter((n) => n !== 'app' && n !== CONTROLLER_NS && n !== 'kube-system') });
  // One replica without election: a lease lost under a loaded CI machine must not stall a case
  // (leader election under faults is tested in test/controller).
  ctl = startController(server, { concurrency: 4, leaderElection: { enabled: false, leaseName: 'kseal-controller', leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 100 } });
  await eventually('leader with the test key', () => ctl.controller.isLeader() && ctl.controller.keys.newest() !== undefined && ctl.controller.idle(), 15_000);
});
afterAll(async () => {
  await ctl?.stop();
  await server?.close();
});

function objectOf(family: string, file: string): Obj {
  const text = readFileSync(join(ROOT, family, file), 'utf8');
  return readManifests(text, file)[0]?.value as Obj;
}

/** POSTs `obj` as JSON to the SealedSecret collection of `namespace`, as kubectl create would. */
async function create(obj: Obj, namespace: string): Promise<{ status: number; body: { message?: string } }> {
  const res = await fetch(`${server.url}/apis/kseal.dev/v1alpha1/namespaces/${namespace}/sealedsecrets`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${server.token}` },
    body: JSON.stringify(obj),
  });
  return { status: res.status, body: (await res.json()) as { message?: string } };
}

/** resourceVersion of every Secret outside the controller namespace. */
function secretVersions(): Map<string, string> {
  const all = server.store.list('v1', 'Secret') as SecretJson[];
  return new Map(all.filter((s) => s.metadata.namespace !== CONTROLLER_NS).map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s.metadata.resourceVersion ?? '']));
}

/** Deletes the object and its Secret (GC, or by hand with no ownerReference) once the controller forgot it. */
async function remove(namespace: string, name: string): Promise<void> {
  server.store.delete('kseal.dev/v1alpha1', 'SealedSecret', name, namespace);
  let state = '';
  await eventually(`the controller to forget ${namespace}/${name}`, async () => {
    const series = (await ctl.options.metrics.conditionInfo.get()).values.some((v) => v.labels.namespace === namespace && v.labels.name === name);
    state = `condition series ${series ? 'kept' : 'dropped'}, controller ${ctl.controller.idle() ? 'idle' : 'busy'}`;
    return !series && ctl.controller.idle();
  }, 20_000).catch((e: unknown) => {
    throw new Error(`${(e as Error).message}: ${state}`);
  });
  if (secretOf(server, namespace, name)?.metadata.ownerReferences === undefined && secretOf(server, namespace, name) !== undefined) {
    server.store.delete('v1', 'Secret', name, namespace);
  }
  await eventually(`${namespace}/${name} and its Secret gone`, () => sealedOf(server, namespace, name) === undefined && secretOf(server, namespace, name) === undefined);
}

/** Runs one case against the controller and checks `expected`. */
async function check(obj: Obj, expected: ControllerExpect): Promise<void> {
  const namespace = typeof obj.metadata?.namespace === 'string' && obj.metadata.namespace !== '' ? obj.metadata.namespace : 'app';
  const before = secretVersions();
  const reply = await create(obj, namespace);

  if (expected.api !== undefined) {
    expect(reply.status, reply.body.message).toBe(expected.api);
    expect(reply.body.message ?? '').not.toBe('');
    expect(containsCanary(CANARY, JSON.stringify(reply.body))).toBe(false);
    if (typeof obj.metadata?.name === 'string') expect(sealedOf(server, namespace, obj.metadata.name)).toBeUndefined();
    expect(secretVersions()).toEqual(before);
    if (expected.converted !== undefined) await check({ ...obj, apiVersion: 'kseal.dev/v1alpha1' }, expected.converted);
    return;
  }

  expect(reply.status, reply.body.message).toBe(201);
  const stored = reply.body as Obj;
  const name = stored.metadata?.name ?? '';
  const uid = stored.metadata?.uid ?? '';
  try {
    await expectOutcome(namespace, name, uid, stored, before, expected);
  } catch (e) {
    // Clean up for the next case, but report this case's failure, not the clean-up's.
    await remove(namespace, name).catch(() => undefined);
    throw e;
  }
  await remove(namespace, name);
}

/** Waits for the Ready condition of a created case and checks it and the Secrets against `expected`. */
async function expectOutcome(namespace: string, name: string, uid: string, stored: Obj, before: ReadonlyMap<string, string>, expected: ControllerExpect): Promise<void> {
  const ready = await eventually(`${namespace}/${name} Ready`, () => readyOf(server, namespace, name), 10_000);
  statuses.push(JSON.stringify(sealedOf(server, namespace, name)?.['status']));
  expect(ready.reason, ready.message).toBe(expected.reason);
  expect(ready.status).toBe(expected.reason === 'Unsealed' ? 'True' : 'False');
  expect(ready.message).not.toBe('');
  expect(ready.message).not.toMatch(/\n\s+at .+:\d+:\d+/);
  expect(containsCanary(CANARY, ready.message)).toBe(false);
  if (expected.says !== undefined) expect(ready.message).toContain(expected.says);
  for (const [ns, n] of expected.absent ?? []) expect(secretOf(server, ns, n), `${ns}/${n}`).toBeUndefined();

  const after = secretVersions();
  if (expected.reason !== 'Unsealed') {
    expect(after, 'a Secret was created or changed').toEqual(before);
    return;
  }
  const secret = secretOf(server, namespace, name);
  expect(secret, 'the Secret').toBeDefined();
  after.delete(`${namespace}/${name}`);
  expect(after, 'another Secret was created or changed').toEqual(before);
  checkSecret(secret!, stored, uid, expected.secret ?? {});
}

function checkSecret(secret: SecretJson, stored: Obj, uid: string, want: SecretExpect): void {
  const sealedKeys = Object.keys(stored.spec?.encryptedData ?? {});
  const plain = (stored.spec?.template?.data ?? {}) as Record<string, string>;
  const values = valuesOf(secret);
  expect(Object.keys(values).sort()).toEqual([...new Set([...sealedKeys, ...Object.keys(plain)])].sort());
  if (sealedKeys.includes('password')) expect(values['password']).toBe(CANARY);
  if (sealedKeys.includes('username')) expect(values['username']).toBe('admin');
  for (const [k, v] of Object.entries(plain)) if (!sealedKeys.includes(k)) expect(values[k], k).toBe(v);
  for (const [k, v] of Object.entries(want.values ?? {})) expect(values[k], k).toBe(v);
  expect(secret.metadata.labels?.[MANAGED_BY]).toBe('kseal-controller');
  const owners = secret.metadata.ownerReferences ?? [];
  if (want.ownerReference === false) expect(owners).toEqual([]);
  else expect(owners.map((o) => [o.kind, o.uid, o.controller])).toEqual([['SealedSecret', uid, true]]);
  if (want.ownerUidIsObject === true || want.ownerReference === false) expect(secret.metadata.annotations?.[OWNER_UID]).toBe(uid);
  expect(secret.immutable ?? false).toBe(want.immutable ?? false);
  expect(secret.type ?? 'Opaque').toBe(want.type ?? (stored.spec?.template as { type?: string } | undefined)?.type ?? 'Opaque');
  for (const [k, v] of Object.entries(want.labels ?? {})) expect(secret.metadata.labels?.[k], k).toBe(v);
}

for (const family of FAMILIES) {
  describe(`corpus ${family} through the controller`, () => {
    for (const c of loadFamily(family)) {
      const expected = expectationOf(family, c);
      it(`${c.file}: ${c.why} → ${describeExpect(expected)}`, async () => {
        if (expected.api !== undefined) refused.push(`${family}/${c.file}`);
        await check(objectOf(family, c.file), expected);
      });
    }
  });
}

describe('corpus through the controller, afterwards', () => {
  it('names every override of the sealed-secrets family, and each names a real case', () => {
    const files = new Set(loadFamily('sealed-secrets').map((c) => c.file));
    for (const [file, o] of Object.entries(SEALED_SECRETS_OVERRIDES)) {
      expect(files.has(file), file).toBe(true);
      expect(o.note).not.toBe('');
    }
    // The API-refused cases, counted and listed so none is skipped silently.
    const expectedRefusals = FAMILIES.flatMap((f) => loadFamily(f).filter((c) => expectationOf(f, c).api !== undefined).map((c) => `${f}/${c.file}`));
    expect(refused.sort()).toEqual(expectedRefusals.sort());
  });

  it('kept the controller healthy: leading, idle, no unexpected failure logged', () => {
    expect(ctl.controller.isLeader()).toBe(true);
    expect(ctl.controller.idle()).toBe(true);
    const logs = ctl.logs();
    expect(logs).not.toMatch(/reconcile threw|failed unexpectedly/);
    expect(logs).not.toMatch(/\\n\s+at .+:\d+:\d+/);
    expect(server.store.list('v1', 'Secret', CONTROLLER_NS)).toHaveLength(1);
  });

  it('let no value into logs, Events, statuses or metrics', async () => {
    const events = server.store.list('v1', 'Event');
    expect(events.length).toBeGreaterThan(0);
    expect(statuses.length).toBeGreaterThan(0);
    const everything = [ctl.logs(), JSON.stringify(events), statuses.join('\n'), await ctl.options.metrics.registry.metrics()].join('\n');
    expect(containsCanary(CANARY, everything)).toBe(false);
  });
});
