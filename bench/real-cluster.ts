/**
 * The real control plane for benchmarks (control-plane/: etcd, kube-apiserver and
 * kube-controller-manager built from Go), set up as the e2e suite sets it up: kseal's CRD and
 * ClusterRole as `kubectl kustomize controller/deploy` renders them, kseal's controller as the
 * deploy's ServiceAccount, and (when the peer is built) Bitnami's CRD. What the in-repo API counts
 * for itself (requests by kind), the real one tells through its audit log: every request of a
 * ServiceAccount, with user, verb and resource.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi, Watch, type KubernetesObject } from '@kubernetes/client-node';
import { adminClients, applyObjects, controllerIdentity, renderDeploy, waitCrdEstablished, type AdminClients } from '../control-plane/admin.js';
import { bitnamiUnavailable, installBitnamiCrd } from '../control-plane/bitnami.js';
import { startControlPlane, type ControlPlane } from '../control-plane/control-plane.js';
import { summarizeAudit, type AuditSummary } from './audit-summary.js';

/** A custom resource, by group, version and plural. */
export interface ResourceRef {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

export const KSEAL_SEALED: ResourceRef = { group: 'kseal.dev', version: 'v1alpha1', plural: 'sealedsecrets' };
export const BITNAMI_SEALED: ResourceRef = { group: 'bitnami.com', version: 'v1alpha1', plural: 'sealedsecrets' };

interface AuditEvent {
  verb?: string;
  user?: { username?: string };
  objectRef?: { resource?: string; subresource?: string };
  requestReceivedTimestamp?: string;
}

/** A started control plane with the admin clients and the CRDs installed. */
export class RealCluster {
  private constructor(
    readonly plane: ControlPlane,
    readonly clients: AdminClients,
    private readonly deployYaml: string,
  ) {}

  /** Starts the control plane (KUBEBUILDER_ASSETS or test/envtest/bin) and installs the CRDs. */
  static async start(): Promise<RealCluster> {
    const plane = await startControlPlane();
    try {
      const clients = adminClients(plane.kubeconfigPath);
      const deployYaml = renderDeploy();
      await applyObjects(clients, deployYaml, (o) => o.kind === 'CustomResourceDefinition' || o.kind === 'ClusterRole');
      await waitCrdEstablished(clients, 'sealedsecrets.kseal.dev');
      if (bitnamiUnavailable() === '') await installBitnamiCrd(clients);
      return new RealCluster(plane, clients, deployYaml);
    } catch (e) {
      await plane.stop();
      throw e;
    }
  }

  /** The API server URL and CA, as a pod's in-cluster config would name them. */
  get apiServer(): { url: string; caPem: string } {
    return { url: this.plane.apiServer.url, caPem: this.plane.certs.pem.ca };
  }

  /** kseal's controller identity in `namespace` (the deploy's RBAC); its kubeconfig path and user name. */
  async ksealIdentity(namespace: string): Promise<{ kubeconfigPath: string; username: string }> {
    await this.createNamespaces([namespace]);
    const id = await controllerIdentity(this.clients, this.deployYaml, namespace);
    return { kubeconfigPath: id.kubeconfig(this.plane.dir), username: id.username };
  }

  /** Creates the namespaces that do not exist yet. */
  async createNamespaces(names: readonly string[]): Promise<void> {
    for (const name of names) {
      await this.clients.core.createNamespace({ body: { metadata: { name } } }).catch((e: unknown) => {
        if ((e as { code?: number }).code !== 409) throw e;
      });
    }
  }

  /** Creates every object, `concurrency` requests at a time. */
  async createAll(objects: readonly object[], concurrency = 16): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < objects.length) {
        const obj = objects[next++] as KubernetesObject;
        await this.clients.objects.create(obj);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  /**
   * Watches `resource` in every namespace from now on and resolves with the time (Date.now()) at
   * which `count` distinct objects had been seen with condition `type` True.
   */
  async whenAllTrue(resource: ResourceRef, type: string, count: number, timeoutMs: number): Promise<{ done: Promise<number>; stop(): void }> {
    const custom = this.clients.kc.makeApiClient(CustomObjectsApi);
    const list = (await custom.listClusterCustomObject({ ...resource, limit: 1 })) as { metadata?: { resourceVersion?: string } };
    const seen = new Set<string>();
    let abort: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const done = new Promise<number>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${seen.size} of ${count} ${resource.group} SealedSecrets with ${type}=True`)), timeoutMs);
      void new Watch(this.clients.kc)
        .watch(`/apis/${resource.group}/${resource.version}/${resource.plural}`, { resourceVersion: list.metadata?.resourceVersion ?? '', allowWatchBookmarks: true }, (phase, obj: { metadata?: { namespace?: string; name?: string }; status?: { conditions?: Array<{ type: string; status: string }> } }) => {
          if (phase !== 'ADDED' && phase !== 'MODIFIED') return;
          if (!(obj.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True')) return;
          seen.add(`${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`);
          if (seen.size >= count) resolve(Date.now());
        }, (err: unknown) => {
          if (seen.size < count && err !== null && err !== undefined) reject(err instanceof Error ? err : new Error(`watch ended: ${JSON.stringify(err)}`));
        })
        .then((req) => (abort = () => req.abort()), reject);
    });
    const stop = (): void => {
      clearTimeout(timer);
      abort?.();
    };
    void done.then(stop, stop);
    return { done, stop };
  }

  /**
   * Writes (create, update, patch, delete) by `username` received at or after `sinceMs`, by
   * resource (`secrets`, `sealedsecrets/status`, `events`...); Lease renewals left out.
   */
  writesBy(username: string, sinceMs: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const line of readFileSync(this.plane.apiServer.auditLogPath, 'utf8').split('\n')) {
      if (line === '' || !line.includes(username)) continue;
      const e = JSON.parse(line) as AuditEvent;
      if (e.user?.username !== username || !['create', 'update', 'patch', 'delete'].includes(e.verb ?? '')) continue;
      if (Date.parse(e.requestReceivedTimestamp ?? '') < sinceMs) continue;
      const resource = `${e.objectRef?.resource ?? '?'}${e.objectRef?.subresource === undefined ? '' : `/${e.objectRef.subresource}`}`;
      if (resource === 'leases' || resource === 'serviceaccounts/token') continue;
      out[resource] = (out[resource] ?? 0) + 1;
    }
    return out;
  }

  /** `username`'s completed requests received in [fromMs, toMs]: not-2xx answers and the server's own time (bench/audit-summary.ts). */
  requestsBy(username: string, fromMs: number, toMs: number): AuditSummary {
    return summarizeAudit(readFileSync(this.plane.apiServer.auditLogPath, 'utf8'), username, fromMs, toMs);
  }

  /** A folder of the control plane (removed with it). */
  path(name: string): string {
    return join(this.plane.dir, name);
  }

  close(): Promise<void> {
    return this.plane.stop();
  }
}
