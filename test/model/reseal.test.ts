/** Re-sealing (src/model/reseal.ts): what `/v1/rotate` answers with, laid out by encrypt's own assembly. */
import { describe, expect, it } from 'vitest';
import { resealSealedSecret } from '../../src/model/reseal.js';
import { readSealedSecret, sealSecret, unsealSealedSecret, type SealedApiVersion, type SealedSecret } from '../../src/model/sealed-secret.js';
import { readSecret } from '../../src/model/secret.js';
import { SCOPES } from '../../src/model/scope.js';
import { BITNAMI_API_VERSION, KEY_ID_ANNOTATION, KSEAL_API_VERSION } from '../../src/wire.js';
import { ksealErrorOf } from '../helpers/errors.js';
import { testKey } from '../helpers/keys.js';

const oldKey = testKey('rsa-2048');
const newKey = testKey('rsa-4096');
const AT = { file: 'in.yaml', document: 1 } as const;

const secret = readSecret(
  { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/basic-auth', metadata: { name: 'db', namespace: 'prod', labels: { app: 'db' }, annotations: { team: 'core' } }, stringData: { password: 'hunter2', username: 'admin' } },
  AT,
);

function opened(sealed: SealedSecret): Map<string, Buffer> {
  const { secret: s } = unsealSealedSecret(sealed, [oldKey.entry, newKey.entry]);
  return new Map(Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
}

/** Everything but the ciphertexts. */
function shape(sealed: SealedSecret): unknown {
  return { ...sealed, spec: { ...sealed.spec, encryptedData: Object.keys(sealed.spec.encryptedData) } };
}

describe('resealSealedSecret', () => {
  for (const apiVersion of [KSEAL_API_VERSION, BITNAMI_API_VERSION] as SealedApiVersion[]) {
    for (const scope of SCOPES) {
      it(`gives a ${scope} ${apiVersion} object the exact layout encrypt gives it with the new key`, () => {
        const before = sealSecret(secret, oldKey.certificate, { scope, apiVersion });
        const rotated = resealSealedSecret(before, opened(before), { publicKey: newKey.certificate.publicKey, keyId: newKey.certificate.keyId });
        expect(shape(rotated)).toEqual(shape(sealSecret(secret, newKey.certificate, { scope, apiVersion })));
        const back = unsealSealedSecret(readSealedSecret(JSON.parse(JSON.stringify(rotated)), AT), [newKey.entry]);
        expect([...back.keyIds.values()]).toEqual([newKey.entry.keyId, newKey.entry.keyId]);
        expect(Buffer.from(back.secret.data['password'] ?? '', 'base64').toString()).toBe('hunter2');
      });
    }
  }

  it('keeps a template it did not write (Bitnami template data) as it was', () => {
    const before = sealSecret(secret, oldKey.certificate, { scope: 'strict', apiVersion: BITNAMI_API_VERSION });
    before.spec.template = { ...before.spec.template, data: { plain: 'not secret' } };
    const rotated = resealSealedSecret(before, opened(before), { publicKey: newKey.certificate.publicKey, keyId: newKey.certificate.keyId });
    expect(rotated.spec.template).toEqual(before.spec.template);
    expect(rotated.metadata.annotations?.[KEY_ID_ANNOTATION]).toBe(newKey.certificate.keyId);
  });

  it('refuses when a value is missing rather than dropping it', () => {
    const before = sealSecret(secret, oldKey.certificate, { scope: 'strict' });
    const partial = opened(before);
    partial.delete('username');
    const error = ksealErrorOf(() => resealSealedSecret(before, partial, { publicKey: newKey.certificate.publicKey, keyId: newKey.certificate.keyId }));
    expect(error.code).toBe('INTERNAL');
    expect(error.key).toBe('username');
  });
});
