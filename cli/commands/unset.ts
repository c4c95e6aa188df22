/** `kseal unset`: remove keys from a SealedSecret file, in place; everything else stays byte for byte. */
import type { Command } from 'commander';
import { KsealError } from '../../src/errors.js';
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
      const missing = unique.find((k) => !Object.hasOwn(opened.sealed.spec.encryptedData, k));
      if (missing !== undefined) {
        throw new KsealError('KEY_NOT_FOUND', 'the SealedSecret has no such key; nothing was changed', { file, document: opened.document.location.document, key: missing, hint: `its keys are: ${Object.keys(opened.sealed.spec.encryptedData).join(', ') || '(none)'}` });
      }
      opened.document.removeKeys(unique);
      if (Object.keys(opened.sealed.spec.encryptedData).length === 0) warn(io, `${file}: the SealedSecret has no keys left; the controller will write an empty Secret`);
      await saveSealedFile(io, opened);
      io.stderr(`kseal: ${file}: removed ${unique.length} key${unique.length === 1 ? '' : 's'}\n`);
    });
}
