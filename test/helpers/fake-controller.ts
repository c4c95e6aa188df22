/**
 * A stand-in for the controller's HTTP API on loopback, reachable directly or under the Kubernetes
 * API service-proxy path, for CLI tests of certificate fetching. It records the paths requested.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeController {
  readonly url: string;
  readonly requests: Array<{ method: string; path: string; authorization: string | undefined }>;
  close(): Promise<void>;
}

/** Starts a server answering GET .../v1/cert.pem with `certPem`; `handler` may answer other requests. */
export async function startFakeController(certPem: string, handler?: (req: IncomingMessage, body: Buffer, res: ServerResponse) => boolean): Promise<FakeController> {
  const requests: FakeController['requests'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization });
      if (handler?.(req, Buffer.concat(chunks), res) === true) return;
      if (req.method === 'GET' && path.endsWith('/v1/cert.pem')) {
        res.writeHead(200, { 'Content-Type': 'application/x-pem-file' }).end(certPem);
        return;
      }
      res.writeHead(404).end('not found');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A kubeconfig pointing at `server` with a bearer token. */
export function kubeconfigFor(server: string, token = 'test-token'): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: ${server}
    insecure-skip-tls-verify: true
users:
- name: test
  user:
    token: ${token}
contexts:
- name: test
  context: {cluster: test, user: test, namespace: default}
- name: other
  context: {cluster: test, user: test, namespace: default}
current-context: test
`;
}
