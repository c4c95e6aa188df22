/**
 * A minimal DER reader (X.690): just enough to walk an X.509 certificate in the browser, where
 * node:crypto's X509Certificate does not exist. Every read is bounds-checked and throws DerError on
 * malformed input; lengths are definite only (DER forbids the indefinite form).
 */

/** Thrown for any malformed DER; callers turn it into a KsealError. */
export class DerError extends Error {
  override readonly name = 'DerError';
}

/** One TLV element: its tag byte, its contents, and the whole encoding (tag, length and contents). */
export interface DerElement {
  readonly tag: number;
  readonly contents: Uint8Array;
  readonly encoded: Uint8Array;
}

/** Universal tags used here. */
export const TAG = { INTEGER: 0x02, BIT_STRING: 0x03, NULL: 0x05, OID: 0x06, UTC_TIME: 0x17, GENERALIZED_TIME: 0x18, SEQUENCE: 0x30 } as const;

/** Reads the element starting at `offset`; returns it and the offset just past it. */
function readElement(bytes: Uint8Array, offset: number): { element: DerElement; next: number } {
  if (offset + 2 > bytes.length) throw new DerError('truncated header');
  const tag = bytes[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not used in certificates');
  let length = bytes[offset + 1] as number;
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new DerError('unsupported length form');
    if (start + count > bytes.length) throw new DerError('truncated length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (bytes[start + i] as number);
    start += count;
  }
  const end = start + length;
  if (end > bytes.length) throw new DerError('element runs past the end');
  return { element: { tag, contents: bytes.subarray(start, end), encoded: bytes.subarray(offset, end) }, next: end };
}

/** Reads one element that must fill `bytes` exactly and carry `tag`. */
export function readOnly(bytes: Uint8Array, tag: number): DerElement {
  const { element, next } = readElement(bytes, 0);
  if (next !== bytes.length) throw new DerError('trailing bytes');
  return expectTag(element, tag);
}

/** The children of a constructed element, in order. */
export function children(element: DerElement): DerElement[] {
  const out: DerElement[] = [];
  for (let offset = 0; offset < element.contents.length; ) {
    const { element: child, next } = readElement(element.contents, offset);
    out.push(child);
    offset = next;
  }
  return out;
}

/** Returns `element` when it carries `tag`, else throws. */
export function expectTag(element: DerElement | undefined, tag: number): DerElement {
  if (element === undefined) throw new DerError('missing element');
  if (element.tag !== tag) throw new DerError(`expected tag 0x${tag.toString(16)}, found 0x${element.tag.toString(16)}`);
  return element;
}

/** Dotted text of an OBJECT IDENTIFIER's contents. */
export function oidText(contents: Uint8Array): string {
  if (contents.length === 0) throw new DerError('empty OID');
  const first = contents[0] as number;
  const parts = [Math.min(2, Math.floor(first / 40)), first - 40 * Math.min(2, Math.floor(first / 40))];
  let value = 0;
  for (let i = 1; i < contents.length; i++) {
    const byte = contents[i] as number;
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

/** The instant of a UTCTime (YYMMDDHHMMSSZ; years 50-99 are 19xx) or GeneralizedTime (YYYYMMDDHHMMSSZ). */
export function timeOf(element: DerElement): Date {
  const text = String.fromCharCode(...element.contents);
  const match =
    element.tag === TAG.UTC_TIME ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : element.tag === TAG.GENERALIZED_TIME ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : null;
  if (match === null) throw new DerError('bad time');
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  const year = element.tag === TAG.UTC_TIME ? (y >= 50 ? 1900 + y : 2000 + y) : y;
  return new Date(Date.UTC(year, mo - 1, d, h, mi, s));
}
