/** Unit tests of base64 handling (src/crypto/base64.ts): Go StdEncoding's rules, nothing looser. */
import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from '../../src/crypto/base64.js';

const decoded = (text: string) => decodeBase64(text)?.toString('utf8');

describe('decodeBase64', () => {
  it('decodes standard padded base64', () => {
    expect(decoded('aGVsbG8=')).toBe('hello');
    expect(decoded('aGk=')).toBe('hi');
    expect(decoded('aGV5')).toBe('hey');
    expect(decoded('aA==')).toBe('h');
  });

  it('decodes the empty text to zero bytes', () => {
    expect(decodeBase64('')?.length).toBe(0);
  });

  it('decodes the + and / characters of the standard alphabet', () => {
    expect(decodeBase64('+/+/')?.equals(Buffer.from([0xfb, 0xff, 0xbf]))).toBe(true);
  });

  it('ignores LF anywhere, as Go does', () => {
    expect(decoded('aGVs\nbG8=\n')).toBe('hello');
    expect(decoded('\na\nGVsbG8=')).toBe('hello');
  });

  it('ignores CR and CRLF anywhere, as Go does', () => {
    expect(decoded('aGVs\r\nbG8=\r\n')).toBe('hello');
    expect(decoded('aG\rVsbG8=')).toBe('hello');
  });

  it('accepts non-zero unused bits before the padding, as Go StdEncoding (not Strict) does', () => {
    expect(decoded('aGk=')).toBe('hi');
    expect(decoded('aGl=')).toBe('hi');
  });

  const rejected: ReadonlyArray<[string, string]> = [
    ['a space', 'aGVs bG8='],
    ['a tab', 'aGVs\tbG8='],
    ['a leading space', ' aGVsbG8='],
    ['the URL-safe "-" character', 'a-Vs'],
    ['the URL-safe "_" character', 'a_Vs'],
    ['missing padding', 'aGVsbG8'],
    ['missing one of two padding characters', 'aA='],
    ['extra padding', 'aGVsbG8=='],
    ['a padding-only group', '===='],
    ['padding inside the text', 'aA==aGVs'],
    ['a character outside the alphabet', 'aGV*bG8='],
    ['a non-ASCII character', 'aGVébG8='],
    ['a length that is not a multiple of four', 'aGVsb'],
    ['a NUL character', 'aGVs\0bG8='],
  ];
  for (const [what, text] of rejected) {
    it(`rejects ${what}`, () => {
      expect(decodeBase64(text)).toBeUndefined();
    });
  }
});

describe('encodeBase64', () => {
  it('encodes with padding and the standard alphabet', () => {
    expect(encodeBase64(Buffer.from('h'))).toBe('aA==');
    expect(encodeBase64(Buffer.from([0xfb, 0xff, 0xbf]))).toBe('+/+/');
  });

  it('encodes only the bytes of a view, not the whole underlying buffer', () => {
    const outer = Buffer.from('xxhelloxx');
    expect(encodeBase64(new Uint8Array(outer.buffer, outer.byteOffset + 2, 5))).toBe('aGVsbG8=');
  });

  it('round-trips every byte value', () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(decodeBase64(encodeBase64(bytes))?.equals(bytes)).toBe(true);
  });

  it('writes one line without whitespace', () => {
    expect(encodeBase64(Buffer.alloc(1000, 1))).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });
});
