// Builds the runnable bundles into dist/ with esbuild. Type checking is `npm run typecheck` (tsc --noEmit).
// The CLI is one CommonJS bundle because that starts ~40 ms faster than unbundled ESM; heavy or rarely
// used packages stay external and are imported lazily where a command needs them.
import { build } from 'esbuild';
import { chmod, readFile } from 'node:fs/promises';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: false,
  logLevel: 'warning',
  define: { KSEAL_VERSION: JSON.stringify(pkg.version) },
};

const entries = [
  // The CLI: client-node and node-forge are loaded only by the commands that need them.
  { entryPoints: ['bin/kseal.ts'], outfile: 'dist/kseal.cjs', format: 'cjs', external: ['@kubernetes/client-node', 'node-forge'], banner: { js: '#!/usr/bin/env node' } },
  { entryPoints: ['bin/kseal-controller.ts'], outfile: 'dist/kseal-controller.mjs', format: 'esm', packages: 'external', banner: { js: '#!/usr/bin/env node' } },
  // The controller's unseal worker thread (loaded by controller/unseal-pool.ts from next to the controller bundle).
  { entryPoints: ['controller/unseal-worker.ts'], outfile: 'dist/unseal-worker.mjs', format: 'esm', packages: 'external' },
  { entryPoints: ['bin/kube-api.ts'], outfile: 'dist/kube-api.mjs', format: 'esm', packages: 'external', banner: { js: '#!/usr/bin/env node' } },
];

const { existsSync } = await import('node:fs');
await Promise.all(
  entries
    .filter((e) => existsSync(e.entryPoints[0]))
    .map(async (e) => {
      await build({ ...common, ...e });
      await chmod(e.outfile, 0o755);
    }),
);
