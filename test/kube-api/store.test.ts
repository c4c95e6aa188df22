// The object store's snapshot cursor: what one page of a paginated list reads.
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../kube-api/json.js';
import { ObjectStore, type SnapshotCursor } from '../../kube-api/store.js';

const KIND = 'secrets';

function put(store: ObjectStore, ns: string, name: string, value: string): void {
  const prev = store.get(KIND, ns, name);
  store.commit(prev === undefined ? 'ADDED' : 'MODIFIED', KIND, ns, name, { metadata: { name, namespace: ns }, data: { v: value } }, prev);
}

function remove(store: ObjectStore, ns: string, name: string): void {
  store.commit('DELETED', KIND, ns, name, undefined, store.get(KIND, ns, name));
}

/** What a page holds: `namespace/name=value`. */
function label(e: { key: [string, string]; obj: JsonObject }): string {
  return `${e.key[0]}/${e.key[1]}=${(e.obj['data'] as { v: string }).v}`;
}

/** Pages through the snapshot as the list handler does (start after the last key), `size` at a time. */
function pageThrough(store: ObjectStore, namespace: string | undefined, rv: number, size: number): { seen: string[]; remainingAfterEachPage: number[] } {
  const seen: string[] = [];
  const remainingAfterEachPage: number[] = [];
  let start = '';
  for (;;) {
    const cursor = store.snapshotFrom(KIND, namespace, rv, start) as SnapshotCursor;
    let last: [string, string] | undefined;
    for (let n = 0; n < size; n++) {
      const e = cursor.next();
      if (e === undefined) break;
      seen.push(label(e));
      last = e.key;
    }
    remainingAfterEachPage.push(cursor.remaining());
    if (last === undefined || cursor.remaining() === 0) return { seen, remainingAfterEachPage };
    start = `${namespace === undefined ? `${last[0]}/${last[1]}` : last[1]}\u0000`;
  }
}

function fill(store: ObjectStore): void {
  for (const ns of ['a', 'b', 'c']) for (let i = 0; i < 20; i++) put(store, ns, `o${String(i).padStart(2, '0')}`, 'v1');
}

/** The state now, as a sorted list of labels (the reference a snapshot must reproduce). */
function stateNow(store: ObjectStore, namespace?: string): string[] {
  return store.keys(KIND, namespace).map(([ns, name]) => `${ns}/${name}=${(store.get(KIND, ns, name)?.['data'] as { v: string }).v}`);
}

describe('ObjectStore snapshot cursor', () => {
  it('pages through every namespace as the kind was at an older resourceVersion, whatever changed since', () => {
    const store = new ObjectStore(10_000);
    fill(store);
    const rv = store.resourceVersion;
    const then = stateNow(store);
    // Updates, deletes and creates before, inside and after every page boundary.
    for (const name of ['o00', 'o07', 'o13', 'o19']) put(store, 'b', name, 'v2');
    for (const name of ['o03', 'o14']) remove(store, 'a', name);
    remove(store, 'c', 'o19');
    put(store, 'a', 'o05a', 'new');
    put(store, 'b', 'zz', 'new');
    put(store, '0', 'first', 'new');
    put(store, 'b', 'o07', 'v3');
    const { seen, remainingAfterEachPage } = pageThrough(store, undefined, rv, 7);
    expect(seen).toEqual(then);
    expect(remainingAfterEachPage).toEqual(remainingAfterEachPage.map((_, i) => Math.max(0, then.length - 7 * (i + 1))));
  });

  it('pages through one namespace as it was at an older resourceVersion', () => {
    const store = new ObjectStore(10_000);
    fill(store);
    const rv = store.resourceVersion;
    const then = stateNow(store, 'b');
    put(store, 'b', 'o04', 'v2');
    remove(store, 'b', 'o11');
    put(store, 'b', 'o11x', 'new');
    put(store, 'a', 'o04', 'v2');
    expect(pageThrough(store, 'b', rv, 6).seen).toEqual(then);
  });

  it('pages through the current state when nothing changed', () => {
    const store = new ObjectStore(10_000);
    fill(store);
    const { seen, remainingAfterEachPage } = pageThrough(store, undefined, store.resourceVersion, 25);
    expect(seen).toEqual(stateNow(store));
    expect(remainingAfterEachPage).toEqual([35, 10, 0]);
  });

  it('has no snapshot for a resourceVersion older than the kept history', () => {
    const store = new ObjectStore(3);
    fill(store);
    expect(store.snapshotFrom(KIND, undefined, 2, '')).toBeUndefined();
  });

  it('finds the start of a page by search, not by reading the keys before it', () => {
    const store = new ObjectStore(0);
    for (let i = 0; i < 10_000; i++) put(store, `ns-${i % 50}`, `s-${String(i).padStart(5, '0')}`, 'v');
    const cursor = store.snapshotFrom(KIND, undefined, store.resourceVersion, 'ns-7/\u0000') as SnapshotCursor;
    const page = Array.from({ length: 10 }, () => cursor.next());
    expect(page[0]?.key[0]).toBe('ns-7');
    // A binary search over 10,000 keys reads ~14 of them; 10 entries read a few keys each.
    expect(cursor.keysRead).toBeLessThan(60);
  });

  it('reads each key a bounded number of times over a whole paged list', () => {
    const store = new ObjectStore(0);
    const n = 20_000;
    for (let i = 0; i < n; i++) put(store, `ns-${i % 100}`, `s-${i}`, 'v');
    let reads = 0;
    let start = '';
    for (;;) {
      const cursor = store.snapshotFrom(KIND, undefined, store.resourceVersion, start) as SnapshotCursor;
      let last: [string, string] | undefined;
      for (let k = 0; k < 500; k++) last = cursor.next()?.key ?? last;
      const more = cursor.remaining() > 0;
      reads += cursor.keysRead;
      if (!more || last === undefined) break;
      start = `${last[0]}/${last[1]}\u0000`;
    }
    // 40 pages: a scan from the start of each page would read ~400,000 keys.
    expect(reads).toBeLessThan(3 * n);
  });
});
