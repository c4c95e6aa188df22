/**
 * Reaching the kseal controller's HTTP API: directly (`--controller-url`), or through the Kubernetes
 * API server's service proxy (`/api/v1/namespaces/NS/services/http:NAME:http/proxy/...`) with the
 * user's kubeconfig, as kubeseal does. The kubeconfig rules and the HTTP client are the ones the
 * controller uses (net/). `@kubernetes/client-node` is imported only on the proxy path: it costs
 * about a second and 100 MB, which offline commands must never pay.
 */
import type { RequestOptions } from 'node:https';
import { KsealError } from '../src/errors.js';
import { DEFAULT_CONTROLLER_NAMESPACE } from '../src/model/key-secret.js';
import { invalidNamespace } from '../src/model/names.js';
import { fetchBuffered, parseHttpUrl, RequestFailed } from '../net/http-client.js';
import { loadKubeconfig } from '../net/kubeconfig.js';
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
  /** The controller's namespace (for hints); undefined for --controller-url. */
  readonly namespace: string | undefined;
  request(method: 'GET' | 'POST', path: string, body?: Buffer, contentType?: string): Promise<ControllerResponse>;
}

const TIMEOUT_MS = 30_000;

/** Builds a client for the controller named by the options. */
export async function controllerClient(options: ControllerOptions, io: CliIo): Promise<ControllerClient> {
  // --controller-url or KSEAL_CONTROLLER_URL (bound by commander).
  const direct = options.controllerUrl;
  if (direct !== undefined && direct !== '') {
    const base = parseHttpUrl(direct, '--controller-url').href.replace(/\/+$/, '');
    const description = `the controller at ${base}`;
    return { description, namespace: undefined, request: (method, path, body, contentType) => send(new URL(base + path), method, {}, body, contentType, description, undefined) };
  }
  const { base, requestOptions, description } = await kubeProxy(options, io);
  const namespace = options.controllerNamespace;
  return { description, namespace, request: (method, path, body, contentType) => send(new URL(base + path), method, requestOptions, body, contentType, description, namespace) };
}

async function kubeProxy(options: ControllerOptions, io: CliIo): Promise<{ base: string; requestOptions: RequestOptions; description: string }> {
  const badNamespace = invalidNamespace(options.controllerNamespace);
  if (badNamespace) throw new KsealError('USAGE', `--controller-namespace ${JSON.stringify(options.controllerNamespace)} is not valid: it ${badNamespace}`);
  const badName = invalidNamespace(options.controllerName);
  if (badName) throw new KsealError('USAGE', `--controller-name ${JSON.stringify(options.controllerName)} is not valid: it ${badName}`);
  const resolved = loadKubeconfig({ kubeconfig: options.kubeconfig, context: options.context }, io.env, { cwd: io.cwd });
  const { toKubeConfig } = await import('../net/kube-config-client.js');
  const kc = toKubeConfig(resolved);
  const requestOptions: RequestOptions = {};
  try {
    await kc.applyToHTTPSOptions(requestOptions);
  } catch (e) {
    throw new KsealError('KUBECONFIG_INVALID', `cannot use the kubeconfig's credentials for ${resolved.server}: ${e instanceof Error ? (e.message.split('\n')[0] ?? '') : 'error'}`, {
      hint: 'check the kubeconfig (kubectl get ns should work), or pass --controller-url URL, or --cert FILE to seal offline',
    });
  }
  // Both are DNS labels (checked above), so the path needs no escaping; the proxy path syntax is scheme:name:port.
  const base = `${resolved.server.replace(/\/+$/, '')}/api/v1/namespaces/${options.controllerNamespace}/services/http:${options.controllerName}:http/proxy`;
  return { base, requestOptions, description: `service ${options.controllerNamespace}/${options.controllerName} via ${resolved.server}` };
}

async function send(url: URL, method: string, options: RequestOptions, body: Buffer | undefined, contentType: string | undefined, description: string, namespace: string | undefined): Promise<ControllerResponse> {
  const headers: Record<string, string | number> = { Accept: '*/*' };
  if (body !== undefined) headers['Content-Type'] = contentType ?? 'application/json';
  try {
    const response = await fetchBuffered({ method, url, options, headers, ...(body === undefined ? {} : { body }), timeoutMs: TIMEOUT_MS });
    const retryAfter = response.headers['retry-after'];
    return { status: response.status, body: response.body, ...(typeof retryAfter === 'string' ? { retryAfter } : {}) };
  } catch (e) {
    throw unreachable(description, e, namespace);
  }
}

