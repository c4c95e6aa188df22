// Conformance of list (selectors, resourceVersion, pagination) and watch (replay, 410, bookmarks,
// timeouts, selector transitions) against the real watch cache's behaviour.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { text } from '../../kube-api/json.js';
import { startKubeApi } from '../../kube-api/server.js';
import type { KubeApiServer } from '../../kube-api/server.js';
import { call, message, meta, openWatch, secret } from './test-helpers.js';
import type { WatchStream } from './test-helpers.js';

let server: KubeApiServer;
const streams: WatchStream[] = [];

async function watch(path: string, headers: Record<string, string> = {}): Promise<WatchStream> {
  const w = await openWatch(server, path, headers);
  streams.push(w);
  return w;
}

beforeAll(async () => {
  server = await startKubeApi({ namespaces: ['sel', 'page', 'w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8', 'w9'] });
  const labels: Record<string, Record<string, string>> = {
    a: { tier: 'web', env: 'prod' },
    b: { tier: 'db', env: 'prod' },
    c: { tier: 'web', env: 'dev' },
    d: { env: 'dev', 'kseal.dev/managed': 'true' },
    e: {},
  };
  for (const [n, l] of Object.entries(labels)) server.store.create({ ...secret(n, 'sel'), metadata: { name: n, namespace: 'sel', labels: l } });
  for (let i = 0; i < 25; i++) server.store.create(secret(`p${String(i).padStart(2, '0')}`, 'page'));
});

afterEach(() => {
  for (const w of streams.splice(0)) w.close();
});

afterAll(async () => {
  await server.close();
});

async function names(selector: string, field = ''): Promise<string[]> {
  const q = new URLSearchParams();
  if (selector) q.set('labelSelector', selector);
  if (field) q.set('fieldSelector', field);
  const res = await call(server, 'GET', `/api/v1/namespaces/sel/secrets?${q.toString()}`);
  expect(res.status).toBe(200);
  return (res.body['items'] as { metadata: { name: string } }[]).map((i) => i.metadata.name);
}

describe('list selectors', () => {
  it('supports =, == and !=', async () => {
    expect(await names('tier=web')).toEqual(['a', 'c']);
    expect(await names('tier==web,env=prod')).toEqual(['a']);
    expect(await names('tier!=web')).toEqual(['b', 'd', 'e']);
  });

  it('supports in, notin, exists and !exists', async () => {
    expect(await names('env in (prod, dev),tier notin (db)')).toEqual(['a', 'c', 'd']);
    expect(await names('kseal.dev/managed')).toEqual(['d']);
    expect(await names('!tier')).toEqual(['d', 'e']);
  });

  it('answers 400 for a malformed label selector', async () => {
    const res = await call(server, 'GET', '/api/v1/namespaces/sel/secrets?labelSelector=a%20in%20b');
    expect(res.status).toBe(400);
    expect(message(res)).toMatch(/^unable to parse requirement/);
  });

  it('supports field selectors on metadata.name and metadata.namespace', async () => {
    expect(await names('', 'metadata.name=b')).toEqual(['b']);
    expect(await names('', 'metadata.name!=b,metadata.namespace=sel')).toEqual(['a', 'c', 'd', 'e']);
    const all = await call(server, 'GET', '/api/v1/secrets?fieldSelector=metadata.namespace%3Dsel');
    expect((all.body['items'] as unknown[]).length).toBe(5);
  });

  it('answers 400 for an unsupported field label', async () => {
    const res = await call(server, 'GET', '/api/v1/namespaces/sel/secrets?fieldSelector=spec.x%3D1');
    expect(res.status).toBe(400);
    expect(res.body['message']).toBe('field label not supported: spec.x');
  });
});

