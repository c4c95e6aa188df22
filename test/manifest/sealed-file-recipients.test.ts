/** In-place edits of multi-recipient SealedSecret files (src/manifest/sealed-file.ts). */
import { describe, expect, it } from 'vitest';
import { generateIdentity, parseRecipient } from '../../src/crypto/identity.js';
import { openSealedFile } from '../../src/manifest/sealed-file.js';
import { writeManifests } from '../../src/manifest/write.js';
import { readSecret } from '../../src/model/secret.js';
import { sealSecret, type SealedSecret } from '../../src/model/sealed-secret.js';
import { clusterRecipient, escrowRecipient } from '../../src/model/recipients.js';
import { openWithIdentities, sealForObject } from '../../src/model/object-recipients.js';
import { testKey } from '../helpers/keys.js';

const a = testKey('rsa-2048');
const b = testKey('rsa-4096');
const escrow = generateIdentity();

function sealed(): SealedSecret {
  const secret = readSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'prod' }, stringData: { password: 'p', username: 'u' } }, {});
  return sealSecret(secret, a.certificate, { scope: 'strict', recipients: [clusterRecipient(b.certificate), escrowRecipient(parseRecipient(escrow.recipient))] });
}

for (const format of ['yaml', 'json'] as const) {
  describe(`editing a multi-recipient ${format} file`, () => {
    const original = sealed();
    const text = `${format === 'yaml' ? '# kept comment\n' : ''}${writeManifests([original], format)}`;

    it('adds a key for every recipient and keeps the other ciphertexts byte-identical', () => {
      const file = openSealedFile(text, 'f');
      const doc = file.documents[0]!;
      doc.setObjectValues(sealForObject(doc.sealed!, a.certificate, new Map([['token', Buffer.from('t')]])), a.certificate.keyId);
      const out = file.render();
      const after = openSealedFile(out, 'f').documents[0]!.sealed!;
      expect(after.spec.encryptedData.password).toBe(original.spec.encryptedData.password);
      for (const [i, entry] of after.spec.recipients!.entries()) {
        expect(Object.keys(entry.encryptedData)).toEqual(['password', 'token', 'username']);
        expect(entry.encryptedData.username).toBe(original.spec.recipients![i]!.encryptedData.username);
      }
      expect(openWithIdentities(after, [escrow]).data.get('token')?.toString()).toBe('t');
      if (format === 'yaml') expect(out).toContain('# kept comment');
    });

    it('removes a key from every recipient', () => {
      const file = openSealedFile(text, 'f');
      file.documents[0]!.removeKeys(['username']);
      const after = openSealedFile(file.render(), 'f').documents[0]!.sealed!;
      expect(Object.keys(after.spec.encryptedData)).toEqual(['password']);
      expect(after.spec.recipients!.every((r) => Object.keys(r.encryptedData).join() === 'password')).toBe(true);
    });

    it('replaces the recipient list, keeping kept entries as they were', () => {
      const file = openSealedFile(text, 'f');
      file.documents[0]!.setRecipients([original.spec.recipients![1]!]);
      const after = openSealedFile(file.render(), 'f').documents[0]!.sealed!;
      expect(after.spec.recipients).toEqual([original.spec.recipients![1]]);
      const none = openSealedFile(text, 'f');
      none.documents[0]!.setRecipients([]);
      expect(openSealedFile(none.render(), 'f').documents[0]!.sealed!.spec.recipients).toBeUndefined();
    });

    it('replaces spec.encryptedData as a whole with its key-id hint', () => {
      const file = openSealedFile(text, 'f');
      file.documents[0]!.setPrimary(original.spec.recipients![0]!.encryptedData, b.certificate.keyId);
      const after = openSealedFile(file.render(), 'f').documents[0]!.sealed!;
      expect(after.spec.encryptedData).toEqual(original.spec.recipients![0]!.encryptedData);
      expect(after.metadata.annotations?.['kseal.dev/key-id']).toBe(b.certificate.keyId);
    });
  });
}
