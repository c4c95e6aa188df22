import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { Unsealer, UnsealOutcome } from '../../controller/contracts.js';
import { ClientNodeApi, type KubeApi, type SecretJson } from '../../controller/kube-client.js';
import type { KubeApiServer } from '../../kube-api/server.js';
import type { SealedSecret } from '../../src/model/sealed-secret.js';
import { containsCanary, newCanary } from '../helpers/canary.js';
import { applySealed, readyOf, secretOf, startCluster, startController, valuesOf, type TestController } from './harness.js';
import { eventually, sealedObject } from './fixtures.js';

/** An unsealer that opens nothing: it answers `plain-<key>` for every value and counts what it was asked. */
function countingUnsealer() {
  const state = { calls: 0 };
  const unsealer: Unsealer = {
    unseal(sealed: SealedSecret): Promise<UnsealOutcome> {
      state.calls++;
      const keys = Object.keys(sealed.spec.encryptedData).sort();
      return Promise.resolve({ data: new Map(keys.map((k) => [k, Buffer.from(`plain-${k}`)])), keyIds: new Map(keys.map((k) => [k, 'test-key'])), privateOps: keys.length, recipient: 'spec.encryptedData' });
    },
  };
  return { unsealer, state };
}

/** The API of `server` with every write's body recorded, and Secret creates held until `release()`. */
function recordingApi(server: KubeApiServer, holdCreates: boolean) {
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig);
  const real = new ClientNodeApi(kc);
  const bodies: Array<{ what: string; body: string }> = [];
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let heldCreates = 0;
  const api = new Proxy(real, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const fn = (value as (...a: unknown[]) => unknown).bind(target);
      if (prop === 'createNamespacedSecret') {
        return async (namespace: string, body: SecretJson) => {
          bodies.push({ what: 'secret', body: JSON.stringify(body) });
          if (holdCreates) {
            heldCreates++;
            await released;
          }
          return fn(namespace, body);
        };
      }
      if (prop === 'patchNamespacedCustomObjectStatus') {
        return (namespace: string, name: string, status: Record<string, unknown>, group?: string) => {
          bodies.push({ what: 'status', body: JSON.stringify({ status }) });
          return fn(namespace, name, status, group);
        };
      }
      if (prop === 'createNamespacedEvent') {
        return (namespace: string, body: unknown) => {
          bodies.push({ what: 'event', body: JSON.stringify(body) });
          return fn(namespace, body);
        };
      }
      return fn;
    },
  }) as KubeApi;
  return { api, bodies, release: () => release(), heldCreates: () => heldCreates };
}

let server: KubeApiServer | undefined;
let controller: TestController | undefined;
afterEach(async () => {
  await controller?.stop();
  controller = undefined;
  await server?.close();
  server = undefined;
});

describe('cold sync pipeline', () => {
  it('keeps unsealing the next objects while the Secret writes of earlier ones have no answer yet', async () => {
    server = await startCluster({ withKey: true });
    for (let i = 0; i < 10; i++) applySealed(server, sealedObject({ name: `s${i}`, namespace: 'app', values: { a: `v${i}` } }));
    const { unsealer, state } = countingUnsealer();
    const api = recordingApi(server, true);
    controller = startController(server, { api: api.api, unsealer, concurrency: 4 });
    // Four reconciles are out at once: each unsealed and then waits on its Secret create.
    await eventually('four Secret creates held', () => api.heldCreates() === 4);
    expect(state.calls).toBe(4);
    expect(server.store.list('v1', 'Secret', 'app')).toHaveLength(0);
    api.release();
    await eventually('all Ready', () => Array.from({ length: 10 }, (_, i) => readyOf(server!, 'app', `s${i}`)?.status).every((s) => s === 'True'));
    expect(state.calls).toBe(10);
    expect(valuesOf(secretOf(server, 'app', 's3'))).toEqual({ a: 'plain-a' });
  });

  it('sends only what the controller owns: no server fields in a Secret create, only status in a status patch, no value in an Event', async () => {
    server = await startCluster({ withKey: true });
    const canary = newCanary();
    const sealed = sealedObject({ name: 'db', namespace: 'app', values: { password: canary } });
    applySealed(server, {
      ...sealed,
      metadata: { ...sealed.metadata, annotations: { ...sealed.metadata.annotations, 'kubectl.kubernetes.io/last-applied-configuration': '{"x":1}' } },
    });
    const api = recordingApi(server, false);
    controller = startController(server, { api: api.api });
    await eventually('Ready', () => readyOf(server!, 'app', 'db')?.status === 'True');
    await eventually('Event sent', () => api.bodies.some((b) => b.what === 'event'));
    const secret = JSON.parse(api.bodies.find((b) => b.what === 'secret')!.body) as SecretJson & { status?: unknown; stringData?: unknown };
    expect(Object.keys(secret).sort()).toEqual(['apiVersion', 'data', 'kind', 'metadata', 'type']);
    expect(Object.keys(secret.metadata).sort()).toEqual(['annotations', 'labels', 'name', 'namespace', 'ownerReferences']);
    expect(Object.keys(secret.metadata.annotations ?? {}).some((k) => k.startsWith('kubectl.kubernetes.io/'))).toBe(false);
    for (const status of api.bodies.filter((b) => b.what === 'status')) {
      const body = JSON.parse(status.body) as { status: Record<string, unknown> };
      expect(Object.keys(body)).toEqual(['status']);
      for (const k of Object.keys(body.status)) expect(['observedGeneration', 'conditions', 'secretUid']).toContain(k);
    }
    for (const { what, body } of api.bodies.filter((b) => b.what !== 'secret')) expect({ what, leaked: containsCanary(canary, body) }).toEqual({ what, leaked: false });
  });
});
