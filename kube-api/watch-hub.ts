/**
 * Watch streams: newline-delimited JSON events over a chunked HTTP response, as the watch cache
 * serves them (k8s.io/apiserver/pkg/storage/cacher): replay from a resourceVersion out of the
 * per-kind history ring (410 Expired as an ERROR event when it is too old), synthetic ADDED events
 * for resourceVersion "0"/absent, selector transitions sent as ADDED/DELETED (cacheWatcher.
 * convertToWatchEvent), BOOKMARKs (periodic and on request), `sendInitialEvents`, and
 * `timeoutSeconds`. Fault hooks end or reset every open stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, badRequest, invalid, fieldError } from './errors.js';
import { text } from './json.js';
import type { JsonObject } from './json.js';
import { metaOf } from './objects.js';
import { groupVersion } from './resources.js';
import type { ResourceDef } from './resources.js';
import { selects } from './rest.js';
import type { RestStorage, Selection } from './rest.js';
import type { ObjectStore, StoreEvent } from './store.js';
import { withResourceVersion } from './store.js';
import { buildTable } from './table.js';
import type { IncludeObject } from './table.js';

/** Parameters of one watch request. */
export interface WatchParams {
  def: ResourceDef;
  version: string;
  /** undefined = all namespaces (or a cluster-scoped resource). */
  namespace: string | undefined;
  selection: Selection;
  resourceVersion: string | undefined;
  resourceVersionMatch: string | undefined;
  allowBookmarks: boolean;
  sendInitialEvents: boolean | undefined;
  /** undefined = the server default (minRequestTimeout × [1, 2)). */
  timeoutSeconds: number | undefined;
  /** Serve Table objects (kubectl get -w). */
  table?: { includeObject: IncludeObject } | undefined;
}

/** Watch hub settings. */
export interface WatchHubOptions {
  /** Interval of periodic bookmarks (the real watch cache sends them about once a minute). */
  bookmarkIntervalMs: number;
  /** --min-request-timeout: watches without timeoutSeconds last this × [1, 2) seconds. */
  minRequestTimeoutSeconds: number;
}

const serialized = new WeakMap<JsonObject, Map<string, string>>();

class Watcher {
  closed = false;
  /** Events at or below this resourceVersion are not sent (the watch started after it). */
  minRv = 0;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    readonly params: WatchParams,
    readonly res: ServerResponse,
    private readonly rest: RestStorage,
    private readonly onClose: (w: Watcher) => void,
  ) {}

  get storageKey(): string {
    return this.params.def.storageKey;
  }

  addTimer(t: NodeJS.Timeout): void {
    t.unref();
    this.timers.push(t);
  }

  private line(type: string, obj: JsonObject): string {
    const { def, version, table } = this.params;
    if (!table) {
      // Stored objects are immutable: serialize each once per representation, however many watchers.
      const key = `${type}|${def.group}|${def.kind}|${version}`;
      let byKey = serialized.get(obj);
      const hit = byKey?.get(key);
      if (hit !== undefined) return hit;
      const line = `${JSON.stringify({ type, object: this.rest.toVersion(def, version, obj) })}\n`;
      if (!byKey) {
        byKey = new Map();
        serialized.set(obj, byKey);
      }
      byKey.set(key, line);
      return line;
    }
    const out = this.rest.toVersion(def, version, obj);
    const t = buildTable(def, version, [out], { includeObject: table.includeObject, resourceVersion: text(metaOf(obj)['resourceVersion']) }, Date.now());
    return `${JSON.stringify({ type, object: t })}\n`;
  }

  write(text: string): void {
    if (this.closed) return;
    this.res.write(text);
  }

  send(type: string, obj: JsonObject): void {
    this.write(this.line(type, obj));
  }

  private passes(obj: JsonObject, namespace: string): boolean {
    if (this.params.namespace !== undefined && this.params.def.namespaced && namespace !== this.params.namespace) return false;
    return selects(this.params.def, this.params.selection, obj);
  }

  /** Delivers a store event with the cacher's selector-transition rules. */
  deliver(e: StoreEvent): void {
    if (this.closed || e.rv <= this.minRv) return;
    const cur = e.type !== 'DELETED' && this.passes(e.object, e.namespace);
    const old = e.prev !== undefined && this.passes(e.prev, e.namespace);
    if (cur && !old) this.send('ADDED', e.object);
    else if (cur && old) this.send('MODIFIED', e.object);
    else if (!cur && old) this.send('DELETED', e.type === 'DELETED' ? e.object : withResourceVersion(e.prev!, e.rv));
  }

  bookmark(rv: number, initialEventsEnd = false): void {
    const { def, version } = this.params;
    const metadata: JsonObject = { resourceVersion: String(rv) };
    if (def.builtin) metadata['creationTimestamp'] = null;
    if (initialEventsEnd) metadata['annotations'] = { 'k8s.io/initial-events-end': 'true' };
    this.write(`${JSON.stringify({ type: 'BOOKMARK', object: { kind: def.kind, apiVersion: groupVersion(def.group, version), metadata } })}\n`);
  }

  /** Ends the stream cleanly (the terminating chunk is sent). */
  end(): void {
    if (this.closed) return;
    this.cleanup();
    this.res.end();
  }

  /** Destroys the connection without a clean end (a reset, as a crashing server or proxy would). */
  reset(): void {
    if (this.closed) return;
    this.cleanup();
    this.res.socket?.destroy();
    this.res.destroy();
  }

  cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    this.onClose(this);
  }
}

