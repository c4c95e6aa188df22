/**
 * Leak detection for tests: seal or feed a recognisable "canary" value, then check that it appears
 * nowhere it must not (error messages, logs, output), neither as itself nor encoded. Base64 is
 * checked at all three byte alignments, so the canary is found even inside the encoding of a
 * larger buffer (e.g. a whole Secret serialised and base64-encoded).
 */
import { randomBytes } from 'node:crypto';

export type CanaryForm = 'plain' | 'base64' | 'base64url' | 'hex' | 'HEX';

export interface CanaryHit {
  /** How the canary was encoded where it was found. */
  readonly form: CanaryForm;
  /** Index of the hit in the haystack. */
  readonly index: number;
  /** The exact text searched for. */
  readonly needle: string;
}

/** A fresh canary: `CANARY-<tag>-<24 hex chars>`, unlikely to occur by chance. */
export function newCanary(tag = 'value'): string {
  return `CANARY-${tag}-${randomBytes(12).toString('hex')}`;
}

/**
 * Every place `canary` occurs in `haystack`: plain, base64 (standard and URL alphabets, any
 * alignment), hex (lower and upper case). An empty array means no leak. The canary must be at
 * least 8 bytes long so that encoded fragments cannot match by chance.
 */
export function canaryHits(canary: string, haystack: string): CanaryHit[] {
  const bytes = Buffer.from(canary, 'utf8');
  if (bytes.length < 8) throw new Error('a canary must be at least 8 bytes long');
  const needles: Array<{ form: CanaryForm; needle: string }> = [{ form: 'plain', needle: canary }];
  for (const fragment of base64Fragments(bytes)) {
    needles.push({ form: 'base64', needle: fragment });
    const url = fragment.replace(/\+/g, '-').replace(/\//g, '_');
    if (url !== fragment) needles.push({ form: 'base64url', needle: url });
  }
  const hex = bytes.toString('hex');
  needles.push({ form: 'hex', needle: hex }, { form: 'HEX', needle: hex.toUpperCase() });

  const hits: CanaryHit[] = [];
  for (const { form, needle } of needles) {
    for (let index = haystack.indexOf(needle); index !== -1; index = haystack.indexOf(needle, index + 1)) {
      hits.push({ form, index, needle });
    }
  }
  return hits;
}

/** True when `canary` occurs in `haystack` in any form. */
export function containsCanary(canary: string, haystack: string): boolean {
  return canaryHits(canary, haystack).length > 0;
}

/**
 * Everything about an error a user could see: message, `format()` (for KsealError), hint, code,
 * and the same for every `cause` in the chain. Non-errors are turned into strings.
 */
export function errorText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 10; depth++) {
    if (current instanceof Error) {
      parts.push(current.message, String(current));
      const extra = current as Error & { format?: unknown; hint?: unknown; code?: unknown };
      if (typeof extra.format === 'function') parts.push(String((extra.format as () => unknown).call(current)));
      if (typeof extra.hint === 'string') parts.push(extra.hint);
      if (typeof extra.code === 'string') parts.push(extra.code);
      current = current.cause;
    } else {
      parts.push(typeof current === 'string' ? current : JSON.stringify(current) ?? '');
      break;
    }
  }
  return parts.join('\n');
}

/**
 * The base64 text of `bytes` as it appears when they start at byte offset 0, 1 or 2 (mod 3) of a
 * larger buffer: only the characters fully determined by these bytes are kept.
 */
function base64Fragments(bytes: Buffer): string[] {
  const fragments: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const start = Math.ceil((8 * shift) / 6);
    const end = Math.floor((8 * (shift + bytes.length)) / 6);
    fragments.push(encoded.slice(start, end));
  }
  return fragments;
}
