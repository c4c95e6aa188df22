/**
 * Reaching the kseal controller's HTTP API: directly (`--controller-url`), or through the Kubernetes
 * API server's service proxy (`/api/v1/namespaces/NS/services/http:NAME:http/proxy/...`) with the
 * user's kubeconfig, as kubeseal does. `@kubernetes/client-node` is imported only on the proxy path:
 * it costs about a second and 100 MB, which offline commands must never pay.
 */
import type { RequestOptions } from 'node:https';
import { KsealError } from '../src/errors.js';
import { invalidNamespace } from '../src/model/names.js';
import type { CliIo } from './io.js';

export interface ControllerOptions {
  readonly controllerUrl?: string | undefined;
  readonly controllerNamespace: string;
  readonly controllerName: string;
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
}

export interface ControllerResponse {
  readonly status: number;
  readonly body: Buffer;
  /** The Retry-After header of a 429, in seconds. */
  readonly retryAfter?: string;
}

export interface ControllerClient {
  /** Where requests go, for messages. */
  readonly description: string;
  request(method: 'GET' | 'POST', path: string, body?: Buffer, contentType?: string): Promise<ControllerResponse>;
}

const TIMEOUT_MS = 30_000;

/** Builds a client for the controller named by the options. */
export async function controllerClient(options: ControllerOptions, io: CliIo): Promise<ControllerClient> {
  const direct = options.controllerUrl ?? io.env.KSEAL_CONTROLLER_URL;
  if (direct !== undefined && direct !== '') {
    const base = direct.replace(/\/+$/, '');
    return { description: base, request: (method, path, body, contentType) => send(new URL(base + path), { method }, body, contentType, base) };
  }
  const { base, requestOptions, description } = await kubeProxy(options, io);
  return { description, request: (method, path, body, contentType) => send(new URL(base + path), { ...requestOptions, method }, body, contentType, description) };
}

async function kubeProxy(options: ControllerOptions, io: CliIo): Promise<{ base: string; requestOptions: RequestOptions; description: string }> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  const file = options.kubeconfig ?? io.env.KUBECONFIG?.split(':').find((p) => p !== '');
  try {
    if (file !== undefined) kc.loadFromFile(file);
    else kc.loadFromDefault();
    if (options.context !== undefined) kc.setCurrentContext(options.context);
  } catch (e) {
    throw new KsealError('CONTROLLER_UNREACHABLE', `cannot load the kubeconfig: ${e instanceof Error ? e.message.split('\n')[0] : 'error'}`, {
      ...(file === undefined ? {} : { file }),
      hint: 'pass --kubeconfig, --controller-url, or --cert FILE to seal offline',
    });
  }
  const cluster = kc.getCurrentCluster();
  if (cluster === null) {
    throw new KsealError('CONTROLLER_UNREACHABLE', 'the kubeconfig has no current cluster', { hint: 'pass --context, --controller-url, or --cert FILE to seal offline' });
  }
  const requestOptions: RequestOptions = {};
  try {
    await kc.applyToHTTPSOptions(requestOptions);
  } catch (e) {
    throw new KsealError('CONTROLLER_UNREACHABLE', `cannot use the kubeconfig's credentials for ${cluster.server}: ${e instanceof Error ? (e.message.split('\n')[0] ?? '') : 'error'}`, {
      hint: 'check the kubeconfig (for an http:// server, set insecure-skip-tls-verify: true), or pass --controller-url or --cert FILE',
    });
  }
  const badNamespace = invalidNamespace(options.controllerNamespace);
  if (badNamespace) throw new KsealError('USAGE', `--controller-namespace ${JSON.stringify(options.controllerNamespace)} is not valid: it ${badNamespace}`);
  const badName = invalidNamespace(options.controllerName);
  if (badName) throw new KsealError('USAGE', `--controller-name ${JSON.stringify(options.controllerName)} is not valid: it ${badName}`);
  // Both are DNS labels (checked above), so the path needs no escaping; the proxy path syntax is scheme:name:port.
  const base = `${cluster.server.replace(/\/+$/, '')}/api/v1/namespaces/${options.controllerNamespace}/services/http:${options.controllerName}:http/proxy`;
  return { base, requestOptions, description: `service ${options.controllerNamespace}/${options.controllerName} via ${cluster.server}` };
}

async function send(url: URL, options: RequestOptions, body: Buffer | undefined, contentType: string | undefined, description: string): Promise<ControllerResponse> {
  // Loaded here, not at start-up: offline commands never pay for node:http and node:https.
  const { request: make } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise((resolvePromise, reject) => {
    const headers: Record<string, string | number> = { ...(options.headers as Record<string, string> | undefined), Accept: '*/*' };
    if (body !== undefined) {
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = body.length;
    }
    const req = make(url, { ...options, headers, timeout: TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      const retryAfter = res.headers['retry-after'];
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), ...(typeof retryAfter === 'string' ? { retryAfter } : {}) }));
      res.on('error', (e) => reject(unreachable(description, e)));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => reject(unreachable(description, e)));
    req.end(body);
  });
}

function unreachable(description: string, e: Error): KsealError {
  const why = (e as NodeJS.ErrnoException).code ?? e.message;
  return new KsealError('CONTROLLER_UNREACHABLE', `cannot reach the controller (${description}): ${why}`, {
    hint: 'check --controller-url / --controller-namespace / --context, or seal offline with --cert FILE (save it once with kseal cert)',
    cause: e,
  });
}

/** Throws CONTROLLER_ERROR for a non-2xx answer, quoting at most a short, single-line reason. */
export function expectOk(response: ControllerResponse, what: string, description: string): Buffer {
  if (response.status >= 200 && response.status < 300) return response.body;
  throw new KsealError('CONTROLLER_ERROR', `the controller (${description}) answered ${response.status} to ${what}`, {
    hint: response.status === 404 || response.status === 503 ? 'is the kseal controller installed and running? (kubectl -n kseal-system get pods)' : 'see the controller logs',
  });
}

/** GETs a URL given by the user (`--cert https://...`). */
export async function getUrl(url: string): Promise<Buffer> {
  const response = await send(new URL(url), { method: 'GET' }, undefined, undefined, url);
  return expectOk(response, `GET ${url}`, url);
}
