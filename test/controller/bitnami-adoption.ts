/**
 * A cluster as Bitnami Sealed Secrets leaves it, for the adoption tests: Bitnami's CRD
 * (bitnami-crd.yaml), key Secrets in kube-system made with `kseal keygen` and labelled as Bitnami
 * labels them, bitnami.com SealedSecrets sealed by `kseal encrypt --api-version bitnami.com/v1alpha1`
 * and by the independent sealer (test/crypto), and the Secrets Bitnami's controller made for them —
 * built here by hand from Bitnami's Unseal code, independently of controller/bitnami-secret.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { JsonObject, KubeApiServer } from '../../kube-api/server.js';
import type { KubeObject, SecretJson } from '../../controller/kube-client.js';
import { independentLabel, independentSeal } from '../crypto/independent-decoder.js';
import { runCli, tempDir } from '../helpers/cli.js';

const BITNAMI_CRD = new URL('./bitnami-crd.yaml', import.meta.url);

/** Bitnami's CRD as an object. */
export function bitnamiCrd(): JsonObject {
  return parse(readFileSync(BITNAMI_CRD, 'utf8')) as JsonObject;
}

/** A key made with `kseal keygen`: its certificate and the Secret as Bitnami stores it. */
export interface BitnamiKey {
  readonly certificatePem: string;
  readonly secret: JsonObject;
}

/** `kseal keygen --bits 2048 --secret-out`, relabelled into a Bitnami key Secret in kube-system. */
export async function bitnamiKey(name: string, label: 'active' | 'compromised' = 'active'): Promise<BitnamiKey> {
  const dir = tempDir();
  try {
    const run = await runCli(['keygen', '--bits', '2048', '--key-out', 'k.key', '--cert-out', 'k.crt', '--secret-out', 's.yaml', '--secret-name', name, '--secret-namespace', 'kube-system'], { cwd: dir.path });
    if (run.code !== 0) throw new Error(run.stderr);
    const secret = parse(readFileSync(join(dir.path, 's.yaml'), 'utf8')) as { metadata: { labels: Record<string, string> } } & JsonObject;
    secret.metadata.labels = { 'sealedsecrets.bitnami.com/sealed-secrets-key': label };
    return { certificatePem: readFileSync(join(dir.path, 'k.crt'), 'utf8'), secret };
  } finally {
    dir.remove();
  }
}

/** `kseal encrypt --api-version bitnami.com/v1alpha1 --scope SCOPE` of a Secret with these values. */
export async function kubesealLike(cert: string, name: string, namespace: string, values: Record<string, string>, scope = 'strict', extra = ''): Promise<KubeObject> {
  const dir = tempDir();
  try {
    const certPath = dir.write('c.pem', cert);
    const data = Object.entries(values).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`).join('\n');
    const secret = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\n${extra}stringData:\n${data}\n`;
    const run = await runCli(['encrypt', '--cert', certPath, '--api-version', 'bitnami.com/v1alpha1', '--scope', scope], { stdin: secret });
    if (run.code !== 0) throw new Error(run.stderr);
    return parse(run.stdout) as KubeObject;
  } finally {
    dir.remove();
  }
}

/** A bitnami.com SealedSecret built by the independent sealer, with a template as kubeseal writes it. */
export function independentObject(cert: string, o: { name: string; namespace: string; values: Record<string, string>; scope: 'strict' | 'namespace-wide' | 'cluster-wide'; template?: Record<string, unknown> }): KubeObject {
  const label = independentLabel(o.scope, o.namespace, o.name);
  const encryptedData = Object.fromEntries(Object.entries(o.values).map(([k, v]) => [k, independentSeal(cert, label, Buffer.from(v, 'utf8'))]));
  const annotations: Record<string, string> = o.scope === 'strict' ? {} : { [`sealedsecrets.bitnami.com/${o.scope}`]: 'true' };
  return {
    apiVersion: 'bitnami.com/v1alpha1',
    kind: 'SealedSecret',
    metadata: { name: o.name, namespace: o.namespace, annotations },
    spec: { encryptedData, template: { metadata: { name: o.name, namespace: o.namespace, creationTimestamp: null }, type: 'Opaque', ...o.template } },
  };
}

/** The Secret Bitnami's controller makes for a stored object whose values are `plain` (template data rendered by the caller). */
export function secretMadeByBitnami(obj: KubeObject, plain: Record<string, string>): SecretJson {
  const template = (obj.spec as { template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; type?: string } }).template ?? {};
  const metadata: SecretJson['metadata'] = {
    name: obj.metadata.name,
    namespace: obj.metadata.namespace ?? '',
    ownerReferences: [{ apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', name: obj.metadata.name, uid: obj.metadata.uid ?? '', controller: true }],
  };
  if (template.metadata?.labels !== undefined) metadata.labels = template.metadata.labels;
  if (template.metadata?.annotations !== undefined) metadata.annotations = template.metadata.annotations;
  return { apiVersion: 'v1', kind: 'Secret', metadata, type: template.type ?? 'Opaque', data: Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')])) };
}

/** What Bitnami's controller's status says after it unsealed an object. */
export function bitnamiSynced(server: KubeApiServer, obj: KubeObject): void {
  const stored = server.store.get('bitnami.com/v1alpha1', 'SealedSecret', obj.metadata.name, obj.metadata.namespace) as JsonObject;
  server.store.updateStatus({ ...stored, status: { observedGeneration: 1, conditions: [{ type: 'Synced', status: 'True', lastUpdateTime: '2025-01-01T00:00:00Z', lastTransitionTime: '2025-01-01T00:00:00Z' }] } });
}

/**
 * Bitnami's update rule (its controller.go): would Bitnami's controller rewrite `secret` for this
 * desired one? (data, labels, annotations, owners and type compared.)
 */
export function bitnamiWouldRewrite(secret: SecretJson, desired: SecretJson): boolean {
  const norm = (s: SecretJson) => JSON.stringify([s.data ?? {}, s.metadata.labels ?? {}, s.metadata.annotations ?? {}, (s.metadata.ownerReferences ?? []).map((r) => [r.apiVersion, r.kind, r.name, r.uid, r.controller ?? false]), s.type ?? 'Opaque'], (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
  return norm(secret) !== norm(desired);
}
