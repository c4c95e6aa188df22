/**
 * Kubernetes access for the controller, on @kubernetes/client-node 1.4: the KubeConfig (in-cluster by
 * default, or a kubeconfig file and context) supplies the server, TLS and credentials for every
 * request (applyToHTTPSOptions, so exec/OIDC tokens stay fresh), over keep-alive connections.
 *
 * - Leases go through client-node's typed CoordinationV1Api, with V1MicroTime times (anchors.md: a
 *   plain Date serialises with 3 fractional digits and the real API server rejects it).
 * - The per-object traffic (Secrets, the SealedSecret status subresource, Events) and list/watch are
 *   plain JSON requests on the same KubeConfig: measured on 500 SealedSecrets, the typed path cost
 *   ~25% more main-thread CPU per object (ObjectSerializer round trips, node-fetch), and client-node's
 *   informer/Watch cannot serve here: its ListWatch never asks for bookmarks and stops on any error
 *   but 410, and Watch cannot be aborted before the response headers arrive (a half-open connection
 *   hangs it for ever).
 * - The TLS and auth options (applyToHTTPSOptions: it reads the CA, client certificate and token
 *   files and runs the authenticator on every call, and its agent lookup hashes them) are reused for
 *   OPTIONS_TTL_MS and looked up again after a 401, instead of once per request (issue 15: a cold sync
 *   sends three requests per object).
 * - Patches carry an explicit `application/merge-patch+json` (client-node defaults to JSON-patch).
 * - Errors are KubeErrors rebuilt from the Status `code`, `reason` and `message` only (an
 *   ApiException's message embeds the whole response body and headers).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, RequestOptions } from 'node:http';
import { createInterface } from 'node:readline';
import {
  ApiException,
  CoordinationV1Api,
  KubeConfig,
  PatchStrategy,
  type CoreV1Event,
  type V1Lease,
} from '@kubernetes/client-node';
import { flat } from './compact-objects.js';
import { SEALED_SECRET_GROUP, SEALED_SECRET_PLURAL, SEALED_SECRET_VERSION } from '../src/wire.js';
import { abortError, openRequest, readBody as readAll, RequestFailed } from '../net/http-client.js';

/** A Kubernetes object as plain JSON (what list/watch deliver and the controller works on). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMetaJson;
  [field: string]: unknown;
}

/** The metadata fields the controller reads. */
export interface ObjectMetaJson {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReferenceJson[];
  managedFields?: unknown;
  [field: string]: unknown;
}

export interface OwnerReferenceJson {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** A Secret as JSON. */
export interface SecretJson extends KubeObject {
  type?: string;
  immutable?: boolean;
  data?: Record<string, string>;
}

/** An API failure with what is safe to show: HTTP status, Status reason and message (never a body dump). */
export class KubeError extends Error {
  override readonly name = 'KubeError';

  constructor(
    message: string,
    /** HTTP status; undefined for network failures. */
    readonly status: number | undefined,
    /** Status `reason` (NotFound, AlreadyExists, Conflict...). */
    readonly reason: string | undefined,
  ) {
    super(message);
  }
}

/** The HTTP status of an API error (KubeError, ApiException), or undefined. */
export function statusOf(error: unknown): number | undefined {
  if (error instanceof KubeError) return error.status;
  if (error instanceof ApiException) return error.code;
  return undefined;
}

/** True for errors worth retrying as they are: network failures, 429 and 5xx. */
export function isTransient(error: unknown): boolean {
  const status = statusOf(error);
  return status === undefined || status === 429 || status >= 500;
}

/** Turns any error of an API call into a KubeError with a safe message. */
function toKubeError(error: unknown, what: string): KubeError {
  if (error instanceof KubeError) return error;
  if (error instanceof ApiException) {
    const status = parseStatus(error.body);
    return new KubeError(`${what}: ${error.code} ${status.reason ?? ''}${status.message === undefined ? '' : `: ${status.message}`}`.replace(/ :/, ':'), error.code, status.reason);
  }
  const e = error as { code?: unknown; name?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : typeof e?.name === 'string' ? e.name : 'network error';
  return new KubeError(`${what}: ${code}`, undefined, undefined);
}

function parseStatus(body: unknown): { reason?: string; message?: string } {
  let value: unknown = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return {};
    }
  }
  if (typeof value !== 'object' || value === null) return {};
  const { reason, message } = value as { reason?: unknown; message?: unknown };
  return { ...(typeof reason === 'string' ? { reason } : {}), ...(typeof message === 'string' ? { message: message.slice(0, 300) } : {}) };
}

