import { KsealError } from '../errors.js';
/** Minimal PEM block scanning (RFC 7468): the labels and bodies of every `-----BEGIN X-----` block in a text. */

export interface PemBlock {
  readonly label: string;
  /** The whole block, BEGIN and END lines included, as node:crypto accepts it. */
  readonly text: string;
  /** True when the block carries legacy OpenSSL encryption headers (`Proc-Type: 4,ENCRYPTED`). */
  readonly encryptedHeader: boolean;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** Returns every PEM block in `text`, in order. A block whose END line is missing is not returned. */
export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(BLOCK)) {
    const label = match[1] ?? '';
    const body = match[2] ?? '';
    blocks.push({ label, text: `${match[0]}\n`, encryptedHeader: /^Proc-Type:\s*4,ENCRYPTED/m.test(body) });
  }
  return blocks;
}

/** True when the text contains a BEGIN line, even if its block is broken (used to tell truncated PEM from non-PEM). */
export function looksLikePem(text: string): boolean {
  return /-----BEGIN [A-Z0-9 ]+-----/.test(text);
}

/**
 * The first CERTIFICATE block among `blocks` (from pemBlocks(text)), or the error that says what the text is instead (nothing,
 * an incomplete PEM, a private key, another PEM kind). Shared by the library's certificate parser and
 * the sealing page's, so both give the same codes and messages.
 */
export function firstCertificateBlock(blocks: readonly PemBlock[], text: string, where: { readonly file?: string } = {}): PemBlock {
  const first = blocks.find((b) => b.label === 'CERTIFICATE');
  if (first !== undefined) return first;
  const other = blocks[0]?.label;
  const incomplete = other === undefined && looksLikePem(text);
  const message =
    other === undefined
      ? incomplete
        ? 'the PEM certificate is incomplete (no END line)'
        : 'no PEM certificate found'
      : other.includes('PRIVATE KEY')
        ? 'this is a private key, not a certificate'
        : `this is a PEM ${other}, not a certificate`;
  throw new KsealError(incomplete ? 'CERT_INVALID' : 'CERT_NOT_PEM', message, {
    ...where,
    hint: 'pass the controller certificate (kseal cert > cert.pem), a file starting with -----BEGIN CERTIFICATE-----',
  });
}
