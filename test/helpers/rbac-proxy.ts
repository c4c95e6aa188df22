/**
 * An HTTP proxy in front of the in-repo API that authorizes every request the way Kubernetes RBAC
 * would for one ServiceAccount: it derives the request attributes (verb, API group, resource with
 * subresource, namespace) from the method and path exactly as the API server's RequestInfo does,
 * allows them when a granted rule matches (a Role's rules in its namespace, a ClusterRole's
 * everywhere), and answers anything else with a 403 Status. It records every request, so a test can
 * prove both that a controller got nothing refused and that the check refuses what the rules lack.
 * Rules come from rendered manifests (`rulesFromManifests`), never written by hand in the test.
 */
import { createServer, request, type Server } from 'node:http';

/** One RBAC PolicyRule (resource rules only). */
export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

/** Rules granted in `namespace` (a Role bound by a RoleBinding), or everywhere (namespace undefined). */
export interface Grant {
  readonly namespace?: string;
  readonly rules: readonly PolicyRule[];
}

/** A request as the authorizer sees it. */
export interface RequestAttributes {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly namespace?: string;
  readonly path: string;
  readonly allowed: boolean;
}

export interface RbacProxy {
  readonly url: string;
  /** Every request so far. */
  readonly requests: RequestAttributes[];
  /** The refused ones, as `verb group/resource ns` lines. */
  refused(): string[];
  close(): Promise<void>;
}

type Manifest = { kind?: string; metadata?: { name?: string; namespace?: string }; rules?: PolicyRule[]; roleRef?: { kind: string; name: string }; subjects?: Array<{ kind: string; name: string; namespace?: string }> };

/** The grants that rendered RBAC objects give the ServiceAccount `namespace/name`. */
export function rulesFromManifests(objects: readonly Manifest[], serviceAccount: { namespace: string; name: string }): Grant[] {
  const bound = (o: Manifest): boolean => (o.subjects ?? []).some((s) => s.kind === 'ServiceAccount' && s.name === serviceAccount.name && s.namespace === serviceAccount.namespace);
  const role = (kind: string, name: string, namespace?: string): Manifest | undefined => objects.find((o) => o.kind === kind && o.metadata?.name === name && (kind === 'ClusterRole' || o.metadata?.namespace === namespace));
  const grants: Grant[] = [];
  for (const b of objects) {
    if (!bound(b) || b.roleRef === undefined) continue;
    if (b.kind === 'ClusterRoleBinding') {
      const r = role('ClusterRole', b.roleRef.name);
      if (r !== undefined) grants.push({ rules: r.rules ?? [] });
    } else if (b.kind === 'RoleBinding') {
      const r = role(b.roleRef.kind, b.roleRef.name, b.metadata?.namespace);
      if (r !== undefined) grants.push({ namespace: b.metadata?.namespace ?? '', rules: r.rules ?? [] });
    }
  }
  return grants;
}

/** The RBAC attributes of a request (k8s.io/apiserver RequestInfoFactory, resource requests only). */
function requestAttributes(method: string, url: string): Omit<RequestAttributes, 'allowed'> | { readonly nonResource: true; readonly path: string } {
  const u = new URL(url, 'http://x');
  const parts = u.pathname.split('/').filter((p) => p !== '');
  let rest: string[];
  let group: string;
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1] ?? '';
    rest = parts.slice(3);
  } else {
    return { nonResource: true, path: u.pathname };
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource = '', name, subresource] = rest;
  const watch = u.searchParams.get('watch') === 'true' || u.searchParams.get('watch') === '1';
  const verbs: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: name === undefined ? 'deletecollection' : 'delete' };
  const verb = method === 'GET' || method === 'HEAD' ? (watch ? 'watch' : name === undefined ? 'list' : 'get') : (verbs[method] ?? method.toLowerCase());
  return { verb, group, resource: subresource === undefined ? resource : `${resource}/${subresource}`, ...(namespace === undefined ? {} : { namespace }), path: u.pathname };
}

function allows(grants: readonly Grant[], a: Omit<RequestAttributes, 'allowed'>): boolean {
  return grants.some(
    (g) => (g.namespace === undefined || g.namespace === a.namespace) && g.rules.some((r) => r.apiGroups.includes(a.group) && r.resources.includes(a.resource) && r.verbs.includes(a.verb)),
  );
}

/** Starts the proxy on 127.0.0.1 in front of `targetPort`, authorizing with `grants`. */
export async function startRbacProxy(targetPort: number, grants: readonly Grant[]): Promise<RbacProxy> {
  const requests: RequestAttributes[] = [];
  const server: Server = createServer((req, res) => {
    const attrs = requestAttributes(req.method ?? 'GET', req.url ?? '/');
    // Discovery and /version are open to every authenticated user (system:discovery), as in a cluster.
    const allowed = 'nonResource' in attrs ? req.method === 'GET' : allows(grants, attrs);
    if (!('nonResource' in attrs)) requests.push({ ...attrs, allowed });
    if (!allowed) {
      req.resume();
      const what = 'nonResource' in attrs ? attrs.path : `${attrs.resource} in API group "${attrs.group}"${attrs.namespace === undefined ? ' at the cluster scope' : ` in the namespace "${attrs.namespace}"`}`;
      res.writeHead(403, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403, message: `forbidden: cannot ${'verb' in attrs ? attrs.verb : req.method} ${what} (rbac proxy)` }));
      return;
    }
    const upstream = request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers, agent: false }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    refused: () => requests.filter((r) => !r.allowed).map((r) => `${r.verb} ${r.group}/${r.resource} ${r.namespace ?? '(cluster)'}`),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
