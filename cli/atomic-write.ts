/**
 * Atomic file output: write a temporary file beside the target, flush it, then rename it over the
 * target, so a reader (or a crash) never sees a half-written file and a failed run leaves the old
 * file as it was. Mode is set on the temporary file before any content is written.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { KsealError } from '../src/errors.js';
import { fileError } from './io.js';

export interface AtomicWriteOptions {
  /** File mode for a new file; an existing file keeps its mode unless `forceMode` is set. */
  readonly mode?: number;
  readonly forceMode?: boolean;
  /** Refuse to replace an existing file (FILE_EXISTS). */
  readonly exclusive?: boolean;
}

/** Writes `content` to `path` (relative to `cwd`) atomically. */
export async function writeFileAtomic(cwd: string, path: string, content: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const target = resolve(cwd, path);
  let mode = options.mode ?? 0o644;
  const existing = await stat(target).catch(() => undefined);
  if (existing !== undefined) {
    if (options.exclusive === true) throw new KsealError('FILE_EXISTS', 'the file already exists; not replacing it', { file: path, hint: 'remove it first, or pass --force' });
    if (options.forceMode !== true) mode = existing.mode & 0o777;
  }
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.chmod(mode);
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (e) {
    await rm(temp, { force: true });
    if (e instanceof KsealError) throw e;
    throw fileError('write', path, e);
  }
}