/** All open watches. */
export class WatchHub {
  private readonly byKey = new Map<string, Set<Watcher>>();

  constructor(
    private readonly store: ObjectStore,
    private readonly rest: RestStorage,
    private readonly options: WatchHubOptions,
  ) {
    store.onEvent((e) => {
      const set = this.byKey.get(e.storageKey);
      if (!set) return;
      for (const w of [...set]) w.deliver(e);
    });
  }

  /** Number of open watches. */
  get count(): number {
    let n = 0;
    for (const s of this.byKey.values()) n += s.size;
    return n;
  }

  /** Validates the parameters (throws an ApiError for 4xx answered before the stream starts). */
  check(p: WatchParams): number | undefined {
    const rvText = p.resourceVersion;
    if (p.sendInitialEvents !== undefined) {
      const errs = [];
      if (p.resourceVersionMatch !== 'NotOlderThan') {
        errs.push(fieldError.forbidden('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'));
      }
      if (p.sendInitialEvents && !p.allowBookmarks) {
        errs.push(fieldError.forbidden('allowWatchBookmarks', 'allowWatchBookmarks must be set to true when sendInitialEvents is true'));
      }
      if (errs.length > 0) throw invalid('meta.k8s.io', 'ListOptions', '', errs);
    } else if (p.resourceVersionMatch) {
      throw invalid('meta.k8s.io', 'ListOptions', '', [fieldError.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided')]);
    }
    if (rvText === undefined || rvText === '') return undefined;
    if (!/^\d+$/.test(rvText)) throw badRequest(`resourceVersion: Invalid value: "${rvText}": strconv.ParseUint: parsing "${rvText}": invalid syntax`);
    return Number(rvText);
  }

  /** Serves a watch on `res`; the caller has already answered faults and validated parameters. */
  serve(req: IncomingMessage, res: ServerResponse, p: WatchParams): void {
    const rv = this.check(p);
    const w = new Watcher(p, res, this.rest, (x) => this.remove(x));
    res.writeHead(200, {
      'Content-Type': p.table ? 'application/json;as=Table;v=v1;g=meta.k8s.io' : 'application/json',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    res.flushHeaders();
    const onGone = (): void => w.cleanup();
    req.on('close', onGone);
    res.on('close', onGone);

    const initialState = rv === undefined || rv === 0 || p.sendInitialEvents === true;
    if (initialState) {
      if (p.sendInitialEvents !== false) {
        const page = this.rest.list(p.def, p.namespace, {});
        for (const o of page.items) if (selects(p.def, p.selection, o)) w.send('ADDED', o);
      }
      if (p.sendInitialEvents === true) w.bookmark(this.store.resourceVersion, true);
    } else {
      let events: StoreEvent[];
      try {
        events = this.store.eventsSince(p.def.storageKey, rv);
      } catch (e) {
        if (e instanceof ApiError) {
          // The watch cache answers a too-old resourceVersion with 200 and one ERROR event.
          w.write(`${JSON.stringify({ type: 'ERROR', object: e.toStatus() })}\n`);
          w.end();
          return;
        }
        throw e;
      }
      for (const e of events) w.deliver(e);
      w.minRv = rv;
    }
    if (w.closed) return;
    let set = this.byKey.get(p.def.storageKey);
    if (!set) {
      set = new Set();
      this.byKey.set(p.def.storageKey, set);
    }
    set.add(w);
    const timeoutMs = p.timeoutSeconds !== undefined
      ? p.timeoutSeconds * 1000
      : this.options.minRequestTimeoutSeconds * 1000 * (1 + Math.random());
    w.addTimer(setTimeout(() => w.end(), timeoutMs));
    if (p.allowBookmarks && this.options.bookmarkIntervalMs > 0) {
      const tick = (): void => {
        if (w.closed) return;
        w.bookmark(this.store.resourceVersion);
        w.addTimer(setTimeout(tick, this.options.bookmarkIntervalMs));
      };
      w.addTimer(setTimeout(tick, this.options.bookmarkIntervalMs));
    }
  }

  private remove(w: Watcher): void {
    this.byKey.get(w.storageKey)?.delete(w);
  }

  private all(): Watcher[] {
    const out: Watcher[] = [];
    for (const s of this.byKey.values()) out.push(...s);
    return out;
  }

  /** Ends every open watch cleanly; returns how many. */
  endAll(): number {
    const ws = this.all();
    for (const w of ws) w.end();
    return ws.length;
  }

  /** Resets (destroys the socket of) every open watch; returns how many. */
  resetAll(): number {
    const ws = this.all();
    for (const w of ws) w.reset();
    return ws.length;
  }

  /** Ends the watches on one kind (its CRD was deleted). */
  endStorageKey(storageKey: string): number {
    const ws = [...(this.byKey.get(storageKey) ?? [])];
    for (const w of ws) w.end();
    return ws.length;
  }

  /** Sends a BOOKMARK now on every watch that allowed bookmarks; returns how many. */
  sendBookmarks(): number {
    let n = 0;
    for (const w of this.all()) {
      if (!w.params.allowBookmarks) continue;
      w.bookmark(this.store.resourceVersion);
      n++;
    }
    return n;
  }

  /** Changes the periodic bookmark interval for watches opened from now on. */
  setBookmarkInterval(ms: number): void {
    this.options.bookmarkIntervalMs = ms;
  }
}
