/** Escrow identity and recipient text: Bech32 with checksum, prefixes, identity and recipients files. */
import { describe, expect, it } from 'vitest';
import { bech32Decode, bech32Encode } from '../../src/crypto/bech32.js';
import { formatIdentityFile, formatRecipient, formatSecretKey, generateIdentity, identityFromSecret, parseIdentityFile, parseRecipient, parseRecipientsFile } from '../../src/crypto/identity.js';
import { escrowKeyId } from '../../src/crypto/escrow.js';
import type { ErrorCode, KsealError } from '../../src/errors.js';
import { ksealErrorOf } from '../helpers/errors.js';

function expectKsealError(fn: () => unknown, code: ErrorCode, message?: RegExp): KsealError {
  const error = ksealErrorOf(fn);
  expect(error.code).toBe(code);
  if (message !== undefined) expect(error.message).toMatch(message);
  return error;
}

const FIXED = identityFromSecret(Buffer.alloc(32, 1), 'fixed');

describe('bech32', () => {
  it('decodes the BIP 173 test string "a12uel5l" to an empty payload', () => {
    expect(bech32Decode('a12uel5l')).toEqual({ prefix: 'a', data: Buffer.alloc(0) });
  });

  it('decodes the BIP 173 test string with the long prefix', () => {
    expect(bech32Decode('abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw')?.prefix).toBe('abcdef');
  });

  it('round-trips 32 bytes', () => {
    const data = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7));
    expect(bech32Decode(bech32Encode('kseal', data))).toEqual({ prefix: 'kseal', data });
  });

  it('rejects mixed case', () => {
    const text = bech32Encode('kseal', Buffer.alloc(32, 5));
    expect(bech32Decode(`K${text.slice(1)}`)).toBeUndefined();
    expect(bech32Decode(text.toUpperCase())?.prefix).toBe('kseal');
  });
});

describe('escrow recipients', () => {
  it('formats a public key as kseal1 followed by 58 characters', () => {
    expect(FIXED.recipient).toMatch(/^kseal1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}$/);
  });

  it('gives a fixed key the same text every time (known answer)', () => {
    expect(formatRecipient(FIXED.publicKey)).toBe(FIXED.recipient);
    expect(FIXED.publicKey.toString('hex')).toBe('a4e09292b651c278b9772c569f5fa9bb13d906b46ab68c9df9dc2b4409f8a209');
  });

  it('parses its own text back to the same key and key id', () => {
    const parsed = parseRecipient(FIXED.recipient);
    expect(parsed.publicKey.equals(FIXED.publicKey)).toBe(true);
    expect(parsed.keyId).toBe(escrowKeyId(FIXED.publicKey));
  });

  it('rejects a one-character typo by its checksum', () => {
    const text = FIXED.recipient;
    const typo = `${text.slice(0, 20)}${text[20] === 'q' ? 'p' : 'q'}${text.slice(21)}`;
    expectKsealError(() => parseRecipient(typo), 'RECIPIENT_INVALID', /checksum/);
  });

  it('rejects a truncated paste', () => {
    expectKsealError(() => parseRecipient(FIXED.recipient.slice(0, -1)), 'RECIPIENT_INVALID');
  });

  it('rejects a secret key passed as a recipient', () => {
    expectKsealError(() => parseRecipient(formatSecretKey(FIXED)), 'RECIPIENT_INVALID');
  });

  it('rejects a low-order point', () => {
    expectKsealError(() => parseRecipient(formatRecipient(Buffer.alloc(32))), 'RECIPIENT_INVALID', /low-order/);
  });

  it('reads a recipients file with comments and blank lines', () => {
    const other = generateIdentity();
    const list = parseRecipientsFile(`# platform team\n${FIXED.recipient}\n\n  ${other.recipient}  \n`, 'recipients.txt');
    expect(list.map((r) => r.keyId)).toEqual([FIXED.keyId, other.keyId]);
  });

  it('names the file and line of a bad recipients-file entry', () => {
    expectKsealError(() => parseRecipientsFile(`${FIXED.recipient}\nage1xyz\n`, 'r.txt'), 'RECIPIENT_INVALID', /line 2/);
  });
});

describe('identity files', () => {
  it('writes the public key as a comment and the secret key in upper case', () => {
    const text = formatIdentityFile(FIXED, new Date('2026-01-02T03:04:05Z'));
    expect(text).toBe(`# created: 2026-01-02T03:04:05Z\n# public key: ${FIXED.recipient}\n${formatSecretKey(FIXED)}\n`);
    expect(formatSecretKey(FIXED)).toMatch(/^KSEAL-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}$/);
  });

  it('reads back the identity it wrote', () => {
    const [identity] = parseIdentityFile(formatIdentityFile(FIXED, new Date()), 'id.txt');
    expect(identity?.secret.equals(FIXED.secret)).toBe(true);
    expect(identity?.recipient).toBe(FIXED.recipient);
  });

  it('reads several identities', () => {
    const other = generateIdentity();
    expect(parseIdentityFile(`${formatSecretKey(FIXED)}\r\n${formatSecretKey(other)}\n`, 'ids').map((i) => i.keyId)).toEqual([FIXED.keyId, other.keyId]);
  });

  it('refuses a file with no identity', () => {
    expectKsealError(() => parseIdentityFile('# nothing here\n', 'empty.txt'), 'IDENTITY_INVALID', /no identity/);
  });

  it('refuses a recipient in an identity file without showing the line', () => {
    const error = expectKsealError(() => parseIdentityFile(`${FIXED.recipient}\n`, 'id.txt'), 'IDENTITY_INVALID', /line 1/);
    expect(error.format()).not.toContain(FIXED.recipient);
  });

  it('refuses a secret key with a typo without showing it', () => {
    const secret = formatSecretKey(FIXED);
    const typo = `${secret.slice(0, 30)}${secret[30] === 'Q' ? 'P' : 'Q'}${secret.slice(31)}`;
    const error = expectKsealError(() => parseIdentityFile(typo, 'id.txt'), 'IDENTITY_INVALID', /checksum/);
    expect(error.format()).not.toContain(secret.slice(18, 40));
  });
});
