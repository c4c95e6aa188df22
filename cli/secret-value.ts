/**
 * Where `kseal set` and `kseal create secret` get values: a file, stdin, or a hidden prompt asked
 * twice on a terminal; never the command line, where shell history, `ps` and CI logs would keep it.
 */
import { KsealError } from '../src/errors.js';
import { MAX_SECRET_BYTES } from '../src/model/secret.js';
import { readInput, type CliIo } from './io.js';

/** Reads one value: from `fromFile` (`-` is stdin), else stdin when it is not a terminal, else a hidden prompt entered twice. */
export async function readSecretValue(io: CliIo, fromFile: string | undefined, what: string): Promise<Buffer> {
  let bytes: Buffer;
  let source: string;
  if (fromFile !== undefined || io.stdinIsTty !== true || io.promptHidden === undefined) {
    ({ bytes, source } = await readInput(io, fromFile));
  } else {
    const first = await io.promptHidden(`Value for ${what}: `);
    const second = await io.promptHidden(`Again, to confirm: `);
    if (first !== second) throw new KsealError('USAGE', 'the two values entered differ; nothing was changed', { hint: 'run the command again' });
    bytes = Buffer.from(first, 'utf8');
    source = '<prompt>';
  }
  if (bytes.length > MAX_SECRET_BYTES) throw new KsealError('SECRET_TOO_LARGE', `the value is ${bytes.length} bytes; a Secret holds at most ${MAX_SECRET_BYTES}`, { file: source });
  return bytes;
}
