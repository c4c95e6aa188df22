/** `kseal version`: the version as a command, as kubectl and kubeseal users type it (`--version` works too). */
import type { Command } from 'commander';
import type { CliIo } from '../io.js';

/** Registers the command. */
export function versionCommand(program: Command, io: CliIo): void {
  program
    .command('version')
    .summary('print the version')
    .description('Print the kseal version (the same as --version).')
    .action(() => {
      io.stdout(`${program.version() ?? 'dev'}\n`);
    });
}
