/** Sending a command's result to stdout or, atomically, to the file named by -w. */
import type { CliIo } from './io.js';
import { writeFileAtomic } from './atomic-write.js';

/** Writes `text` to `file` (atomically, mode 0644 for new files) or to stdout. */
export async function emit(io: CliIo, text: string, file: string | undefined, mode = 0o644): Promise<void> {
  if (file === undefined || file === '-') io.stdout(text);
  else await writeFileAtomic(io.cwd, file, text, { mode });
}

/** Prints a warning line on stderr. */
export function warn(io: CliIo, message: string): void {
  io.stderr(`kseal: warning: ${message}\n`);
}
