/**
 * Object helpers of the e2e suite, all through the admin's API clients as kubectl would: create
 * and read SealedSecrets, wait for Ready, read Secret values, key Secrets, the Lease and Events,
 * and fetch the controller's certificate.
 */
import type { CoreV1Event } from '@kubernetes/client-node';
import { parseCertificate, type SealingCertificate } from '../../../src/crypto/certificate.js';
import type { KubeObject, SecretJson } from '../../../controller/kube-client.js';
import { eventually, type ControllerProcess, type E2e } from './e2e.js';

const SS = { group: 'kseal.dev', version: 'v1alpha1', plural: 'sealedsecrets' } as const;

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message?: string;
  observedGeneration?: number;
}
export type SealedJson = KubeObject & { spec: Record<string, unknown>; status?: { observedGeneration?: number; conditions?: Condition[] } };

function codeOf(e: unknown): number | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'number' ? e.code : undefined;
}

/** Creates a SealedSecret (plain JSON). */
export async function createSealed(e2e: E2e, obj: KubeObject): Promise<void> {
  await e2e.custom.createNamespacedCustomObject({ ...SS, namespace: obj.metadata.namespace ?? '', body: obj });
}

/** Reads a SealedSecret. */
export async function readSealed(e2e: E2e, namespace: string, name: string): Promise<SealedJson> {
  return (await e2e.custom.getNamespacedCustomObject({ ...SS, namespace, name })) as SealedJson;
}

/** Replaces a SealedSecret's spec (read, then PUT with its resourceVersion). */
export async function replaceSpec(e2e: E2e, namespace: string, name: string, spec: Record<string, unknown>): Promise<void> {
  const current = await readSealed(e2e, namespace, name);
  await e2e.custom.replaceNamespacedCustomObject({ ...SS, namespace, name, body: { ...current, spec } });
}

/** Deletes a SealedSecret (background propagation, the default). */
export async function deleteSealed(e2e: E2e, namespace: string, name: string): Promise<void> {
  await e2e.custom.deleteNamespacedCustomObject({ ...SS, namespace, name });
}

/** The Ready condition, if any. */
export async function readyCondition(e2e: E2e, namespace: string, name: string): Promise<Condition | undefined> {
  return (await readSealed(e2e, namespace, name)).status?.conditions?.find((c) => c.type === 'Ready');
}

/** Waits for Ready=True at `generation` (what `kubectl wait --for=condition=Ready` checks, plus the generation). */
export async function waitReady(e2e: E2e, namespace: string, name: string, generation = 1, timeoutMs = 30_000): Promise<void> {
  await eventually(`${namespace}/${name} Ready at generation ${generation}`, async () => {
    const c = await readyCondition(e2e, namespace, name);
    return c?.status === 'True' && c.observedGeneration === generation;
  }, timeoutMs);
}

/** The Secret's values (UTF-8), or undefined when it does not exist. */
export async function secretValues(e2e: E2e, namespace: string, name: string): Promise<Record<string, string> | undefined> {
  const s = await readSecret(e2e, namespace, name);
  if (s === undefined) return undefined;
  return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

/** The Secret as stored, or undefined. */
export async function readSecret(e2e: E2e, namespace: string, name: string): Promise<SecretJson | undefined> {
  try {
    return (await e2e.core.readNamespacedSecret({ namespace, name })) as unknown as SecretJson;
  } catch (e) {
    if (codeOf(e) === 404) return undefined;
    throw e;
  }
}

/** Names of the sealing-key Secrets in `namespace`. */
export async function keySecretNames(e2e: E2e, namespace: string): Promise<string[]> {
  const list = await e2e.core.listNamespacedSecret({ namespace, labelSelector: 'kseal.dev/sealing-key' });
  return list.items.map((s) => s.metadata?.name ?? '');
}

/** The holder of the controller Lease ('' when released, undefined when there is none). */
export async function leaseHolder(e2e: E2e, namespace: string): Promise<string | undefined> {
  try {
    const lease = await e2e.coordination.readNamespacedLease({ namespace, name: 'kseal-controller' });
    return lease.spec?.holderIdentity ?? '';
  } catch (e) {
    if (codeOf(e) === 404) return undefined;
    throw e;
  }
}

/** Core v1 Events about the object `name` in `namespace`. */
export async function eventsFor(e2e: E2e, namespace: string, name: string): Promise<CoreV1Event[]> {
  const list = await e2e.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
  return list.items;
}

/** The controller's certificate from its HTTP API (once it has a key). */
export async function certFrom(p: ControllerProcess): Promise<SealingCertificate> {
  const { port } = await p.ports();
  const pem = await eventually(`${p.identity}'s certificate`, async () => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/cert.pem`);
    return res.status === 200 ? res.text() : undefined;
  }, 60_000);
  return parseCertificate(pem);
}
