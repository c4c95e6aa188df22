/**
 * The admin endpoint `/__kube-api/...`, so a server started as a separate process can be
 * controlled like the in-process one. Admin requests are neither counted nor subject to faults.
 *
 *   GET    /__kube-api/faults            current rules
 *   POST   /__kube-api/faults            {"action": "failNext"|"addLatency"|"setLatency"|"setConflictRate"|
 *                                         "endWatches"|"resetWatches"|"compact"|"sendBookmarks"|"clear", ...}
 *   DELETE /__kube-api/faults            clear every rule
 *   GET    /__kube-api/stats             request counters;   DELETE resets them
 *   POST   /__kube-api/restart           {"keepStore": true, "downtimeMs": 0, "resetConnections": false} → 202, then restarts
 *   GET    /__kube-api/settle            answers once GC / namespace / CRD controllers are idle
 *   GET    /__kube-api/info              url, resourceVersion, open watches, object counts
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, badRequest } from './errors.js';
import type { Faults } from './faults.js';
import { isObject, parseJson } from './json.js';
import type { JsonObject, JsonValue } from './json.js';
import type { RequestStats } from './stats.js';
import { sendJson } from './http.js';

/** Restart options (shared with the in-process API). */
export interface RestartOptions {
  /** Keep every object (default true); false starts from an empty cluster. */
  keepStore?: boolean;
  /** Keep watch history (default false: like a real restart, older resourceVersions get 410). */
  keepHistory?: boolean;
  /** Time the port stays closed. */
  downtimeMs?: number;
  /** Destroy watch connections instead of ending them cleanly (a crash rather than a shutdown). */
  resetConnections?: boolean;
}

/** What the admin endpoint controls. */
export interface AdminTarget {
  faults: Faults;
  stats: RequestStats;
  restart(opts: RestartOptions): Promise<void>;
  settle(): Promise<void>;
  info(): JsonObject;
}

function num(o: JsonObject, k: string): number | undefined {
  const v = o[k];
  return typeof v === 'number' ? v : undefined;
}

function str(o: JsonObject, k: string): string | undefined {
  const v = o[k];
  return typeof v === 'string' ? v : undefined;
}

function runAction(t: AdminTarget, b: JsonObject): JsonValue {
  const action = str(b, 'action');
  switch (action) {
    case 'failNext': {
      const status = num(b, 'status');
      if (status === undefined) throw badRequest('failNext needs "status"');
      t.faults.failNext({ status, method: str(b, 'method'), path: str(b, 'path'), count: num(b, 'count'), reason: str(b, 'reason'), message: str(b, 'message'), retryAfterSeconds: num(b, 'retryAfterSeconds') });
      return null;
    }
    case 'addLatency': {
      const ms = num(b, 'ms');
      if (ms === undefined) throw badRequest('addLatency needs "ms"');
      t.faults.addLatency({ ms, method: str(b, 'method'), path: str(b, 'path'), count: num(b, 'count') });
      return null;
    }
    case 'setLatency':
      t.faults.setLatency(num(b, 'ms') ?? 0);
      return null;
    case 'setConflictRate':
      t.faults.setConflictRate(num(b, 'fraction') ?? 0, num(b, 'seed') ?? 1);
      return null;
    case 'endWatches':
      return t.faults.endWatches();
    case 'resetWatches':
      return t.faults.resetWatches();
    case 'compact':
      t.faults.compact();
      return null;
    case 'sendBookmarks':
      return t.faults.sendBookmarks();
    case 'clear':
      t.faults.clear();
      return null;
    default:
      throw badRequest(`unknown action ${JSON.stringify(action ?? null)}`);
  }
}

async function jsonBody(body: () => Promise<Buffer>): Promise<JsonObject> {
  const text = (await body()).toString('utf8').trim();
  if (!text) return {};
  let v: JsonValue;
  try {
    v = parseJson(text);
  } catch (e) {
    throw badRequest(`invalid JSON: ${(e as Error).message}`);
  }
  if (!isObject(v)) throw badRequest('the body must be a JSON object');
  return v;
}

/** Builds the admin handler for the HTTP front end. */
export function createAdminHandler(t: AdminTarget): (req: IncomingMessage, res: ServerResponse, url: URL, body: () => Promise<Buffer>) => Promise<boolean> {
  return async (req, res, url, body) => {
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname.replace(/\/+$/, '');
    try {
      if (path === '/__kube-api/faults') {
        if (method === 'GET') sendJson(res, 200, t.faults.describe());
        else if (method === 'DELETE') { t.faults.clear(); sendJson(res, 200, { ok: true }); }
        else if (method === 'POST') sendJson(res, 200, { ok: true, result: runAction(t, await jsonBody(body)) });
        else sendJson(res, 405, { ok: false });
        return true;
      }
      if (path === '/__kube-api/stats') {
        if (method === 'DELETE') { t.stats.reset(); sendJson(res, 200, { ok: true }); }
        else sendJson(res, 200, t.stats.snapshot() as unknown as JsonObject);
        return true;
      }
      if (path === '/__kube-api/restart' && method === 'POST') {
        const b = await jsonBody(body);
        const opts: RestartOptions = {};
        if (typeof b['keepStore'] === 'boolean') opts.keepStore = b['keepStore'];
        if (typeof b['keepHistory'] === 'boolean') opts.keepHistory = b['keepHistory'];
        if (typeof b['downtimeMs'] === 'number') opts.downtimeMs = b['downtimeMs'];
        if (typeof b['resetConnections'] === 'boolean') opts.resetConnections = b['resetConnections'];
        res.on('finish', () => { void t.restart(opts); });
        sendJson(res, 202, { ok: true }, { Connection: 'close' });
        return true;
      }
      if (path === '/__kube-api/settle') {
        await t.settle();
        sendJson(res, 200, { ok: true });
        return true;
      }
      if (path === '/__kube-api/info') {
        sendJson(res, 200, t.info());
        return true;
      }
    } catch (e) {
      if (e instanceof ApiError) {
        sendJson(res, e.code, { ok: false, error: e.message });
        return true;
      }
      throw e;
    }
    return false;
  };
}
