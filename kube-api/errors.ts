/**
 * API errors shaped exactly like the real API server's `Status` bodies
 * (k8s.io/apimachinery/pkg/api/errors and pkg/util/validation/field). Every failure the server
 * answers goes through `ApiError.toStatus()`.
 */
import type { JsonObject, JsonValue } from './json.js';

/** One `details.causes[]` entry of a Status. */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** The `details` of a Status. */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** An error the server answers as a `Status` with HTTP status `code`. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: StatusDetails | undefined;
  /** ListMeta of the Status (e.g. `continue` on an expired continue token). */
  metadata: JsonObject = {};

  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  /** The `Status` body, key order as the real server writes it. */
  toStatus(): JsonObject {
    const status: JsonObject = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: this.metadata,
      status: 'Failure',
      message: this.message,
    };
    if (this.reason) status['reason'] = this.reason;
    if (this.details) status['details'] = detailsJson(this.details);
    status['code'] = this.code;
    return status;
  }
}

function detailsJson(d: StatusDetails): JsonObject {
  const out: JsonObject = {};
  if (d.name) out['name'] = d.name;
  if (d.group) out['group'] = d.group;
  if (d.kind) out['kind'] = d.kind;
  if (d.uid) out['uid'] = d.uid;
  if (d.causes && d.causes.length > 0) {
    out['causes'] = d.causes.map((c) => {
      const o: JsonObject = {};
      if (c.reason) o['reason'] = c.reason;
      if (c.message) o['message'] = c.message;
      if (c.field) o['field'] = c.field;
      return o;
    });
  }
  if (d.retryAfterSeconds) out['retryAfterSeconds'] = d.retryAfterSeconds;
  return out;
}

/** A group and resource (plural), as in errors' "qualified resource". */
export interface GroupResource {
  group: string;
  resource: string;
}

/** `secrets` or `sealedsecrets.kseal.dev`. */
function qualifiedResource(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

/** 404 NotFound: `secrets "x" not found`. */
export function notFound(gr: GroupResource, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualifiedResource(gr)} "${name}" not found`, {
    name,
    ...(gr.group ? { group: gr.group } : {}),
    kind: gr.resource,
  });
}

/** 404 for a path the server does not serve. */
export function resourceNotServed(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}

/** 409 AlreadyExists: `secrets "x" already exists`. */
export function alreadyExists(gr: GroupResource, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualifiedResource(gr)} "${name}" already exists`, {
    name,
    ...(gr.group ? { group: gr.group } : {}),
    kind: gr.resource,
  });
}

/** The optimistic-lock message (storage.OptimisticLockErrorMsg). */
export const OPTIMISTIC_LOCK_MSG = 'the object has been modified; please apply your changes to the latest version and try again';

/** 409 Conflict: `Operation cannot be fulfilled on secrets "x": <msg>`. */
export function conflict(gr: GroupResource, name: string, msg: string = OPTIMISTIC_LOCK_MSG): ApiError {
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${msg}`, {
    name,
    ...(gr.group ? { group: gr.group } : {}),
    kind: gr.resource,
  });
}

/** 403 Forbidden: `secrets "x" is forbidden: <msg>`. */
export function forbidden(gr: GroupResource, name: string, msg: string, cause?: StatusCause): ApiError {
  return new ApiError(403, 'Forbidden', `${qualifiedResource(gr)} "${name}" is forbidden: ${msg}`, {
    name,
    ...(gr.group ? { group: gr.group } : {}),
    kind: gr.resource,
    ...(cause ? { causes: [cause] } : {}),
  });
}

/** 400 BadRequest with no details. */
export function badRequest(msg: string): ApiError {
  return new ApiError(400, 'BadRequest', msg);
}

/** 405 MethodNotAllowed. */
export function methodNotAllowed(msg = 'the server does not allow this method on the requested resource'): ApiError {
  return new ApiError(405, 'MethodNotAllowed', msg, {});
}

/** 415 UnsupportedMediaType listing the accepted types (negotiation.NewUnsupportedMediaTypeError). */
export function unsupportedMediaType(accepted: string[]): ApiError {
  return new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  );
}

/** 406 NotAcceptable. */
export function notAcceptable(accepted: string[]): ApiError {
  return new ApiError(406, 'NotAcceptable', `only the following media types are accepted: ${accepted.join(', ')}`);
}

/** 410 Expired (too old resource version, expired continue token). */
export function expired(msg: string): ApiError {
  return new ApiError(410, 'Expired', msg);
}

/** 500 InternalError: `Internal error occurred: <msg>`. */
export function internalError(msg: string): ApiError {
  return new ApiError(500, 'InternalError', `Internal error occurred: ${msg}`, { causes: [{ message: msg }] });
}

/** 401 Unauthorized. */
export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Unauthorized');
}

/** 413 RequestEntityTooLarge. */
export function requestEntityTooLarge(msg: string): ApiError {
  return new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: ${msg}`);
}

