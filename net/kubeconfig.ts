/**
 * The one kubeconfig loader of the CLI and the controller, with kubectl's rules: `--kubeconfig FILE`,
 * else every file of `$KUBECONFIG` (colon-separated, missing files skipped, the first file to set a
 * value wins), else `~/.kube/config`, else the in-cluster service account. `--context` picks a context.
 *
 * It reads the files with the `yaml` package only, so the CLI can default the namespace from the
 * context without loading `@kubernetes/client-node` (about a second and 100 MB): the client-node
 * `KubeConfig` is built from the result by kube-config-client.ts, only when a request is made.
 * Failures are KsealErrors that say what was looked at and what to do.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { isKsealError, KsealError } from '../src/errors.js';
import { readManifests } from '../src/manifest/read.js';

/** Which kubeconfig the user asked for. */
export interface KubeconfigSelection {
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
}

/** Where the service account of a pod is mounted. */
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** A kubeconfig document (the parts kseal reads; everything else is passed through). */
interface NamedEntry {
  name: string;
  [field: string]: unknown;
}
export interface KubeconfigDocument {
  apiVersion: 'v1';
  kind: 'Config';
  clusters: NamedEntry[];
  users: NamedEntry[];
  contexts: NamedEntry[];
  'current-context': string;
}

/** The kubeconfig to use, merged and resolved. */
export type ResolvedKubeconfig =
  | {
      readonly source: 'files';
      /** Files read, in order. */
      readonly files: readonly string[];
      /** The merged document, relative paths made absolute, current-context set to the chosen one. */
      readonly document: KubeconfigDocument;
      readonly context: string;
      /** The context's namespace, or "default" as kubectl says. */
      readonly namespace: string;
      readonly server: string;
      /** Whether the context set a namespace itself. */
      readonly namespaceFromContext: boolean;
    }
  | { readonly source: 'in-cluster'; readonly namespace: string; readonly server: string; readonly namespaceFromContext: boolean };

/** Options for tests: the service account directory and whether it may be used. */
export interface LoaderOptions {
  readonly serviceAccountDir?: string;
  /** Fall back to the in-cluster service account when no file is found (default true). */
  readonly inCluster?: boolean;
}

const PATH_FIELDS: Record<'cluster' | 'user', readonly string[]> = { cluster: ['certificate-authority'], user: ['client-certificate', 'client-key', 'tokenFile'] };

/** The kubeconfig files kubectl would read, in order, and what was looked at (for messages). */
function kubeconfigFiles(selection: KubeconfigSelection, env: Readonly<Record<string, string | undefined>>, cwd = process.cwd()): { files: string[]; looked: string[] } {
  if (selection.kubeconfig !== undefined && selection.kubeconfig !== '') {
    const file = resolve(cwd, expandHome(selection.kubeconfig, env));
    return { files: existsSync(file) ? [file] : [], looked: [`--kubeconfig ${selection.kubeconfig}`] };
  }
  const list = env.KUBECONFIG;
  if (list !== undefined && list !== '') {
    const paths = list.split(':').filter((p) => p !== '').map((p) => resolve(cwd, expandHome(p, env)));
    return { files: paths.filter((p) => existsSync(p)), looked: [`KUBECONFIG=${list}`] };
  }
  const home = env.HOME ?? env.USERPROFILE;
  if (home === undefined || home === '') return { files: [], looked: ['~/.kube/config (no HOME)'] };
  const file = join(home, '.kube', 'config');
  return { files: existsSync(file) ? [file] : [], looked: [file] };
}

function expandHome(path: string, env: Readonly<Record<string, string | undefined>>): string {
  return path === '~' || path.startsWith('~/') ? join(env.HOME ?? '', path.slice(1)) : path;
}

/** True when running in a pod with a mounted service account. */
function inClusterAvailable(env: Readonly<Record<string, string | undefined>>, dir = SERVICE_ACCOUNT_DIR): boolean {
  return (env.KUBERNETES_SERVICE_HOST ?? '') !== '' && existsSync(join(dir, 'token'));
}

