/** Entry point of the `kseal` (and `kubectl-kseal`) binary. */
import { main } from '../cli/main.js';
import { processIo } from '../cli/io.js';

main(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = 1;
  },
);