type CreateAgent = (cluster: unknown, options: Record<string, unknown>) => unknown;

/** TCP keep-alive delay of every API connection (a half-open watch is noticed by the informer's watchdog first). */
const TCP_KEEPALIVE_MS = 15_000;

/**
 * Makes every request of `kc` reuse keep-alive connections. client-node 1.4 builds a new agent (so a
 * new TCP connection and, on a real cluster, a new TLS handshake) for every request; this caches one
 * keep-alive agent per distinct set of agent options (CA, client certificate...). It replaces the
 * instance's createAgent, private in client-node's types: the version is pinned, and
 * test/controller/kube-client.test.ts checks that connections are reused.
 */
function reuseConnections(kc: KubeConfig): KubeConfig {
  const target = kc as unknown as { createAgent: CreateAgent; ksealAgents?: Map<string, unknown> };
  if (target.ksealAgents !== undefined) return kc;
  const original: CreateAgent = target.createAgent.bind(kc);
  const agents = new Map<string, unknown>();
  target.ksealAgents = agents;
  target.createAgent = (cluster, options) => {
    const key = createHash('sha256')
      .update(JSON.stringify({ server: (cluster as { server?: string } | null)?.server, options }))
      .digest('hex');
    let agent = agents.get(key);
    if (agent === undefined) {
      // The agent sets TCP keep-alive on every socket it takes back; with the delay requests use
      // (send's onSocket) that is one setsockopt per socket instead of two per request.
      agent = original(cluster, { ...options, keepAlive: true, keepAliveMsecs: TCP_KEEPALIVE_MS });
      agents.set(key, agent);
    }
    return agent;
  };
  return kc;
}

/** One event of a watch stream. */
export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: KubeObject;
}

/** A list response. */
export interface ListResult {
  readonly items: KubeObject[];
  readonly resourceVersion: string;
  readonly continueToken: string | undefined;
}

