/**
 * The client-node `KubeConfig` for a kubeconfig resolved by kubeconfig.ts: the one place both the CLI
 * (loaded lazily, only when a request is made) and the controller turn kubectl's rules into
 * credentials, TLS options and exec/OIDC token refresh.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { loadKubeconfig, type KubeconfigSelection, type LoaderOptions, type ResolvedKubeconfig } from './kubeconfig.js';

/** A client-node KubeConfig for `resolved`. */
export function toKubeConfig(resolved: ResolvedKubeconfig): KubeConfig {
  const kc = new KubeConfig();
  if (resolved.source === 'in-cluster') kc.loadFromCluster();
  else {
    // kubectl talks to an http:// server as it is; client-node refuses unless TLS verification is
    // "skipped", which for a server without TLS changes nothing, so say so for those clusters.
    const clusters = resolved.document.clusters.map((c) => {
      const cluster = (c.cluster ?? {}) as Record<string, unknown>;
      return typeof cluster.server === 'string' && /^http:\/\//i.test(cluster.server) ? { ...c, cluster: { ...cluster, 'insecure-skip-tls-verify': true } } : c;
    });
    // JSON is YAML: client-node's own reader converts the kubeconfig's field names.
    kc.loadFromString(JSON.stringify({ ...resolved.document, clusters }));
  }
  return kc;
}

/** Loads the kubeconfig by kubectl's rules (see kubeconfig.ts) straight into a client-node KubeConfig. */
export function loadKubeConfig(selection: KubeconfigSelection, env: Readonly<Record<string, string | undefined>> = process.env, options: LoaderOptions = {}): KubeConfig {
  return toKubeConfig(loadKubeconfig(selection, env, options));
}
