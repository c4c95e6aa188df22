/**
 * The HTTP front end: request routing like the real server's RequestInfoFactory (API paths,
 * namespaced and cluster-scoped resources, subresources, legacy /watch/ paths), body decoding,
 * content negotiation (JSON, Table for kubectl), fault injection and accounting, and shaping of
 * every answer (objects, lists, Status errors, watch streams).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import {
  ApiError,
  badRequest,
  conflict,
  fieldError,
  internalError,
  invalid,
  methodNotAllowed,
  notAcceptable,
  requestEntityTooLarge,
  resourceNotServed,
  unauthorized,
  unsupportedMediaType,
} from './errors.js';
import { apiGroupDoc, apiGroupListDoc, apiResourceListDoc, apiVersionsDoc, versionInfoDoc } from './discovery.js';
import type { Faults } from './faults.js';
import { isObject, parseJson, text } from './json.js';
import type { JsonObject, JsonValue } from './json.js';
import { groupVersion, versionInfo } from './resources.js';
import type { ResourceDef, ResourceRegistry } from './resources.js';
import { PATCH_TYPES, grOf, parseSelection } from './rest.js';
import type { DeleteOptions, ListResult, RestStorage, Subresource, WriteOptions, WriteResult } from './rest.js';
import type { RequestStats } from './stats.js';
import { buildTable } from './table.js';
import type { IncludeObject } from './table.js';
import type { WatchHub } from './watch-hub.js';
import { PROTOBUF_TYPE, decodeProtobufObject } from './protobuf.js';

/** Everything the handler needs. */
export interface HttpContext {
  rest: RestStorage;
  registry: ResourceRegistry;
  hub: WatchHub;
  faults: Faults;
  stats: RequestStats;
  /** When set, requests must carry `Authorization: Bearer <token>` (else 401). */
  requireToken: string | undefined;
  /** The real server limits request bodies to 3 MiB. */
  maxBodyBytes: number;
  /** host:port for /api's serverAddressByClientCIDRs. */
  serverAddress(): string;
  /** Handles `/__kube-api/...`; returns false when the path is not an admin path. */
  admin(req: IncomingMessage, res: ServerResponse, url: URL, body: () => Promise<Buffer>): Promise<boolean>;
}

/** A parsed resource request. */
interface ResourceRequest {
  def: ResourceDef;
  version: string;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
  verb: string;
}

/** Reads a request body up to `limit` bytes (413 beyond). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        reject(requestEntityTooLarge(`limit is ${limit}`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => { if (!failed) resolve(Buffer.concat(chunks)); });
    req.on('error', (e) => { if (!failed) reject(e); });
  });
}

/** Writes a JSON answer. */
export function sendJson(res: ServerResponse, code: number, body: JsonValue, headers: Record<string, string | string[]> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
    'Audit-Id': randomUUID(),
    ...headers,
  });
  res.end(text);
}

/** Writes an ApiError as a Status (with Retry-After when it says so). */
function sendError(res: ServerResponse, err: ApiError): void {
  const headers: Record<string, string> = {};
  if (err.details?.retryAfterSeconds) headers['Retry-After'] = String(err.details.retryAfterSeconds);
  sendJson(res, err.code, err.toStatus(), headers);
}

function contentTypeOf(req: IncomingMessage): string {
  const ct = req.headers['content-type'] ?? '';
  return ct.split(';')[0]!.trim().toLowerCase();
}

type OutputMode = { kind: 'json' } | { kind: 'table'; includeObject: IncludeObject };

