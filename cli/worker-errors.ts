/** Errors crossing from a CLI worker thread (lint, bulk encrypt) to the main thread, as plain data. */
import { KsealError } from '../src/errors.js';

/** An error as it crosses from a worker: a KsealError's code, message and location, or another error's message. */
export type SentError = { readonly code: KsealError['code']; readonly message: string; readonly file?: string; readonly hint?: string } | { readonly code?: undefined; readonly message: string };

/** The error to send back to the main thread. */
export function sendableError(e: unknown): SentError {
  if (e instanceof KsealError) return { code: e.code, message: e.message, ...(e.file === undefined ? {} : { file: e.file }), ...(e.hint === undefined ? {} : { hint: e.hint }) };
  return { message: e instanceof Error ? e.message : String(e) };
}

/** The error the main thread throws for one a worker sent. */
export function receivedError(e: SentError): Error {
  if (e.code === undefined) return new Error(e.message);
  return new KsealError(e.code, e.message, { ...(e.file === undefined ? {} : { file: e.file }), ...(e.hint === undefined ? {} : { hint: e.hint }) });
}
