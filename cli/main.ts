/**
 * The kseal command line: builds the commander program for one run and maps every failure to a
 * message and a stable exit code (see EXIT in src/errors.ts). `main` never throws and never calls
 * process.exit, so tests run it in-process.
 */
import { Command, CommanderError, Option } from 'commander';
import { isKsealError } from '../src/errors.js';
import { certCommand } from './commands/cert.js';
import { convertCommand } from './commands/convert.js';
import { decryptCommand } from './commands/decrypt.js';
import { encryptCommand } from './commands/encrypt.js';
import { identityCommand } from './commands/identity.js';
import { keygenCommand } from './commands/keygen.js';
import { rawCommand } from './commands/raw.js';
import { reencryptCommand } from './commands/reencrypt.js';
import { uiCommand } from './commands/ui.js';
import { validateCommand } from './commands/validate.js';
import type { CliIo } from './io.js';
import { workflowCommands } from './workflow-commands.js';
import { EXIT } from '../src/wire.js';

/** The version printed by --version (set by the bundler; "dev" when run from source). */
export const VERSION = typeof KSEAL_VERSION === 'string' ? KSEAL_VERSION : 'dev';

/** Runs the CLI with `argv` (arguments after the program name) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const program = new Command('kseal');
  program
    .description('Seal Kubernetes Secrets into SealedSecrets that are safe to keep in git (compatible with Bitnami Sealed Secrets).')
    .version(VERSION, '-v, --version')
    .addOption(new Option('--error-format <format>', 'how errors are printed on stderr (env KSEAL_ERROR_FORMAT)').choices(['text', 'json']))
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
  for (const register of [encryptCommand, rawCommand, certCommand, validateCommand, reencryptCommand, convertCommand, decryptCommand, keygenCommand, identityCommand, uiCommand]) register(program, io);
  for (const register of workflowCommands) register(program, io);
  for (const command of program.commands) {
    command.exitOverride().configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) }).showHelpAfterError('(run with --help for usage)');
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    const format = program.opts<{ errorFormat?: string }>().errorFormat ?? io.env.KSEAL_ERROR_FORMAT;
    return report(e, io, format === 'json');
  }
}

function report(e: unknown, io: CliIo, json: boolean): number {
  if (e instanceof CommanderError) {
    // commander has already printed its message; help and version end in success.
    return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? 0 : EXIT.usage;
  }
  if (isKsealError(e)) {
    if (json) {
      const { code, exitCode, message, file, document, item, key, hint } = e;
      io.stderr(`${JSON.stringify({ error: { code, exitCode, message, file, document, item, key, hint } })}\n`);
    } else io.stderr(`kseal: error: ${e.format()}\n`);
    return e.exitCode;
  }
  // Not ours: a bug. Show its kind and first line only; the stack only on request.
  const error = e instanceof Error ? e : new Error(String(e));
  const line = `${error.name}: ${error.message.split('\n')[0] ?? ''}`;
  io.stderr(json ? `${JSON.stringify({ error: { code: 'INTERNAL', exitCode: EXIT.internal, message: line } })}\n` : `kseal: internal error: ${line}\n`);
  if (io.env.KSEAL_DEBUG === '1' && error.stack !== undefined) io.stderr(`${error.stack}\n`);
  return EXIT.internal;
}
