/**
 * Atomic file output: write a temporary file beside the target, flush it, then rename it over the
 * target, so a reader (or a crash) never sees a half-written file and a failed run leaves the old
 * file as it was. Mode is set on the temporary file before any content is written.
 *
 * A private mode (no group or other bits, e.g. 0600 for plaintext and private keys) is always the
 * mode of the result: the file is replaced, never given the wider mode an existing file had.
 * `writeFilesAtomic` writes several files all or nothing, and refuses two paths that name the same file.
 */
import { randomBytes } from 'node:crypto';
import { open, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { KsealError } from '../src/errors.js';
import { fileError } from './io.js';

export interface AtomicWriteOptions {
  /** File mode for a new file; an existing file keeps its mode unless `forceMode` is set or the mode is private. */
  readonly mode?: number;
  readonly forceMode?: boolean;
  /** Refuse to replace an existing file (FILE_EXISTS). */
  readonly exclusive?: boolean;
}

/** One file of a `writeFilesAtomic` call. */
export interface AtomicFile extends AtomicWriteOptions {
  readonly path: string;
  readonly content: string | Uint8Array;
}

interface Prepared {
  readonly file: AtomicFile;
  readonly target: string;
  readonly temp: string;
  readonly existed: boolean;
}

/** Writes `content` to `path` (relative to `cwd`) atomically. */
export async function writeFileAtomic(cwd: string, path: string, content: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  await writeFilesAtomic(cwd, [{ path, content, ...options }]);
}

/**
 * Writes every file or none: all temporary files are written and flushed first, then renamed into
 * place; if anything fails, the temporaries are removed and files this call created are removed again.
 * Throws SAME_FILE before writing anything when two paths name one file (equal, a symlink, a hard link).
 */
export async function writeFilesAtomic(cwd: string, files: readonly AtomicFile[]): Promise<void> {
  await refuseAliases(cwd, files.map((f) => f.path));
  const prepared: Prepared[] = [];
  try {
    for (const file of files) prepared.push(await prepare(cwd, file));
  } catch (e) {
    await Promise.all(prepared.map((p) => rm(p.temp, { force: true })));
    throw e;
  }
  const renamed: Prepared[] = [];
  try {
    for (const p of prepared) {
      await rename(p.temp, p.target);
      renamed.push(p);
    }
  } catch (e) {
    await Promise.all(prepared.filter((p) => !renamed.includes(p)).map((p) => rm(p.temp, { force: true })));
    await Promise.all(renamed.filter((p) => !p.existed).map((p) => rm(p.target, { force: true })));
    throw fileError('write', prepared[renamed.length]?.file.path ?? files[0]?.path ?? '', e);
  }
}

async function prepare(cwd: string, file: AtomicFile): Promise<Prepared> {
  const target = resolve(cwd, file.path);
  let mode = file.mode ?? 0o644;
  const existing = await stat(target).catch(() => undefined);
  if (existing !== undefined) {
    if (file.exclusive === true) throw new KsealError('FILE_EXISTS', 'the file already exists; not replacing it', { file: file.path, hint: 'remove it first, or pass --force' });
    const privateMode = (mode & 0o077) === 0;
    if (file.forceMode !== true && !privateMode) mode = existing.mode & 0o777;
  }
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.chmod(mode);
      await handle.writeFile(file.content);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (e) {
    await rm(temp, { force: true });
    if (e instanceof KsealError) throw e;
    throw fileError('write', file.path, e);
  }
  return { file, target, temp, existed: existing !== undefined };
}

/** Throws SAME_FILE when two of `paths` name the same file (same path after symlinks, or same inode). */
export async function refuseAliases(cwd: string, paths: readonly string[]): Promise<void> {
  const seen = new Map<string, string>();
  for (const path of paths) {
    const ids = await identities(resolve(cwd, path));
    for (const id of ids) {
      const other = seen.get(id);
      if (other !== undefined) {
        throw new KsealError('SAME_FILE', `${JSON.stringify(other)} and ${JSON.stringify(path)} name the same file; nothing was written`, { file: path, hint: 'give each output its own path' });
      }
    }
    for (const id of ids) seen.set(id, path);
  }
}

/** Keys that identify the file a path names: its real path, and its device/inode when it exists. */
async function identities(target: string): Promise<string[]> {
  const info = await stat(target).catch(() => undefined);
  const real = info !== undefined ? await realpath(target) : join(await realpath(dirname(target)).catch(() => dirname(target)), basename(target));
  return info === undefined ? [`path:${real}`] : [`path:${real}`, `inode:${info.dev}:${info.ino}`];
}
