/**
 * The sealing page's static files, built by scripts/build.mjs into dist/ui/ (index.html, app.js,
 * app.css, icon.svg). They are read once from beside the running bundle (dist/ui/ next to
 * dist/kseal-controller.mjs or dist/kseal-cli.cjs), or from dist/ui/ when running from source.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KsealError } from '../../src/errors.js';

/** The built files, as bytes (index.html is a template with {{BASE}} and {{MODE}}). */
export interface PageAssets {
  readonly html: string;
  readonly js: Buffer;
  readonly css: Buffer;
  readonly icon: Buffer;
}

let cached: PageAssets | undefined;

/** Folders the built page may be in, nearest first. */
function candidateDirs(): string[] {
  // The CommonJS CLI bundle has no import.meta but a __dirname (its own folder); ESM has import.meta.
  const here = typeof __dirname === 'string' ? __dirname : fileURLToPath(new URL('.', import.meta.url));
  return [join(here, 'ui'), join(here, '..', '..', 'dist', 'ui')];
}

/** Loads the built page once. Throws INTERNAL when it was not built (`npm run build`). */
export function pageAssets(): PageAssets {
  if (cached !== undefined) return cached;
  const dir = candidateDirs().find((d) => existsSync(join(d, 'index.html')));
  if (dir === undefined) throw new KsealError('INTERNAL', 'the sealing page is not built (dist/ui/ is missing)', { hint: 'run npm run build' });
  cached = {
    html: readFileSync(join(dir, 'index.html'), 'utf8'),
    js: readFileSync(join(dir, 'app.js')),
    css: readFileSync(join(dir, 'app.css')),
    icon: readFileSync(join(dir, 'icon.svg')),
  };
  return cached;
}
