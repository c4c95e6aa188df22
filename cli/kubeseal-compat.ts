/**
 * kubeseal's spellings, so scripts written for kubeseal run with `kseal` in its place:
 *
 * - Without a sub-command, kubeseal's mode flags pick one (`--raw` → raw, `--fetch-cert` → cert,
 *   `--validate` → validate, `--re-encrypt` → reencrypt, `--recovery-unseal` → decrypt), and any
 *   other kubeseal flag means encrypt (kubeseal's default mode). A bare `kseal` is still a usage error.
 * - On each command, kubeseal's flag names are hidden options that set kseal's own (`--format` sets
 *   `-o`, `--secret-file` sets `-f`...), listed in the command's help under "kubeseal spellings".
 *   An alias and its kseal flag given with different values is a usage error.
 */
import { Option, type Command } from 'commander';
import { KsealError } from '../src/errors.js';

/** Mode flags of kubeseal and the command each one means. */
const KUBESEAL_MODES: Readonly<Record<string, string>> = {
  '--raw': 'raw',
  '--fetch-cert': 'cert',
  '--validate': 'validate',
  '--re-encrypt': 'reencrypt',
  '--recovery-unseal': 'decrypt',
};

/** kubeseal flags that take a value (so the value is not taken for a command name). */
const VALUE_FLAGS = new Set([
  '--cert',
  '--format',
  '-o',
  '--controller-name',
  '--controller-namespace',
  '--merge-into',
  '--recovery-private-key',
  '--secret-file',
  '--sealed-secret-file',
  '-w',
  '--from-file',
  '--name',
  '--scope',
  '-n',
  '--namespace',
  '--kubeconfig',
  '--context',
  '--error-format',
  '--controller-url',
  '--api-version',
]);

/** Other kubeseal flags that, without a command, mean "seal" (encrypt). */
const SEAL_FLAGS = new Set([...VALUE_FLAGS, '--allow-empty-data']);

/**
 * Rewrites a kubeseal-style command line (no sub-command, kubeseal flags) into kseal's: the mode
 * flag becomes the command. Command lines that name a command, or hold no kubeseal flag, are
 * returned as they are.
 */
export function kubesealArgv(argv: readonly string[], commands: ReadonlySet<string>): string[] {
  let mode: string | undefined;
  let sealFlag = false;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === '--') break;
    if (!token.startsWith('-')) {
      if (commands.has(token)) return [...argv];
      continue;
    }
    const flag = token.includes('=') ? token.slice(0, token.indexOf('=')) : token;
    if (KUBESEAL_MODES[flag] !== undefined) mode ??= flag;
    else if (SEAL_FLAGS.has(flag)) sealFlag = true;
    if (VALUE_FLAGS.has(flag) && !token.includes('=')) i++;
  }
  if (mode === undefined && !sealFlag) return [...argv];
  const command = mode === undefined ? 'encrypt' : (KUBESEAL_MODES[mode] as string);
  // Global options (--error-format) may stay before the command; everything else follows it.
  const rest = argv.filter((t) => t !== mode);
  return [command, ...rest];
}

/** One kubeseal spelling of a kseal option. */
export interface Alias {
  /** The kubeseal flag, e.g. `--format <format>`. */
  readonly flags: string;
  /** The kseal option's attribute name, e.g. `output`. */
  readonly target: string;
  /** How the kseal option is spelt, for help and errors, e.g. `-o`. */
  readonly targetFlag: string;
  readonly choices?: readonly string[];
  /** Turns the alias value into the target's (e.g. a comma-separated list into an array). */
  readonly convert?: (value: string) => unknown;
  /** An environment variable bound to the alias (kubeseal's), used when neither flag nor the target's own variable is set. */
  readonly env?: string;
}

/** A mode flag kept on its own command, where it changes nothing (`kseal raw --raw`). */
function addModeFlag(command: Command, flag: string): void {
  command.addOption(new Option(flag, 'kubeseal mode flag; no effect here').hideHelp());
}

/**
 * Registers kubeseal spellings on `command` as hidden options, a preAction hook that copies them to
 * their kseal options, and a help section listing them.
 */
export function addAliases(command: Command, aliases: readonly Alias[], modeFlag?: string): Command {
  const options = aliases.map((alias) => {
    const option = new Option(alias.flags, `kubeseal spelling of ${alias.targetFlag}`).hideHelp();
    if (alias.choices !== undefined) option.choices(alias.choices);
    if (alias.env !== undefined) option.env(alias.env);
    command.addOption(option);
    return { alias, option };
  });
  if (modeFlag !== undefined) addModeFlag(command, modeFlag);
  command.hook('preAction', (_parent, action) => {
    for (const { alias, option } of options) {
      const key = option.attributeName();
      const raw: unknown = action.getOptionValue(key);
      if (raw === undefined) continue;
      const value = alias.convert === undefined || typeof raw !== 'string' ? raw : alias.convert(raw);
      const aliasSource = action.getOptionValueSource(key);
      const targetSource = action.getOptionValueSource(alias.target);
      const given = targetSource === 'cli' || targetSource === 'env';
      if (given && aliasSource === 'env') continue; // the kseal flag or variable wins over kubeseal's variable
      if (given && targetSource === 'cli' && aliasSource === 'cli' && JSON.stringify(action.getOptionValue(alias.target)) !== JSON.stringify(value)) {
        throw new KsealError('USAGE', `${option.long ?? alias.flags} and ${alias.targetFlag} say different things; give one of them`);
      }
      action.setOptionValueWithSource(alias.target, value, aliasSource ?? 'cli');
    }
  });
  const visible = aliases.filter((a) => a.flags.startsWith('-'));
  const lines = visible.map((a) => `  ${a.flags.padEnd(32)} = ${a.targetFlag}${a.env === undefined ? '' : ` (env ${a.env})`}`);
  if (modeFlag !== undefined) lines.unshift(`  ${modeFlag.padEnd(32)} (kubeseal's mode flag: kseal ${modeFlag} ... runs this command)`);
  if (lines.length > 0) command.addHelpText('after', `\nkubeseal spellings (accepted for scripts written for kubeseal):\n${lines.join('\n')}`);
  return command;
}