/** Raw list and watch over a REST path, abortable at any point. */
export interface ListWatchTransport {
  list(path: string, query: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<ListResult>;
  /**
   * Streams a watch; resolves when the server ends it cleanly, rejects with a KubeError on a non-200
   * answer or a network failure, and with an AbortError when `signal` aborts.
   */
  watch(path: string, query: Readonly<Record<string, string>>, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<void>;
}

/** The API calls the controller makes, as plain JSON. */
export interface KubeApi extends ListWatchTransport {
  readNamespacedSecret(namespace: string, name: string): Promise<SecretJson | undefined>;
  createNamespacedSecret(namespace: string, body: SecretJson): Promise<SecretJson>;
  replaceNamespacedSecret(namespace: string, name: string, body: SecretJson): Promise<SecretJson>;
  /** Reads a SealedSecret (kseal.dev, or `group` bitnami.com); undefined when it is gone. */
  readNamespacedCustomObject(namespace: string, name: string, group?: string): Promise<KubeObject | undefined>;
  /** Merge-patches the status subresource of a SealedSecret; undefined when it is gone. */
  /** Merge-patches a SealedSecret's status (kseal.dev, or `group` bitnami.com for adopted objects). */
  patchNamespacedCustomObjectStatus(namespace: string, name: string, status: Record<string, unknown>, group?: string): Promise<KubeObject | undefined>;
  readNamespacedLease(namespace: string, name: string): Promise<V1Lease | undefined>;
  /** Every Lease in `namespace` (the shard Leases of other --shards values: shard-conflicts.ts). */
  listNamespacedLease(namespace: string): Promise<V1Lease[]>;
  createNamespacedLease(namespace: string, body: V1Lease): Promise<V1Lease>;
  replaceNamespacedLease(namespace: string, name: string, body: V1Lease): Promise<V1Lease>;
  createNamespacedEvent(namespace: string, body: CoreV1Event): Promise<CoreV1Event>;
  /** Merge-patches an Event (count and lastTimestamp of a repeat). */
  patchNamespacedEvent(namespace: string, name: string, patch: Record<string, unknown>): Promise<void>;
}

/** Longest wait for the answer to any request but a watch (the informer's watchdog guards those). */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * How long one lookup of the TLS and auth options serves requests. Short enough that a rotated token
 * file or CA is picked up within a second (client-node itself re-reads a token file only every 60 s);
 * a 401 drops them at once.
 */
export const OPTIONS_TTL_MS = 1_000;

/** Test seams of ClientNodeApi. */
export interface ClientNodeApiOptions {
  /** Milliseconds clock for OPTIONS_TTL_MS (default performance.now). */
  readonly now?: () => number;
}

/** KubeApi on client-node. */
export class ClientNodeApi implements KubeApi {
  private readonly coordination: CoordinationV1Api;
  private readonly now: () => number;
  private requestOptions: { readonly at: number; readonly value: Promise<RequestOptions> } | undefined;

  constructor(
    private readonly kc: KubeConfig,
    options: ClientNodeApiOptions = {},
  ) {
    reuseConnections(kc);
    this.coordination = kc.makeApiClient(CoordinationV1Api);
    this.now = options.now ?? (() => performance.now());
  }

  /** client-node's TLS and auth options, looked up at most once per OPTIONS_TTL_MS (module comment). */
  private httpsOptions(): Promise<RequestOptions> {
    const now = this.now();
    const cached = this.requestOptions;
    if (cached !== undefined && now - cached.at < OPTIONS_TTL_MS) return cached.value;
    const value = (async () => {
      const https: RequestOptions = {};
      await this.kc.applyToHTTPSOptions(https);
      return https;
    })();
    this.requestOptions = { at: now, value };
    // A failed lookup (an exec plugin that failed) is not kept: the next request tries again.
    value.catch(() => {
      if (this.requestOptions?.value === value) this.requestOptions = undefined;
    });
    return value;
  }

  async readNamespacedSecret(namespace: string, name: string): Promise<SecretJson | undefined> {
    return this.json<SecretJson>(`get secret ${namespace}/${name}`, 'GET', resourcePath({ namespace, resource: 'secrets', name }), undefined, undefined, true);
  }

  async createNamespacedSecret(namespace: string, body: SecretJson): Promise<SecretJson> {
    return (await this.json<SecretJson>(`create secret ${namespace}/${body.metadata.name}`, 'POST', resourcePath({ namespace, resource: 'secrets' }), body)) as SecretJson;
  }

  async replaceNamespacedSecret(namespace: string, name: string, body: SecretJson): Promise<SecretJson> {
    return (await this.json<SecretJson>(`update secret ${namespace}/${name}`, 'PUT', resourcePath({ namespace, resource: 'secrets', name }), body)) as SecretJson;
  }

  async readNamespacedCustomObject(namespace: string, name: string, group: string = SEALED_SECRET_GROUP): Promise<KubeObject | undefined> {
    const path = resourcePath({ group, version: SEALED_SECRET_VERSION, namespace, resource: SEALED_SECRET_PLURAL, name });
    return this.json<KubeObject>(`get sealedsecret ${namespace}/${name}`, 'GET', path, undefined, undefined, true);
  }

  async patchNamespacedCustomObjectStatus(namespace: string, name: string, status: Record<string, unknown>, group: string = SEALED_SECRET_GROUP): Promise<KubeObject | undefined> {
    const path = resourcePath({ group, version: SEALED_SECRET_VERSION, namespace, resource: SEALED_SECRET_PLURAL, name, subresource: 'status' });
    return this.json<KubeObject>(`patch sealedsecret status ${namespace}/${name}`, 'PATCH', path, { status }, PatchStrategy.MergePatch, true);
  }

  async listNamespacedLease(namespace: string): Promise<V1Lease[]> {
    try {
      return (await this.coordination.listNamespacedLease({ namespace })).items;
    } catch (e) {
      throw toKubeError(e, `list leases ${namespace}`);
    }
  }

  async readNamespacedLease(namespace: string, name: string): Promise<V1Lease | undefined> {
    try {
      return await this.coordination.readNamespacedLease({ namespace, name });
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw toKubeError(e, `get lease ${namespace}/${name}`);
    }
  }

  async createNamespacedLease(namespace: string, body: V1Lease): Promise<V1Lease> {
    try {
      return await this.coordination.createNamespacedLease({ namespace, body });
    } catch (e) {
      throw toKubeError(e, `create lease ${namespace}/${body.metadata?.name ?? ''}`);
    }
  }

  async replaceNamespacedLease(namespace: string, name: string, body: V1Lease): Promise<V1Lease> {
    try {
      return await this.coordination.replaceNamespacedLease({ namespace, name, body });
    } catch (e) {
      throw toKubeError(e, `update lease ${namespace}/${name}`);
    }
  }

  async createNamespacedEvent(namespace: string, body: CoreV1Event): Promise<CoreV1Event> {
    return (await this.json<CoreV1Event>(`create event in ${namespace}`, 'POST', resourcePath({ namespace, resource: 'events' }), body)) as CoreV1Event;
  }

  async patchNamespacedEvent(namespace: string, name: string, patch: Record<string, unknown>): Promise<void> {
    await this.json(`patch event ${namespace}/${name}`, 'PATCH', resourcePath({ namespace, resource: 'events', name }), patch, PatchStrategy.MergePatch);
  }

  async list(path: string, query: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<ListResult> {
    const response = await this.open(path, query, signal, REQUEST_TIMEOUT_MS);
    const text = await readBody(response);
    if (response.statusCode !== 200) throw errorFromBody(`list ${path}`, response.statusCode, text);
    const body = parseAnswer<{ items?: KubeObject[] | null; metadata?: { resourceVersion?: string; continue?: string } }>(text, `list ${path}`);
    const token = body.metadata?.continue;
    return { items: body.items ?? [], resourceVersion: body.metadata?.resourceVersion ?? '', continueToken: token === undefined || token === '' ? undefined : token };
  }

  async watch(path: string, query: Readonly<Record<string, string>>, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    const response = await this.open(path, { ...query, watch: '1' }, signal);
    if (response.statusCode !== 200) throw errorFromBody(`watch ${path}`, response.statusCode, await readBody(response));
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      const fail = (e: unknown): void => {
        failed = true;
        reject(signal.aborted ? abortError() : e instanceof Error ? e : new Error(String(e)));
      };
      response.on('error', fail);
      response.on('aborted', () => fail(new KubeError(`watch ${path}: connection aborted`, undefined, undefined)));
      const lines = createInterface({ input: response, crlfDelay: Infinity });
      // readline re-emits the response's errors (a reset connection) on itself.
      lines.on('error', fail);
      lines.on('line', (line) => {
        if (line.trim() === '') return;
        let event: WatchEvent;
        try {
          event = JSON.parse(line) as WatchEvent;
        } catch {
          return fail(new KubeError(`watch ${path}: malformed event`, undefined, undefined));
        }
        onEvent(event);
      });
      lines.on('close', () => {
        if (!failed) {
          if (signal.aborted) fail(abortError());
          else resolve();
        }
      });
    });
  }

  /** Opens a GET on `path`, with client-node's TLS and auth options. */
  private open(path: string, query: Readonly<Record<string, string>>, signal?: AbortSignal, timeoutMs?: number): Promise<IncomingMessage> {
    return this.send('GET', path, { query, ...(signal === undefined ? {} : { signal }), ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  }

  /** Sends one request with client-node's TLS and auth options (keep-alive, see reuseConnections). */
  private async send(
    method: string,
    path: string,
    options: { query?: Readonly<Record<string, string>>; body?: unknown; contentType?: string; signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<IncomingMessage> {
    const cluster = this.kc.getCurrentCluster();
    if (cluster === null) throw new KubeError('no current cluster in the kubeconfig', undefined, undefined);
    const url = new URL(cluster.server.replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
    const https = await this.httpsOptions();
    const { signal } = options;
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body), 'utf8');
    const headers: Record<string, string | number> = { ...(https.headers as Record<string, string>), Accept: 'application/json' };
    if (payload !== undefined) {
      headers['Content-Type'] = options.contentType ?? 'application/json';
      headers['Content-Length'] = payload.length;
    }
    // A request that hangs (a half-open connection) must not hold a reconcile, or shutdown, for ever.
    try {
      const response = await openRequest({
        method,
        url,
        options: { ...https, headers },
        ...(payload === undefined ? {} : { body: payload }),
        ...(signal === undefined ? {} : { signal }),
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        onSocket: (socket) => socket.setKeepAlive(true, TCP_KEEPALIVE_MS),
      });
      // Credentials refused (an expired or rotated token): look them up again for the next request.
      if (response.statusCode === 401) this.requestOptions = undefined;
      return response;
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw abortError();
      const code = e instanceof RequestFailed ? e.code : 'network error';
      throw new KubeError(code === 'TIMEOUT' ? `${method} ${path}: no answer within ${options.timeoutMs ?? 0} ms` : `${method} ${path}: ${code}`, undefined, undefined);
    }
  }

  /** One JSON request; undefined on 404 when `allow404`; a KubeError on any other non-2xx answer. */
  private async json<T>(what: string, method: string, path: string, body?: unknown, contentType?: string, allow404 = false): Promise<T | undefined> {
    const response = await this.send(method, path, { body, timeoutMs: REQUEST_TIMEOUT_MS, ...(contentType === undefined ? {} : { contentType }) });
    const text = await readBody(response);
    const status = response.statusCode ?? 0;
    if (status === 404 && allow404) return undefined;
    if (status < 200 || status > 299) throw errorFromBody(what, status, text);
    return parseAnswer<T>(text, what);
  }
}

/**
 * Parses an answer body. V8's SyntaxError quotes the start of the text, which for a Secret would be
 * its data: the error says only what could not be parsed.
 */
function parseAnswer<T>(text: string, what: string): T {
  try {
    // API server answers, not user files: JSON.parse (linear, native) is the parser for them.
    return JSON.parse(text) as T;
  } catch {
    throw new KubeError(`${what}: the answer is not JSON`, undefined, undefined);
  }
}

async function readBody(response: IncomingMessage): Promise<string> {
  return (await readAll(response)).toString('utf8');
}

function errorFromBody(what: string, status: number | undefined, text: string): KubeError {
  const parsed = parseStatus(text);
  return new KubeError(`${what}: ${status ?? 0} ${parsed.reason ?? ''}${parsed.message === undefined ? '' : `: ${parsed.message}`}`.replace(/ :/, ':'), status, parsed.reason);
}

/**
 * The REST path of a resource: its collection (no name), one object, or a subresource; `group`
 * empty (default) for the core API.
 */
export function resourcePath(p: { group?: string; version?: string; namespace?: string; resource: string; name?: string; subresource?: string }): string {
  const root = p.group === undefined || p.group === '' ? `/api/${p.version ?? 'v1'}` : `/apis/${p.group}/${p.version ?? 'v1'}`;
  const ns = p.namespace === undefined ? '' : `/namespaces/${encodeURIComponent(p.namespace)}`;
  const name = p.name === undefined ? '' : `/${encodeURIComponent(p.name)}`;
  const sub = p.subresource === undefined ? '' : `/${p.subresource}`;
  return `${root}${ns}/${p.resource}${name}${sub}`;
}

/**
 * `namespace/name` of an object (the work-queue key), as a flat string: the key is held in the
 * caches and queues of every object, and a concatenated one costs a wrapper and its parts as well.
 */
export function objectKey(obj: { metadata: { name: string; namespace?: string } }): string {
  return flat(`${obj.metadata.namespace ?? ''}/${obj.metadata.name}`);
}

/** Splits a `namespace/name` key. */
export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
