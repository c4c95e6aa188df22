/** Multi-recipient SealedSecrets (src/model/recipients.ts, object-recipients.ts): sealing, reading, opening, scope binding. */
import { describe, expect, it } from 'vitest';
import { generateIdentity, parseRecipient } from '../../src/crypto/identity.js';
import { readSecret } from '../../src/model/secret.js';
import { readSealedSecret, sealSecret, unsealSealedSecret, type SealedSecret } from '../../src/model/sealed-secret.js';
import { clusterRecipient, escrowRecipient, MAX_RECIPIENTS, sealForRecipients } from '../../src/model/recipients.js';
import { objectRecipients, openObject, openWithIdentities, sealForObject } from '../../src/model/object-recipients.js';
import { testKey } from '../helpers/keys.js';
import { ksealErrorOf } from '../helpers/errors.js';
import { BITNAMI_API_VERSION, KEY_ID_ANNOTATION } from '../../src/wire.js';

const a = testKey('rsa-2048');
const b = testKey('rsa-4096');
const escrow = generateIdentity();
const otherEscrow = generateIdentity();
const AT = { file: 'in.yaml', document: 1 } as const;

function input(metadata: Record<string, unknown> = { name: 'db', namespace: 'prod' }) {
  return readSecret({ apiVersion: 'v1', kind: 'Secret', metadata, stringData: { password: 'hunter2', username: 'admin' } }, AT);
}

function sealAll(): SealedSecret {
  return sealSecret(input(), a.certificate, { scope: 'strict', recipients: [clusterRecipient(b.certificate), escrowRecipient(parseRecipient(escrow.recipient))] });
}

const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

describe('sealing for several recipients', () => {
  it('keeps spec.encryptedData for the first certificate, as a one-recipient object has it', () => {
    const sealed = sealAll();
    expect(sealed.metadata.annotations?.[KEY_ID_ANNOTATION]).toBe(a.certificate.keyId);
    expect(Object.keys(sealed.spec.encryptedData)).toEqual(['password', 'username']);
    expect(unsealSealedSecret(copy(sealed), [a.entry]).recipient).toBe('encryptedData');
  });

  it('adds one spec.recipients entry per further recipient, with id, kind and public key', () => {
    const sealed = sealAll();
    expect(sealed.spec.recipients?.map((r) => [r.id, r.kind])).toEqual([
      [b.certificate.keyId, 'cluster'],
      [escrow.keyId, 'escrow'],
    ]);
    expect(sealed.spec.recipients?.[1]?.publicKey).toBe(escrow.recipient);
    expect(objectRecipients(sealed).map((r) => r.keyId)).toEqual([b.certificate.keyId, escrow.keyId]);
  });

  it('writes no spec.recipients for one recipient', () => {
    expect(sealSecret(input(), a.certificate, { scope: 'strict' }).spec.recipients).toBeUndefined();
  });

  it('drops a recipient repeated, or repeating the first certificate', () => {
    const sealed = sealSecret(input(), a.certificate, { scope: 'strict', recipients: [clusterRecipient(a.certificate), clusterRecipient(b.certificate), clusterRecipient(b.certificate)] });
    expect(sealed.spec.recipients?.map((r) => r.id)).toEqual([b.certificate.keyId]);
  });

  it('refuses further recipients for bitnami.com/v1alpha1', () => {
    const error = ksealErrorOf(() => sealSecret(input(), a.certificate, { scope: 'strict', apiVersion: BITNAMI_API_VERSION, recipients: [clusterRecipient(b.certificate)] }));
    expect(error.code).toBe('RECIPIENTS_UNSUPPORTED');
    expect(error.hint).toMatch(/drop --api-version/);
  });

  it('uses one ephemeral key for all values of one escrow recipient in one run', () => {
    const values = new Map([['a', Buffer.from('1')], ['b', Buffer.from('2')], ['c', Buffer.from('3')]]);
    const sealed = sealForRecipients(a.certificate, [escrowRecipient(parseRecipient(escrow.recipient))], Buffer.from('prod/db'), values);
    const ephemerals = Object.values(sealed.others[0]!.encryptedData).map((v) => Buffer.from(v, 'base64').subarray(1, 33).toString('hex'));
    expect(new Set(ephemerals).size).toBe(1);
    const nonces = Object.values(sealed.others[0]!.encryptedData).map((v) => Buffer.from(v, 'base64').subarray(49, 73).toString('hex'));
    expect(new Set(nonces).size).toBe(3);
  });

  it('reuses the ephemeral key across objects of one run, each still with its own label-bound keys', () => {
    const values = new Map([['a', Buffer.from('1')]]);
    const r = [escrowRecipient(parseRecipient(escrow.recipient))];
    const first = Buffer.from(Object.values(sealForRecipients(a.certificate, r, Buffer.from('prod/db'), values).others[0]!.encryptedData)[0]!, 'base64');
    const second = Buffer.from(Object.values(sealForRecipients(a.certificate, r, Buffer.from('prod/cache'), values).others[0]!.encryptedData)[0]!, 'base64');
    expect(second.subarray(1, 33)).toEqual(first.subarray(1, 33));
    expect(second.subarray(33, 49)).not.toEqual(first.subarray(33, 49));
  });
});

