/** Entry of the `kseal-controller` binary (bundled to dist/kseal-controller.cjs, run by dist/kseal-controller.mjs). */
import { main } from '../controller/main.js';

// No top-level await: the bundle is CommonJS so that it can run with a V8 code cache (scripts/code-cache.cjs).
main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`kseal-controller: ${(e as Error).message}\n`);
  process.exit(1);
});
