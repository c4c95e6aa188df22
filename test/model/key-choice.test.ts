/** Key choice (src/model/key-choice.ts): the one module for newest-seals, hint-first, sticky order and renewal. */
import { describe, expect, it } from 'vitest';
import { keyDue, KeyTrialOrder, newestFirst, orderKeysByHint, renewalDueInMs, trialOrderOfSources, type DatedKey } from '../../src/model/key-choice.js';
import { KEY_ID_ANNOTATION } from '../../src/wire.js';

const DAY = 86_400_000;
const nb = Date.UTC(2020, 0, 1);
const k = (keyId: string, daysAfter: number, secretName = `key-${keyId}`): DatedKey => ({ keyId, notBefore: new Date(nb + daysAfter * DAY), secretName });

describe('newestFirst', () => {
  it('puts the key with the latest NotBefore first', () => {
    expect([k('a', 0), k('c', 60), k('b', 30)].sort(newestFirst).map((x) => x.keyId)).toEqual(['c', 'b', 'a']);
  });

  it('breaks a NotBefore tie by Secret name, so every replica picks the same key', () => {
    expect([k('x', 5, 'key-b'), k('y', 5, 'key-a')].sort(newestFirst).map((x) => x.keyId)).toEqual(['y', 'x']);
  });
});

describe('trialOrderOfSources', () => {
  it('tries the sources in the order given, each newest first, and a key found in two sources once', () => {
    const bitnamiActive = [k('b1', 0), k('b2', 10)];
    const bitnamiCompromised = [k('c1', 20)];
    const own = [k('o1', 30), k('b1', 0)];
    expect(trialOrderOfSources([bitnamiActive, bitnamiCompromised, own]).map((x) => x.keyId)).toEqual(['b2', 'b1', 'c1', 'o1']);
    expect(trialOrderOfSources([[], [], own]).map((x) => x.keyId)).toEqual(['o1', 'b1']);
  });
});

describe('orderKeysByHint', () => {
  const keys = [k('a', 2), k('b', 1), k('c', 0)];
  const withHint = (hint?: string) => ({ metadata: { annotations: hint === undefined ? {} : { [KEY_ID_ANNOTATION]: hint } } });

  it('tries the hinted key first and keeps the others in order', () => {
    expect(orderKeysByHint(withHint('c'), keys).map((x) => x.keyId)).toEqual(['c', 'a', 'b']);
  });

  it('keeps the given order without a hint or when the hint names no given key', () => {
    expect(orderKeysByHint(withHint(), keys)).toEqual(keys);
    expect(orderKeysByHint(withHint('zzz'), keys)).toEqual(keys);
  });
});

describe('KeyTrialOrder', () => {
  it('tries the given order until a key succeeds, then that key first', () => {
    const order = new KeyTrialOrder(['a', 'b', 'c']);
    expect(order.tries()).toEqual(['a', 'b', 'c']);
    order.succeeded('c');
    expect(order.tries()).toEqual(['c', 'a', 'b']);
    order.succeeded('b');
    expect(order.tries()).toEqual(['b', 'a', 'c']);
  });
});

describe('keyDue', () => {
  const key = k('a', 0);

  it('wants a key when there is none', () => {
    expect(keyDue([], new Date(), 0, undefined)).toBe('none');
  });

  it('renews once the newest key is older than the renew period, never with period 0', () => {
    expect(keyDue([key], new Date(nb + 29 * DAY), 30 * DAY, undefined)).toBeUndefined();
    expect(keyDue([key], new Date(nb + 30 * DAY), 30 * DAY, undefined)).toBe('renewal');
    expect(keyDue([key], new Date(nb + 3000 * DAY), 0, undefined)).toBeUndefined();
  });

  it('honours a cutoff time in the past only', () => {
    expect(keyDue([key], new Date(nb + DAY), 0, new Date(nb + DAY / 2))).toBe('cutoff');
    expect(keyDue([key], new Date(nb + DAY), 0, new Date(nb + 2 * DAY))).toBeUndefined();
  });
});

describe('renewalDueInMs', () => {
  it('counts down from the newest key NotBefore plus the period, and is off with period 0 or no key', () => {
    expect(renewalDueInMs([k('a', 0)], new Date(nb + 10 * DAY), 30 * DAY)).toBe(20 * DAY);
    expect(renewalDueInMs([k('a', 0)], new Date(nb + 40 * DAY), 30 * DAY)).toBe(-10 * DAY);
    expect(renewalDueInMs([k('a', 0)], new Date(nb), 0)).toBeUndefined();
    expect(renewalDueInMs([], new Date(nb), 30 * DAY)).toBeUndefined();
  });
});