describe('list resourceVersion and pagination', () => {
  it('answers the current resourceVersion in list metadata', async () => {
    const res = await call(server, 'GET', '/api/v1/namespaces/page/secrets');
    expect(meta(res.body)['resourceVersion']).toBe(server.store.resourceVersion());
  });

  it('pages with limit and continue over a consistent snapshot', async () => {
    const first = await call(server, 'GET', '/api/v1/namespaces/page/secrets?limit=10');
    const m1 = meta(first.body);
    expect((first.body['items'] as unknown[]).length).toBe(10);
    expect(m1['remainingItemCount']).toBe(15);
    // A change after the first page is not visible in later pages (they are served at the first page's resourceVersion).
    server.store.create(secret('p99', 'page'));
    server.store.delete('v1', 'Secret', 'p20', 'page');
    const seen: string[] = (first.body['items'] as { metadata: { name: string } }[]).map((i) => i.metadata.name);
    let token = m1['continue'] as string | undefined;
    while (token) {
      const page = await call(server, 'GET', `/api/v1/namespaces/page/secrets?limit=10&continue=${encodeURIComponent(token)}`);
      expect(page.status).toBe(200);
      expect(meta(page.body)['resourceVersion']).toBe(m1['resourceVersion']);
      seen.push(...(page.body['items'] as { metadata: { name: string } }[]).map((i) => i.metadata.name));
      token = meta(page.body)['continue'] as string | undefined;
    }
    expect(seen).toHaveLength(25);
    expect(seen).toContain('p20');
    expect(seen).not.toContain('p99');
    server.store.create(secret('p20', 'page'));
  });

  it('answers 410 Expired for a continue token older than the kept history', async () => {
    const first = await call(server, 'GET', '/api/v1/namespaces/page/secrets?limit=5');
    server.store.create(secret('p-expire', 'page'));
    server.faults.compact();
    const res = await call(server, 'GET', `/api/v1/namespaces/page/secrets?limit=5&continue=${encodeURIComponent(text(meta(first.body)['continue']))}`);
    expect(res.status).toBe(410);
    expect(res.body['reason']).toBe('Expired');
    expect(message(res)).toMatch(/^The provided continue parameter is too old/);
  });

  it('answers 400 for a malformed continue token', async () => {
    const res = await call(server, 'GET', '/api/v1/namespaces/page/secrets?limit=5&continue=garbage');
    expect(res.status).toBe(400);
  });

  it('answers 504 for a list at a resourceVersion the server has not reached', async () => {
    const res = await call(server, 'GET', `/api/v1/namespaces/page/secrets?resourceVersion=${Number(server.store.resourceVersion()) + 1000}`);
    expect(res.status).toBe(504);
    expect(res.body['details']).toMatchObject({ causes: [{ reason: 'ResourceVersionTooLarge' }] });
  });
});

