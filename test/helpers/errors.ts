/** Assertion helper: runs `fn`, which must throw a KsealError, and returns that error for inspection. */
import { KsealError } from '../../src/errors.js';

/** Returns the KsealError `fn` throws; fails the test when it throws something else or nothing. */
export function ksealErrorOf(fn: () => unknown): KsealError {
  try {
    fn();
  } catch (e) {
    if (e instanceof KsealError) return e;
    throw e;
  }
  throw new Error('expected a KsealError, but nothing was thrown');
}
