/**
 * The handlers of the controller's API port (paths in src/wire.ts HTTP_PATHS, Bitnami-compatible):
 *
 * - `GET /v1/cert.pem`   the newest sealing certificate; 503 before the first key exists.
 * - `POST /v1/verify`    one SealedSecret (YAML or JSON): 200 if every value unseals, 409 if not.
 *                        The 409 never says why (which key, which value, which failure).
 * - `POST /v1/rotate`    the SealedSecret re-sealed to the newest key, same scope/name/namespace,
 *                        in the request's format (or the one `Accept` asks for); 409 if it does not unseal.
 * - `GET /healthz`, `GET /readyz`; the sealing page at `/` and `/ui/` (ui/server/page-routes.ts).
 *
 * Each POST passes the request bounds (http-limits.ts) in order, cheapest first, so a refused request
 * costs no body read and no private-key work; the verify/rotate service does the rest. Answers carry a
 * code and one line, never a value, a parser's message or a stack trace.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERROR_CODES, isKsealError } from '../src/errors.js';
import { HTTP_PATHS } from '../src/wire.js';
import { pageRoutes } from '../ui/server/page-routes.js';
import type { KeyView } from './contracts.js';
import type { TokenBucket } from './rate-limit.js';
import {
  ACCEPTED_CONTENT_TYPES,
  acceptableMediaType,
  declaredLength,
  ensureNewline,
  expectsContinue,
  readBody,
  responseFormat,
  sendError,
  sendJson,
  sendText,
  sendTooLarge,
} from './http-transport.js';
import { isUnsealFailure, type ParsedSealed, type VerifyRotateService } from './verify-rotate-service.js';

/** A route as the API server's table holds it. */
export interface Route {
  /** The metrics/log label. */
  readonly label: string;
  readonly methods: readonly string[];
  readonly handle: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;
}

/** What the handlers need. */
export interface HandlerDeps {
  readonly keys: KeyView;
  readonly service: VerifyRotateService;
  /** True once the controller is ready to serve (informers synced); /readyz also needs a key. */
  readonly ready: () => boolean;
  /** One token bucket per endpoint, as Bitnami. */
  readonly buckets: { readonly verify: TokenBucket; readonly rotate: TokenBucket };
  readonly maxBodyBytes: number;
}

const UNSEAL_FAILED_BODY = { code: 'DECRYPT_FAILED', message: 'the SealedSecret cannot be unsealed by this controller' } as const;
const TEXT = 'text/plain; charset=utf-8';

/** The API port's route table, by exact path. */
export function apiRoutes(deps: HandlerDeps): Map<string, Route> {
  const { keys, service } = deps;

  /** Reads, parses and checks the one SealedSecret of a POST; answers the error and returns undefined when it is not usable. */
  const readSealedBody = async (req: IncomingMessage, res: ServerResponse, bucket: TokenBucket): Promise<ParsedSealed | undefined> => {
    if (!acceptableMediaType(req)) {
      sendError(res, 415, 'UNSUPPORTED_MEDIA_TYPE', `send the SealedSecret as ${ACCEPTED_CONTENT_TYPES.join(', ')}`);
      return undefined;
    }
    if (declaredLength(req) > deps.maxBodyBytes) {
      sendTooLarge(res, deps.maxBodyBytes);
      return undefined;
    }
    const taken = bucket.take();
    if (!taken.ok) {
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil(taken.retryAfterMs / 1000))));
      sendError(res, 429, 'RATE_LIMITED', 'too many requests; retry later');
      return undefined;
    }
    // Expect: 100-continue (curl and Go send it before large bodies): ask for the body only now.
    if (expectsContinue(req)) res.writeContinue();
    const body = await readBody(req, deps.maxBodyBytes);
    if (body === 'too-large') {
      sendTooLarge(res, deps.maxBodyBytes);
      return undefined;
    }
    if (body === 'aborted') {
      sendError(res, 400, 'REQUEST_ABORTED', 'the request body did not arrive');
      return undefined;
    }
    try {
      // Parsed off the main thread when large (body-parser.ts); a client that leaves cancels it.
      const gone = new AbortController();
      res.once('close', () => gone.abort());
      return await service.parse(body, { signal: gone.signal });
    } catch (e) {
      if (isKsealError(e)) {
        sendError(res, 400, e.code, e.message);
        return undefined;
      }
      if (res.destroyed || res.writableEnded) return undefined;
      throw e;
    }
  };

  /** Answers a failed verify/rotate: 409 without a reason when it cannot be unsealed, 400 for bad input; rethrows the rest. */
  const answerFailure = (res: ServerResponse, e: unknown): void => {
    if (isUnsealFailure(e)) return sendJson(res, 409, UNSEAL_FAILED_BODY);
    if (isKsealError(e) && ERROR_CODES[e.code] === 'input') return sendError(res, 400, e.code, e.message);
    throw e;
  };

  const noKey = (res: ServerResponse): void => sendError(res, 503, 'NO_KEY', 'the controller has no sealing key yet; retry shortly');

  return new Map<string, Route>([
    ...pageRoutes('controller'),
    [HTTP_PATHS.healthz, { label: HTTP_PATHS.healthz, methods: ['GET', 'HEAD'], handle: (_req, res) => sendText(res, 200, TEXT, 'ok\n') }],
    [
      HTTP_PATHS.readyz,
      {
        label: HTTP_PATHS.readyz,
        methods: ['GET', 'HEAD'],
        handle: (_req, res) => {
          const ok = deps.ready() && keys.newest() !== undefined;
          sendText(res, ok ? 200 : 503, TEXT, ok ? 'ok\n' : 'not ready\n');
        },
      },
    ],
    [
      HTTP_PATHS.cert,
      {
        label: HTTP_PATHS.cert,
        methods: ['GET', 'HEAD'],
        handle: (_req, res) => {
          const newest = keys.newest();
          if (newest === undefined) return noKey(res);
          sendText(res, 200, 'application/x-pem-file', ensureNewline(newest.certificatePem));
        },
      },
    ],
    [
      HTTP_PATHS.verify,
      {
        label: HTTP_PATHS.verify,
        methods: ['POST'],
        handle: async (req, res) => {
          const input = await readSealedBody(req, res, deps.buckets.verify);
          if (input === undefined) return;
          try {
            await service.verify(input.sealed);
          } catch (e) {
            return answerFailure(res, e);
          }
          sendText(res, 200, TEXT, '');
        },
      },
    ],
    [
      HTTP_PATHS.rotate,
      {
        label: HTTP_PATHS.rotate,
        methods: ['POST'],
        handle: async (req, res) => {
          const input = await readSealedBody(req, res, deps.buckets.rotate);
          if (input === undefined) return;
          if (!service.hasKey()) return noKey(res);
          const format = responseFormat(req.headers.accept, input.format);
          let body: string;
          try {
            ({ body } = await service.rotate(input.sealed, format));
          } catch (e) {
            return answerFailure(res, e);
          }
          sendText(res, 200, format === 'json' ? 'application/json' : 'application/yaml', body);
        },
      },
    ],
  ]);
}
