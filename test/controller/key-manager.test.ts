import { afterEach, describe, expect, it } from 'vitest';
import { generateSealingKey, type KeygenOptions } from '../../src/crypto/keygen.js';
import { KeyManager } from '../../controller/key-manager.js';
import { KEY_CLAIM_LEASE, KEY_CLAIMED_ANNOTATION, KEY_CLAIM_TTL_MS, keyDecision, KEY_DECISION_ANNOTATION } from '../../controller/key-claim.js';
import { keySecretName } from '../../src/model/key-secret.js';
import type { V1Lease } from '@kubernetes/client-node';
import { KeyRegistry } from '../../controller/key-registry.js';
import { KubeError, type ListResult, type SecretJson } from '../../controller/kube-client.js';
import { silentLogger } from '../../controller/logger.js';
import { keySecret, sealingKey, ioTick } from './fixtures.js';

const DAY = 86_400_000;

describe('keySecretName', () => {
  it('is derived from the key id, so the same key always gets the same name and different keys never collide', () => {
    const a = 'a'.repeat(64);
    expect(keySecretName(a)).toBe(keySecretName(a));
    expect(keySecretName(a)).toMatch(/^kseal-key-[0-9a-f]{20}$/);
    expect(keySecretName(`${'a'.repeat(19)}b${'a'.repeat(44)}`)).not.toBe(keySecretName(a));
  });

  it('is not the name of the first key of every cluster (the old name depended only on the other key names)', () => {
    const first = keySecretName(sealingKey('rsa-2048').keyId);
    expect(first).not.toBe('kseal-key-e3b0c44298');
    expect(first).not.toBe(keySecretName(sealingKey('rsa-4096').keyId));
  });
});

describe('keyDecision', () => {
  it('depends only on the set of key ids, so two replicas deciding on the same state compete for one claim', () => {
    expect(keyDecision(['b', 'a'])).toBe(keyDecision(['a', 'b']));
    expect(keyDecision(['a'])).not.toBe(keyDecision([]));
  });
});

/** Key Secrets in memory with create-if-absent semantics. */
function keyStore() {
  const secrets = new Map<string, SecretJson>();
  const leases = new Map<string, V1Lease>();
  let leaseVersion = 0;
  let failLists = 0;
  return {
    secrets,
    leases,
    failNextLists: (n: number) => (failLists = n),
    api: {
      async list(): Promise<ListResult> {
        await ioTick();
        if (failLists > 0) {
          failLists--;
          throw new KubeError('list: 503', 503, 'ServiceUnavailable');
        }
        return { items: [...secrets.values()], resourceVersion: '1', continueToken: undefined };
      },
      async createNamespacedSecret(_ns: string, body: SecretJson): Promise<SecretJson> {
        await ioTick();
        if (secrets.has(body.metadata.name)) throw new KubeError('exists', 409, 'AlreadyExists');
        const stored = { ...body, metadata: { ...body.metadata, resourceVersion: '2' } };
        secrets.set(body.metadata.name, stored);
        return stored;
      },
      async readNamespacedLease(_ns: string, name: string): Promise<V1Lease | undefined> {
        await ioTick();
        return leases.get(name);
      },
      async createNamespacedLease(_ns: string, body: V1Lease): Promise<V1Lease> {
        await ioTick();
        const name = body.metadata?.name ?? '';
        if (leases.has(name)) throw new KubeError('exists', 409, 'AlreadyExists');
        const stored = { ...body, metadata: { ...body.metadata, resourceVersion: String(++leaseVersion) } };
        leases.set(name, stored);
        return stored;
      },
      async replaceNamespacedLease(_ns: string, name: string, body: V1Lease): Promise<V1Lease> {
        await ioTick();
        if (leases.get(name)?.metadata?.resourceVersion !== body.metadata?.resourceVersion) throw new KubeError('conflict', 409, 'Conflict');
        const stored = { ...body, metadata: { ...body.metadata, resourceVersion: String(++leaseVersion) } };
        leases.set(name, stored);
        return stored;
      },
    },
  };
}