describe('reading spec.recipients', () => {
  it('round-trips through JSON', () => {
    const sealed = sealAll();
    expect(readSealedSecret(copy(sealed), AT)).toEqual(sealed);
  });

  it('refuses an entry that lacks a key of spec.encryptedData', () => {
    const sealed = copy(sealAll());
    delete sealed.spec.recipients![0]!.encryptedData.password;
    expect(ksealErrorOf(() => readSealedSecret(sealed, AT)).message).toMatch(/spec.recipients\[0\].encryptedData does not hold the same keys/);
  });

  it('refuses an unknown kind', () => {
    const sealed = copy(sealAll()) as unknown as { spec: { recipients: Array<{ kind: string }> } };
    sealed.spec.recipients[0]!.kind = 'kms';
    expect(ksealErrorOf(() => readSealedSecret(sealed, AT)).message).toMatch(/kind must be cluster or escrow/);
  });

  it('refuses an id that is not a key id, and a repeated id', () => {
    const bad = copy(sealAll());
    bad.spec.recipients![0]!.id = 'abc';
    expect(ksealErrorOf(() => readSealedSecret(bad, AT)).message).toMatch(/64 lowercase hex/);
    const twice = copy(sealAll());
    twice.spec.recipients![1]!.id = twice.spec.recipients![0]!.id;
    expect(ksealErrorOf(() => readSealedSecret(twice, AT)).message).toMatch(/repeats/);
  });

  it(`refuses more than ${MAX_RECIPIENTS} entries`, () => {
    const sealed = copy(sealAll());
    sealed.spec.recipients = Array.from({ length: MAX_RECIPIENTS + 1 }, () => sealed.spec.recipients![0]!);
    expect(ksealErrorOf(() => readSealedSecret(sealed, AT)).message).toMatch(/at most 16/);
  });

  it('refuses spec.recipients on a bitnami.com/v1alpha1 object', () => {
    const sealed = { ...copy(sealAll()), apiVersion: BITNAMI_API_VERSION };
    expect(ksealErrorOf(() => readSealedSecret(sealed, AT)).code).toBe('RECIPIENTS_UNSUPPORTED');
  });

  it('refuses to seal for an entry whose public key does not match its id', () => {
    const sealed = copy(sealAll());
    sealed.spec.recipients![1]!.publicKey = otherEscrow.recipient;
    expect(ksealErrorOf(() => objectRecipients(readSealedSecret(sealed, AT))).message).toMatch(/does not match its id/);
  });
});

