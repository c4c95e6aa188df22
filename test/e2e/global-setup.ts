/**
 * Global setup of the e2e suite (vitest.e2e.config.ts): builds dist/, then either connects to the
 * cluster named by KSEAL_E2E_KUBECONFIG (kind or any cluster) or starts the real control plane
 * built by `npm run envtest:build`; installs the CRD and the ClusterRole exactly as
 * `kubectl kustomize controller/deploy` renders them, and hands the test files what they need
 * through vitest's provide/inject. Teardown stops everything it started, also when tests fail.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { startControlPlane, type ApiServerSettings, type ControlPlane } from '../../control-plane/control-plane.js';
import { adminClients, applyObjects, renderDeploy, waitCrdEstablished } from '../../control-plane/admin.js';

/** What the test files get from inject('e2e'). */
export interface E2eContext {
  /** Admin kubeconfig of the cluster. */
  readonly kubeconfigPath: string;
  /** `kubectl kustomize controller/deploy`, as YAML. */
  readonly deployYaml: string;
  /** Set when the suite started the control plane itself (not against KSEAL_E2E_KUBECONFIG). */
  readonly controlPlane?: {
    readonly settings: ApiServerSettings;
    readonly apiServerUrl: string;
    readonly auditLogPath: string;
    readonly etcdUrl: string;
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: E2eContext;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  const external = process.env.KSEAL_E2E_KUBECONFIG ?? '';
  let plane: ControlPlane | undefined;
  const stop = async (): Promise<void> => {
    const p = plane;
    plane = undefined;
    await p?.stop();
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    void stop().finally(() => process.kill(process.pid, signal));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const started = Date.now();
    if (external === '') plane = await startControlPlane();
    const kubeconfigPath = plane?.kubeconfigPath ?? external;
    if (plane !== undefined) console.log(`[e2e] control plane ready in ${Date.now() - started} ms: ${plane.apiServer.url} (logs in ${plane.dir})`);
    readFileSync(kubeconfigPath);
    const deployYaml = renderDeploy();
    const clients = adminClients(kubeconfigPath);
    await applyObjects(clients, deployYaml, (o) => o.kind === 'CustomResourceDefinition' || o.kind === 'ClusterRole');
    await waitCrdEstablished(clients, 'sealedsecrets.kseal.dev');
    project.provide('e2e', {
      kubeconfigPath,
      deployYaml,
      ...(plane === undefined
        ? {}
        : { controlPlane: { settings: plane.settings, apiServerUrl: plane.apiServer.url, auditLogPath: plane.apiServer.auditLogPath, etcdUrl: plane.etcdUrl } }),
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return async () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stop();
  };
}
