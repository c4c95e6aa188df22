/**
 * Self-test of the leak detector in test/helpers/canary.ts (kept here, with the crypto tests that
 * rely on it most): a detector that misses encoded canaries would make every leak test pass vacuously.
 */
import { describe, expect, it } from 'vitest';
import { KsealError } from '../../src/errors.js';
import { canaryHits, containsCanary, errorText, newCanary } from '../helpers/canary.js';

describe('canaryHits', () => {
  const canary = newCanary('self-test');

  it('finds the canary as plain text', () => {
    expect(canaryHits(canary, `before ${canary} after`).map((h) => h.form)).toEqual(['plain']);
  });

  for (const offset of [0, 1, 2, 3, 4]) {
    it(`finds the canary base64-encoded at byte offset ${offset} of a larger buffer`, () => {
      const haystack = Buffer.concat([Buffer.alloc(offset, 0x41), Buffer.from(canary), Buffer.from(' tail')]).toString('base64');
      expect(canaryHits(canary, haystack).some((h) => h.form === 'base64')).toBe(true);
    });
  }

  it('finds the canary in the URL-safe base64 alphabet', () => {
    const special = 'CANARY-\u00ff\u00fe\u00fd\u00fc\u00fb\u00fa';
    const haystack = Buffer.from(special).toString('base64url');
    expect(canaryHits(special, haystack).some((h) => h.form === 'base64url')).toBe(true);
  });

  it('finds the canary hex-encoded in either case', () => {
    const hex = Buffer.from(canary).toString('hex');
    expect(canaryHits(canary, `x${hex}x`).map((h) => h.form)).toEqual(['hex']);
    expect(canaryHits(canary, hex.toUpperCase()).map((h) => h.form)).toEqual(['HEX']);
  });

  it('finds nothing in text without the canary', () => {
    expect(canaryHits(canary, `CANARY-other ${Buffer.from('unrelated text').toString('base64')}`)).toEqual([]);
    expect(containsCanary(canary, 'nothing')).toBe(false);
  });

  it('refuses canaries too short to search for safely', () => {
    expect(() => canaryHits('short', 'x')).toThrow(/at least 8 bytes/);
  });

  it('makes a different canary each time', () => {
    expect(newCanary()).not.toBe(newCanary());
  });
});

describe('errorText', () => {
  it('includes message, format(), hint, code and causes', () => {
    const error = new KsealError('INVALID_FIELD', 'the message', { file: 'f.yaml', key: 'k', hint: 'the hint', cause: new Error('the cause') });
    const text = errorText(error);
    for (const part of ['the message', 'f.yaml: key "k": the message', 'the hint', 'INVALID_FIELD', 'the cause']) expect(text).toContain(part);
  });
});
