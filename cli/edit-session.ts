/**
 * The plaintext file of `kseal edit` and the editor run on it (SOPS's and git's edit loop): a private
 * directory (0700, under $XDG_RUNTIME_DIR when set, a per-user tmpfs, else $TMPDIR) holding one 0600
 * file, the editor ($VISUAL, $EDITOR, else vi) run through /bin/sh with the path as its argument, as
 * git does, and removal of the directory, the file first overwritten with zeros, whatever happens:
 * success, an error, or SIGINT/SIGTERM/SIGHUP (the editor is then stopped too and the run fails with
 * INTERRUPTED, exit 130). Editors' own swap and backup files in that directory go with it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KsealError } from '../src/errors.js';
import type { CliIo } from './io.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** The editor command line: $VISUAL, then $EDITOR, then vi (empty values are skipped). */
function editorCommand(env: Readonly<Record<string, string | undefined>>): string {
  return [env.VISUAL, env.EDITOR].find((e) => e !== undefined && e.trim() !== '') ?? 'vi';
}

/** Where the private directory goes. */
function baseDir(env: Readonly<Record<string, string | undefined>>): string {
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime !== undefined && runtime !== '' && existsSync(runtime) && statSync(runtime).isDirectory()) return runtime;
  return env.TMPDIR !== undefined && env.TMPDIR !== '' ? env.TMPDIR : tmpdir();
}

/** Overwrites every file in `dir` with zeros (best effort: file systems may keep old blocks), then removes it. */
function wipeDir(dir: string): void {
  try {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      try {
        const size = statSync(path).size;
        const fd = openSync(path, 'r+');
        try {
          writeSync(fd, Buffer.alloc(Math.min(size, 64 * 1024 * 1024)), 0);
        } finally {
          closeSync(fd);
        }
      } catch {
        // Not a plain file, or already gone: removed below anyway.
      }
    }
  } catch {
    // The directory is already gone.
  }
  rmSync(dir, { recursive: true, force: true });
}

/** One edit session: a plaintext file that exists only while `use` runs. */
export interface EditSession {
  /** Runs the editor on the file; resolves when it exits 0, throws EDITOR_FAILED otherwise. */
  edit(): Promise<void>;
  /** The file's current text. */
  read(): Promise<string>;
}

/**
 * Writes `content` to a 0600 file named `name` in a new private directory, runs `use` with the
 * session, and removes the directory when `use` settles or a signal arrives (which fails the run
 * with INTERRUPTED). `io.env` is the editor's environment.
 */
export async function withPlaintextFile<T>(io: CliIo, name: string, content: string, use: (session: EditSession) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(baseDir(io.env), 'kseal-edit-'));
  const path = join(dir, name);
  let child: ChildProcess | undefined;
  let interrupt: ((signal: string) => void) | undefined;
  const interrupted = new Promise<never>((_resolve, reject) => {
    interrupt = (signal) => {
      // Synchronously, before anything else can run: the plaintext must not outlive the process.
      wipeDir(dir);
      child?.kill('SIGTERM');
      reject(new KsealError('INTERRUPTED', `interrupted by ${signal}: the edit was abandoned, the file was not changed and the plaintext was removed`));
    };
  });
  interrupted.catch(() => undefined);
  const handlers = SIGNALS.map((signal) => [signal, () => interrupt?.(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  try {
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
    const editor = editorCommand(io.env);
    const session: EditSession = {
      edit: () =>
        Promise.race([
          interrupted,
          new Promise<void>((resolve, reject) => {
            // As git runs core.editor: through the shell, so "code --wait" works, the path as "$1"; exec, so
            // that stopping the child stops the editor itself.
            const proc = spawn('/bin/sh', ['-c', `exec ${editor} "$@"`, editor, path], { stdio: 'inherit', env: { ...io.env }, cwd: io.cwd });
            child = proc;
            proc.on('error', (e) => reject(new KsealError('EDITOR_FAILED', `cannot start the editor (${(e as NodeJS.ErrnoException).code ?? e.name})`, { hint: 'set $VISUAL or $EDITOR to an editor that is installed' })));
            proc.on('exit', (code, signal) => {
              child = undefined;
              if (code === 0) resolve();
              else
                reject(
                  new KsealError('EDITOR_FAILED', `the editor (${editor}) ${signal === null ? `exited with status ${code ?? '?'}` : `was stopped by ${signal}`}; nothing was changed`, {
                    hint: 'save and quit normally (in vi, :wq) to apply an edit; quit without saving to change nothing',
                  }),
                );
            });
          }),
        ]),
      read: async () => {
        try {
          return await Promise.race([interrupted, readFile(path, 'utf8')]);
        } catch (e) {
          if (e instanceof KsealError) throw e;
          throw new KsealError('EDIT_INVALID', 'the edited file is gone (the editor removed or renamed it)', { hint: 'edit the file in place and save it' });
        }
      },
    };
    return await Promise.race([interrupted, use(session)]);
  } finally {
    for (const [signal, handler] of handlers) process.off(signal, handler);
    child?.kill('SIGTERM');
    wipeDir(dir);
  }
}