/** Content negotiation for responses. */
function negotiate(req: IncomingMessage, url: URL): OutputMode {
  const accept = req.headers['accept'];
  if (!accept) return { kind: 'json' };
  const entries = accept.split(',').map((e) => e.trim().toLowerCase());
  const include = url.searchParams.get('includeObject');
  const includeObject: IncludeObject = include === 'None' || include === 'Object' ? include : 'Metadata';
  for (const e of entries) {
    const params = e.split(';').map((p) => p.trim());
    const type = params[0];
    const as = params.find((p) => p.startsWith('as='))?.slice(3);
    const g = params.find((p) => p.startsWith('g='))?.slice(2);
    if (as === 'table' && g === 'meta.k8s.io' && (type === 'application/json' || type === '*/*')) return { kind: 'table', includeObject };
    if (as) continue;
    if (type === 'application/json' || type === '*/*' || type === 'application/*' || type === '') return { kind: 'json' };
  }
  throw notAcceptable(['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']);
}

function parseBool(v: string | null): boolean | undefined {
  if (v === null) return undefined;
  return v === 'true' || v === '1';
}

function writeOptions(url: URL, kindForErrors: string): WriteOptions {
  const dry = url.searchParams.getAll('dryRun');
  for (const d of dry) {
    if (d !== 'All') throw invalid('meta.k8s.io', kindForErrors, '', [fieldError.notSupported('dryRun', d, ['All'])]);
  }
  const fv = url.searchParams.get('fieldValidation');
  if (fv !== null && fv !== '' && fv !== 'Strict' && fv !== 'Warn' && fv !== 'Ignore') {
    throw badRequest(`fieldValidation: Unsupported value: "${fv}": supported values: "Ignore", "Strict", "Warn"`);
  }
  return {
    dryRun: dry.length > 0,
    fieldManager: url.searchParams.get('fieldManager') ?? undefined,
    fieldValidation: fv === 'Strict' || fv === 'Warn' || fv === 'Ignore' ? fv : 'Warn',
    warnings: [],
  };
}

function decodeJsonBody(text: string, what: 'object' | 'patch'): JsonValue {
  try {
    return parseJson(text);
  } catch (e) {
    const msg = (e as Error).message;
    throw badRequest(what === 'patch' ? `error decoding patch: ${msg}` : `couldn't get version/kind; json parse error: ${msg}`);
  }
}

function decodeYamlBody(text: string, what: string): JsonValue {
  try {
    return parseYaml(text) as JsonValue;
  } catch (e) {
    throw badRequest(`error decoding YAML: ${what}: ${(e as Error).message}`);
  }
}

function warningHeaders(opts: WriteOptions): Record<string, string[]> {
  const ws = opts.warnings ?? [];
  return ws.length > 0 ? { Warning: ws.map((w) => `299 - ${JSON.stringify(w)}`) } : {};
}

/** Builds the request handler. */
export function createHandler(ctx: HttpContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(ctx, req, res).catch((e: unknown) => {
      if (e instanceof ApiError) sendError(res, e);
      else sendError(res, internalError(e instanceof Error ? e.message : String(e)));
    });
  };
}

function statsResource(def: ResourceDef, sub: string | undefined): string {
  const base = def.group ? `${def.plural}.${def.group}` : def.plural;
  return sub ? `${base}/${sub}` : base;
}