describe('KeyManager', () => {
  const managers: KeyManager[] = [];
  afterEach(async () => {
    await Promise.all(managers.map((m) => m.stop()));
    managers.length = 0;
  });

  function manager(store: ReturnType<typeof keyStore>, registry: KeyRegistry, extra: { leader?: () => boolean; renew?: number; cutoff?: Date; generated?: KeygenOptions[] } = {}) {
    const m = new KeyManager({
      api: store.api,
      registry,
      namespace: 'kseal-system',
      identity: `replica-${managers.length}`,
      keySize: 2048,
      keyTtlMs: 3650 * DAY,
      commonName: 'kseal-test',
      renewPeriodMs: extra.renew ?? 0,
      cutoffTime: extra.cutoff,
      isLeader: extra.leader ?? (() => true),
      keysSynced: () => true,
      logger: silentLogger,
      retryBackoff: { initialMs: 50, maxMs: 100 },
      generate: async (o) => {
        extra.generated?.push(o);
        return generateSealingKey(o);
      },
    });
    managers.push(m);
    return m;
  }

  it('generates one key when none exists and puts it in the registry at once', async () => {
    const store = keyStore();
    const registry = new KeyRegistry(silentLogger);
    const generated: KeygenOptions[] = [];
    const m = manager(store, registry, { generated });
    m.start();
    await m.settled();
    expect(store.secrets.size).toBe(1);
    expect(registry.list()).toHaveLength(1);
    expect(generated[0]).toMatchObject({ bits: 2048, commonName: 'kseal-test' });
    const secret = [...store.secrets.values()][0]!;
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(secret.metadata.labels).toEqual({ 'kseal.dev/sealing-key': 'active' });
    expect(secret.metadata.name).toBe(keySecretName(registry.list()[0]!.keyId));
  });

  it('gives a regenerated key a new name, so restoring the deleted key later adds it back instead of replacing the new one', async () => {
    const store = keyStore();
    const registry = new KeyRegistry(silentLogger);
    const m = manager(store, registry);
    m.start();
    await m.settled();
    const [firstName] = [...store.secrets.keys()];
    const first = store.secrets.get(firstName!)!;
    store.secrets.delete(firstName!);
    registry.remove(first);
    await new Promise((r) => setTimeout(r, 50));
    await m.settled();
    expect(store.secrets.size).toBe(1);
    const [secondName] = [...store.secrets.keys()];
    expect(secondName).not.toBe(firstName);
  });

  it('gives up when another replica holds a fresh claim for the same decision', async () => {
    const store = keyStore();
    const now = new Date();
    store.leases.set(KEY_CLAIM_LEASE, {
      metadata: { name: KEY_CLAIM_LEASE, resourceVersion: '7', annotations: { [KEY_DECISION_ANNOTATION]: keyDecision([]), [KEY_CLAIMED_ANNOTATION]: 'f'.repeat(64) } },
      spec: { holderIdentity: 'other', renewTime: now.toISOString() as unknown as Date },
    });
    const m = manager(store, new KeyRegistry(silentLogger));
    m.start();
    await m.settled();
    expect(store.secrets.size).toBe(0);
  });

  it('takes over a stale claim whose key was never created', async () => {
    const store = keyStore();
    store.leases.set(KEY_CLAIM_LEASE, {
      metadata: { name: KEY_CLAIM_LEASE, resourceVersion: '7', annotations: { [KEY_DECISION_ANNOTATION]: keyDecision([]), [KEY_CLAIMED_ANNOTATION]: 'f'.repeat(64) } },
      spec: { holderIdentity: 'crashed', renewTime: new Date(Date.now() - KEY_CLAIM_TTL_MS - 1000).toISOString() as unknown as Date },
    });
    const m = manager(store, new KeyRegistry(silentLogger));
    m.start();
    await m.settled();
    expect(store.secrets.size).toBe(1);
  });

  it('does not generate on a follower', async () => {
    const store = keyStore();
    const m = manager(store, new KeyRegistry(silentLogger), { leader: () => false });
    m.start();
    await m.settled();
    expect(store.secrets.size).toBe(0);
  });

  it('does not create a key when the re-list shows one appeared meanwhile', async () => {
    const store = keyStore();
    store.secrets.set('made-by-someone', keySecret('made-by-someone'));
    const m = manager(store, new KeyRegistry(silentLogger));
    m.start();
    await m.settled();
    expect([...store.secrets.keys()]).toEqual(['made-by-someone']);
  });

  it('creates no extra key when the re-list fails, and retries later', async () => {
    const store = keyStore();
    store.failNextLists(1);
    const registry = new KeyRegistry(silentLogger);
    const m = manager(store, registry);
    m.start();
    await m.settled();
    expect(store.secrets.size).toBe(0);
    await new Promise((r) => setTimeout(r, 200));
    await m.settled();
    expect(store.secrets.size).toBe(1);
  });

  it('lets only one of two racing leaders create the key', async () => {
    const store = keyStore();
    const a = manager(store, new KeyRegistry(silentLogger));
    const b = manager(store, new KeyRegistry(silentLogger));
    a.start();
    b.start();
    await Promise.all([a.settled(), b.settled()]);
    expect(store.secrets.size).toBe(1);
  });

  it('renews an old key and keeps the old one', async () => {
    const store = keyStore();
    const registry = new KeyRegistry(silentLogger);
    const old = keySecret('old-key');
    store.secrets.set('old-key', old);
    registry.upsert(old);
    const m = manager(store, registry, { renew: 30 * DAY });
    m.start();
    await m.settled();
    expect(store.secrets.size).toBe(2);
    expect(registry.newest()?.secretName).not.toBe('old-key');
    expect(registry.list()).toHaveLength(2);
  });

  it('generates a new key at start when the newest is older than the cutoff time', async () => {
    const store = keyStore();
    const registry = new KeyRegistry(silentLogger);
    const old = keySecret('old-key');
    store.secrets.set('old-key', old);
    registry.upsert(old);
    const m = manager(store, registry, { cutoff: new Date('2021-01-01T00:00:00Z') });
    m.start();
    await m.settled();
    expect(store.secrets.size).toBe(2);
  });
});
