/** Unit tests of key Secrets (src/model/key-secret.ts): writing them and reading private keys back. */
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { keySecretManifest, readPrivateKeys } from '../../src/model/key-secret.js';
import { testKey } from '../helpers/keys.js';
import { ksealErrorOf } from '../helpers/errors.js';
import { BITNAMI_SEALING_KEY_LABEL, SEALING_KEY_ACTIVE, SEALING_KEY_LABEL } from '../../src/wire.js';

const small = testKey('rsa-2048');
const big = testKey('rsa-4096');
const manifest = (k = small, name = 'kseal-key-1') => keySecretManifest({ name, namespace: 'kseal-system', privateKeyPem: k.privateKeyPem, certificatePem: k.certificatePem });

const failure = ksealErrorOf;

describe('keySecretManifest', () => {
  it('writes a kubernetes.io/tls Secret labelled as the active sealing key', () => {
    const m = manifest();
    expect(m).toMatchObject({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: { name: 'kseal-key-1', namespace: 'kseal-system', labels: { [SEALING_KEY_LABEL]: SEALING_KEY_ACTIVE } },
    });
    expect(SEALING_KEY_LABEL).toBe('kseal.dev/sealing-key');
    expect(SEALING_KEY_ACTIVE).toBe('active');
  });

  it('stores the PEM key in tls.key and the certificate in tls.crt, base64-encoded', () => {
    const data = manifest().data as Record<string, string>;
    expect(Buffer.from(data['tls.key'] ?? '', 'base64').toString()).toBe(small.privateKeyPem);
    expect(Buffer.from(data['tls.crt'] ?? '', 'base64').toString()).toBe(small.certificatePem);
  });
});

describe('readPrivateKeys', () => {
  it('reads a PEM file', () => {
    expect(readPrivateKeys(small.privateKeyPem, 'key.pem').map((k) => k.keyId)).toEqual([small.certificate.keyId]);
  });

  it('reads a key Secret written as YAML', () => {
    const [entry] = readPrivateKeys(stringify(manifest()), 'key.yaml');
    expect(entry?.keyId).toBe(small.certificate.keyId);
    expect(entry?.source).toBe('key.yaml (kseal-key-1)');
  });

  it('reads a key Secret written as JSON', () => {
    expect(readPrivateKeys(JSON.stringify(manifest()), 'key.json')[0]?.keyId).toBe(small.certificate.keyId);
  });

  it('reads every key of a List, as kubectl get secret -o yaml prints it', () => {
    const list = { apiVersion: 'v1', kind: 'List', items: [manifest(small, 'a'), manifest(big, 'b')] };
    expect(readPrivateKeys(stringify(list), 'backup.yaml').map((k) => k.keyId)).toEqual([small.certificate.keyId, big.certificate.keyId]);
  });

  it('reads every key of a multi-document stream', () => {
    expect(readPrivateKeys(`${stringify(manifest(small, 'a'))}---\n${stringify(manifest(big, 'b'))}`, 'keys.yaml')).toHaveLength(2);
  });

  it('reads a Bitnami key backup', () => {
    const bitnami = manifest(small, 'sealed-secrets-keyabc12');
    (bitnami.metadata as { labels: Record<string, string> }).labels = { [BITNAMI_SEALING_KEY_LABEL]: 'active' };
    expect(readPrivateKeys(stringify(bitnami), 'bitnami.yaml')[0]?.keyId).toBe(small.certificate.keyId);
  });

  it('skips Secrets without tls.key and objects of other kinds', () => {
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'other' }, data: { token: 'dG9r' } }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } }, manifest()],
    };
    expect(readPrivateKeys(stringify(list), 'mixed.yaml')).toHaveLength(1);
  });

  it('fails with NO_PRIVATE_KEYS when nothing holds a key', () => {
    const error = failure(() => readPrivateKeys(stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } }), 'none.yaml'));
    expect(error.code).toBe('NO_PRIVATE_KEYS');
    expect(error.file).toBe('none.yaml');
  });

  it('fails with INVALID_BASE64 when tls.key is not base64', () => {
    const broken = manifest();
    (broken.data as Record<string, string>)['tls.key'] = 'not base64!';
    const error = failure(() => readPrivateKeys(stringify(broken), 'broken.yaml'));
    expect(error.code).toBe('INVALID_BASE64');
    expect(error.key).toBe('tls.key');
  });

  it('fails with KEY_NOT_PEM when tls.key holds no PEM key', () => {
    const broken = manifest();
    (broken.data as Record<string, string>)['tls.key'] = Buffer.from('garbage').toString('base64');
    expect(failure(() => readPrivateKeys(stringify(broken), 'broken.yaml')).code).toBe('KEY_NOT_PEM');
  });
});
