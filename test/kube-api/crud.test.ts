// Conformance of create/read/update/delete and the Status bodies of every error the server answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeApi } from '../../kube-api/server.js';
import type { JsonObject, KubeApiServer } from '../../kube-api/server.js';
import { call, message, meta, secret, sealedSecret, sealedSecretCrd } from './test-helpers.js';

let server: KubeApiServer;

beforeAll(async () => {
  server = await startKubeApi({ namespaces: ['app'] });
  server.store.create(sealedSecretCrd());
});

afterAll(async () => {
  await server.close();
});

const SECRETS = '/api/v1/namespaces/app/secrets';

describe('create and read', () => {
  it('creates a Secret with server-set metadata and answers 201', async () => {
    const res = await call(server, 'POST', SECRETS, secret('s-create', 'app'));
    expect(res.status).toBe(201);
    const m = meta(res.body);
    expect(m['uid']).toMatch(/^[0-9a-f-]{36}$/);
    expect(m['creationTimestamp']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(Number(m['resourceVersion'])).toBeGreaterThan(0);
    expect(m['generation']).toBeUndefined();
    expect(res.body['type']).toBe('Opaque');
  });

  it('merges stringData into data and never stores stringData', async () => {
    const res = await call(server, 'POST', SECRETS, { ...secret('s-stringdata', 'app', { a: 'YQ==' }), stringData: { a: 'x', b: 'y' } });
    expect(res.status).toBe(201);
    expect(res.body['data']).toEqual({ a: Buffer.from('x').toString('base64'), b: Buffer.from('y').toString('base64') });
    expect(res.body['stringData']).toBeUndefined();
  });

  it('takes resourceVersions from one global counter', async () => {
    const a = await call(server, 'POST', SECRETS, secret('s-rv-a', 'app'));
    const b = await call(server, 'POST', '/api/v1/namespaces/app/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm-rv-b' } });
    expect(Number(meta(b.body)['resourceVersion'])).toBe(Number(meta(a.body)['resourceVersion']) + 1);
  });

  it('generates a name from generateName', async () => {
    const res = await call(server, 'POST', SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { generateName: 'gen-' } });
    expect(res.status).toBe(201);
    expect(meta(res.body)['name']).toMatch(/^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('answers 409 AlreadyExists for a second create of the same name', async () => {
    await call(server, 'POST', SECRETS, secret('s-dup', 'app'));
    const res = await call(server, 'POST', SECRETS, secret('s-dup', 'app'));
    expect(res.status).toBe(409);
    expect(res.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'secrets "s-dup" already exists',
      reason: 'AlreadyExists',
      details: { name: 's-dup', kind: 'secrets' },
      code: 409,
    });
  });

  it('answers 404 NotFound with the qualified resource for a custom resource', async () => {
    const res = await call(server, 'GET', '/apis/kseal.dev/v1alpha1/namespaces/app/sealedsecrets/missing');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      message: 'sealedsecrets.kseal.dev "missing" not found',
      reason: 'NotFound',
      details: { name: 'missing', group: 'kseal.dev', kind: 'sealedsecrets' },
      code: 404,
    });
  });

  it('answers 404 namespaces "x" not found when creating into a missing namespace', async () => {
    const res = await call(server, 'POST', '/api/v1/namespaces/nope/secrets', secret('s', 'nope'));
    expect(res.status).toBe(404);
    expect(res.body['message']).toBe('namespaces "nope" not found');
    expect(res.body['details']).toEqual({ name: 'nope', kind: 'namespaces' });
  });

  it('answers 400 BadRequest for an undecodable body', async () => {
    const res = await call(server, 'POST', SECRETS, '{"apiVersion": "v1", ');
    expect(res.status).toBe(400);
    expect(res.body['reason']).toBe('BadRequest');
    expect(message(res)).toMatch(/^couldn't get version\/kind; json parse error: /);
  });

  it('answers 400 when the body namespace differs from the URL', async () => {
    const res = await call(server, 'POST', SECRETS, secret('s-ns', 'other'));
    expect(res.status).toBe(400);
    expect(res.body['message']).toBe('the namespace of the provided object does not match the namespace sent on the request');
  });

  it('answers 400 for a resourceVersion on create', async () => {
    const res = await call(server, 'POST', SECRETS, { ...secret('s-rvset', 'app'), metadata: { name: 's-rvset', resourceVersion: '5' } });
    expect(res.status).toBe(400);
    expect(res.body['message']).toBe('resourceVersion should not be set on objects to be created');
  });

  it('answers 404 for a resource that is not served', async () => {
    const res = await call(server, 'GET', '/apis/nothing.example/v1/things');
    expect(res.status).toBe(404);
    expect(res.body['message']).toBe('the server could not find the requested resource');
  });

  it('answers 405 for POST on an object path', async () => {
    const res = await call(server, 'POST', `${SECRETS}/x`, secret('x', 'app'));
    expect(res.status).toBe(405);
    expect(res.body['reason']).toBe('MethodNotAllowed');
  });

  it('lists across namespaces without kind/apiVersion on typed list items', async () => {
    const res = await call(server, 'GET', '/api/v1/secrets');
    expect(res.status).toBe(200);
    expect(res.body['kind']).toBe('SecretList');
    const items = res.body['items'] as { kind?: string }[];
    expect(items.length).toBeGreaterThan(0);
    expect(items[0]!.kind).toBeUndefined();
  });
});

