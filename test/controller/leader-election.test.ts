import { afterEach, describe, expect, it } from 'vitest';
import type { V1Lease } from '@kubernetes/client-node';
import { LeaderElector } from '../../controller/leader-election.js';
import { KubeError } from '../../controller/kube-client.js';
import { silentLogger } from '../../controller/logger.js';
import { eventually, ioTick } from './fixtures.js';

/** A Lease store with resourceVersion checks, as the API server has. */
function leaseStore() {
  let lease: V1Lease | undefined;
  let rv = 0;
  const writes: V1Lease[] = [];
  let down = false;
  const copy = (l: V1Lease): V1Lease => ({ ...l, metadata: { ...l.metadata }, spec: { ...l.spec } });
  /** While set, the next replace waits here until `open()` (a renewal in flight). */
  let gate: { reached: boolean; open: () => void; opened: Promise<void> } | undefined;
  return {
    writes,
    /** Holds the next replace until the returned `open()`; `reached()` tells when one is waiting. */
    holdNextReplace() {
      let open = (): void => undefined;
      const opened = new Promise<void>((r) => (open = r));
      const g = { reached: false, open, opened };
      gate = g;
      return { reached: () => g.reached, open };
    },
    get: () => lease,
    setDown: (d: boolean) => (down = d),
    api: {
      async readNamespacedLease() {
        await ioTick();
        if (down) throw new KubeError('get lease: 503', 503, 'ServiceUnavailable');
        return lease === undefined ? undefined : copy(lease);
      },
      async createNamespacedLease(_ns: string, body: V1Lease) {
        await ioTick();
        if (down) throw new KubeError('create lease: 503', 503, 'ServiceUnavailable');
        if (lease !== undefined) throw new KubeError('exists', 409, 'AlreadyExists');
        lease = { ...copy(body), metadata: { ...body.metadata, resourceVersion: String(++rv) } };
        writes.push(copy(lease));
        return copy(lease);
      },
      async replaceNamespacedLease(_ns: string, _name: string, body: V1Lease) {
        await ioTick();
        const g = gate;
        if (g !== undefined) {
          gate = undefined;
          g.reached = true;
          await g.opened;
        }
        if (down) throw new KubeError('update lease: 503', 503, 'ServiceUnavailable');
        if (lease === undefined || body.metadata?.resourceVersion !== lease.metadata?.resourceVersion) throw new KubeError('conflict', 409, 'Conflict');
        lease = { ...copy(body), metadata: { ...body.metadata, resourceVersion: String(++rv) } };
        writes.push(copy(lease));
        return copy(lease);
      },
    },
  };
}

const timing = { leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 100 };

