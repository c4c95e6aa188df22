/** Entry of the `kseal-controller` binary (bundled to dist/kseal-controller.mjs). */
import { main } from '../controller/main.js';

await main(process.argv.slice(2));
