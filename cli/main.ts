/**
 * The kseal command line: builds the commander program for one run and maps every failure to a
 * message and a stable exit code (see EXIT in src/errors.ts). `main` never throws and never calls
 * process.exit, so tests run it in-process.
 *
 * Conventions kept here for every command: no command is a usage error (exit 2, never a silent
 * success); every usage error (unknown flag, bad choice, kubeseal alias conflict) exits 2 and honours
 * `--error-format json` / `KSEAL_ERROR_FORMAT=json`; kubeseal-style command lines are translated
 * (kubeseal-compat.ts); as a kubectl plugin the program calls itself `kubectl kseal`.
 */
import { Command, CommanderError, Option } from 'commander';
import { isKsealError } from '../src/errors.js';
import { certCommand } from './commands/cert.js';
import { completionCommand } from './commands/completion.js';
import { convertCommand } from './commands/convert.js';
import { decryptCommand } from './commands/decrypt.js';
import { editCommand } from './commands/edit.js';
import { encryptCommand } from './commands/encrypt.js';
import { identityCommand } from './commands/identity.js';
import { keygenCommand } from './commands/keygen.js';
import { rawCommand } from './commands/raw.js';
import { recipientsCommand } from './commands/recipients.js';
import { reencryptCommand } from './commands/reencrypt.js';
import { uiCommand } from './commands/ui.js';
import { validateCommand } from './commands/validate.js';
import { versionCommand } from './commands/version.js';
import type { CliIo } from './io.js';
import { completions } from './completion.js';
import { kubesealArgv } from './kubeseal-compat.js';
import { workflowCommands } from './workflow-commands.js';
import { EXIT } from '../src/wire.js';

/** The version printed by --version (set by the bundler; "dev" when run from source). */
const VERSION = typeof KSEAL_VERSION === 'string' ? KSEAL_VERSION : 'dev';

/** The help section of each command. */
const HELP_GROUPS: Readonly<Record<string, string>> = {
  encrypt: 'Sealing:',
  raw: 'Sealing:',
  create: 'Sealing:',
  cert: 'Sealing:',
  set: 'Editing SealedSecret files:',
  unset: 'Editing SealedSecret files:',
  'rename-key': 'Editing SealedSecret files:',
  convert: 'Editing SealedSecret files:',
  edit: 'Editing SealedSecret files:',
  recipients: 'Editing SealedSecret files:',
  'merge-driver': 'Editing SealedSecret files:',
  validate: 'Checking and re-sealing with the controller:',
  reencrypt: 'Checking and re-sealing with the controller:',
  lint: 'Checking files offline:',
  decrypt: 'Keys and recovery:',
  keygen: 'Keys and recovery:',
  identity: 'Keys and recovery:',
};

/** Every command's registration, in help order. */
const ALL_COMMANDS: ReadonlyArray<(program: Command, io: CliIo) => void> = [
  ...[encryptCommand, rawCommand, certCommand, validateCommand, reencryptCommand, convertCommand, editCommand, recipientsCommand, decryptCommand, keygenCommand, identityCommand, uiCommand, versionCommand, completionCommand],
  ...workflowCommands,
];

/**
 * The commands a run registers: a run that starts with `encrypt` (or its alias `seal`), the
 * command that runs most and in scripts, registers that one alone, since building all ~20 commands'
 * options costs each start a few ms of commander; anything else (help, completion, kubeseal-style
 * argv, other commands) gets them all.
 */
function commandsFor(argv: readonly string[]): ReadonlyArray<(program: Command, io: CliIo) => void> {
  return argv[0] === 'encrypt' || argv[0] === 'seal' ? [encryptCommand] : ALL_COMMANDS;
}