/** Loads and merges the kubeconfig as kubectl would. Throws KsealError NO_KUBECONFIG or KUBECONFIG_INVALID. */
export function loadKubeconfig(selection: KubeconfigSelection, env: Readonly<Record<string, string | undefined>>, options: LoaderOptions & { readonly cwd?: string } = {}): ResolvedKubeconfig {
  const { files, looked } = kubeconfigFiles(selection, env, options.cwd);
  const serviceAccountDir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  if (files.length === 0) {
    const explicit = selection.kubeconfig !== undefined && selection.kubeconfig !== '';
    if (!explicit && options.inCluster !== false && inClusterAvailable(env, serviceAccountDir)) {
      if (selection.context !== undefined && selection.context !== '') {
        throw new KsealError('KUBECONFIG_INVALID', `--context ${JSON.stringify(selection.context)} needs a kubeconfig file, but none was found (looked at ${looked.join(', ')})`, { hint: 'pass --kubeconfig FILE' });
      }
      let namespace = 'default';
      try {
        namespace = readFileSync(join(serviceAccountDir, 'namespace'), 'utf8').trim() || 'default';
      } catch {
        // kubectl also falls back to "default".
      }
      const host = env.KUBERNETES_SERVICE_HOST ?? '';
      return { source: 'in-cluster', namespace, server: `https://${host.includes(':') ? `[${host}]` : host}:${env.KUBERNETES_SERVICE_PORT ?? '443'}`, namespaceFromContext: true };
    }
    if (explicit) throw new KsealError('NO_KUBECONFIG', `no such kubeconfig file: ${selection.kubeconfig ?? ''}`, { hint: 'check the path given to --kubeconfig' });
    throw new KsealError('NO_KUBECONFIG', `no kubeconfig found (looked at ${looked.join(', ')})`, {
      hint: 'pass --kubeconfig FILE or --context, reach the controller with --controller-url URL, or seal offline with --cert FILE',
    });
  }
  const document: KubeconfigDocument = { apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [], 'current-context': '' };
  for (const file of files) mergeFile(document, file);
  const context = selection.context !== undefined && selection.context !== '' ? selection.context : document['current-context'];
  const where = files.join(', ');
  if (context === '') {
    throw new KsealError('KUBECONFIG_INVALID', `the kubeconfig sets no current context (${where})`, { file: files[0] ?? '', hint: `pass --context (one of: ${names(document.contexts)}), or run kubectl config use-context NAME` });
  }
  const ctx = document.contexts.find((c) => c.name === context);
  if (ctx === undefined) {
    throw new KsealError('KUBECONFIG_INVALID', `the kubeconfig has no context ${JSON.stringify(context)}`, { file: files[0] ?? '', hint: `contexts in ${where}: ${names(document.contexts)}` });
  }
  const body = record(ctx.context);
  const clusterName = typeof body.cluster === 'string' ? body.cluster : '';
  const cluster = document.clusters.find((c) => c.name === clusterName);
  const server = typeof record(cluster?.cluster).server === 'string' ? (record(cluster?.cluster).server as string) : '';
  if (cluster === undefined || server === '') {
    throw new KsealError('KUBECONFIG_INVALID', `the kubeconfig's context ${JSON.stringify(context)} names cluster ${JSON.stringify(clusterName)}, which ${cluster === undefined ? 'is not defined' : 'has no server'}`, { file: files[0] ?? '', hint: 'fix the kubeconfig, or pass --context' });
  }
  const ns = typeof body.namespace === 'string' && body.namespace !== '' ? body.namespace : undefined;
  document['current-context'] = context;
  return { source: 'files', files, document, context, namespace: ns ?? 'default', namespaceFromContext: ns !== undefined, server };
}

/**
 * The namespace kubectl would use when none is given: the context's, else "default"; undefined when
 * there is no usable kubeconfig at all (an offline machine), so callers can ask for -n instead.
 */
export function contextNamespace(selection: KubeconfigSelection, env: Readonly<Record<string, string | undefined>>, options: LoaderOptions & { readonly cwd?: string } = {}): string | undefined {
  try {
    return loadKubeconfig(selection, env, options).namespace;
  } catch (e) {
    // An explicit but broken selection is an error the user must hear about; no kubeconfig at all is not.
    if (e instanceof KsealError && e.code === 'NO_KUBECONFIG' && (selection.kubeconfig ?? '') === '') return undefined;
    throw e;
  }
}

function names(entries: readonly NamedEntry[]): string {
  return entries.length === 0 ? '(none)' : entries.map((e) => e.name).join(', ');
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function mergeFile(into: KubeconfigDocument, file: string): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new KsealError('KUBECONFIG_INVALID', `cannot read the kubeconfig: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, { file });
  }
  let parsed: unknown;
  try {
    // The one parse entry, as for manifests (YAML 1.1, duplicate keys refused, limits applied).
    const objects = readManifests(text, file);
    if (objects.length > 1) throw new KsealError('KUBECONFIG_INVALID', 'the kubeconfig holds more than one document', { file });
    parsed = objects[0]?.value;
  } catch (e) {
    if (isKsealError(e, 'KUBECONFIG_INVALID')) throw e;
    throw new KsealError('KUBECONFIG_INVALID', isKsealError(e) ? `the kubeconfig cannot be read: ${e.message}` : 'the kubeconfig is not valid YAML', { file });
  }
  if (parsed === null || parsed === undefined) return;
  const doc = record(parsed);
  if (Object.keys(doc).length === 0) throw new KsealError('KUBECONFIG_INVALID', 'the kubeconfig is not a mapping', { file });
  const base = dirname(file);
  for (const [list, field] of [['clusters', 'cluster'], ['users', 'user'], ['contexts', 'context']] as const) {
    const entries = doc[list];
    if (entries === undefined || entries === null) continue;
    if (!Array.isArray(entries)) throw new KsealError('KUBECONFIG_INVALID', `the kubeconfig's ${list} is not a list`, { file });
    for (const entry of entries as unknown[]) {
      const e = record(entry);
      if (typeof e.name !== 'string' || into[list].some((x) => x.name === e.name)) continue; // first file wins
      const body = { ...record(e[field]) };
      if (field !== 'context') {
        for (const key of PATH_FIELDS[field]) {
          const value = body[key];
          if (typeof value === 'string' && value !== '' && !isAbsolute(value)) body[key] = resolve(base, value);
        }
      }
      into[list].push({ ...e, name: e.name, [field]: body });
    }
  }
  const current = doc['current-context'];
  if (into['current-context'] === '' && typeof current === 'string') into['current-context'] = current;
}
