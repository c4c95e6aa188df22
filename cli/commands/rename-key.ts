/**
 * `kseal rename-key`: move a ciphertext to another key name, in place, without the plaintext. This
 * is sound because the scope label binds a value to the object's namespace and name, not to its key
 * name (docs/SECURITY.md), so the moved value opens exactly where it opened before.
 */
import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { openOneSealedSecret, saveSealedFile } from '../sealed-file-edit.js';

/** Registers the command. */
export function renameKeyCommand(program: Command, io: CliIo): void {
  program
    .command('rename-key')
    .summary('rename a key of a SealedSecret file, in place')
    .description('Move the ciphertext of OLD to the key NEW in the SealedSecret in FILE. No key or plaintext is needed: a sealed value is bound to the object, not to its key name. Everything else stays byte for byte.')
    .argument('<file>', 'SealedSecret file to edit')
    .argument('<old>', 'the key to rename')
    .argument('<new>', 'its new name (must not exist yet)')
    .action(async (file: string, from: string, to: string) => {
      const opened = await openOneSealedSecret(io, file, 'kseal rename-key');
      opened.document.renameValue(from, to);
      await saveSealedFile(io, opened);
      io.stderr(`kseal: ${file}: renamed key ${JSON.stringify(from)} to ${JSON.stringify(to)}\n`);
    });
}
