/**
 * Entry of `npm run demo`: runs demo/demo.ts.
 *   kseal-demo [--show-values] [--keep] [--key-size N]
 * Without --keep it exits once the Secrets are shown; with --keep it runs until Ctrl-C.
 */
import { runDemo } from '../demo/demo.js';

const args = process.argv.slice(2);
const unknown = args.filter((a, i) => !['--show-values', '--keep', '--key-size'].includes(a) && args[i - 1] !== '--key-size');
if (unknown.length > 0) {
  process.stderr.write(`kseal-demo: unknown argument ${unknown[0]}\nusage: kseal-demo [--show-values] [--keep] [--key-size N]\n`);
  process.exit(2);
}
const sizeIndex = args.indexOf('--key-size');
const keySize = sizeIndex === -1 ? undefined : Number(args[sizeIndex + 1]);
if (keySize !== undefined && !(Number.isInteger(keySize) && keySize >= 2048)) {
  process.stderr.write('kseal-demo: --key-size needs a whole number of bits, at least 2048\n');
  process.exit(2);
}
try {
  const demo = await runDemo({ showValues: args.includes('--show-values'), ...(keySize === undefined ? {} : { keySize }) });
  if (args.includes('--keep')) {
    process.stdout.write('\nRunning; Ctrl-C stops the controller and the API server.\n');
    const stop = (): void => {
      demo.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } else {
    await demo.stop();
    process.exit(0);
  }
} catch (e) {
  process.stderr.write(`kseal-demo: ${(e as Error).message}\n`);
  process.exit(1);
}