describe('validation', () => {
  it('rejects a name that is not a DNS-1123 subdomain with the real message and cause', async () => {
    const res = await call(server, 'POST', SECRETS, secret('Bad_Name', 'app'));
    expect(res.status).toBe(422);
    expect(res.body['reason']).toBe('Invalid');
    expect(res.body['message']).toBe(
      "Secret \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
    expect(res.body['details']).toMatchObject({ name: 'Bad_Name', kind: 'Secret', causes: [{ reason: 'FieldValueInvalid', field: 'metadata.name' }] });
  });

  it('validates namespace names as DNS-1123 labels', async () => {
    const res = await call(server, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a.b' } });
    expect(res.status).toBe(422);
    expect(message(res)).toContain('a lowercase RFC 1123 label must consist of');
  });

  it('rejects Secret keys outside [-._a-zA-Z0-9]', async () => {
    const res = await call(server, 'POST', SECRETS, secret('s-key', 'app', { 'a b': 'YQ==' }));
    expect(res.status).toBe(422);
    expect(res.body['details']).toMatchObject({ causes: [{ field: 'data[a b]', reason: 'FieldValueInvalid' }] });
  });

  it('rejects a Secret over 1 MiB', async () => {
    const big = Buffer.alloc(1024 * 1024 + 1, 1).toString('base64');
    const res = await call(server, 'POST', SECRETS, secret('s-big', 'app', { big }));
    expect(res.status).toBe(422);
    expect(res.body['message']).toBe('Secret "s-big" is invalid: data: Too long: must have at most 1048576 bytes');
  });

  it('requires tls.crt and tls.key in kubernetes.io/tls Secrets', async () => {
    const res = await call(server, 'POST', SECRETS, secret('s-tls', 'app', { 'tls.crt': 'YQ==' }, { type: 'kubernetes.io/tls' }));
    expect(res.status).toBe(422);
    expect(res.body['message']).toBe('Secret "s-tls" is invalid: data[tls.key]: Required value');
  });

  it('answers 400 for Secret data that is not valid base64, like the typed decoder', async () => {
    const res = await call(server, 'POST', SECRETS, secret('s-b64', 'app', { a: 'not base64!' }));
    expect(res.status).toBe(400);
    expect(res.body['message']).toBe('Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3');
  });

  it('rejects data changes to an immutable Secret', async () => {
    const created = await call(server, 'POST', SECRETS, { ...secret('s-imm', 'app'), immutable: true });
    const res = await call(server, 'PUT', `${SECRETS}/s-imm`, { ...created.body, data: { a: 'Yg==' } });
    expect(res.status).toBe(422);
    expect(res.body['message']).toBe('Secret "s-imm" is invalid: data: Forbidden: field is immutable when `immutable` is set');
  });

  it('lets metadata of an immutable Secret change', async () => {
    const created = await call(server, 'POST', SECRETS, { ...secret('s-imm2', 'app'), immutable: true });
    const res = await call(server, 'PUT', `${SECRETS}/s-imm2`, { ...created.body, metadata: { ...meta(created.body), labels: { a: 'b' } } });
    expect(res.status).toBe(200);
  });

  it('rejects a Lease renewTime with three fractional digits (toISOString)', async () => {
    const res = await call(server, 'POST', '/apis/coordination.k8s.io/v1/namespaces/app/leases', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'l' },
      spec: { holderIdentity: 'a', renewTime: '2026-01-02T03:04:05.123Z' },
    });
    expect(res.status).toBe(400);
    expect(res.body['message']).toBe(
      'Lease in version "v1" cannot be handled as a Lease: parsing time "2026-01-02T03:04:05.123Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".123Z" as ".000000"',
    );
  });

  it('accepts a Lease renewTime in RFC3339 micro', async () => {
    const res = await call(server, 'POST', '/apis/coordination.k8s.io/v1/namespaces/app/leases', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'l-ok' },
      spec: { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: '2026-01-02T03:04:05.123456Z', acquireTime: '2026-01-02T03:04:05.000000Z' },
    });
    expect(res.status).toBe(201);
  });

  it('validates events.k8s.io Events strictly and shares them with core v1 Events', async () => {
    const bad = await call(server, 'POST', '/apis/events.k8s.io/v1/namespaces/app/events', {
      apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'e-bad' }, eventTime: '2026-01-02T03:04:05.123Z',
    });
    expect(bad.status).toBe(400);
    const ok = await call(server, 'POST', '/apis/events.k8s.io/v1/namespaces/app/events', {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'e-ok' },
      eventTime: '2026-01-02T03:04:05.123456Z',
      type: 'Normal',
      reason: 'Unsealed',
      action: 'Unseal',
      note: 'done',
      reportingController: 'kseal.dev/controller',
      reportingInstance: 'kseal-0',
      regarding: { kind: 'SealedSecret', namespace: 'app', name: 'x' },
    });
    expect(ok.status).toBe(201);
    const core = await call(server, 'GET', '/api/v1/namespaces/app/events/e-ok');
    expect(core.body).toMatchObject({ apiVersion: 'v1', kind: 'Event', message: 'done', reportingComponent: 'kseal.dev/controller', involvedObject: { name: 'x' } });
    const missing = await call(server, 'POST', '/apis/events.k8s.io/v1/namespaces/app/events', {
      apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'e-missing' }, eventTime: '2026-01-02T03:04:05.123456Z', type: 'Normal',
    });
    expect(missing.status).toBe(422);
    expect(message(missing)).toContain('reportingController: Required value');
  });

  it('validates custom resources against the CRD schema', async () => {
    const res = await call(server, 'POST', '/apis/kseal.dev/v1alpha1/namespaces/app/sealedsecrets', {
      apiVersion: 'kseal.dev/v1alpha1', kind: 'SealedSecret', metadata: { name: 'bad' }, spec: { replicas: 'two' },
    });
    expect(res.status).toBe(422);
    expect(res.body['message']).toBe(
      'SealedSecret.kseal.dev "bad" is invalid: [spec.encryptedData: Required value, spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"]',
    );
  });

  it('prunes fields the CRD schema does not declare and warns about them', async () => {
    const res = await call(server, 'POST', '/apis/kseal.dev/v1alpha1/namespaces/app/sealedsecrets', {
      ...sealedSecret('pruned', 'app'), spec: { encryptedData: {}, unknown: 1 },
    });
    expect(res.status).toBe(201);
    expect(res.body['spec']).toEqual({ encryptedData: {} });
    expect(res.headers.get('warning')).toBe('299 - "unknown field \\"spec.unknown\\""');
  });
});

