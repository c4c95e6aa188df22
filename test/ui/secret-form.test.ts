/**
 * The page's form model (ui/browser/secret-form.ts): it seals what `kseal encrypt` seals, and a bad
 * form fails with exactly the message the CLI prints for the equivalent Secret manifest.
 */
import { stringify, parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { KsealError } from '../../src/errors.js';
import { readSealedSecret, unsealSealedSecret } from '../../src/model/sealed-secret.js';
import { parseCertificateWeb } from '../../ui/browser/web-certificate.js';
import { checkForm, dockerConfigJson, secretManifest, sealForm, type SealForm } from '../../ui/browser/secret-form.js';
import { runCli } from '../helpers/cli.js';
import { ksealErrorOf } from '../helpers/errors.js';
import { testKey, TEST_KEY_DIR } from '../helpers/keys.js';

const key = testKey('rsa-2048');
const base: SealForm = { namespace: 'app', name: 'db', scope: 'strict', type: 'Opaque', apiVersion: 'kseal.dev/v1alpha1', entries: [{ key: 'password', value: 'hunter2' }] };

/** What `kseal encrypt` prints on stderr for the manifest the form stands for. */
async function cliError(form: SealForm): Promise<string> {
  const manifest = secretManifest(form);
  const run = await runCli(['encrypt', '--cert', `${TEST_KEY_DIR}test-rsa-2048.crt.pem`, '--scope', form.scope], { stdin: stringify(manifest) });
  expect(run.code).not.toBe(0);
  return run.stderr;
}

describe('the sealing form', () => {
  it('seals a form into a SealedSecret the library opens, with the CLI key-id annotation', async () => {
    const cert = await parseCertificateWeb(key.certificatePem);
    const yaml = await sealForm({ ...base, entries: [{ key: 'password', value: 'hunter2' }, { key: 'blob', value: new Uint8Array([0, 1, 255]) }] }, cert);
    const sealed = readSealedSecret(parse(yaml), {});
    expect(sealed.metadata.annotations?.['kseal.dev/key-id']).toBe(key.certificate.keyId);
    const { secret } = unsealSealedSecret(sealed, [key.entry]);
    expect(Buffer.from(secret.data.password ?? '', 'base64').toString()).toBe('hunter2');
    expect(Buffer.from(secret.data.blob ?? '', 'base64')).toEqual(Buffer.from([0, 1, 255]));
  });

  it('lays the object out as kseal encrypt does (same YAML apart from the ciphertexts)', async () => {
    const cert = await parseCertificateWeb(key.certificatePem);
    const form: SealForm = { ...base, scope: 'namespace-wide', apiVersion: 'bitnami.com/v1alpha1', type: 'kubernetes.io/basic-auth', entries: [{ key: 'username', value: 'me' }, { key: 'password', value: 'pw' }] };
    const page = await sealForm(form, cert);
    const cli = await runCli(['encrypt', '--cert', `${TEST_KEY_DIR}test-rsa-2048.crt.pem`, '--scope', form.scope, '--api-version', form.apiVersion], { stdin: stringify(secretManifest(form)) });
    expect(cli.code).toBe(0);
    const blank = (text: string): string => text.replace(/^(\s+(?:username|password)): \S+$/gm, '$1: X');
    expect(blank(page)).toBe(blank(cli.stdout));
  });

  it('builds the .dockerconfigjson that kubectl create secret docker-registry writes', () => {
    const json = JSON.parse(dockerConfigJson({ server: 'registry.example.com', username: 'u', password: 'p', email: '' }));
    expect(json).toEqual({ auths: { 'registry.example.com': { username: 'u', password: 'p', auth: Buffer.from('u:p').toString('base64') } } });
  });

  const bad: Array<[string, Partial<SealForm>]> = [
    ['no name', { name: '' }],
    ['an invalid name', { name: 'Not_Valid' }],
    ['no namespace for strict scope', { namespace: '' }],
    ['an invalid namespace', { namespace: 'a.b' }],
    ['an invalid key name', { entries: [{ key: 'bad key', value: 'x' }] }],
    ['an empty key name', { entries: [{ key: '', value: 'x' }] }],
    ['no values', { entries: [] }],
    ['values over 1 MiB', { entries: [{ key: 'big', value: new Uint8Array(1024 * 1024 + 1) }] }],
    ['a tls Secret without tls.key', { type: 'kubernetes.io/tls', entries: [{ key: 'tls.crt', value: 'pem' }] }],
    ['a dockerconfigjson Secret without .dockerconfigjson', { type: 'kubernetes.io/dockerconfigjson', entries: [{ key: 'other', value: 'x' }] }],
    ['a basic-auth Secret with neither username nor password', { type: 'kubernetes.io/basic-auth', entries: [{ key: 'other', value: 'x' }] }],
  ];
  for (const [what, change] of bad) {
    it(`rejects ${what} with the message kseal encrypt prints`, async () => {
      const form = { ...base, ...change };
      const error = ksealErrorOf(() => checkForm(form));
      const stderr = await cliError(form);
      const where = error.key === undefined ? '' : `key ${JSON.stringify(error.key)}: `;
      expect(stderr).toContain(`: ${where}${error.message}`);
      expect(stderr.split('\n')[0]).toMatch(new RegExp(`${escape(where + error.message)}$`));
    });
  }

  it('rejects a key given twice, naming the key', () => {
    const error = ksealErrorOf(() => checkForm({ ...base, entries: [{ key: 'a', value: '1' }, { key: 'a', value: '2' }] }));
    expect(error).toBeInstanceOf(KsealError);
    expect(error.key).toBe('a');
  });

  it('accepts a cluster-wide form without a namespace', async () => {
    const cert = await parseCertificateWeb(key.certificatePem);
    const yaml = await sealForm({ ...base, namespace: '', scope: 'cluster-wide' }, cert);
    expect(parse(yaml).metadata).toEqual({ name: 'db', annotations: { 'kseal.dev/key-id': key.certificate.keyId, 'kseal.dev/scope': 'cluster-wide' } });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