async function handle(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  req.on('error', () => undefined);
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const method = (req.method ?? 'GET').toUpperCase();
  let bodyPromise: Promise<Buffer> | undefined;
  const body = (): Promise<Buffer> => (bodyPromise ??= readBody(req, ctx.maxBodyBytes));
  if (url.pathname.startsWith('/__kube-api/')) {
    if (await ctx.admin(req, res, url, body)) return;
  }

  const auth = req.headers['authorization'];
  const token = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
  ctx.stats.identity(token, req.headers['user-agent']);

  let classified: { verb: string; resource: string; request?: ResourceRequest | undefined };
  try {
    classified = classify(ctx, method, url);
  } catch (e) {
    if (e instanceof ApiError) {
      ctx.stats.record('other', '', e.code);
      sendError(res, e);
      return;
    }
    throw e;
  }
  let recorded = false;
  const record = (code: number): void => {
    if (recorded) return;
    recorded = true;
    ctx.stats.record(classified.verb, classified.resource, code);
  };
  res.on('finish', () => record(res.statusCode));
  res.on('close', () => record(res.statusCode));

  if (ctx.requireToken !== undefined && token !== ctx.requireToken) {
    sendError(res, unauthorized());
    return;
  }
  const pathAndQuery = `${url.pathname}${url.search}`;
  const delay = ctx.faults.latencyFor(method, pathAndQuery);
  if (delay > 0) await new Promise((r) => setTimeout(r, delay));
  const injected = ctx.faults.failureFor(method, pathAndQuery);
  if (injected) {
    if (method !== 'GET' && method !== 'DELETE') await body().catch(() => undefined);
    sendError(res, injected);
    return;
  }
  const rr = classified.request;
  if (!rr) {
    serveNonResource(ctx, req, res, url, method);
    return;
  }
  if ((rr.verb === 'update' || rr.verb === 'patch') && rr.name && ctx.faults.conflictFor(method)) {
    await body().catch(() => undefined);
    sendError(res, conflict(grOf(rr.def), rr.name));
    return;
  }
  await serveResource(ctx, req, res, url, method, rr, body);
  // A watch is counted once its stream has started.
  if (rr.verb === 'watch' && res.headersSent) record(res.statusCode);
}

