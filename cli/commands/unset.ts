/** `kseal unset`: remove keys from a SealedSecret file, in place; everything else stays byte for byte. */
import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { warn } from '../emit.js';
import { openOneSealedSecret, saveSealedFile } from '../sealed-file-edit.js';

/** Registers the command. */
export function unsetCommand(program: Command, io: CliIo): void {
  program
    .command('unset')
    .summary('remove keys from a SealedSecret file, in place')
    .description('Remove KEYs from the SealedSecret in FILE. Comments, order and every other ciphertext stay byte for byte. A key that is not there is an error, and then nothing is changed.')
    .argument('<file>', 'SealedSecret file to edit')
    .argument('<keys...>', 'keys to remove')
    .action(async (file: string, keys: string[]) => {
      const opened = await openOneSealedSecret(io, file, 'kseal unset');
      const unique = [...new Set(keys)];
      opened.document.removeValues(unique);
      if (Object.keys(opened.sealed.spec.encryptedData).length === 0) warn(io, `${file}: the SealedSecret has no keys left; the controller will write an empty Secret`);
      await saveSealedFile(io, opened);
      io.stderr(`kseal: ${file}: removed ${unique.length} key${unique.length === 1 ? '' : 's'}\n`);
    });
}
