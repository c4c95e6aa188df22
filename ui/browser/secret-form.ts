/**
 * What the sealing page's form holds, and how it becomes a SealedSecret: the form is turned into the
 * `v1/Secret` manifest a user would have written (typed values under `stringData`, files base64 under
 * `data`), which then goes through the library's own `readSecret` and `checkSealable`, the checks and
 * messages of `kseal encrypt`. The values are sealed with WebCrypto (web-seal.ts) and laid out by the
 * library's `assembleSealedSecret` and YAML emitter, so the page's output is what the CLI writes.
 * Nothing here touches the DOM or the network.
 */
import { KsealError } from '../../src/errors.js';
import { encodeBase64 } from '../../src/crypto/base64.js';
import { writeManifests } from '../../src/manifest/write.js';
import { assembleSealedSecret, checkSealable, type SealedApiVersion } from '../../src/model/sealed-secret.js';
import { readSecret } from '../../src/model/secret.js';
import type { Scope } from '../../src/model/scope.js';
import type { WebSealingCertificate } from './web-certificate.js';
import { sealBytesWeb } from './web-seal.js';

/** One key of the form: typed text (sealed as its UTF-8 bytes) or a file's bytes. */
export interface FormEntry {
  readonly key: string;
  readonly value: string | Uint8Array;
}

/** Everything the form holds. Empty strings mean "not filled in". */
export interface SealForm {
  readonly namespace: string;
  readonly name: string;
  readonly scope: Scope;
  readonly type: string;
  readonly apiVersion: SealedApiVersion;
  readonly entries: readonly FormEntry[];
}

/** The fields of a registry login, as `kubectl create secret docker-registry` takes them. */
export interface DockerLogin {
  readonly server: string;
  readonly username: string;
  readonly password: string;
  readonly email: string;
}

/**
 * The `.dockerconfigjson` value `kubectl create secret docker-registry` writes for one registry:
 * `{"auths":{SERVER:{"username","password","email"?,"auth": base64(username:password)}}}`.
 */
export function dockerConfigJson(login: DockerLogin): string {
  const entry: Record<string, string> = { username: login.username, password: login.password };
  if (login.email !== '') entry.email = login.email;
  entry.auth = encodeBase64(new TextEncoder().encode(`${login.username}:${login.password}`));
  return JSON.stringify({ auths: { [login.server]: entry } });
}

/** Checks the registry fields the page asks for (the CLI has no such fields; kubectl needs all three). */
export function checkDockerLogin(login: DockerLogin): void {
  for (const [field, value] of [['server', login.server], ['username', login.username], ['password', login.password]] as const) {
    if (value === '') throw new KsealError('MISSING_REQUIRED_KEY', `a kubernetes.io/dockerconfigjson Secret made here needs the registry ${field}`, { key: '.dockerconfigjson' });
  }
}

/** The v1/Secret manifest the form stands for: typed text under stringData, file bytes under data. */
export function secretManifest(form: SealForm): Record<string, unknown> {
  const seen = new Set<string>();
  const data: Record<string, string> = Object.create(null) as Record<string, string>;
  const stringData: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const { key, value } of form.entries) {
    if (seen.has(key)) throw new KsealError('INVALID_FIELD', 'the key is given twice', { key, hint: 'remove one of the two rows, or rename it' });
    seen.add(key);
    if (typeof value === 'string') stringData[key] = value;
    else data[key] = encodeBase64(value);
  }
  const metadata: Record<string, string> = {};
  if (form.name !== '') metadata.name = form.name;
  if (form.namespace !== '') metadata.namespace = form.namespace;
  return { apiVersion: 'v1', kind: 'Secret', metadata, type: form.type, data: { ...data }, stringData: { ...stringData } };
}

/** A form that passed every check, ready to seal. */
export interface CheckedForm {
  readonly secret: ReturnType<typeof readSecret>;
  readonly name: string;
  readonly namespace: string | undefined;
  readonly label: Uint8Array;
}

/** Runs the checks of `kseal encrypt` on the form; throws their KsealError (same code and message). */
export function checkForm(form: SealForm): CheckedForm {
  const secret = readSecret(secretManifest(form), {});
  const { name, namespace, label } = checkSealable(secret, { scope: form.scope, apiVersion: form.apiVersion });
  return { secret, name, namespace, label };
}

/** Checks and seals the form to `cert`; returns the SealedSecret as YAML, as `kseal encrypt` prints it. */
export async function sealForm(form: SealForm, cert: Pick<WebSealingCertificate, 'publicKey' | 'keyId'>): Promise<string> {
  const { secret, name, namespace, label } = checkForm(form);
  const encryptedData: Record<string, string> = {};
  for (const [key, bytes] of secret.data) {
    encryptedData[key] = encodeBase64(await sealBytesWeb(cert.publicKey, label, bytes));
    bytes.fill(0);
  }
  const sealed = assembleSealedSecret({ name, namespace, secret, scope: form.scope, keyId: cert.keyId, encryptedData, apiVersion: form.apiVersion });
  return writeManifests([sealed], 'yaml');
}