describe('update and optimistic concurrency', () => {
  it('answers 409 Conflict for a stale resourceVersion', async () => {
    const created = await call(server, 'POST', SECRETS, secret('s-conflict', 'app'));
    const first = await call(server, 'PUT', `${SECRETS}/s-conflict`, { ...created.body, data: { a: 'Yg==' } });
    expect(first.status).toBe(200);
    const stale = await call(server, 'PUT', `${SECRETS}/s-conflict`, { ...created.body, data: { a: 'Yw==' } });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({
      reason: 'Conflict',
      message: 'Operation cannot be fulfilled on secrets "s-conflict": the object has been modified; please apply your changes to the latest version and try again',
      details: { name: 's-conflict', kind: 'secrets' },
      code: 409,
    });
  });

  it('does not bump resourceVersion or emit an event for a no-op update', async () => {
    const created = await call(server, 'POST', SECRETS, secret('s-noop', 'app'));
    const before = server.store.resourceVersion();
    const res = await call(server, 'PUT', `${SECRETS}/s-noop`, created.body);
    expect(res.status).toBe(200);
    expect(meta(res.body)['resourceVersion']).toBe(meta(created.body)['resourceVersion']);
    expect(server.store.resourceVersion()).toBe(before);
  });

  it('allows unconditional updates of Secrets but requires a resourceVersion for custom resources', async () => {
    await call(server, 'POST', SECRETS, secret('s-uncond', 'app'));
    const s = await call(server, 'PUT', `${SECRETS}/s-uncond`, secret('s-uncond', 'app', { b: 'Yg==' }));
    expect(s.status).toBe(200);
    await call(server, 'POST', '/apis/kseal.dev/v1alpha1/namespaces/app/sealedsecrets', sealedSecret('cr-uncond', 'app'));
    const cr = await call(server, 'PUT', '/apis/kseal.dev/v1alpha1/namespaces/app/sealedsecrets/cr-uncond', sealedSecret('cr-uncond', 'app', { x: 'y' }));
    expect(cr.status).toBe(422);
    expect(cr.body['message']).toBe('sealedsecrets.kseal.dev "cr-uncond" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update');
  });

  it('answers 400 when the body name differs from the URL', async () => {
    const res = await call(server, 'PUT', `${SECRETS}/one`, secret('two', 'app'));
    expect(res.status).toBe(400);
    expect(res.body['message']).toBe('the name of the object (two) does not match the name on the URL (one)');
  });

  it('answers 404 for PUT of a missing Secret and creates a missing Lease (AllowCreateOnUpdate)', async () => {
    const s = await call(server, 'PUT', `${SECRETS}/s-missing`, secret('s-missing', 'app'));
    expect(s.status).toBe(404);
    const l = await call(server, 'PUT', '/apis/coordination.k8s.io/v1/namespaces/app/leases/l-put', {
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l-put' }, spec: { holderIdentity: 'x' },
    });
    expect(l.status).toBe(201);
  });

  it('keeps uid and creationTimestamp and ignores a generation sent by the client', async () => {
    const created = await call(server, 'POST', '/apis/kseal.dev/v1alpha1/namespaces/app/sealedsecrets', sealedSecret('cr-meta', 'app'));
    const m = meta(created.body);
    const sent: JsonObject = { ...m, creationTimestamp: '2000-01-01T00:00:00Z', generation: 42 };
    delete sent['uid'];
    const res = await call(server, 'PUT', '/apis/kseal.dev/v1alpha1/namespaces/app/sealedsecrets/cr-meta', { ...created.body, metadata: sent });
    expect(res.status).toBe(200);
    expect(meta(res.body)['uid']).toBe(m['uid']);
    expect(meta(res.body)['creationTimestamp']).toBe(m['creationTimestamp']);
    expect(meta(res.body)['generation']).toBe(1);
  });
});