/** Builds the program with `commands` (all of them: what `kseal completion` walks). */
function buildProgram(io: CliIo, commands = ALL_COMMANDS): Command {
  const name = io.programName ?? 'kseal';
  const program = new Command(name);
  program
    .description('Seal Kubernetes Secrets into SealedSecrets that are safe to keep in git (compatible with Bitnami Sealed Secrets).')
    .version(VERSION, '-v, --version')
    .addOption(new Option('--error-format <format>', 'how errors are printed on stderr').choices(['text', 'json']).env('KSEAL_ERROR_FORMAT'))
    .exitOverride()
    .configureOutput(output(io))
    .addHelpText(
      'after',
      `
Examples:
  ${name} cert > cert.pem                                  # once, with cluster access
  ${name} encrypt --cert cert.pem < secret.yaml > sealed.yaml
  ${name} <command> --help                                 # options of one command`,
    );
  for (const register of commands) register(program, io);
  // Help lists commands by task, as a newcomer looks for them (commands not named here: "Other").
  for (const command of program.commands) command.helpGroup(HELP_GROUPS[command.name()] ?? 'Other commands:');
  for (const command of descendants(program)) command.exitOverride().configureOutput(output(io));
  return program;
}

/** Runs the CLI with `argv` (arguments after the program name) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const json = errorFormat(argv, io) === 'json';
  let usageMessage = '';
  const program = buildProgram(io, commandsFor(argv));
  // commander's own messages (unknown option, bad choice, missing argument) are collected and
  // printed below in kseal's format, text or JSON, like every other error.
  for (const command of [program, ...descendants(program)]) {
    command.configureOutput({ ...output(io), outputError: (s) => void (usageMessage += s) }).showHelpAfterError(false);
  }
  if (argv[0] === '__complete') {
    const words = completions(program, argv.slice(1));
    io.stdout(words.length === 0 ? '' : `${words.join('\n')}\n`);
    return 0;
  }
  const commandNames = new Set(program.commands.flatMap((c) => [c.name(), ...c.aliases()]));
  const args = kubesealArgv(argv, commandNames);
  const name = program.name();
  if (args.length === 0 || (args.every((a) => a.startsWith('-')) && !args.some((a) => ['-h', '--help', '-v', '--version'].includes(a)))) {
    return usage(io, json, 'no command given', `run ${name} encrypt < secret.yaml > sealed.yaml to seal, or ${name} --help for every command`);
  }
  try {
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError && e.exitCode !== 0 && e.code !== 'commander.help') {
      const message = (usageMessage || e.message).replace(/^error: /, '').split('\n')[0] ?? '';
      const command = args.find((a) => commandNames.has(a));
      return usage(io, json, message, `run ${name}${command === undefined ? '' : ` ${command}`} --help for usage`);
    }
    return report(e, io, json);
  }
}

/** Every command below `command` (sub-commands of sub-commands too). */
function descendants(command: Command): Command[] {
  return command.commands.flatMap((c) => [c, ...descendants(c)]);
}

function output(io: CliIo): { writeOut: (s: string) => void; writeErr: (s: string) => void } {
  return { writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) };
}

/** `--error-format` from argv (also before the command is known) or KSEAL_ERROR_FORMAT. */
function errorFormat(argv: readonly string[], io: CliIo): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') break;
    if (a === '--error-format') return argv[i + 1];
    if (a.startsWith('--error-format=')) return a.slice('--error-format='.length);
  }
  return io.env.KSEAL_ERROR_FORMAT;
}

function usage(io: CliIo, json: boolean, message: string, hint?: string): number {
  if (json) io.stderr(`${JSON.stringify({ error: { code: 'USAGE', exitCode: EXIT.usage, message, ...(hint === undefined ? {} : { hint }) } })}\n`);
  else io.stderr(`kseal: error: ${message}${hint === undefined ? '' : `\n  hint: ${hint}`}\n`);
  return EXIT.usage;
}

function report(e: unknown, io: CliIo, json: boolean): number {
  if (e instanceof CommanderError) {
    // commander has already printed its message; help and version end in success, help shown because
    // of an error (a command group without its sub-command) is a usage error.
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
    if (e.code === 'commander.help') return e.exitCode === 0 ? 0 : EXIT.usage;
    return EXIT.usage;
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
