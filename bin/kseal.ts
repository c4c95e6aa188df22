/** Entry point of the `kseal` (and `kubectl-kseal`) binary. */
import { main } from '../cli/main.js';
import { processIo } from '../cli/io.js';

// A reader that goes away (`kseal help | head -1`) closes the pipe: stop quietly with the status a
// process killed by SIGPIPE has (141), as coreutils do, instead of an EPIPE stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(141);
    throw e;
  });
}

main(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = 1;
  },
);