describe('delete', () => {
  it('answers a Success Status with details for a Secret', async () => {
    const created = await call(server, 'POST', SECRETS, secret('s-del', 'app'));
    const res = await call(server, 'DELETE', `${SECRETS}/s-del`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name: 's-del', kind: 'secrets', uid: meta(created.body)['uid'] },
    });
    expect((await call(server, 'GET', `${SECRETS}/s-del`)).status).toBe(404);
  });

  it('answers the object when deleting a ServiceAccount (ReturnDeletedObject)', async () => {
    await call(server, 'POST', '/api/v1/namespaces/app/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa' } });
    const res = await call(server, 'DELETE', '/api/v1/namespaces/app/serviceaccounts/sa');
    expect(res.status).toBe(200);
    expect(res.body['kind']).toBe('ServiceAccount');
  });

  it('sets deletionTimestamp and waits while finalizers remain, then deletes when the last is removed', async () => {
    const created = await call(server, 'POST', SECRETS, { ...secret('s-fin', 'app'), metadata: { name: 's-fin', finalizers: ['kseal.dev/cleanup'] } });
    const del = await call(server, 'DELETE', `${SECRETS}/s-fin`);
    expect(del.status).toBe(200);
    expect(meta(del.body)['deletionTimestamp']).toBeTruthy();
    expect(meta(del.body)['deletionGracePeriodSeconds']).toBe(0);
    const still = await call(server, 'GET', `${SECRETS}/s-fin`);
    expect(still.status).toBe(200);
    const added = await call(server, 'PUT', `${SECRETS}/s-fin`, { ...still.body, metadata: { ...meta(still.body), finalizers: ['kseal.dev/cleanup', 'other.io/x'] } });
    expect(added.status).toBe(422);
    expect(message(added)).toContain('no new finalizers can be added if the object is being deleted');
    const removed = await call(server, 'PUT', `${SECRETS}/s-fin`, { ...still.body, metadata: { ...meta(still.body), finalizers: [] } });
    expect(removed.status).toBe(200);
    expect((await call(server, 'GET', `${SECRETS}/s-fin`)).status).toBe(404);
    void created;
  });

  it('answers 409 when a delete precondition does not match', async () => {
    await call(server, 'POST', SECRETS, secret('s-pre', 'app'));
    const res = await call(server, 'DELETE', `${SECRETS}/s-pre`, { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: 'nope' } });
    expect(res.status).toBe(409);
    expect(message(res)).toContain('the UID in the precondition (nope) does not match the UID in record');
  });

  it('refuses to delete the default namespace', async () => {
    const res = await call(server, 'DELETE', '/api/v1/namespaces/default');
    expect(res.status).toBe(403);
    expect(res.body['message']).toBe('namespaces "default" is forbidden: this namespace may not be deleted');
  });

  it('deletes a collection by label selector', async () => {
    for (const n of ['c1', 'c2', 'c3']) {
      await call(server, 'POST', SECRETS, { ...secret(n, 'app'), metadata: { name: n, labels: { batch: n === 'c3' ? 'no' : 'yes' } } });
    }
    const res = await call(server, 'DELETE', `${SECRETS}?labelSelector=batch%3Dyes`);
    expect(res.status).toBe(200);
    expect((res.body['items'] as unknown[]).length).toBe(2);
    expect((await call(server, 'GET', `${SECRETS}/c3`)).status).toBe(200);
    expect((await call(server, 'GET', `${SECRETS}/c1`)).status).toBe(404);
  });

  it('answers dry-run writes without persisting them', async () => {
    const res = await call(server, 'POST', `${SECRETS}?dryRun=All`, secret('s-dry', 'app'));
    expect(res.status).toBe(201);
    expect((await call(server, 'GET', `${SECRETS}/s-dry`)).status).toBe(404);
  });
});