describe('watch', () => {
  it('streams ADDED, MODIFIED and DELETED from a resourceVersion as chunked NDJSON', async () => {
    const rv = server.store.resourceVersion();
    const w = await watch(`/api/v1/namespaces/w1/secrets?watch=true&resourceVersion=${rv}`);
    expect(w.status).toBe(200);
    const created = await call(server, 'POST', '/api/v1/namespaces/w1/secrets', secret('x', 'w1'));
    await call(server, 'PATCH', '/api/v1/namespaces/w1/secrets/x', { data: { b: 'Yg==' } }, { 'Content-Type': 'application/merge-patch+json' });
    await call(server, 'DELETE', '/api/v1/namespaces/w1/secrets/x');
    const events = await w.waitFor(3);
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(events[0]!.object['kind']).toBe('Secret');
    expect(events[0]!.object['apiVersion']).toBe('v1');
    expect(meta(events[0]!.object)['resourceVersion']).toBe(meta(created.body)['resourceVersion']);
    const rvs = events.map((e) => Number(meta(e.object)['resourceVersion']));
    expect(rvs[2]).toBeGreaterThan(rvs[1]!);
    expect(events[2]!.object['data']).toEqual({ a: 'YQ==', b: 'Yg==' });
  });

  it('starts with synthetic ADDED events for resourceVersion 0 and when it is absent', async () => {
    server.store.create(secret('pre1', 'w2'));
    server.store.create(secret('pre2', 'w2'));
    const w0 = await watch('/api/v1/namespaces/w2/secrets?watch=true&resourceVersion=0');
    const wNone = await watch('/api/v1/namespaces/w2/secrets?watch=1');
    expect((await w0.waitFor(2)).map((e) => [e.type, meta(e.object)['name']])).toEqual([['ADDED', 'pre1'], ['ADDED', 'pre2']]);
    expect((await wNone.waitFor(2)).map((e) => e.type)).toEqual(['ADDED', 'ADDED']);
  });

  it('replays events after an older resourceVersion from history', async () => {
    const rv = server.store.resourceVersion();
    server.store.create(secret('r1', 'w3'));
    server.store.create(secret('r2', 'w3'));
    const w = await watch(`/api/v1/namespaces/w3/secrets?watch=true&resourceVersion=${rv}`);
    expect((await w.waitFor(2)).map((e) => meta(e.object)['name'])).toEqual(['r1', 'r2']);
  });

  it('answers an ERROR event with 410 Expired for a resourceVersion older than the history, then ends', async () => {
    const rv = server.store.resourceVersion();
    server.store.create(secret('old', 'w4'));
    server.faults.compact();
    const w = await watch(`/api/v1/namespaces/w4/secrets?watch=true&resourceVersion=${rv}`);
    expect(w.status).toBe(200);
    const [ev] = await w.waitFor(1);
    expect(ev!.type).toBe('ERROR');
    expect(ev!.object).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `too old resource version: ${rv} (${server.store.resourceVersion()})`,
      reason: 'Expired',
      code: 410,
    });
    expect(await w.ended).toBe(true);
  });

  it('expires a resourceVersion once the bounded history has moved past it', async () => {
    const small = await startKubeApi({ historySize: 3, namespaces: ['h'] });
    try {
      const rv = small.store.resourceVersion();
      for (let i = 0; i < 5; i++) small.store.create(secret(`h${i}`, 'h'));
      const w = await openWatch(small, `/api/v1/namespaces/h/secrets?watch=true&resourceVersion=${rv}`);
      const [ev] = await w.waitFor(1);
      expect(ev!.type).toBe('ERROR');
      expect((ev!.object as { code: number }).code).toBe(410);
      const recent = await openWatch(small, `/api/v1/namespaces/h/secrets?watch=true&resourceVersion=${Number(small.store.resourceVersion()) - 2}`);
      expect((await recent.waitFor(2)).map((e) => e.type)).toEqual(['ADDED', 'ADDED']);
      w.close();
      recent.close();
    } finally {
      await small.close();
    }
  });

  it('sends an object that stops matching the label selector as DELETED and one that starts matching as ADDED', async () => {
    server.store.create({ ...secret('t', 'w5'), metadata: { name: 't', namespace: 'w5', labels: { pick: 'yes' } } });
    const w = await watch(`/api/v1/namespaces/w5/secrets?watch=true&labelSelector=pick%3Dyes&resourceVersion=${server.store.resourceVersion()}`);
    await call(server, 'PATCH', '/api/v1/namespaces/w5/secrets/t', { metadata: { labels: { pick: 'no' } } }, { 'Content-Type': 'application/merge-patch+json' });
    await call(server, 'PATCH', '/api/v1/namespaces/w5/secrets/t', { metadata: { labels: { pick: 'yes' } } }, { 'Content-Type': 'application/merge-patch+json' });
    const events = await w.waitFor(2);
    expect(events.map((e) => e.type)).toEqual(['DELETED', 'ADDED']);
    // The DELETED event carries the last matching state with the new resourceVersion.
    expect(meta(events[0]!.object)['labels']).toEqual({ pick: 'yes' });
    expect(Number(meta(events[0]!.object)['resourceVersion'])).toBeGreaterThan(0);
  });

  it('honours field selectors, including the legacy /watch/ path with a name', async () => {
    const w = await watch(`/api/v1/watch/namespaces/w6/secrets/one?resourceVersion=${server.store.resourceVersion()}`);
    server.store.create(secret('two', 'w6'));
    server.store.create(secret('one', 'w6'));
    const [ev] = await w.waitFor(1);
    expect(meta(ev!.object)['name']).toBe('one');
    expect(w.events).toHaveLength(1);
  });

  it('sends BOOKMARKs on request and periodically when allowWatchBookmarks is set', async () => {
    const fast = await startKubeApi({ bookmarkIntervalMs: 50, namespaces: ['b'] });
    try {
      const w = await openWatch(fast, `/api/v1/namespaces/b/secrets?watch=true&allowWatchBookmarks=true&resourceVersion=${fast.store.resourceVersion()}`);
      const noBookmarks = await openWatch(fast, `/api/v1/namespaces/b/secrets?watch=true&resourceVersion=${fast.store.resourceVersion()}`);
      const [bm] = await w.waitFor(1, (e) => e.type === 'BOOKMARK');
      expect(bm!.object).toEqual({ kind: 'Secret', apiVersion: 'v1', metadata: { resourceVersion: fast.store.resourceVersion(), creationTimestamp: null } });
      expect(fast.faults.sendBookmarks()).toBe(1);
      await w.waitFor(2, (e) => e.type === 'BOOKMARK');
      expect(noBookmarks.events).toHaveLength(0);
      w.close();
      noBookmarks.close();
    } finally {
      await fast.close();
    }
  });

  it('ends the stream cleanly after timeoutSeconds', async () => {
    const started = Date.now();
    const w = await watch('/api/v1/namespaces/w7/secrets?watch=true&timeoutSeconds=1');
    expect(await w.ended).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('supports sendInitialEvents with an initial-events-end bookmark', async () => {
    server.store.create(secret('i1', 'w8'));
    const w = await watch('/api/v1/namespaces/w8/secrets?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true');
    const events = await w.waitFor(2);
    expect(events[0]!.type).toBe('ADDED');
    expect(events[1]).toMatchObject({ type: 'BOOKMARK', object: { metadata: { annotations: { 'k8s.io/initial-events-end': 'true' } } } });
  });

  it('ends open watches cleanly and resets them on request', async () => {
    const a = await watch('/api/v1/namespaces/w9/secrets?watch=true');
    const b = await watch('/api/v1/namespaces/w9/configmaps?watch=true');
    expect(server.watchCount).toBeGreaterThanOrEqual(2);
    expect(server.faults.endWatches()).toBeGreaterThanOrEqual(2);
    expect(await a.ended).toBe(true);
    expect(await b.ended).toBe(true);
    const c = await watch('/api/v1/namespaces/w9/secrets?watch=true');
    await new Promise((r) => setTimeout(r, 20));
    expect(server.faults.resetWatches()).toBe(1);
    expect(await c.ended).toBe(false);
  });

  it('answers 400 for a non-numeric resourceVersion', async () => {
    const res = await call(server, 'GET', '/api/v1/namespaces/w9/secrets?watch=true&resourceVersion=abc');
    expect(res.status).toBe(400);
  });
});
