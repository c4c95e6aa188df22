import { describe, expect, it } from 'vitest';
import type { CoreV1Event } from '@kubernetes/client-node';
import { EventRecorder, signature } from '../../controller/events.js';
import { silentLogger } from '../../controller/logger.js';
import { ioTick } from './fixtures.js';
import type { KubeObject } from '../../controller/kube-client.js';

function fakeApi(fail = false) {
  const created: CoreV1Event[] = [];
  const patches: Array<{ name: string; patch: Record<string, unknown> }> = [];
  return {
    created,
    patches,
    api: {
      async createNamespacedEvent(_ns: string, body: CoreV1Event) {
        await ioTick();
        if (fail) throw new Error('503');
        created.push(body);
        return body;
      },
      async patchNamespacedEvent(_ns: string, name: string, patch: Record<string, unknown>) {
        await ioTick();
        patches.push({ name, patch });
      },
    },
  };
}

const obj: KubeObject = { apiVersion: 'kseal.dev/v1alpha1', kind: 'SealedSecret', metadata: { name: 'db', namespace: 'app', uid: 'u1', resourceVersion: '4' } };

describe('EventRecorder', () => {
  it('creates a core v1 Event about the SealedSecret', async () => {
    const f = fakeApi();
    const r = new EventRecorder({ api: f.api, logger: silentLogger, instance: 'pod-1' });
    r.record(obj, 'Warning', 'DecryptFailed', 'key "a": no key could decrypt it');
    await r.flush();
    expect(f.created).toHaveLength(1);
    expect(f.created[0]).toMatchObject({
      type: 'Warning',
      reason: 'DecryptFailed',
      count: 1,
      involvedObject: { kind: 'SealedSecret', name: 'db', namespace: 'app', uid: 'u1' },
      source: { component: 'kseal-controller' },
      reportingInstance: 'pod-1',
    });
    expect(f.created[0]!.metadata?.name).toMatch(/^db\./);
  });

  it('aggregates a storm of repeats into one Event with a count, patched at most once per interval', async () => {
    const f = fakeApi();
    let now = 1_000_000;
    const r = new EventRecorder({ api: f.api, logger: silentLogger, instance: 'i', minPatchIntervalMs: 1000, now: () => new Date(now) });
    for (let i = 0; i < 100; i++) {
      r.record(obj, 'Warning', 'DecryptFailed', 'same');
      now += 10;
    }
    await r.flush();
    expect(f.created).toHaveLength(1);
    expect(f.patches).toHaveLength(0);
    now += 1000;
    r.record(obj, 'Warning', 'DecryptFailed', 'same');
    await r.flush();
    expect(f.patches).toEqual([{ name: f.created[0]!.metadata.name!, patch: { count: 101, lastTimestamp: expect.any(String) } }]);
  });

  it('gives every Event its own name, also many Events in the same millisecond', async () => {
    const f = fakeApi();
    const r = new EventRecorder({ api: f.api, logger: silentLogger, instance: 'i', now: () => new Date(5_000) });
    for (let i = 0; i < 300; i++) r.record({ ...obj, metadata: { ...obj.metadata, uid: `u${i}` } }, 'Normal', 'Unsealed', 'x');
    await r.flush();
    const names = f.created.map((e) => e.metadata?.name);
    expect(new Set(names).size).toBe(300);
    for (const name of names) expect(name).toMatch(/^db\.1388[0-9a-f]{8}$/);
  });

  it('tells apart messages that differ in one character, and in type, as repeats only when all three match', () => {
    const base = signature('Warning', 'DecryptFailed', 'key "a": no key could decrypt it');
    expect(signature('Warning', 'DecryptFailed', 'key "a": no key could decrypt it')).toBe(base);
    expect(signature('Warning', 'DecryptFailed', 'key "b": no key could decrypt it')).not.toBe(base);
    expect(signature('Normal', 'DecryptFailed', 'key "a": no key could decrypt it')).not.toBe(base);
    expect(signature('Warning', 'DecryptFaile', 'dkey "a": no key could decrypt it')).not.toBe(base);
    const many = new Set(Array.from({ length: 10_000 }, (_, i) => signature('Normal', 'Unsealed', `Secret s${i} created with 5 unsealed values`)));
    expect(many.size).toBe(10_000);
  });

  it('records a different reason or message as its own Event', async () => {
    const f = fakeApi();
    const r = new EventRecorder({ api: f.api, logger: silentLogger, instance: 'i' });
    r.record(obj, 'Warning', 'DecryptFailed', 'a');
    r.record(obj, 'Warning', 'SecretConflict', 'a');
    r.record(obj, 'Warning', 'DecryptFailed', 'b');
    await r.flush();
    expect(f.created.map((e) => e.reason)).toEqual(['DecryptFailed', 'SecretConflict', 'DecryptFailed']);
  });

  it('starts a new Event after the aggregation window', async () => {
    const f = fakeApi();
    let now = 0;
    const r = new EventRecorder({ api: f.api, logger: silentLogger, instance: 'i', windowMs: 1000, now: () => new Date(now) });
    r.record(obj, 'Normal', 'Unsealed', 'x');
    now = 2000;
    r.record(obj, 'Normal', 'Unsealed', 'x');
    await r.flush();
    expect(f.created).toHaveLength(2);
  });

  it('never throws when the API refuses Events', async () => {
    const f = fakeApi(true);
    const r = new EventRecorder({ api: f.api, logger: silentLogger, instance: 'i' });
    expect(() => r.record(obj, 'Normal', 'Unsealed', 'x')).not.toThrow();
    await r.flush();
  });
});
