/**
 * The CLI's window on the world, passed to `main` so tests run every command in-process with
 * captured output, chosen stdin, environment and clock.
 */
import { fstatSync, readFile as readFileCallback, readSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { KsealError } from '../src/errors.js';
import { promptHidden } from './hidden-prompt.js';

export interface CliIo {
  /**
   * Reads all of standard input. `expecting` says what for ("a Secret manifest (YAML or JSON)"): on
   * a terminal the user is told so, instead of a silent wait (kubeseal: "tty detected").
   */
  readStdin(expecting?: string): Promise<Buffer>;
  stdout(text: string): void;
  stderr(text: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths resolve against. */
  readonly cwd: string;
  /** The clock certificate validity is checked against. */
  now(): Date;
  /** How the user called the program, for help and messages: "kseal" (default) or "kubectl kseal". */
  readonly programName?: string;
  /** True when stdin is a terminal (values are then asked for with a hidden prompt). */
  readonly stdinIsTty?: boolean;
  /** Reads one line from the terminal without echo (see hidden-prompt.ts). */
  promptHidden?(prompt: string): Promise<string>;
}

/** The real process's io. */
export function processIo(): CliIo {
  return {
    readStdin: async (expecting) => {
      const chunks: Buffer[] = [];
      if (readStdinDirectly(chunks)) return Buffer.concat(chunks);
      if (process.stdin.isTTY) process.stderr.write(`kseal: tty detected: expecting ${expecting ?? 'input'} on stdin; end it with Ctrl-D, or pass a file instead\n`);
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    now: () => new Date(),
    programName: /^kubectl-kseal(\.c?js)?$/.test(basename(process.argv[1] ?? '')) ? 'kubectl kseal' : 'kseal',
    // A getter: process.stdin builds a stream (for a pipe a net.Socket, loading net) that most runs never use.
    get stdinIsTty() {
      return process.stdin.isTTY === true;
    },
    promptHidden,
  };
}

/**
 * Reads stdin to its end with plain reads when it is a pipe, a socket (what node's spawn gives a
 * child) or a file, into `chunks`; true when done. process.stdin would build a stream for it (for a
 * pipe a net.Socket, loading net and stream wrappers: ~2 ms of every `kseal encrypt < file` start).
 * False for a terminal, and when a non-blocking pipe has no data yet (EAGAIN): the caller reads
 * the rest from process.stdin.
 */
function readStdinDirectly(chunks: Buffer[]): boolean {
  try {
    const stat = fstatSync(0);
    if (!stat.isFIFO() && !stat.isFile() && !stat.isSocket()) return false;
  } catch {
    return false;
  }
  for (;;) {
    const buffer = Buffer.allocUnsafe(256 * 1024);
    let n: number;
    try {
      n = readSync(0, buffer, 0, buffer.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EOF') return true;
      if (code === 'EAGAIN') return false;
      throw e;
    }
    if (n === 0) return true;
    chunks.push(buffer.subarray(0, n));
  }
}

/**
 * Reads a whole file, as fs/promises' readFile does, through node:fs (loaded at every start anyway):
 * importing fs/promises costs a start ~1-2 ms more (it loads readline, fs watchers and stream
 * pipelines), and `kseal encrypt --cert` reads its input and certificate here.
 */
export function readWholeFile(path: string): Promise<Buffer>;
export function readWholeFile(path: string, encoding: 'utf8'): Promise<string>;
export function readWholeFile(path: string, encoding?: 'utf8'): Promise<Buffer | string> {
  return new Promise((resolve, reject) => {
    const done = (e: NodeJS.ErrnoException | null, data: Buffer | string): void => (e === null ? resolve(data) : reject(e));
    if (encoding === undefined) readFileCallback(path, done);
    else readFileCallback(path, encoding, done);
  });
}

/** Name used for stdin in messages. */
const STDIN = '<stdin>';

/** Reads `path` (relative to io.cwd), or stdin for undefined or `-`. Returns the bytes and the name for messages. */
export async function readInput(io: CliIo, path: string | undefined, expecting?: string): Promise<{ bytes: Buffer; source: string }> {
  if (path === undefined || path === '-') return { bytes: await io.readStdin(expecting), source: STDIN };
  try {
    return { bytes: await readWholeFile(resolve(io.cwd, path)), source: path };
  } catch (e) {
    throw fileError('read', path, e);
  }
}

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the path is too long',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EEXIST: 'the file already exists',
};

/** A FILE_READ or FILE_WRITE error that says in words what the errno means ("no such file"), with the path. */
export function fileError(action: 'read' | 'write', path: string, e: unknown): KsealError {
  const code = (e as NodeJS.ErrnoException).code ?? 'error';
  const text = ERRNO_TEXT[code];
  const message = text === undefined ? `cannot ${action} the file (${code})` : code === 'ENOENT' && action === 'read' ? 'no such file' : `cannot ${action} the file: ${text}`;
  return new KsealError(action === 'read' ? 'FILE_READ' : 'FILE_WRITE', message, { file: path, cause: e });
}
