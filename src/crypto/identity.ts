/**
 * Escrow identities and recipients as text (docs/FORMAT.md §9.5), on age's model: a public key is
 * `kseal1…` and a secret key `KSEAL-SECRET-KEY-1…`, both Bech32 (bech32.ts) with a checksum, so a
 * typo or a truncated paste is caught. An identity file holds one or more secret keys, one a line,
 * with `#` comment lines (kseal writes the public key there); a recipients file holds `kseal1…`
 * lines and comments. Secret key material never appears in a message.
 */
import { randomBytes } from 'node:crypto';
import { KsealError } from '../errors.js';
import { bech32Decode, bech32Encode } from './bech32.js';
import { escrowKeyId, x25519, x25519PublicKey } from './escrow.js';

/** Bech32 prefix of escrow public keys. */
const RECIPIENT_PREFIX = 'kseal';
/** Bech32 prefix of escrow secret keys (printed in upper case). */
const SECRET_KEY_PREFIX = 'kseal-secret-key-';

/** An escrow recipient: an X25519 public key. */
export interface EscrowRecipient {
  /** 32 bytes. */
  readonly publicKey: Buffer;
  /** SHA-256 of its SubjectPublicKeyInfo (escrow.ts `escrowKeyId`). */
  readonly keyId: string;
  /** The `kseal1…` text. */
  readonly text: string;
}

/** An escrow identity: the secret key and its recipient. */
export interface EscrowIdentity {
  readonly secret: Buffer;
  readonly publicKey: Buffer;
  readonly keyId: string;
  readonly recipient: string;
  /** Where it came from, for messages. */
  readonly source: string;
}

/** The `kseal1…` text of a public key. */
export function formatRecipient(publicKey: Uint8Array): string {
  return bech32Encode(RECIPIENT_PREFIX, publicKey);
}

/** Parses `kseal1…`; throws RECIPIENT_INVALID naming `source`. */
export function parseRecipient(text: string, source = 'the recipient'): EscrowRecipient {
  const trimmed = text.trim();
  const decoded = bech32Decode(trimmed);
  if (decoded === undefined || decoded.prefix !== RECIPIENT_PREFIX || trimmed !== trimmed.toLowerCase()) {
    const why = decoded === undefined ? (trimmed.startsWith('kseal1') ? 'its checksum does not match (a typo or a truncated copy)' : 'it does not start with kseal1') : 'it is not a kseal1 public key';
    throw new KsealError('RECIPIENT_INVALID', `${source} is not a kseal escrow recipient: ${why}`, { hint: 'pass the public key that kseal identity new printed (kseal1…)' });
  }
  if (decoded.data.length !== 32) throw new KsealError('RECIPIENT_INVALID', `${source} holds ${decoded.data.length} bytes, not a 32-byte X25519 key`);
  // A low-order point would make every shared secret zero: refuse it up front.
  if (x25519(randomBytes(32), decoded.data) === undefined) throw new KsealError('RECIPIENT_INVALID', `${source} is not a usable X25519 public key (low-order point)`);
  return { publicKey: decoded.data, keyId: escrowKeyId(decoded.data), text: trimmed };
}

/** Builds an identity from a 32-byte secret. */
export function identityFromSecret(secret: Uint8Array, source: string): EscrowIdentity {
  const publicKey = x25519PublicKey(secret);
  return { secret: Buffer.from(secret), publicKey, keyId: escrowKeyId(publicKey), recipient: formatRecipient(publicKey), source };
}

/** A fresh identity. */
export function generateIdentity(): EscrowIdentity {
  return identityFromSecret(randomBytes(32), 'new identity');
}

/** The `KSEAL-SECRET-KEY-1…` text of an identity. */
export function formatSecretKey(identity: Pick<EscrowIdentity, 'secret'>): string {
  return bech32Encode(SECRET_KEY_PREFIX, identity.secret).toUpperCase();
}

/** The text of an identity file: a created line, the public key as a comment, the secret key. */
export function formatIdentityFile(identity: EscrowIdentity, created: Date): string {
  return `# created: ${created.toISOString().slice(0, 19)}Z\n# public key: ${identity.recipient}\n${formatSecretKey(identity)}\n`;
}

/** Parses an identity file (one or more secret keys, `#` comments, blank lines). Throws IDENTITY_INVALID naming the line. */
export function parseIdentityFile(text: string, source: string): EscrowIdentity[] {
  const identities: EscrowIdentity[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const decoded = bech32Decode(line);
    if (decoded === undefined || decoded.prefix !== SECRET_KEY_PREFIX || decoded.data.length !== 32) {
      const why = line.toUpperCase().startsWith('KSEAL-SECRET-KEY-1') ? 'its checksum does not match (a typo or a truncated copy)' : 'it is not a KSEAL-SECRET-KEY-1… line';
      throw new KsealError('IDENTITY_INVALID', `line ${i + 1} is not a kseal identity: ${why}`, { file: source, hint: 'pass a file written by kseal identity new' });
    }
    identities.push(identityFromSecret(decoded.data, source));
  });
  if (identities.length === 0) throw new KsealError('IDENTITY_INVALID', 'no identity found (no KSEAL-SECRET-KEY-1… line)', { file: source, hint: 'pass a file written by kseal identity new' });
  return identities;
}

/** Parses a recipients file: `kseal1…` lines, `#` comments and blank lines. */
export function parseRecipientsFile(text: string, source: string): EscrowRecipient[] {
  const out: EscrowRecipient[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    try {
      out.push(parseRecipient(line, `line ${i + 1}`));
    } catch (e) {
      throw e instanceof KsealError ? e.at({ file: source }) : e;
    }
  });
  return out;
}
