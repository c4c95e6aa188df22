import { afterEach, describe, expect, it, vi } from 'vitest';
import { isKsealError } from '../../src/errors.js';
import { readSealedSecret } from '../../src/model/sealed-secret.js';
import type { SealingKey } from '../../controller/contracts.js';
import { UnsealPool } from '../../controller/unseal-pool.js';
import { unwrapAll } from '../../controller/unseal-worker.js';
import { testKey } from '../helpers/keys.js';
import { newCanary, errorText, containsCanary } from '../helpers/canary.js';
import { sealedObject, sealingKey } from './fixtures.js';

function keysView(keys: SealingKey[]) {
  let list: readonly SealingKey[] = keys;
  return {
    list: () => list,
    newest: () => list[0],
    set(next: SealingKey[]) {
      list = next;
    },
  };
}

const sealed = (o: Parameters<typeof sealedObject>[0]) => readSealedSecret(sealedObject(o), {});

describe('UnsealPool', () => {
  let pool: UnsealPool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  it('unseals every value on a worker thread with one private operation per value when the hint names the key', async () => {
    const ops: number[] = [];
    pool = new UnsealPool({ keys: keysView([sealingKey('rsa-4096'), sealingKey('rsa-2048')]), workers: 2, onPrivateOps: (n) => ops.push(n) });
    const s = sealed({ name: 'db', namespace: 'app', values: { user: 'admin', password: 'hunter2', host: 'db.local' } });
    const out = await pool.unseal(s);
    expect(Object.fromEntries([...out.data].map(([k, v]) => [k, v.toString()]))).toEqual({ host: 'db.local', password: 'hunter2', user: 'admin' });
    expect(out.privateOps).toBe(3);
    expect(ops).toEqual([3]);
    expect(new Set(out.keyIds.values())).toEqual(new Set([testKey('rsa-2048').certificate.keyId]));
  });

  it('lets idle worker threads exit and starts them again for the next unseal', async () => {
    pool = new UnsealPool({ keys: keysView([sealingKey('rsa-2048')]), workers: 2, idleExitMs: 50 });
    const s = sealed({ name: 'db', namespace: 'app', values: { user: 'admin' } });
    await pool.unseal(s);
    expect(pool.runningThreads).toBe(2);
    await expect.poll(() => pool?.runningThreads, { timeout: 10_000 }).toBe(0);
    const again = await pool.unseal(s);
    expect(again.data.get('user')?.toString()).toBe('admin');
    expect(pool.runningThreads).toBe(2);
  });

  it('tries the key that opened the previous value first when there is no hint', async () => {
    pool = new UnsealPool({ keys: keysView([sealingKey('rsa-4096'), sealingKey('rsa-2048')]), workers: 1 });
    const s = sealed({ name: 'db', namespace: 'app', values: { a: '1', b: '2', c: '3', d: '4' }, noHint: true });
    const out = await pool.unseal(s);
    // First value: the 4096 key fails, the 2048 key opens it; the other three take one operation each.
    expect(out.privateOps).toBe(5);
  });

  it('fails the whole object naming the first key no sealing key opens, without the value', async () => {
    pool = new UnsealPool({ keys: keysView([sealingKey('rsa-2048')]), workers: 1 });
    const canary = newCanary();
    const good = sealedObject({ name: 'db', namespace: 'app', values: { a: 'fine' } });
    const bad = sealedObject({ name: 'db', namespace: 'app', values: { b: canary }, cert: testKey('rsa-4096').certificate });
    const mixed = readSealedSecret({ ...good, spec: { ...good.spec, encryptedData: { ...good.spec.encryptedData, ...bad.spec.encryptedData } } }, {});
    const error = await pool.unseal(mixed).catch((e: unknown) => e);
    expect(isKsealError(error, 'DECRYPT_FAILED')).toBe(true);
    expect((error as { key?: string }).key).toBe('b');
    expect(containsCanary(canary, errorText(error))).toBe(false);
  });

  it('binds values to the scope: a strict value copied to another name does not open', async () => {
    pool = new UnsealPool({ keys: keysView([sealingKey('rsa-2048')]), workers: 1 });
    const original = sealedObject({ name: 'db', namespace: 'app', values: { a: 'x' } });
    const moved = readSealedSecret({ ...original, metadata: { ...original.metadata, name: 'other' } }, {});
    await expect(pool.unseal(moved)).rejects.toMatchObject({ code: 'DECRYPT_FAILED', key: 'a' });
  });

  it('reports a malformed value and a tampered payload with their key names', async () => {
    pool = new UnsealPool({ keys: keysView([sealingKey('rsa-2048')]), workers: 1 });
    const o = sealedObject({ name: 'db', namespace: 'app', values: { a: 'x' } });
    const short = readSealedSecret({ ...o, spec: { ...o.spec, encryptedData: { a: 'AAE=' } } }, {});
    await expect(pool.unseal(short)).rejects.toMatchObject({ code: 'MALFORMED_CIPHERTEXT', key: 'a' });
    const bytes = Buffer.from(o.spec.encryptedData.a as string, 'base64');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
    const tampered = readSealedSecret({ ...o, spec: { ...o.spec, encryptedData: { a: bytes.toString('base64') } } }, {});
    await expect(pool.unseal(tampered)).rejects.toMatchObject({ code: 'AUTH_FAILED', key: 'a' });
  });

  it('refuses with NO_PRIVATE_KEYS when there is no key', async () => {
    pool = new UnsealPool({ keys: keysView([]), workers: 1 });
    await expect(pool.unseal(sealed({ name: 'db', namespace: 'app', values: { a: 'x' } }))).rejects.toMatchObject({ code: 'NO_PRIVATE_KEYS' });
  });

  it('sends workers the new keys when the key set changes', async () => {
    const view = keysView([sealingKey('rsa-2048')]);
    pool = new UnsealPool({ keys: view, workers: 1 });
    const s4096 = sealed({ name: 'db', namespace: 'app', values: { a: 'x' }, cert: testKey('rsa-4096').certificate });
    await expect(pool.unseal(s4096)).rejects.toMatchObject({ code: 'DECRYPT_FAILED' });
    view.set([sealingKey('rsa-4096'), sealingKey('rsa-2048')]);
    expect((await pool.unseal(s4096)).data.get('a')?.toString()).toBe('x');
  });

  it('keeps unsealing in parallel across workers', async () => {
    pool = new UnsealPool({ keys: keysView([sealingKey('rsa-2048')]), workers: 2 });
    const objects = Array.from({ length: 20 }, (_, i) => sealed({ name: `s${i}`, namespace: 'app', values: { v: `value-${i}` } }));
    const results = await Promise.all(objects.map((o) => pool!.unseal(o)));
    expect(results.map((r) => r.data.get('v')?.toString())).toEqual(objects.map((_, i) => `value-${i}`));
  });

  it('replaces a worker that dies and keeps serving', async () => {
    pool = new UnsealPool({ keys: keysView([sealingKey('rsa-2048')]), workers: 1 });
    const s = sealed({ name: 'db', namespace: 'app', values: { a: 'x' } });
    await pool.unseal(s);
    const slot = (pool as unknown as { threads: { slots: Array<{ worker: { terminate(): Promise<number> } }> } }).threads.slots[0]!;
    await slot.worker.terminate();
    await new Promise((r) => setTimeout(r, 50));
    expect((await pool.unseal(s)).data.get('a')?.toString()).toBe('x');
  });
});

