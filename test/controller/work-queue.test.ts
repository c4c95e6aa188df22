import { describe, expect, it } from 'vitest';
import { WorkQueue, type Requeue } from '../../controller/work-queue.js';
import { backoffDelay } from '../../net/backoff.js';
import { eventually } from './fixtures.js';

const fast = { initialMs: 1, maxMs: 20, jitter: 0 };

describe('WorkQueue', () => {
  it('processes a key added several times while waiting only once', async () => {
    const q = new WorkQueue({ concurrency: 1, backoff: fast });
    const seen: string[] = [];
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('a');
    q.start((k): Promise<Requeue> => {
      seen.push(k);
      return Promise.resolve<Requeue>('no');
    });
    await eventually('idle', () => q.idle);
    expect(seen).toEqual(['a', 'b']);
    await q.stop();
  });

  it('never processes one key on two workers at once and re-runs a key added while it was processed', async () => {
    const q = new WorkQueue({ concurrency: 4, backoff: fast });
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    let release: () => void = () => undefined;
    q.start(async () => {
      running++;
      runs++;
      maxRunning = Math.max(maxRunning, running);
      if (runs === 1) await new Promise<void>((r) => (release = r));
      running--;
      return 'no';
    });
    q.add('k');
    await eventually('first run', () => runs === 1);
    q.add('k');
    q.add('k');
    await new Promise((r) => setTimeout(r, 20));
    expect(runs).toBe(1);
    release();
    await eventually('second run', () => runs === 2 && q.idle);
    expect(maxRunning).toBe(1);
    await q.stop();
  });

  it('runs at most `concurrency` keys at a time', async () => {
    const q = new WorkQueue({ concurrency: 3, backoff: fast });
    let running = 0;
    let maxRunning = 0;
    q.start(async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return 'no';
    });
    for (let i = 0; i < 20; i++) q.add(`k${i}`);
    await eventually('idle', () => q.idle);
    expect(maxRunning).toBe(3);
    await q.stop();
  });

  it('retries a failing key with growing per-key delays and forgets them after a success', async () => {
    const q = new WorkQueue({ concurrency: 1, backoff: { initialMs: 5, maxMs: 1000, jitter: 0 } });
    const times: number[] = [];
    q.start((): Promise<Requeue> => {
      times.push(Date.now());
      return Promise.resolve<Requeue>(times.length < 4 ? 'backoff' : 'no');
    });
    q.add('k');
    await eventually('four runs', () => times.length === 4 && q.idle);
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    expect(gaps[0]).toBeGreaterThanOrEqual(4);
    expect(gaps[2]).toBeGreaterThanOrEqual(19);
    expect(q.retries('k')).toBe(0);
    await q.stop();
  });

  it('treats a handler that throws as a failure to retry and reports the error', async () => {
    const errors: string[] = [];
    const q = new WorkQueue({ concurrency: 1, backoff: fast, onError: (k) => errors.push(k) });
    let n = 0;
    q.start((): Promise<Requeue> => {
      if (++n === 1) return Promise.reject(new Error('boom'));
      return Promise.resolve<Requeue>('no');
    });
    q.add('k');
    await eventually('retried', () => n === 2 && q.idle);
    expect(errors).toEqual(['k']);
    await q.stop();
  });

  it('requeues after a requested delay', async () => {
    const q = new WorkQueue({ concurrency: 1, backoff: fast });
    const times: number[] = [];
    q.start((): Promise<Requeue> => {
      times.push(Date.now());
      return Promise.resolve<Requeue>(times.length === 1 ? { afterMs: 30 } : 'no');
    });
    q.add('k');
    await eventually('second run', () => times.length === 2);
    expect((times[1] as number) - (times[0] as number)).toBeGreaterThanOrEqual(25);
    await q.stop();
  });

  it('stop waits for keys in flight, drops waiting ones and can start again', async () => {
    const q = new WorkQueue({ concurrency: 1, backoff: fast });
    const seen: string[] = [];
    let release: () => void = () => undefined;
    q.start(async (k) => {
      seen.push(k);
      if (k === 'a') await new Promise<void>((r) => (release = r));
      return 'no';
    });
    q.add('a');
    q.add('b');
    await eventually('a started', () => seen.length === 1);
    let stopped = false;
    const stopping = q.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(seen).toEqual(['a']);
    q.add('c');
    q.start((k): Promise<Requeue> => {
      seen.push(k);
      return Promise.resolve<Requeue>('no');
    });
    await eventually('c processed', () => seen.includes('c'));
    expect(seen).not.toContain('b');
    await q.stop();
  });

  it('reports its depth', async () => {
    const depths: number[] = [];
    const q = new WorkQueue({ concurrency: 1, backoff: fast, onDepth: (d) => depths.push(d) });
    q.add('a');
    q.add('b');
    expect(depths.at(-1)).toBe(2);
    q.start(() => Promise.resolve<Requeue>('no'));
    await eventually('idle', () => q.idle);
    expect(depths.at(-1)).toBe(0);
    await q.stop();
  });
});

describe('backoffDelay', () => {
  it('grows exponentially from the initial delay up to the cap', () => {
    const o = { initialMs: 5, maxMs: 1000, jitter: 0 };
    expect([1, 2, 3, 4, 10, 50].map((n) => backoffDelay(n, o))).toEqual([5, 10, 20, 40, 1000, 1000]);
  });

  it('adds at most the jitter fraction and never exceeds the cap', () => {
    const o = { initialMs: 100, maxMs: 150, jitter: 0.5, random: () => 0.999 };
    expect(backoffDelay(1, o)).toBe(150);
    expect(backoffDelay(1, { ...o, maxMs: 1000 })).toBeLessThanOrEqual(150);
    expect(backoffDelay(1, { ...o, maxMs: 1000 })).toBeGreaterThan(100);
  });
});

describe('WorkQueue.drain', () => {
  it('drops the waiting keys it selects, keeps the others and waits for the selected key in flight', async () => {
    const queue = new WorkQueue({ concurrency: 1, backoff: { initialMs: 5, maxMs: 50 } });
    const done: string[] = [];
    let release: () => void = () => undefined;
    const first = new Promise<void>((r) => (release = r));
    queue.start(async (key) => {
      if (key === 'a/1') await first;
      done.push(key);
      return 'no';
    });
    for (const key of ['a/1', 'a/2', 'b/1']) queue.add(key);
    let drained = false;
    const drain = queue.drain((key) => key.startsWith('a/')).then(() => (drained = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(drained).toBe(false);
    release();
    await drain;
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toEqual(['a/1', 'b/1']);
    await queue.stop();
  });
});
