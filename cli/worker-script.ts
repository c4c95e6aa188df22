/** Finding a bundled worker thread script (dist/*-worker.cjs) for the CLI's worker pools. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `file` beside the CLI bundle, or in dist/ when running from source; undefined when not built. */
export function bundledWorkerScript(file: string): string | undefined {
  // The CommonJS CLI bundle has a __dirname (dist/); from source (tests) this module's folder.
  const here = typeof __dirname === 'string' ? __dirname : fileURLToPath(new URL('.', import.meta.url));
  return [join(here, file), join(here, '..', 'dist', file)].find((f) => existsSync(f));
}
