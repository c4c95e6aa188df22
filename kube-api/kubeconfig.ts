/**
 * The kubeconfig that points client-node and kubectl at the server: one cluster
 * (`server: http://127.0.0.1:PORT`, `insecure-skip-tls-verify: true`, which client-node needs for
 * http), one token user, one context.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

/** What goes into the kubeconfig. */
export interface KubeconfigSpec {
  server: string;
  token: string;
  namespace?: string;
  name?: string;
}

/** The kubeconfig YAML. */
export function kubeconfigYaml(spec: KubeconfigSpec): string {
  const name = spec.name ?? 'kseal-kube-api';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: spec.server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: `${name}-user`, user: { token: spec.token } }],
    contexts: [{ name, context: { cluster: name, user: `${name}-user`, namespace: spec.namespace ?? 'default' } }],
    'current-context': name,
    preferences: {},
  });
}

/** A kubeconfig written to disk; `remove()` deletes what was created. */
export interface KubeconfigFile {
  path: string;
  remove(): void;
}

/** Writes the kubeconfig to `path`, or to a new temporary directory when no path is given. */
export function writeKubeconfig(yaml: string, path?: string): KubeconfigFile {
  if (path) {
    writeFileSync(path, yaml, { mode: 0o600 });
    return { path, remove: () => rmSync(path, { force: true }) };
  }
  const dir = mkdtempSync(join(tmpdir(), 'kseal-kube-api-'));
  const file = join(dir, 'kubeconfig');
  writeFileSync(file, yaml, { mode: 0o600 });
  return { path: file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