describe('unwrapAll (the worker body)', () => {
  it('stops at the first value no key opens and counts every attempt', () => {
    const k = sealingKey('rsa-2048');
    const o = sealedObject({ name: 'n', namespace: 'ns', values: { a: '1', b: '2' }, cert: testKey('rsa-4096').certificate });
    const wrapped = Object.values(o.spec.encryptedData).map((v) => Buffer.from(v, 'base64').subarray(2, 2 + 512));
    const reply = unwrapAll(new Map([[k.keyId, k.privateKey]]), Buffer.from('ns/n'), wrapped, [k.keyId, 'unknown-key'], 7);
    expect(reply).toEqual({ id: 7, ok: false, failedIndex: 0, ops: 1 });
  });
});

describe('UnsealPool scheduling and cancellation', () => {
  let pool: UnsealPool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });
  const many = (name: string, n: number) => sealed({ name, namespace: 'app', values: Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}`])) });

  it('runs a reconcile before every HTTP job queued ahead of it', async () => {
    pool = new UnsealPool({ keys: keysView([sealingKey('rsa-2048')]), workers: 1, httpChunkValues: 8 });
    const done: string[] = [];
    const http = Array.from({ length: 5 }, (_, i) => pool!.unseal(many(`h${i}`, 24), { priority: 'http' }).then(() => done.push(`http-${i}`)));
    const reconcile = pool.unseal(many('r', 2)).then(() => done.push('reconcile'));
    await Promise.all([...http, reconcile]);
    // The first HTTP job's first chunk was already running; the reconcile went next.
    expect(done[0]).toBe('reconcile');
    expect(done).toHaveLength(6);
  });

  it('sends a busy worker one more reconcile ahead, so it can start it without waiting for the main thread', async () => {
    pool = new UnsealPool({ keys: keysView([sealingKey('rsa-2048')]), workers: 1 });
    const jobs = ['a', 'b', 'c'].map((name) => pool!.unseal(many(name, 3)));
    expect(pool.stats()).toMatchObject({ running: 1, sentAhead: 1, queuedReconcile: 1 });
    const results = await Promise.all(jobs);
    expect(results.map((r) => r.data.get('k2')?.toString())).toEqual(['v2', 'v2', 'v2']);
    expect(pool.privateOps).toBe(9);
    expect(pool.stats()).toMatchObject({ running: 0, sentAhead: 0, queuedReconcile: 0 });
  });

  it('never sends HTTP work ahead to a busy worker: it waits for the next idle one', async () => {
    pool = new UnsealPool({ keys: keysView([sealingKey('rsa-2048')]), workers: 1 });
    const reconcile = pool.unseal(many('r', 3));
    const verify = pool.unseal(many('h', 3), { priority: 'http' });
    expect(pool.stats()).toMatchObject({ running: 1, sentAhead: 0, queuedHttp: 1 });
    await Promise.all([reconcile, verify]);
  });

  it('stops a reconcile sent ahead whose signal fires before it starts, and finishes the one before it', async () => {
    pool = new UnsealPool({ keys: keysView([sealingKey('rsa-2048')]), workers: 1 });
    const first = pool.unseal(many('a', 20));
    const abort = new AbortController();
    const second = pool.unseal(many('b', 20), { signal: abort.signal }).catch((e: unknown) => e);
    expect(pool.stats().sentAhead).toBe(1);
    abort.abort();
    expect((await second as Error).name).toBe('AbortError');
    expect((await first).privateOps).toBe(20);
    expect(pool.privateOps).toBe(20);
    expect(pool.stats()).toMatchObject({ sentAhead: 0, aborted: 1 });
  });

  it('fails both the running job and the one sent ahead when their worker dies, and keeps serving', async () => {
    pool = new UnsealPool({ keys: keysView([sealingKey('rsa-2048')]), workers: 1 });
    const jobs = [pool.unseal(many('a', 30)).catch((e: unknown) => e), pool.unseal(many('b', 30)).catch((e: unknown) => e)];
    expect(pool.stats().sentAhead).toBe(1);
    const slot = (pool as unknown as { threads: { slots: Array<{ worker: { terminate(): Promise<number> } }> } }).threads.slots[0]!;
    await slot.worker.terminate();
    for (const outcome of await Promise.all(jobs)) expect((outcome as Error).message).toMatch(/unseal worker 0/);
    expect((await pool.unseal(many('c', 2))).data.get('k1')?.toString()).toBe('v1');
  });

  it('drops a queued HTTP job whose signal fires, spending no private operation on it', async () => {
    pool = new UnsealPool({ keys: keysView([sealingKey('rsa-2048')]), workers: 1 });
    const first = pool.unseal(many('a', 20));
    const abort = new AbortController();
    const second = pool.unseal(many('b', 20), { priority: 'http', signal: abort.signal }).catch((e: unknown) => e);
    expect(pool.stats().queuedHttp).toBe(1);
    abort.abort();
    expect((await second as Error).name).toBe('AbortError');
    await first;
    expect(pool.privateOps).toBe(20);
    expect(pool.stats()).toMatchObject({ queuedHttp: 0, aborted: 1 });
  });

  it('stops a running HTTP job at the next chunk once its signal fires', async () => {
    const abort = new AbortController();
    pool = new UnsealPool({ keys: keysView([sealingKey('rsa-2048')]), workers: 1, httpChunkValues: 8, onPrivateOps: () => abort.abort() });
    const error = await pool.unseal(many('big', 64), { priority: 'http', signal: abort.signal }).catch((e: unknown) => e);
    expect((error as Error).name).toBe('AbortError');
    expect(pool.privateOps).toBe(8);
  });
});

describe('UnsealPool share of HTTP work while reconciles are pending', () => {
  let pool: UnsealPool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });
  const many = (name: string, n: number) => sealed({ name, namespace: 'app', values: Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}`])) });
  // A clock the test moves: one worker at share 0.1 and the initial 4 ms per operation earns 0.025
  // operations per ms, up to one second's worth (25 operations).
  const options = (backlog: () => boolean, now: () => number) => ({ keys: keysView([sealingKey('rsa-2048')]), workers: 1, httpChunkValues: 4, httpShare: 0.1, reconcileBacklog: backlog, now });

  it('holds HTTP work past its share while the controller has reconciles waiting, and finishes it once they are done', async () => {
    let backlog = true;
    pool = new UnsealPool(options(() => backlog, () => 0));
    let settled = false;
    const verify = pool.unseal(many('big', 64), { priority: 'http' }).then((out) => {
      settled = true;
      return out;
    });
    await vi.waitFor(() => expect(pool!.stats().httpHeld).toBe(true), { timeout: 20_000 });
    expect(pool.privateOps).toBe(25);
    expect(settled).toBe(false);
    backlog = false;
    expect((await verify).privateOps).toBe(64);
    expect(pool.stats().httpHeld).toBe(false);
  });

  it('refills the share with time, so HTTP work finishes even while reconciles keep waiting', async () => {
    let t = 0;
    pool = new UnsealPool(options(() => true, () => t));
    const verify = pool.unseal(many('big', 64), { priority: 'http' });
    // 25 operations per second of the clock: held after 25, after 50, then the last 14 values run.
    for (const ops of [25, 50]) {
      await vi.waitFor(() => expect({ held: pool!.stats().httpHeld, ops: pool!.privateOps }).toEqual({ held: true, ops }), { timeout: 20_000 });
      t += 1_000;
    }
    expect((await verify).privateOps).toBe(64);
  });

  it('does not bound HTTP work when no reconcile is pending', async () => {
    pool = new UnsealPool(options(() => false, () => 0));
    expect((await pool.unseal(many('big', 64), { priority: 'http' })).privateOps).toBe(64);
    expect(pool.stats().httpHeld).toBe(false);
  });
});

describe('unwrapAll cancellation', () => {
  it('stops between values once cancelled and counts only the operations done', () => {
    const k = sealingKey('rsa-2048');
    const o = sealedObject({ name: 'n', namespace: 'ns', values: { a: '1', b: '2', c: '3', d: '4', e: '5' } });
    const wrapped = Object.values(o.spec.encryptedData).map((v) => Buffer.from(v, 'base64').subarray(2, 2 + 256));
    let asked = 0;
    const reply = unwrapAll(new Map([[k.keyId, k.privateKey]]), Buffer.from('ns/n'), wrapped, [k.keyId], 3, () => ++asked > 2);
    expect(reply).toEqual({ id: 3, ok: false, failedIndex: 2, ops: 2, aborted: true });
  });
});
