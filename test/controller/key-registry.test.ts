import { describe, expect, it } from 'vitest';
import { KeyRegistry, readKeySecret } from '../../controller/key-registry.js';
import { KeyUsage } from '../../controller/key-usage.js';
import { ControllerMetrics } from '../../controller/metrics.js';
import { silentLogger } from '../../controller/logger.js';
import { testKey } from '../helpers/keys.js';
import { captureLogger, keySecret, sealingKey } from './fixtures.js';

describe('readKeySecret', () => {
  it('reads the key pair of a kubernetes.io/tls key Secret', () => {
    const r = readKeySecret(keySecret('k1', 'rsa-2048'));
    expect(r.ok && r.key.keyId).toBe(testKey('rsa-2048').certificate.keyId);
    expect(r.ok && r.key.secretName).toBe('k1');
  });

  it('refuses a certificate that is not for the private key, without showing key material', () => {
    const a = keySecret('k1', 'rsa-2048');
    const b = keySecret('k2', 'rsa-4096');
    const mixed = { ...a, data: { 'tls.key': a.data!['tls.key']!, 'tls.crt': b.data!['tls.crt']! } };
    const r = readKeySecret(mixed);
    expect(r).toEqual({ ok: false, why: 'the certificate in tls.crt is not for the key in tls.key' });
  });

  it('refuses a Secret without tls.key or with a corrupt one', () => {
    expect(readKeySecret({ metadata: { name: 'x' }, data: {} }).ok).toBe(false);
    const k = keySecret('k', 'rsa-2048');
    const r = readKeySecret({ ...k, data: { ...k.data, 'tls.key': Buffer.from('-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n').toString('base64') } });
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.why).not.toContain('AAAA');
  });
});

describe('KeyRegistry', () => {
  it('orders keys newest first by certificate NotBefore and serves the newest', () => {
    const registry = new KeyRegistry(silentLogger);
    const older = sealingKey('rsa-4096');
    registry.upsert(keySecret('old', 'rsa-4096'));
    registry.upsert(keySecret('new', 'rsa-2048'));
    // Both test certificates have the same NotBefore; ties go by Secret name.
    expect(registry.list().map((k) => k.secretName)).toEqual(['new', 'old']);
    expect(registry.newest()?.secretName).toBe('new');
    expect(registry.get(older.keyId)?.secretName).toBe('old');
  });

  it('applies additions, changes and removals live and notifies listeners', () => {
    const registry = new KeyRegistry(silentLogger);
    const seen: number[] = [];
    registry.onChange((keys) => seen.push(keys.length));
    registry.upsert(keySecret('a', 'rsa-2048'));
    registry.upsert(keySecret('b', 'rsa-4096'));
    registry.remove(keySecret('a', 'rsa-2048'));
    expect(registry.list().map((k) => k.secretName)).toEqual(['b']);
    expect(seen).toEqual([1, 2, 1]);
  });

  it('keeps the same list object until the set changes and ignores unchanged versions', () => {
    const registry = new KeyRegistry(silentLogger);
    registry.upsert(keySecret('a', 'rsa-2048'));
    const first = registry.list();
    registry.upsert(keySecret('a', 'rsa-2048'));
    expect(registry.list()).toBe(first);
  });

  it('counts a key held by two Secrets once', () => {
    const registry = new KeyRegistry(silentLogger);
    registry.upsert(keySecret('a', 'rsa-2048'));
    registry.upsert(keySecret('b', 'rsa-2048'));
    expect(registry.list()).toHaveLength(1);
  });

  it('drops a key whose Secret becomes unusable and logs the Secret name only', () => {
    const { logger, text } = captureLogger();
    const registry = new KeyRegistry(logger);
    const good = keySecret('a', 'rsa-2048');
    registry.upsert(good);
    registry.upsert({ ...good, metadata: { ...good.metadata, resourceVersion: '2' }, data: { 'tls.crt': good.data!['tls.crt']! } });
    expect(registry.list()).toHaveLength(0);
    expect(text()).toContain('"secret":"a"');
    expect(text()).not.toContain(good.data!['tls.crt']!.slice(0, 40));
  });
});

describe('KeyUsage', () => {
  it('counts the SealedSecrets each key unseals and reports unused keys with zero', () => {
    const metrics = new ControllerMetrics();
    const usage = new KeyUsage(metrics);
    const k1 = sealingKey('rsa-2048');
    const k2 = sealingKey('rsa-4096');
    usage.set('ns/a', [k1.keyId]);
    usage.set('ns/b', [k1.keyId, k1.keyId]);
    usage.set('ns/c', [k1.keyId]);
    usage.set('ns/c', [k1.keyId]);
    usage.delete('ns/a');
    expect(usage.report([k1, k2]).map((r) => r.sealedSecrets)).toEqual([2, 0]);
  });

  it('gives objects opened by the same keys one shared key-id list, whatever order the ids came in', () => {
    const usage = new KeyUsage();
    const k1 = sealingKey('rsa-2048').keyId;
    const k2 = sealingKey('rsa-4096').keyId;
    usage.set('ns/a', [k2, k1]);
    usage.set('ns/b', [`${k1}`, k2, k1]);
    usage.set('ns/c', [k1]);
    expect(usage.keyIdsOf('ns/a')).toEqual([k1, k2].sort());
    expect(usage.keyIdsOf('ns/b')).toBe(usage.keyIdsOf('ns/a'));
    expect(usage.keyIdsOf('ns/c')).toEqual([k1]);
    expect(usage.distinctLists).toBe(2);
    expect(Object.isFrozen(usage.keyIdsOf('ns/a'))).toBe(true);
  });

  it('drops a shared key-id list once no object uses it, and keeps the counts right when an object changes keys', () => {
    const usage = new KeyUsage();
    const k1 = sealingKey('rsa-2048');
    const k2 = sealingKey('rsa-4096');
    usage.set('ns/a', [k1.keyId]);
    usage.set('ns/b', [k1.keyId]);
    usage.set('ns/a', [k2.keyId]);
    expect(usage.distinctLists).toBe(2);
    usage.delete('ns/b');
    expect(usage.distinctLists).toBe(1);
    expect(usage.keyIdsOf('ns/b')).toBeUndefined();
    expect(usage.report([k1, k2]).map((r) => r.sealedSecrets)).toEqual([0, 1]);
    usage.delete('ns/a');
    expect(usage.distinctLists).toBe(0);
  });
});