describe('LeaderElector', () => {
  const electors: LeaderElector[] = [];
  afterEach(async () => {
    await Promise.all(electors.map((e) => e.stop(false)));
    electors.length = 0;
  });

  function elector(store: ReturnType<typeof leaseStore>, identity: string, log: string[]) {
    const e = new LeaderElector({
      api: store.api,
      namespace: 'kseal-system',
      name: 'kseal-controller',
      identity,
      ...timing,
      logger: silentLogger,
      onStartedLeading: () => log.push(`${identity}:start`),
      onStoppedLeading: () => void log.push(`${identity}:stop`),
    });
    electors.push(e);
    return e;
  }

  it('creates the Lease and leads, writing MicroTime times', async () => {
    const store = leaseStore();
    const log: string[] = [];
    const a = elector(store, 'a', log);
    a.start();
    await eventually('a leads', () => a.isLeader());
    expect(store.get()?.spec?.holderIdentity).toBe('a');
    expect(store.get()?.spec?.leaseDurationSeconds).toBe(1);
    expect(store.get()?.spec?.renewTime?.toISOString()).toMatch(/\.\d{6}Z$/);
    expect(log).toEqual(['a:start']);
  });

  it('lets exactly one of several candidates lead', async () => {
    const store = leaseStore();
    const log: string[] = [];
    const all = ['a', 'b', 'c'].map((id) => elector(store, id, log));
    all.forEach((e) => e.start());
    await eventually('someone leads', () => all.some((e) => e.isLeader()));
    await new Promise((r) => setTimeout(r, 400));
    expect(all.filter((e) => e.isLeader())).toHaveLength(1);
  });

  it('hands over at once when the leader releases the lease on stop', async () => {
    const store = leaseStore();
    const log: string[] = [];
    const a = elector(store, 'a', log);
    a.start();
    await eventually('a leads', () => a.isLeader());
    const b = elector(store, 'b', log);
    b.start();
    await new Promise((r) => setTimeout(r, 200));
    expect(b.isLeader()).toBe(false);
    const released = Date.now();
    await a.stop(true);
    expect(store.get()?.spec?.holderIdentity).toBe('');
    await eventually('b leads', () => b.isLeader());
    expect(Date.now() - released).toBeLessThan(timing.leaseDurationMs);
    expect(store.get()?.spec?.leaseTransitions).toBe(1);
  });

  it('takes over from a leader that stopped renewing only after the lease duration', async () => {
    const store = leaseStore();
    const log: string[] = [];
    const a = elector(store, 'a', log);
    a.start();
    await eventually('a leads', () => a.isLeader());
    await a.stop(false); // a crash: no release
    const crashed = Date.now();
    const b = elector(store, 'b', log);
    b.start();
    await eventually('b leads', () => b.isLeader(), 5000);
    expect(Date.now() - crashed).toBeGreaterThanOrEqual(timing.leaseDurationMs - 50);
  });

  it('stops leading when it cannot renew within the renew deadline', async () => {
    const store = leaseStore();
    const log: string[] = [];
    const a = elector(store, 'a', log);
    a.start();
    await eventually('a leads', () => a.isLeader());
    store.setDown(true);
    const down = Date.now();
    await eventually('a steps down', () => !a.isLeader(), 5000);
    const took = Date.now() - down;
    expect(took).toBeGreaterThanOrEqual(timing.renewDeadlineMs - 150);
    expect(took).toBeLessThan(timing.leaseDurationMs);
    expect(log).toEqual(['a:start', 'a:stop']);
    store.setDown(false);
    await eventually('a leads again', () => a.isLeader(), 5000);
  });

  it('steps down at once when it sees another holder', async () => {
    const store = leaseStore();
    const log: string[] = [];
    const a = elector(store, 'a', log);
    a.start();
    await eventually('a leads', () => a.isLeader());
    const current = store.get()!;
    await store.api.replaceNamespacedLease('kseal-system', 'kseal-controller', { ...current, spec: { ...current.spec, holderIdentity: 'intruder' } });
    await eventually('a steps down', () => !a.isLeader(), 1000);
  });

  it('does not lead again on a renewal that was in flight when a hand-over began, and releases the Lease', async () => {
    const store = leaseStore();
    const log: string[] = [];
    let drained = (): void => undefined;
    let handingOver = false;
    const a = new LeaderElector({
      api: store.api,
      namespace: 'kseal-system',
      name: 'kseal-controller',
      identity: 'a',
      ...timing,
      logger: silentLogger,
      mayAcquire: () => !handingOver,
      onStartedLeading: () => log.push('a:start'),
      onStoppedLeading: () => {
        log.push('a:stop');
        return new Promise<void>((r) => (drained = r));
      },
    });
    electors.push(a);
    a.start();
    await eventually('a leads', () => a.isLeader());
    const renewal = store.holdNextReplace();
    await eventually('a renewal in flight', () => renewal.reached());
    handingOver = true;
    const handOver = a.handOver();
    // The renewal lands while the shard's work drains.
    renewal.open();
    await new Promise((r) => setTimeout(r, 50));
    expect(a.isLeader()).toBe(false);
    drained();
    await handOver;
    expect(a.isLeader()).toBe(false);
    expect(log).toEqual(['a:start', 'a:stop']);
    expect(store.get()?.spec?.holderIdentity).toBe('');
  });
});
