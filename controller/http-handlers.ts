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
 * costs no body read and no private-key work (a 503 or an early 429 is answered after a hold,
 * http-refusal-hold.ts); the verify/rotate service does the rest. Answers carry a
 * code and one line, never a value, a parser's message or a stack trace.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERROR_CODES, isKsealError } from '../src/errors.js';
import { HTTP_PATHS } from '../src/wire.js';
import { pageRoutes } from '../ui/server/page-routes.js';
import type { KeyView } from './contracts.js';
import { type HttpLimits, IN_FLIGHT_RETRY_AFTER_SECONDS, sealedValueBytesOf } from './http-limits.js';
import { RefusalHold } from './http-refusal-hold.js';
import type { ControllerMetrics } from './metrics.js';
import {
  ACCEPTED_CONTENT_TYPES,
  acceptableMediaType,
  clientGoneSignal,
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
  /** The verify/rotate bounds: body size, values, in flight, private operations per second. */
  readonly limits: HttpLimits;
  readonly metrics: ControllerMetrics;
}

/** The work of one verify or rotate request once it passed every bound. */
type SealedWork = (req: IncomingMessage, res: ServerResponse, input: ParsedSealed, signal: AbortSignal) => Promise<void>;

const UNSEAL_FAILED_BODY = { code: 'DECRYPT_FAILED', message: 'the SealedSecret cannot be unsealed by this controller' } as const;
const TEXT = 'text/plain; charset=utf-8';

/** The API port's route table, by exact path. */
export function apiRoutes(deps: HandlerDeps): Map<string, Route> {
  const { keys, service, limits } = deps;
  const maxBody = limits.config.maxBodyBytes;
  const hold = new RefusalHold(limits.config.refusalHoldMs, limits.config.maxHeldRefusals, deps.metrics.httpRefusalsHeld);

  const rateLimited = (res: ServerResponse, retryAfterMs: number): void => {
    res.setHeader('Retry-After', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
    sendError(res, 429, 'RATE_LIMITED', `too many private-key operations asked for (at most ${limits.config.valuesPerSecond} sealed values a second, kseal-controller --http-values-per-second); retry after the Retry-After seconds`);
  };

  /**
   * Reads, parses and checks the one SealedSecret of a POST; answers the error and returns undefined
   * when it is not usable. Before the body, the token bucket must hold the values the declared
   * length likely holds (HttpLimits.admits): a request it cannot pay for is refused unread and unparsed
   * (a refused client uploads nothing with Expect: 100-continue, answered only after it).
   */
  const readSealedBody = async (req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<ParsedSealed | undefined> => {
    const early = limits.admits(req.headers['content-length'] === undefined ? undefined : declaredLength(req), sealedValueBytesOf(keys.list()));
    if (!early.ok) {
      hold.refuse(res, () => {
        // Retry-After counted from the answer, after the hold.
        const now = limits.peek();
        rateLimited(res, now.ok ? 0 : now.retryAfterMs);
      });
      return undefined;
    }
    if (expectsContinue(req)) res.writeContinue();
    const body = await readBody(req, maxBody);
    if (body === 'too-large') {
      sendTooLarge(res, maxBody);
      return undefined;
    }
    if (body === 'aborted') {
      sendError(res, 400, 'REQUEST_ABORTED', 'the request body did not arrive');
      return undefined;
    }
    let input: ParsedSealed;
    try {
      // Parsed off the main thread when large (body-parser.ts); a client that leaves cancels it.
      input = await service.parse(body, { signal, deadlineMs: limits.config.parseTimeoutMs });
      limits.checkValues(input.values);
    } catch (e) {
      if (isKsealError(e, 'TOO_MANY_VALUES')) {
        sendError(res, 413, e.code, e.message);
        return undefined;
      }
      if (isKsealError(e)) {
        sendError(res, 400, e.code, e.message);
        return undefined;
      }
      if (signal.aborted || res.destroyed || res.writableEnded) return undefined;
      throw e;
    }
    const charged = limits.take(input.values);
    if (!charged.ok) {
      rateLimited(res, charged.retryAfterMs);
      return undefined;
    }
    return input;
  };

  /** Wraps verify/rotate work in the bounds, cheapest check first; the work gets a signal that fires when the client goes away. */
  const sealedPost = (work: SealedWork) => async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!acceptableMediaType(req)) return sendError(res, 415, 'UNSUPPORTED_MEDIA_TYPE', `send the SealedSecret as ${ACCEPTED_CONTENT_TYPES.join(', ')}`);
    if (declaredLength(req) > maxBody) return sendTooLarge(res, maxBody);
    if (!limits.tryEnter()) {
      return hold.refuse(res, () => {
        res.setHeader('Retry-After', String(IN_FLIGHT_RETRY_AFTER_SECONDS));
        sendError(res, 503, 'BUSY', `the controller is already handling ${limits.config.maxInFlight} verify/rotate requests (kseal-controller --http-max-in-flight); retry after the Retry-After seconds`);
      });
    }
    deps.metrics.httpInFlight.inc();
    const signal = clientGoneSignal(res);
    try {
      const input = await readSealedBody(req, res, signal);
      if (input !== undefined && !signal.aborted) await work(req, res, input, signal);
    } finally {
      limits.leave();
      deps.metrics.httpInFlight.dec();
    }
  };

  /** Answers a failed verify/rotate: 409 without a reason when it cannot be unsealed, 400 for bad input; rethrows the rest. */
  const answerFailure = (res: ServerResponse, e: unknown, signal: AbortSignal): void => {
    // The client is gone: nobody to answer, the pool dropped or stopped the work.
    if (signal.aborted) return;
    // A value no key opened cost one operation per key; the first was charged already.
    if (isKsealError(e, 'DECRYPT_FAILED')) limits.charge(keys.list().length - 1);
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
        handle: sealedPost(async (_req, res, input, signal) => {
          try {
            limits.charge((await service.verify(input.sealed, { signal })) - input.values);
          } catch (e) {
            return answerFailure(res, e, signal);
          }
          sendText(res, 200, TEXT, '');
        }),
      },
    ],
    [
      HTTP_PATHS.rotate,
      {
        label: HTTP_PATHS.rotate,
        methods: ['POST'],
        handle: sealedPost(async (req, res, input, signal) => {
          if (!service.hasKey()) return noKey(res);
          const format = responseFormat(req.headers.accept, input.format);
          let body: string;
          try {
            const done = await service.rotate(input.sealed, format, { signal });
            limits.charge(done.privateOps - input.values);
            body = done.body;
          } catch (e) {
            return answerFailure(res, e, signal);
          }
          sendText(res, 200, format === 'json' ? 'application/json' : 'application/yaml', body);
        }),
      },
    ],
  ]);
}
