/**
 * Structured logs as JSON lines (one object per line: time, level, msg, fields), the format log
 * pipelines in clusters expect. Fields are caller-chosen metadata; never pass a secret value.
 */
import type { Writable } from 'node:stream';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  readonly level?: LogLevel;
  /** Where lines go; stderr by default. */
  readonly stream?: Pick<Writable, 'write'>;
  readonly base?: LogFields;
  /** `json` (default): one JSON object per line; `text`: `time level msg key=value...` for people. */
  readonly format?: 'json' | 'text';
}

/** Creates a JSON-lines logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const min = ORDER[options.level ?? 'info'];
  const stream = options.stream ?? process.stderr;
  const base = options.base ?? {};
  const log = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (ORDER[level] < min) return;
    const line: Record<string, unknown> = { time: new Date().toISOString(), level, msg };
    for (const [k, v] of Object.entries(base)) if (v !== undefined) line[k] = v;
    if (fields) for (const [k, v] of Object.entries(fields)) if (v !== undefined) line[k] = v;
    if (options.format === 'text') {
      const { time, level: lv, msg: m, ...rest } = line;
      const pairs = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' && !/[\s"=]/.test(v) ? v : JSON.stringify(v)}`);
      stream.write(`${String(time)} ${String(lv).toUpperCase().padEnd(5)} ${String(m)}${pairs.length > 0 ? ` ${pairs.join(' ')}` : ''}\n`);
    } else stream.write(`${JSON.stringify(line)}\n`);
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    child: (fields) => createLogger({ ...options, base: { ...base, ...fields } }),
  };
}

/** A logger that drops everything (for tests that do not look at logs). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