/** 504 Timeout for a list at a resourceVersion the server has not reached (ResourceVersionTooLarge). */
export function tooLargeResourceVersion(requested: number, current: number): ApiError {
  return new ApiError(504, 'Timeout', `Timeout: Too large resource version: ${requested}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  });
}

/** NewGenericServerResponse-shaped error (e.g. a failing JSON patch `test` answers 422 this way). */
export function genericServerResponse(code: number, serverMessage: string): ApiError {
  const { reason, message } = reasonForCode(code);
  return new ApiError(code, reason, message, {
    causes: serverMessage ? [{ reason: 'UnexpectedServerResponse', message: serverMessage }] : [],
  });
}

/** The reason and default message the real server's error helpers use for an HTTP status. */
export function reasonForCode(code: number): { reason: string; message: string } {
  switch (code) {
    case 400: return { reason: 'BadRequest', message: 'the server rejected our request for an unknown reason' };
    case 401: return { reason: 'Unauthorized', message: 'Unauthorized' };
    case 403: return { reason: 'Forbidden', message: 'the server does not allow access to the requested resource' };
    case 404: return { reason: 'NotFound', message: 'the server could not find the requested resource' };
    case 405: return { reason: 'MethodNotAllowed', message: 'the server does not allow this method on the requested resource' };
    case 406: return { reason: 'NotAcceptable', message: 'the server was unable to respond with a content type that the client supports' };
    case 409: return { reason: 'Conflict', message: 'the server reported a conflict' };
    case 410: return { reason: 'Expired', message: 'the server could not find the requested resource' };
    case 413: return { reason: 'RequestEntityTooLarge', message: 'the server has refused to process the request because the request entity is too large' };
    case 415: return { reason: 'UnsupportedMediaType', message: 'the server does not support the media type of the request' };
    case 422: return { reason: 'Invalid', message: 'the server rejected our request due to an error in our request' };
    case 429: return { reason: 'TooManyRequests', message: 'the server has received too many requests and has asked us to try again later' };
    case 500: return { reason: 'InternalError', message: 'an error on the server ("unknown") has prevented the request from succeeding' };
    case 503: return { reason: 'ServiceUnavailable', message: 'the server is currently unable to handle the request' };
    case 504: return { reason: 'Timeout', message: 'the server was unable to return a response in the time allotted, but may still be processing the request' };
    default: return { reason: 'Unknown', message: `the server responded with the status code ${code} but did not return more information` };
  }
}

/** field.ErrorType values (as they appear in `details.causes[].reason`). */
export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueTypeInvalid';

/** One validation error (field.Error). */
export interface FieldError {
  type: FieldErrorType;
  field: string;
  value?: JsonValue | undefined;
  /** Printed instead of `value` (e.g. Go's `0x0` for an unset uint64 resourceVersion). */
  rawValue?: string;
  detail: string;
}

function fmtValue(v: JsonValue | undefined): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  return Array.isArray(v) ? '"array"' : '"object"';
}

/** field.Error.ErrorBody(): the message without the field path. */
function fieldErrorBody(e: FieldError): string {
  switch (e.type) {
    case 'FieldValueRequired': return e.detail ? `Required value: ${e.detail}` : 'Required value';
    case 'FieldValueForbidden': return e.detail ? `Forbidden: ${e.detail}` : 'Forbidden';
    case 'FieldValueTooLong': return `Too long: ${e.detail}`;
    case 'FieldValueTooMany': return `Too many: ${e.detail}`;
    case 'FieldValueDuplicate': return `Duplicate value: ${fmtValue(e.value)}`;
    case 'FieldValueNotSupported': return `Unsupported value: ${fmtValue(e.value)}${e.detail ? `: ${e.detail}` : ''}`;
    default: return `Invalid value: ${e.rawValue ?? fmtValue(e.value)}${e.detail ? `: ${e.detail}` : ''}`;
  }
}

/** Constructors for field errors (field.Required, field.Invalid...). */
export const fieldError = {
  required: (field: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field, detail }),
  invalid: (field: string, value: JsonValue | undefined, detail: string): FieldError => ({ type: 'FieldValueInvalid', field, value, detail }),
  typeInvalid: (field: string, value: JsonValue | undefined, detail: string): FieldError => ({ type: 'FieldValueTypeInvalid', field, value, detail }),
  forbidden: (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, detail }),
  tooLong: (field: string, max: number): FieldError => ({ type: 'FieldValueTooLong', field, detail: `must have at most ${max} bytes` }),
  duplicate: (field: string, value: JsonValue): FieldError => ({ type: 'FieldValueDuplicate', field, value, detail: '' }),
  notSupported: (field: string, value: JsonValue | undefined, valid: string[]): FieldError => ({
    type: 'FieldValueNotSupported',
    field,
    value,
    detail: `supported values: ${valid.map((v) => JSON.stringify(v)).join(', ')}`,
  }),
};

/**
 * 422 Invalid: `Secret "x" is invalid: data[a b]: Invalid value: ...` (one error) or
 * `... is invalid: [e1, e2]` (several), with one cause per error (errors.NewInvalid).
 */
export function invalid(group: string, kind: string, name: string, errs: FieldError[]): ApiError {
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  const texts = errs.map((e) => `${e.field}: ${fieldErrorBody(e)}`);
  const joined = texts.length === 1 ? texts[0]! : `[${texts.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${joined}`, {
    name,
    ...(group ? { group } : {}),
    kind,
    causes: errs.map((e) => ({ reason: e.type, message: fieldErrorBody(e), field: e.field })),
  });
}
