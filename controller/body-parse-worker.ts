/**
 * The body-parse worker thread: decodes and parses controller request bodies (readManifests, the
 * one parse entry) off the main thread, so a large or hostile body costs the event loop nothing but
 * a message. Bundled on its own by scripts/build.mjs to dist/body-parse-worker.mjs (body-parser.ts
 * finds it and kills it when a parse overruns its deadline or its client leaves).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isKsealError } from '../src/errors.js';
import { readManifests, type ManifestObject } from '../src/manifest/read.js';
import { lowerThreadPriority } from './thread-priority.js';

/** Identifies a body-parse worker in workerData (the bundle may be loaded elsewhere). */
export const BODY_PARSE_WORKER_MARKER = 'kseal-body-parse-worker';

/** Messages to the worker. */
export interface ParseRequest {
  readonly id: number;
  readonly body: Uint8Array;
  readonly source: string;
}

/** A KsealError as plain data (errors do not cross threads with their class). */
export interface ParseFailure {
  readonly code: string;
  readonly message: string;
  readonly document?: number;
  readonly item?: number;
  readonly key?: string;
  readonly hint?: string;
}

/** Replies from the worker. */
export type ParseReply = { readonly id: number; readonly ok: true; readonly objects: ManifestObject[] } | { readonly id: number; readonly ok: false; readonly error: ParseFailure };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes and parses one body; every failure becomes a ParseFailure (INTERNAL for a bug). */
export function parseBody(request: ParseRequest): ParseReply {
  try {
    let text: string;
    try {
      text = utf8.decode(request.body);
    } catch {
      return { id: request.id, ok: false, error: { code: 'INVALID_YAML', message: 'the request body is not UTF-8 text' } };
    }
    return { id: request.id, ok: true, objects: readManifests(text, request.source) };
  } catch (e) {
    if (!isKsealError(e)) return { id: request.id, ok: false, error: { code: 'INTERNAL', message: 'the request body could not be parsed' } };
    const error: ParseFailure = {
      code: e.code,
      message: e.message,
      ...(e.document === undefined ? {} : { document: e.document }),
      ...(e.item === undefined ? {} : { item: e.item }),
      ...(e.key === undefined ? {} : { key: e.key }),
      ...(e.hint === undefined ? {} : { hint: e.hint }),
    };
    return { id: request.id, ok: false, error };
  }
}

if (parentPort !== null && (workerData as { marker?: unknown } | null)?.marker === BODY_PARSE_WORKER_MARKER) {
  lowerThreadPriority();
  const port = parentPort;
  port.on('message', (request: ParseRequest) => port.postMessage(parseBody(request)));
}
