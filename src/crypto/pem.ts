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
