/**
 * The wall between the Secrets the controller writes and the key Secrets it reads. A SealedSecret
 * must never be able to plant a sealing key (a Secret the key registry, or Bitnami's controller, would
 * pick up and then seal with), and the controller must never overwrite a key Secret:
 *
 * - a template carrying a sealing-key label (kseal's or Bitnami's, any value) is refused (InvalidSpec);
 * - an existing Secret that carries one is never written (SecretConflict), whatever its annotations;
 * - the key registry ignores any Secret that looks written by the controller (key-registry.ts).
 */
import type { SealedSecret } from '../src/model/sealed-secret.js';
import { BITNAMI_SEALING_KEY_LABEL, MANAGED_BY_LABEL, OWNER_UID_ANNOTATION, SEALING_KEY_LABEL } from '../src/wire.js';
import type { SecretJson } from './kube-client.js';

/** Labels that make a Secret a sealing key to kseal or to Bitnami's controller. */
const SEALING_KEY_LABELS: readonly string[] = [SEALING_KEY_LABEL, BITNAMI_SEALING_KEY_LABEL];

/** Why the template of `sealed` would produce a key Secret, or undefined when it would not. */
export function keyLabelInTemplate(sealed: SealedSecret): string | undefined {
  const labels = sealed.spec.template?.metadata?.labels;
  const found = labels === undefined ? undefined : SEALING_KEY_LABELS.find((l) => Object.hasOwn(labels, l));
  if (found === undefined) return undefined;
  return `spec.template.metadata.labels has ${found}, which marks sealing-key Secrets; the controller never writes a Secret its key registry would read (remove the label)`;
}

/** True when `secret` carries a sealing-key label: the controller never writes it. */
export function isKeySecret(secret: SecretJson): boolean {
  const labels = secret.metadata.labels;
  return labels !== undefined && SEALING_KEY_LABELS.some((l) => Object.hasOwn(labels, l));
}

/** True when `secret` was written by the controller from a SealedSecret (so it is no key, whatever its labels). */
export function writtenFromSealedSecret(secret: SecretJson): boolean {
  const m = secret.metadata;
  return (
    (m.labels !== undefined && Object.hasOwn(m.labels, MANAGED_BY_LABEL)) ||
    (m.annotations !== undefined && Object.hasOwn(m.annotations, OWNER_UID_ANNOTATION)) ||
    (m.ownerReferences ?? []).some((r) => r.kind === 'SealedSecret')
  );
}
