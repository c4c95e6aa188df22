/**
 * The kseal error family. Every failure a user can cause or meet is a `KsealError` with a stable
 * machine `code` (part of the interface, like SOPS's exit codes and commander's `commander.*` codes),
 * a process exit code derived from it, the place it happened (file, document, key) and a hint.
 *
 * Messages name what was wrong and where, never a secret value: callers pass key names, kinds and
 * scopes, not data. Stack traces are for developers only and are never printed by the CLI.
 */
import { EXIT } from './wire.js';


/** Every error code kseal emits, with the exit-code family it belongs to. */
export const ERROR_CODES = {
  USAGE: 'usage',
  SAME_FILE: 'usage',
  INVALID_YAML: 'input',
  INVALID_JSON: 'input',
  INPUT_TOO_LARGE: 'input',
  TOO_MANY_VALUES: 'input',
  INPUT_LIMIT: 'input',
  PARSE_TIMEOUT: 'input',
  NO_DOCUMENTS: 'input',
  NOT_A_SECRET: 'input',
  NOT_A_SEALED_SECRET: 'input',
  MISSING_NAME: 'input',
  INVALID_NAME: 'input',
  MISSING_NAMESPACE: 'input',
  INVALID_NAMESPACE: 'input',
  INVALID_FIELD: 'input',
  INVALID_KEY_NAME: 'input',
  INVALID_BASE64: 'input',
  SECRET_TOO_LARGE: 'input',
  MISSING_REQUIRED_KEY: 'input',
  EMPTY_DATA: 'input',
  UNKNOWN_SCOPE: 'input',
  SCOPE_CONFLICT: 'input',
  UNSUPPORTED_TEMPLATE: 'input',
  UNSUPPORTED_API_VERSION: 'input',
  CONFIG_INVALID: 'input',
  KEY_NOT_FOUND: 'input',
  KEY_EXISTS: 'input',
  LINT_FINDINGS: 'findings',
  MERGE_CONFLICT: 'conflict',
  MERGE_FAILED: 'io',
  RECIPIENTS_UNSUPPORTED: 'input',
  EDIT_INVALID: 'input',
  CERT_NOT_PEM: 'key',
  CERT_INVALID: 'key',
  CERT_NOT_RSA: 'key',
  CERT_EXPIRED: 'key',
  CERT_NOT_YET_VALID: 'key',
  KEY_NOT_PEM: 'key',
  KEY_NOT_RSA: 'key',
  KEY_ENCRYPTED: 'key',
  NO_PRIVATE_KEYS: 'key',
  RECIPIENT_INVALID: 'key',
  IDENTITY_INVALID: 'key',
  RECIPIENT_MISSING: 'key',
  MALFORMED_CIPHERTEXT: 'decrypt',
  DECRYPT_FAILED: 'decrypt',
  AUTH_FAILED: 'decrypt',
  CONTROLLER_UNREACHABLE: 'remote',
  CONTROLLER_ERROR: 'remote',
  NO_KUBECONFIG: 'remote',
  KUBECONFIG_INVALID: 'remote',
  FILE_READ: 'io',
  FILE_WRITE: 'io',
  FILE_EXISTS: 'io',
  EDITOR_FAILED: 'io',
  INTERRUPTED: 'interrupted',
  INTERNAL: 'internal',
} as const satisfies Record<string, keyof typeof EXIT>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Where in the input an error was found. Every field is optional; only what is known is given. */
export interface ErrorLocation {
  /** File path, or `<stdin>`. */
  readonly file?: string;
  /** 1-based index of the document in a multi-document stream. */
  readonly document?: number;
  /** 1-based index of the item when the document is a `List`. */
  readonly item?: number;
  /** The Secret or SealedSecret key (a key name, never its value). */
  readonly key?: string;
}

export interface KsealErrorOptions extends ErrorLocation {
  /** What the user can do about it. */
  readonly hint?: string;
  readonly cause?: unknown;
}

/** The one error type the library and CLI throw for anything a user can meet. */
export class KsealError extends Error {
  override readonly name = 'KsealError';
  readonly code: ErrorCode;
  readonly file: string | undefined;
  readonly document: number | undefined;
  readonly item: number | undefined;
  readonly key: string | undefined;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: KsealErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.file = options.file;
    this.document = options.document;
    this.item = options.item;
    this.key = options.key;
    this.hint = options.hint;
  }

  /** The process exit code for this error's family. */
  get exitCode(): number {
    return EXIT[ERROR_CODES[this.code]];
  }

  /** Returns a copy with location fields filled in where this error has none (used as errors travel outward). */
  at(location: ErrorLocation): KsealError {
    const copy = new KsealError(this.code, this.message, {
      ...definedOnly({ file: this.file ?? location.file, document: this.document ?? location.document, item: this.item ?? location.item, key: this.key ?? location.key, hint: this.hint }),
      cause: this.cause,
    });
    return copy;
  }

  /** One line for a person: `file: document N: key "k": message` followed by the hint on its own line. */
  format(): string {
    const where: string[] = [];
    if (this.file !== undefined) where.push(this.file);
    if (this.document !== undefined) where.push(`document ${this.document}`);
    if (this.item !== undefined) where.push(`item ${this.item}`);
    if (this.key !== undefined) where.push(`key ${JSON.stringify(this.key)}`);
    const head = where.length > 0 ? `${where.join(': ')}: ${this.message}` : this.message;
    return this.hint === undefined ? head : `${head}\n  hint: ${this.hint}`;
  }
}

/** True when `e` is a KsealError (optionally with the given code). */
export function isKsealError(e: unknown, code?: ErrorCode): e is KsealError {
  return e instanceof KsealError && (code === undefined || e.code === code);
}

/** Drops keys whose value is undefined, so objects fit `exactOptionalPropertyTypes`. */
export function definedOnly<T extends object>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as { [K in keyof T]?: Exclude<T[K], undefined> };
}
