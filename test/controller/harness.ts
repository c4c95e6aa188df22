/**
 * Runs the controller in-process against the in-repo Kubernetes API (kube-api/) with a real
 * client-node, with test-sized timings (2048-bit keys, 100 ms lease retry, fast backoff), and helpers
 * to create SealedSecrets and read back Secrets and conditions.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { Controller, type ControllerOptions } from '../../controller/controller.js';
import { KubeConfig } from '@kubernetes/client-node';
import { ClientNodeApi, type KubeApi, type KubeObject, type SecretJson } from '../../controller/kube-client.js';
import { ControllerMetrics } from '../../controller/metrics.js';
import type { Logger } from '../../controller/logger.js';
import { startKubeApi, type JsonObject, type KubeApiOptions, type KubeApiServer } from '../../kube-api/server.js';
import type { TestKeyName } from '../helpers/keys.js';
import { captureLogger, eventually, keySecret } from './fixtures.js';

export const CONTROLLER_NS = 'kseal-system';
const CRD_PATH = new URL('../../controller/deploy/crd.yaml', import.meta.url);

/** The SealedSecret CRD as an object. */
export function crdObject(): JsonObject {
  return parse(readFileSync(CRD_PATH, 'utf8')) as JsonObject;
}

/** Starts the in-repo API with the CRD, the controller namespace and `app`; `withKey` adds the RSA-2048 test key. */
export function startCluster(options: KubeApiOptions & { readonly withKey?: boolean } = {}): Promise<KubeApiServer> {
  const { withKey, ...rest } = options;
  const key = withKey === true ? [keySecretObject('kseal-key-test', 'rsa-2048')] : [];
  return startKubeApi({ ...rest, namespaces: [CONTROLLER_NS, 'app', ...(rest.namespaces ?? [])], objects: [crdObject(), ...key, ...(rest.objects ?? [])] });
}

/** A key Secret ready to create in the controller namespace. */
export function keySecretObject(name: string, key: TestKeyName = 'rsa-2048'): JsonObject {
  const secret = keySecret(name, key, CONTROLLER_NS);
  const { resourceVersion: _rv, ...metadata } = secret.metadata;
  return { ...secret, metadata } as unknown as JsonObject;
}

/** Creates a SealedSecret in the API (plain JSON, as kubectl apply would). */
export function applySealed(server: KubeApiServer, obj: KubeObject): KubeObject {
  return server.store.create(obj as unknown as JsonObject) as unknown as KubeObject;
}

/** The value of a counter or gauge (summed over labels). */
export async function metricValue(metric: { get(): Promise<{ values: Array<{ value: number }> }> }): Promise<number> {
  return (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);
}

/** Controller options for tests; override what a test needs. */
function testOptions(api: KubeApi, logger: Logger, overrides: Partial<ControllerOptions> = {}): ControllerOptions {
  return {
    api,
    namespace: CONTROLLER_NS,
    keySize: 2048,
    keyTtlMs: 3650 * 86_400_000,
    commonName: 'kseal-test',
    renewPeriodMs: 0,
    resyncMs: 0,
    workers: 1,
    concurrency: 4,
    leaderElection: { enabled: true, leaseName: 'kseal-controller', leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 100 },
    watch: { idleTimeoutMs: 5000, minWatchTimeoutSeconds: 60, backoff: { initialMs: 20, maxMs: 200 } },
    queueBackoff: { initialMs: 5, maxMs: 200 },
    logger,
    metrics: new ControllerMetrics(),
    ...overrides,
  };
}

/** An in-process controller with its captured logs. */
export interface TestController {
  readonly controller: Controller;
  readonly options: ControllerOptions;
  readonly logs: () => string;
  stop(): Promise<void>;
}

/** Starts a controller against `server` (or against `via.url`, e.g. a proxy in front of it). */
export function startController(server: KubeApiServer, overrides: Partial<ControllerOptions> = {}, via: { readonly url?: string } = {}): TestController {
  const { logger, text } = captureLogger();
  const kc = new KubeConfig();
  kc.loadFromString(via.url === undefined ? server.kubeconfig : server.kubeconfig.replace(server.url, via.url));
  const api = new ClientNodeApi(kc);
  const options = testOptions(api, logger, overrides);
  const controller = new Controller(options);
  controller.start();
  return { controller, options, logs: text, stop: () => controller.stop() };
}

/** The Secret `namespace/name`, or undefined. */
export function secretOf(server: KubeApiServer, namespace: string, name: string): SecretJson | undefined {
  return server.store.get('v1', 'Secret', name, namespace) as SecretJson | undefined;
}

/** The Secret's values decoded as UTF-8 (the managed annotations aside). */
export function valuesOf(secret: SecretJson | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

/** The SealedSecret `namespace/name`, or undefined. */
export function sealedOf(server: KubeApiServer, namespace: string, name: string): KubeObject | undefined {
  return server.store.get('kseal.dev/v1alpha1', 'SealedSecret', name, namespace) as KubeObject | undefined;
}

/** The Ready condition of a SealedSecret. */
export function readyOf(server: KubeApiServer, namespace: string, name: string): { status: string; reason: string; message: string; observedGeneration?: number } | undefined {
  const obj = sealedOf(server, namespace, name) as (KubeObject & { status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string; observedGeneration?: number }> } }) | undefined;
  return obj?.status?.conditions?.find((c) => c.type === 'Ready');
}

/** Waits until the Ready condition has `reason` (and returns it). */
export function waitForReason(server: KubeApiServer, namespace: string, name: string, reason: string, timeoutMs = 10_000) {
  return eventually(`${namespace}/${name} Ready reason ${reason}`, () => {
    const c = readyOf(server, namespace, name);
    return c?.reason === reason ? c : undefined;
  }, timeoutMs);
}

/** Key Secrets in the controller namespace. */
export function keySecrets(server: KubeApiServer): SecretJson[] {
  return (server.store.list('v1', 'Secret', CONTROLLER_NS) as SecretJson[]).filter((s) => s.metadata.labels?.['kseal.dev/sealing-key'] === 'active');
}
