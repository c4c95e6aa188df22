/**
 * Helpers for the kube-api conformance tests: raw HTTP requests, a watch-stream reader that
 * collects newline-delimited events, polling with a deadline, and a SealedSecret CRD fixture.
 */
import type { JsonObject, JsonValue } from '../../kube-api/json.js';
import type { KubeApiServer } from '../../kube-api/server.js';

/** A raw response. */
export interface RawResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON body (undefined when the body is not JSON). */
  body: JsonObject;
  text: string;
}

/** Sends a request to the server and parses the JSON answer. */
export async function call(
  server: KubeApiServer | string,
  method: string,
  path: string,
  body?: JsonValue | string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const base = typeof server === 'string' ? server : server.url;
  const init: RequestInit = { method, headers: { Accept: 'application/json', ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    if (!headers['Content-Type']) (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
  }
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  let parsed: JsonObject = {};
  try {
    parsed = JSON.parse(text) as JsonObject;
  } catch {
    parsed = {};
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** A watch event as received. */
export interface WatchEvent {
  type: string;
  object: JsonObject;
}

/** An open watch stream collecting events until closed. */
export interface WatchStream {
  status: number;
  events: WatchEvent[];
  /** Resolves when the server ends the stream (true) or it errors (false). */
  ended: Promise<boolean>;
  /** Waits until `n` events (optionally matching) arrived. */
  waitFor(n: number, pred?: (e: WatchEvent) => boolean, timeoutMs?: number): Promise<WatchEvent[]>;
  close(): void;
}

/** Opens a watch (`path` must contain the query, e.g. `?watch=true&resourceVersion=5`). */
export async function openWatch(server: KubeApiServer, path: string, headers: Record<string, string> = {}): Promise<WatchStream> {
  const ac = new AbortController();
  const res = await fetch(`${server.url}${path}`, { signal: ac.signal, headers: { Accept: 'application/json', ...headers } });
  const events: WatchEvent[] = [];
  const listeners = new Set<() => void>();
  const notify = (): void => { for (const l of [...listeners]) l(); };
  const ended = (async (): Promise<boolean> => {
    if (!res.body) return true;
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line.trim()) events.push(JSON.parse(line) as WatchEvent);
        }
        notify();
      }
      return true;
    } catch {
      return false;
    } finally {
      notify();
    }
  })();
  let settled = false;
  void ended.then(() => { settled = true; notify(); });
  return {
    status: res.status,
    events,
    ended,
    async waitFor(n, pred = () => true, timeoutMs = 5000) {
      const matching = (): WatchEvent[] => events.filter(pred);
      if (matching().length >= n) return matching();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${n} events; got ${JSON.stringify(events.map((e) => e.type))}`));
        }, timeoutMs);
        const check = (): void => {
          if (matching().length >= n) {
            clearTimeout(timer);
            listeners.delete(check);
            resolve(matching());
          } else if (settled) {
            clearTimeout(timer);
            listeners.delete(check);
            reject(new Error(`stream ended with ${JSON.stringify(events.map((e) => e.type))}`));
          }
        };
        listeners.add(check);
      });
    },
    close() {
      ac.abort();
    },
  };
}

/** Polls `fn` until it returns a truthy value or the deadline passes. */
export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 5000, intervalMs = 10): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A SealedSecret-like CRD with a status subresource, a required field and printer columns. */
export function sealedSecretCrd(opts: { statusSubresource?: boolean; scope?: 'Namespaced' | 'Cluster' } = {}): JsonObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'sealedsecrets.kseal.dev' },
    spec: {
      group: 'kseal.dev',
      names: { kind: 'SealedSecret', plural: 'sealedsecrets', singular: 'sealedsecret', shortNames: ['ss'] },
      scope: opts.scope ?? 'Namespaced',
      versions: [
        {
          name: 'v1alpha1',
          served: true,
          storage: true,
          ...(opts.statusSubresource === false ? {} : { subresources: { status: {} } }),
          additionalPrinterColumns: [{ name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' }],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  required: ['encryptedData'],
                  properties: {
                    encryptedData: { type: 'object', additionalProperties: { type: 'string' } },
                    template: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                    replicas: { type: 'integer', minimum: 0 },
                  },
                },
                status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
              },
            },
          },
        },
      ],
    },
  };
}

/** A SealedSecret object. */
export function sealedSecret(name: string, namespace: string, data: Record<string, string> = { password: 'AgAAAA==' }): JsonObject {
  return { apiVersion: 'kseal.dev/v1alpha1', kind: 'SealedSecret', metadata: { name, namespace }, spec: { encryptedData: data } };
}

/** A Secret object. */
export function secret(name: string, namespace: string, data: Record<string, string> = { a: 'YQ==' }, extra: JsonObject = {}): JsonObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, data, ...extra };
}

/** The `message` of a Status body. */
export function message(r: RawResponse): string {
  const m = r.body['message'];
  return typeof m === 'string' ? m : '';
}

/** The metadata of a response body. */
export function meta(o: JsonValue | undefined): JsonObject {
  return ((o as JsonObject | undefined)?.['metadata'] ?? {}) as JsonObject;
}