describe('opening a multi-recipient object', () => {
  it('opens with the second cluster key from its spec.recipients entry', () => {
    const result = unsealSealedSecret(copy(sealAll()), [b.entry]);
    expect(result.recipient).toBe(b.certificate.keyId);
    expect(Buffer.from(result.secret.data.password!, 'base64').toString()).toBe('hunter2');
  });

  it('opens with the escrow identity alone', () => {
    const opened = openWithIdentities(copy(sealAll()), [otherEscrow, escrow]);
    expect(opened.recipient).toBe(escrow.keyId);
    expect(opened.data.get('username')?.toString()).toBe('admin');
  });

  it('opens with an identity even when the entry id was changed (ids are hints)', () => {
    const sealed = copy(sealAll());
    sealed.spec.recipients![1]!.id = 'f'.repeat(64);
    expect(openWithIdentities(sealed, [escrow]).data.get('password')?.toString()).toBe('hunter2');
  });

  it('says no identity opens it when the identity is not a recipient', () => {
    expect(ksealErrorOf(() => openWithIdentities(copy(sealAll()), [otherEscrow])).code).toBe('DECRYPT_FAILED');
  });

  it('reports a modified escrow value as an authentication failure', () => {
    const sealed = copy(sealAll());
    const bytes = Buffer.from(sealed.spec.recipients![1]!.encryptedData.password!, 'base64');
    bytes[bytes.length - 1]! ^= 1;
    sealed.spec.recipients![1]!.encryptedData.password = bytes.toString('base64');
    expect(ksealErrorOf(() => openWithIdentities(sealed, [escrow])).code).toBe('AUTH_FAILED');
  });

  for (const [what, metadata] of [
    ['another name', { name: 'web', namespace: 'prod' }],
    ['another namespace', { name: 'db', namespace: 'staging' }],
  ] as const) {
    it(`opens for no recipient when moved to ${what}`, () => {
      const moved = copy(sealAll());
      moved.metadata = { ...moved.metadata, ...metadata };
      expect(ksealErrorOf(() => unsealSealedSecret(moved, [a.entry, b.entry])).code).toBe('DECRYPT_FAILED');
      expect(ksealErrorOf(() => openWithIdentities(moved, [escrow])).code).toBe('DECRYPT_FAILED');
    });
  }

  it('opens for no recipient when its scope annotation is widened', () => {
    const widened = copy(sealAll());
    widened.metadata.annotations = { ...widened.metadata.annotations, 'kseal.dev/scope': 'namespace-wide' };
    expect(ksealErrorOf(() => unsealSealedSecret(widened, [a.entry, b.entry])).code).toBe('DECRYPT_FAILED');
    expect(ksealErrorOf(() => openWithIdentities(widened, [escrow])).code).toBe('DECRYPT_FAILED');
  });

  it('openObject tries identities first, then keys', () => {
    expect(openObject(copy(sealAll()), { identities: [otherEscrow], keys: [b.entry] }).kind).toBe('cluster');
    expect(openObject(copy(sealAll()), { identities: [escrow], keys: [b.entry] }).kind).toBe('escrow');
  });
});

describe('sealing new values for the recipients on an object', () => {
  it('seals for the first certificate and every stored recipient, under the object scope', () => {
    const sealed = sealAll();
    const values = sealForObject(sealed, a.certificate, new Map([['token', Buffer.from('t0k')]]));
    expect([...values.recipients.keys()]).toEqual([b.certificate.keyId, escrow.keyId]);
    const merged = copy(sealed);
    merged.spec.encryptedData.token = values.encryptedData.token!;
    for (const entry of merged.spec.recipients!) entry.encryptedData.token = values.recipients.get(entry.id)!.token!;
    expect(Buffer.from(unsealSealedSecret(merged, [b.entry]).secret.data.token!, 'base64').toString()).toBe('t0k');
    expect(openWithIdentities(merged, [escrow]).data.get('token')?.toString()).toBe('t0k');
    expect(Buffer.from(unsealSealedSecret(merged, [a.entry]).secret.data.token!, 'base64').toString()).toBe('t0k');
  });
});