function classify(ctx: HttpContext, method: string, url: URL): { verb: string; resource: string; request?: ResourceRequest } {
  const segs = url.pathname.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
  let group: string;
  let rest: string[];
  let version: string | undefined;
  if (segs[0] === 'api') {
    group = '';
    version = segs[1];
    rest = segs.slice(2);
  } else if (segs[0] === 'apis') {
    group = segs[1] ?? '';
    version = segs[2];
    rest = segs.slice(3);
  } else {
    return { verb: 'other', resource: '' };
  }
  if (version === undefined || rest.length === 0) return { verb: 'discovery', resource: '' };
  let legacyWatch = false;
  if (rest[0] === 'watch') {
    legacyWatch = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  let plural: string;
  let name: string | undefined;
  let subresource: string | undefined;
  const nsDef = rest[0] === 'namespaces' && rest.length >= 3 ? ctx.registry.byGroupVersionResource(group, version, rest[2]!) : undefined;
  if (nsDef && nsDef.namespaced) {
    namespace = rest[1];
    plural = rest[2]!;
    name = rest[3];
    subresource = rest[4];
    if (rest.length > 5) throw resourceNotServed();
  } else {
    plural = rest[0]!;
    name = rest[1];
    subresource = rest[2];
    if (rest.length > 3) throw resourceNotServed();
  }
  const def = ctx.registry.byGroupVersionResource(group, version, plural);
  if (!def) throw resourceNotServed();
  if (def.namespaced && namespace === undefined && name !== undefined) throw resourceNotServed();
  if (subresource !== undefined) {
    const ok = (subresource === 'status' && versionInfo(def, version)?.statusSubresource) || (def.extraSubresources ?? []).includes(subresource);
    if (!ok) throw resourceNotServed();
  }
  const watchParam = parseBool(url.searchParams.get('watch')) === true;
  let verb: string;
  switch (method) {
    case 'GET':
      verb = name === undefined ? (watchParam || legacyWatch ? 'watch' : 'list') : legacyWatch || watchParam ? 'watch' : 'get';
      break;
    case 'POST':
      verb = 'create';
      break;
    case 'PUT':
      verb = 'update';
      break;
    case 'PATCH':
      verb = 'patch';
      break;
    case 'DELETE':
      verb = name === undefined ? 'deletecollection' : 'delete';
      break;
    default:
      throw methodNotAllowed();
  }
  if (legacyWatch && method !== 'GET') throw methodNotAllowed();
  if (subresource === 'finalize' && verb !== 'update') throw methodNotAllowed();
  if (subresource === 'status' && !['get', 'update', 'patch'].includes(verb)) throw methodNotAllowed();
  if (!def.verbs.includes(verb)) throw methodNotAllowed();
  if (verb === 'create' && (name !== undefined || (def.namespaced && namespace === undefined))) throw methodNotAllowed();
  if ((verb === 'update' || verb === 'patch') && name === undefined) throw methodNotAllowed();
  if (verb === 'deletecollection' && def.namespaced && namespace === undefined) throw methodNotAllowed();
  return {
    verb,
    resource: statsResource(def, subresource),
    request: { def, version, namespace, name, subresource, verb },
  };
}

function serveNonResource(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, url: URL, method: string): void {
  const p = url.pathname.replace(/\/+$/, '') || '/';
  if (method !== 'GET' && method !== 'HEAD') {
    sendError(res, methodNotAllowed());
    return;
  }
  if (p === '/healthz' || p === '/livez' || p === '/readyz') {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('ok');
    return;
  }
  if (p === '/version') return sendJson(res, 200, versionInfoDoc());
  if (p === '/api') return sendJson(res, 200, apiVersionsDoc(ctx.serverAddress()));
  if (p === '/apis') return sendJson(res, 200, apiGroupListDoc(ctx.registry));
  const m = /^\/apis\/([^/]+)$/.exec(p);
  if (m) {
    const doc = apiGroupDoc(ctx.registry, m[1]!);
    return doc ? sendJson(res, 200, doc) : sendError(res, resourceNotServed());
  }
  const gv = /^\/api\/(v1)$/.exec(p) ?? /^\/apis\/([^/]+\/[^/]+)$/.exec(p);
  if (gv) {
    const [group, version] = p.startsWith('/api/') ? ['', gv[1]!] : [gv[1]!.split('/')[0]!, gv[1]!.split('/')[1]!];
    const doc = apiResourceListDoc(ctx.registry, group, version);
    return doc ? sendJson(res, 200, doc) : sendError(res, resourceNotServed());
  }
  if (p === '/openapi/v2') {
    // An empty OpenAPI v2 document: kubectl then finds no schema for any kind, skips client-side
    // validation and computes strategic merge patches from its compiled-in types. (/openapi/v3 is
    // 404, from which kubectl falls back to v2; a 404 on v2 would make `kubectl apply` fail with
    // "failed to download openapi".)
    const accept = req.headers['accept'] ?? '';
    if (accept.includes('application/com.github.proto-openapi.spec.v2')) {
      res.writeHead(200, { 'Content-Type': 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf', 'Content-Length': 0 });
      res.end();
      return;
    }
    return sendJson(res, 200, { swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.32.0-kseal' }, paths: {}, definitions: {} });
  }
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache, private' });
  res.end('404 page not found\n');
}

function listBody(ctx: HttpContext, def: ResourceDef, version: string, page: ListResult): JsonObject {
  const metadata: JsonObject = { resourceVersion: page.resourceVersion };
  if (page.continueToken) metadata['continue'] = page.continueToken;
  if (page.remainingItemCount !== undefined) metadata['remainingItemCount'] = page.remainingItemCount;
  const items = page.items.map((o) => {
    const v = ctx.rest.toVersion(def, version, o);
    if (!def.builtin) return v;
    // Typed lists do not carry kind/apiVersion on their items.
    const copy: JsonObject = { ...v };
    delete copy['kind'];
    delete copy['apiVersion'];
    return copy;
  });
  return { kind: def.listKind, apiVersion: groupVersion(def.group, version), metadata, items };
}

async function readDecoded(req: IncomingMessage, body: () => Promise<Buffer>, kind: 'object' | 'patch', def: ResourceDef): Promise<JsonValue> {
  const raw = await body();
  const ct = contentTypeOf(req);
  if (kind === 'object') {
    if (ct === PROTOBUF_TYPE && def.builtin) {
      const decoded = decodeProtobufObject(raw);
      if (decoded) return decoded;
    }
    if (ct === 'application/yaml') return decodeYamlBody(raw.toString('utf8'), 'body');
    if (ct !== '' && ct !== 'application/json' && ct !== '*/*') {
      throw unsupportedMediaType(def.builtin ? ['application/json', 'application/yaml', PROTOBUF_TYPE] : ['application/json', 'application/yaml']);
    }
    return decodeJsonBody(raw.toString('utf8'), 'object');
  }
  if (ct === PATCH_TYPES.apply) return decodeYamlBody(raw.toString('utf8'), 'apply patch');
  return decodeJsonBody(raw.toString('utf8'), 'patch');
}

async function serveResource(
  ctx: HttpContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  method: string,
  rr: ResourceRequest,
  body: () => Promise<Buffer>,
): Promise<void> {
  const { def, version } = rr;
  const ns = rr.namespace ?? '';
  const mode = rr.verb === 'get' || rr.verb === 'list' || rr.verb === 'watch' ? negotiate(req, url) : ({ kind: 'json' } as OutputMode);
  const now = Date.now();
  const sendObject = (code: number, stored: JsonObject, headers: Record<string, string | string[]> = {}): void => {
    const out = ctx.rest.toVersion(def, version, stored);
    if (mode.kind === 'table') {
      const rv = text((out['metadata'] as JsonObject | undefined)?.['resourceVersion']);
      sendJson(res, code, buildTable(def, version, [out], { includeObject: mode.includeObject, resourceVersion: rv }, now), headers);
    } else {
      sendJson(res, code, out, headers);
    }
  };
  const sendWrite = (r: WriteResult, opts: WriteOptions): void => {
    if (r.status) sendJson(res, r.code, r.status, warningHeaders(opts));
    else if (r.object) sendObject(r.code, r.object, warningHeaders(opts));
  };
  switch (rr.verb) {
    case 'get':
      sendObject(200, ctx.rest.get(def, ns, rr.name!));
      return;
    case 'list': {
      const limitText = url.searchParams.get('limit');
      const limit = limitText === null || limitText === '' ? undefined : Number(limitText);
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw badRequest(`limit: Invalid value: "${limitText}": must be a non-negative integer`);
      const page = ctx.rest.list(def, rr.namespace, {
        labelSelector: url.searchParams.get('labelSelector') ?? undefined,
        fieldSelector: url.searchParams.get('fieldSelector') ?? undefined,
        limit,
        continueToken: url.searchParams.get('continue') || undefined,
        resourceVersion: url.searchParams.get('resourceVersion') ?? undefined,
        resourceVersionMatch: url.searchParams.get('resourceVersionMatch') || undefined,
      });
      if (mode.kind === 'table') {
        const outs = page.items.map((o) => ctx.rest.toVersion(def, version, o));
        sendJson(res, 200, buildTable(def, version, outs, { includeObject: mode.includeObject, resourceVersion: page.resourceVersion, continueToken: page.continueToken }, now));
      } else {
        sendJson(res, 200, listBody(ctx, def, version, page));
      }
      return;
    }
    case 'watch': {
      let fieldSelector = url.searchParams.get('fieldSelector') ?? undefined;
      if (rr.name !== undefined) {
        const byName = `metadata.name=${rr.name}`;
        fieldSelector = fieldSelector ? `${fieldSelector},${byName}` : byName;
      }
      const selection = parseSelection(def, url.searchParams.get('labelSelector') ?? undefined, fieldSelector);
      const timeoutText = url.searchParams.get('timeoutSeconds');
      const sie = url.searchParams.get('sendInitialEvents');
      ctx.hub.serve(req, res, {
        def,
        version,
        namespace: rr.namespace,
        selection,
        resourceVersion: url.searchParams.get('resourceVersion') ?? undefined,
        resourceVersionMatch: url.searchParams.get('resourceVersionMatch') || undefined,
        allowBookmarks: parseBool(url.searchParams.get('allowWatchBookmarks')) === true,
        sendInitialEvents: sie === null ? undefined : sie === 'true',
        timeoutSeconds: timeoutText !== null && timeoutText !== '' && Number(timeoutText) > 0 ? Number(timeoutText) : undefined,
        table: mode.kind === 'table' ? { includeObject: mode.includeObject } : undefined,
      });
      return;
    }
    case 'create': {
      const opts = writeOptions(url, 'CreateOptions');
      const obj = await readDecoded(req, body, 'object', def);
      sendWrite(ctx.rest.create(def, version, ns, obj, opts), opts);
      return;
    }
    case 'update': {
      const opts = writeOptions(url, 'UpdateOptions');
      const obj = await readDecoded(req, body, 'object', def);
      sendWrite(ctx.rest.update(def, version, ns, rr.name!, obj, opts, rr.subresource as Subresource), opts);
      return;
    }
    case 'patch': {
      const opts = writeOptions(url, 'PatchOptions');
      const ct = contentTypeOf(req);
      const accepted: string[] = def.hooks.smp
        ? [PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.strategic, PATCH_TYPES.apply]
        : [PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.apply];
      if (!accepted.includes(ct)) {
        await body().catch(() => undefined);
        throw unsupportedMediaType(accepted);
      }
      const force = parseBool(url.searchParams.get('force')) === true;
      const patch = await readDecoded(req, body, 'patch', def);
      sendWrite(ctx.rest.patch(def, version, ns, rr.name!, ct, patch, opts, rr.subresource as Subresource, force), opts);
      return;
    }
    case 'delete':
    case 'deletecollection': {
      const opts = await deleteOptions(req, url, body);
      if (rr.verb === 'delete') {
        sendWrite(ctx.rest.delete(def, ns, rr.name!, opts), {});
        return;
      }
      const limitText = url.searchParams.get('limit');
      const page = ctx.rest.deleteCollection(def, rr.namespace, {
        labelSelector: url.searchParams.get('labelSelector') ?? undefined,
        fieldSelector: url.searchParams.get('fieldSelector') ?? undefined,
        limit: limitText ? Number(limitText) : undefined,
      }, opts);
      sendJson(res, 200, listBody(ctx, def, version, page));
      return;
    }
    default:
      throw methodNotAllowed();
  }
  void method;
}

async function deleteOptions(req: IncomingMessage, url: URL, body: () => Promise<Buffer>): Promise<DeleteOptions> {
  const text = (await body()).toString('utf8').trim();
  let b: JsonObject = {};
  if (text) {
    const parsed = contentTypeOf(req) === 'application/yaml' ? decodeYamlBody(text, 'DeleteOptions') : decodeJsonBody(text, 'object');
    if (!isObject(parsed)) throw badRequest('DeleteOptions: the body must be an object');
    b = parsed;
  }
  const q = url.searchParams;
  const pre = isObject(b['preconditions']) ? b['preconditions'] : undefined;
  const policy = q.get('propagationPolicy') ?? (typeof b['propagationPolicy'] === 'string' ? b['propagationPolicy'] : undefined);
  const orphanQ = parseBool(q.get('orphanDependents'));
  const orphan = orphanQ ?? (typeof b['orphanDependents'] === 'boolean' ? b['orphanDependents'] : undefined);
  const dryBody = Array.isArray(b['dryRun']) ? b['dryRun'] : [];
  const dry = [...q.getAll('dryRun'), ...dryBody.filter((x): x is string => typeof x === 'string')];
  for (const d of dry) if (d !== 'All') throw invalid('meta.k8s.io', 'DeleteOptions', '', [fieldError.notSupported('dryRun', d, ['All'])]);
  return {
    propagationPolicy: policy ?? undefined,
    orphanDependents: orphan,
    preconditions: pre
      ? {
          uid: typeof pre['uid'] === 'string' ? pre['uid'] : undefined,
          resourceVersion: typeof pre['resourceVersion'] === 'string' ? pre['resourceVersion'] : undefined,
        }
      : undefined,
    dryRun: dry.length > 0,
  };
}