function unreachable(description: string, e: unknown, namespace: string | undefined): KsealError {
  const why = e instanceof RequestFailed ? e.code : e instanceof Error ? e.message : 'error';
  const tls = /CERT|SSL|TLS|SELF_SIGNED/.test(why);
  return new KsealError('CONTROLLER_UNREACHABLE', `cannot reach ${description}: ${why}`, {
    hint: tls
      ? 'the server\'s TLS certificate is not trusted: check the kubeconfig\'s certificate-authority'
      : namespace === undefined
        ? 'check the URL and that the controller is listening there, or seal offline with --cert FILE (save it once with kseal cert)'
        : `check --controller-namespace / --controller-name / --context (kubectl -n ${namespace} get svc), or seal offline with --cert FILE (save it once with kseal cert)`,
    cause: e,
  });
}

/** Throws CONTROLLER_ERROR for a non-2xx answer, quoting at most a short, single-line reason. */
export function expectOk(response: ControllerResponse, what: string, client: Pick<ControllerClient, 'description' | 'namespace'>): Buffer {
  if (response.status >= 200 && response.status < 300) return response.body;
  // A bound of the controller's (413 INPUT_TOO_LARGE / TOO_MANY_VALUES): its one-line message names
  // the limit and the controller flag (the API never puts a value in a message).
  const refusal = response.status === 413 ? apiError(response.body) : undefined;
  if (refusal !== undefined) {
    throw new KsealError('CONTROLLER_ERROR', `${client.description} refused ${what} (${response.status} ${refusal.code}): ${refusal.message}`, {
      hint: refusal.code === 'TOO_MANY_VALUES' ? 'split the SealedSecret into smaller ones, or ask the cluster admin to raise --http-max-values' : 'ask the cluster admin to raise --http-max-body',
    });
  }
  const ns = client.namespace ?? DEFAULT_CONTROLLER_NAMESPACE;
  throw new KsealError('CONTROLLER_ERROR', `${client.description} answered ${response.status} to ${what}`, {
    hint:
      response.status === 404 || response.status === 503
        ? client.namespace === undefined
          ? 'is this the kseal controller\'s URL? (it serves /v1/cert.pem)'
          : `is the kseal controller installed and running? (kubectl -n ${ns} get pods,svc)`
        : 'see the controller logs',
  });
}

/** The `{code, message}` error body of the controller's API, when that is what `body` is. */
function apiError(body: Buffer): { code: string; message: string } | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { code?: unknown; message?: unknown };
    if (typeof parsed.code === 'string' && typeof parsed.message === 'string' && /^[A-Z_]{1,40}$/.test(parsed.code)) return { code: parsed.code, message: parsed.message.slice(0, 300) };
  } catch {
    // Not the API's JSON: the caller reports the status only.
  }
  return undefined;
}

/** GETs a URL given by the user (`--cert https://...`): messages speak of that URL, not of "the controller". */
export async function getUrl(text: string, flag: string): Promise<Buffer> {
  const url = parseHttpUrl(text, flag);
  let response;
  try {
    response = await fetchBuffered({ method: 'GET', url, timeoutMs: TIMEOUT_MS });
  } catch (e) {
    const why = e instanceof RequestFailed ? e.code : 'error';
    const tls = /CERT|SSL|TLS|SELF_SIGNED/.test(why);
    throw new KsealError('CONTROLLER_UNREACHABLE', `cannot fetch the certificate from ${url.href}: ${why}`, {
      hint: tls ? 'the server\'s TLS certificate is not trusted (set NODE_EXTRA_CA_CERTS=ca.pem), or download the certificate and pass --cert FILE' : `check the URL, or download the certificate and pass ${flag} FILE`,
      cause: e,
    });
  }
  if (response.status < 200 || response.status > 299) {
    throw new KsealError('CONTROLLER_ERROR', `${url.href} answered ${response.status}`, { hint: response.status === 404 ? 'check the URL of the certificate' : `download the certificate and pass ${flag} FILE` });
  }
  return response.body;
}
