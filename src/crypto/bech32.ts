/**
 * Bech32 (BIP 173) as age uses it for its keys: a human-readable prefix, the separator `1`, the data
 * in a 32-character alphabet and a 6-character BCH checksum that catches any typo of up to four
 * characters. Unlike BIP 173 there is no 90-character limit (age's choice too). Mixed case is
 * rejected; a whole-uppercase string is accepted (secret keys are printed in upper case).
 */

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3] as const;

function polymod(values: readonly number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATOR[i] ?? 0;
  }
  return chk;
}

function expandPrefix(prefix: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < prefix.length; i++) out.push(prefix.charCodeAt(i) >>> 5);
  out.push(0);
  for (let i = 0; i < prefix.length; i++) out.push(prefix.charCodeAt(i) & 31);
  return out;
}

/** Regroups bits (8 → 5 when encoding, 5 → 8 when decoding); undefined when the padding is not canonical. */
function convertBits(data: ArrayLike<number>, from: number, to: number, pad: boolean): number[] | undefined {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const max = (1 << to) - 1;
  for (let i = 0; i < data.length; i++) {
    acc = (acc << from) | (data[i] ?? 0);
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >>> bits) & max);
    }
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & max);
  } else if (bits >= from || ((acc << (to - bits)) & max) !== 0) return undefined;
  return out;
}

/** Encodes `data` under the lowercase prefix `prefix`. */
export function bech32Encode(prefix: string, data: Uint8Array): string {
  const words = convertBits(data, 8, 5, true) ?? [];
  const checksum = polymod([...expandPrefix(prefix), ...words, 0, 0, 0, 0, 0, 0]) ^ 1;
  let out = `${prefix}1`;
  for (const w of words) out += CHARSET[w];
  for (let i = 0; i < 6; i++) out += CHARSET[(checksum >>> (5 * (5 - i))) & 31];
  return out;
}

/** Decodes a Bech32 string; undefined when the case is mixed, a character is not in the alphabet or the checksum fails. */
export function bech32Decode(text: string): { prefix: string; data: Buffer } | undefined {
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) return undefined;
  const lower = text.toLowerCase();
  const separator = lower.lastIndexOf('1');
  if (separator < 1 || separator + 7 > lower.length) return undefined;
  const prefix = lower.slice(0, separator);
  for (let i = 0; i < prefix.length; i++) {
    const c = prefix.charCodeAt(i);
    if (c < 33 || c > 126) return undefined;
  }
  const words: number[] = [];
  for (const c of lower.slice(separator + 1)) {
    const w = CHARSET.indexOf(c);
    if (w < 0) return undefined;
    words.push(w);
  }
  if (polymod([...expandPrefix(prefix), ...words]) !== 1) return undefined;
  const bytes = convertBits(words.slice(0, -6), 5, 8, false);
  return bytes === undefined ? undefined : { prefix, data: Buffer.from(bytes) };
}
