/**
 * Sealing keys as Kubernetes stores them: `kubernetes.io/tls` Secrets in the controller's namespace,
 * labelled `kseal.dev/sealing-key: active`, PKCS#1 private key in `tls.key` and the self-signed
 * certificate in `tls.crt`, the same layout as Bitnami's (whose label is also recognised, so a Bitnami
 * key backup can be read). Used by `kseal keygen` (bring your own key), `kseal decrypt` (recovery)
 * and the controller.
 */
import { KsealError } from '../errors.js';
import { decodeBase64, encodeBase64 } from '../crypto/base64.js';
import { parsePrivateKeysPem, type PrivateKeyEntry } from '../crypto/private-key.js';
import { looksLikePem } from '../crypto/pem.js';
import { readManifests } from '../manifest/read.js';
import { asRecord, stringMap } from './fields.js';
import { SEALING_KEY_ACTIVE, SEALING_KEY_LABEL } from '../wire.js';

export const DEFAULT_CONTROLLER_NAMESPACE = 'kseal-system';

/**
 * The name of the key Secret holding the key with id `keyId` (crypto/key-id.ts): derived from the key
 * itself, so the same key always has the same name and two different keys never do. A backup applied
 * to another cluster, or after a key was regenerated, can then only add keys, never replace one.
 */
export function keySecretName(keyId: string): string {
  if (!/^[0-9a-f]{64}$/.test(keyId)) throw new KsealError('INTERNAL', 'a key id is 64 lowercase hex digits');
  return `kseal-key-${keyId.slice(0, 20)}`;
}

const KEY_FORMS_HINT = 'pass a PEM key (PKCS#1 or PKCS#8), a kubernetes.io/tls key Secret, or a List of them (kubectl get secret -o yaml)';

/** The manifest of a key Secret, ready to apply in the controller's namespace. */
export function keySecretManifest(options: { name: string; namespace: string; privateKeyPem: string; certificatePem: string }): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: options.name, namespace: options.namespace, labels: { [SEALING_KEY_LABEL]: SEALING_KEY_ACTIVE } },
    type: 'kubernetes.io/tls',
    data: {
      'tls.crt': encodeBase64(Buffer.from(options.certificatePem, 'utf8')),
      'tls.key': encodeBase64(Buffer.from(options.privateKeyPem, 'utf8')),
    },
  };
}

/**
 * Reads private keys from a file's text: PEM (PKCS#1 or PKCS#8, several blocks allowed), a
 * `kubernetes.io/tls` Secret, or a List of them as `kubectl get secret -o yaml` prints it. Secrets
 * of other types in a List are skipped; finding no key at all is an error.
 */
export function readPrivateKeys(text: string, source: string): PrivateKeyEntry[] {
  if (looksLikePem(text)) return parsePrivateKeysPem(text, source);
  let objects: ReturnType<typeof readManifests>;
  try {
    objects = readManifests(text, source);
  } catch (e) {
    throw new KsealError('KEY_NOT_PEM', 'neither a PEM private key nor a key Secret manifest', { file: source, hint: KEY_FORMS_HINT, cause: e });
  }
  const keys: PrivateKeyEntry[] = [];
  for (const { value, location } of objects) {
    if (typeof value !== 'object' || value === null) {
      throw new KsealError('KEY_NOT_PEM', 'neither a PEM private key nor a key Secret manifest', { ...location, hint: KEY_FORMS_HINT });
    }
    const obj = asRecord(value, 'the document', location);
    if (obj.kind !== 'Secret') continue;
    const data = stringMap(obj.data, 'data', location);
    const encoded = data['tls.key'];
    if (encoded === undefined) continue;
    const pem = decodeBase64(encoded);
    if (pem === undefined) throw new KsealError('INVALID_BASE64', 'tls.key is not valid base64', { ...location, key: 'tls.key' });
    const meta = asRecord(obj.metadata ?? {}, 'metadata', location);
    const name = typeof meta.name === 'string' ? meta.name : `document ${location.document}`;
    keys.push(...parsePrivateKeysPem(pem.toString('utf8'), `${source} (${name})`));
  }
  if (keys.length === 0) {
    throw new KsealError('NO_PRIVATE_KEYS', 'no private key found (no PEM key, and no Secret with tls.key)', {
      file: source,
      hint: 'back up keys with: kubectl get secret -n kseal-system -l kseal.dev/sealing-key -o yaml',
    });
  }
  return keys;
}
