/** `kseal config show FILE`: which `.kseal.yaml` and which creation rule apply to a path, and why. */
import { readFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { KsealError } from '../../src/errors.js';
import { matchRule } from '../../src/config/rule-match.js';
import { readManifests } from '../../src/manifest/read.js';
import type { CliIo } from '../io.js';
import { addConfigOption, findRepoConfig } from '../repo-config.js';

interface ShowFlags {
  config?: string;
  namespace?: string;
}

/** Registers `config` and its `show` subcommand. */
export function configCommand(program: Command, io: CliIo): void {
  const config = program.command('config').summary('show how .kseal.yaml applies').description('Inspect the repository config (.kseal.yaml).');
  const show = config
    .command('show')
    .summary('print the creation rule that applies to a file, and why')
    .description('Find the .kseal.yaml for FILE (or --config / KSEAL_CONFIG), try its creation rules in order, and print which one applies and why each earlier one did not. The namespace matched against namespace_regex is -n, else the one in FILE when it exists.')
    .argument('<file>', 'the file that would be written')
    .option('-n, --namespace <namespace>', 'the namespace to match namespace_regex against');
  addConfigOption(show);
  show.exitOverride().configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
  show.action(async (file: string, flags: ShowFlags) => {
    const found = await findRepoConfig(io, flags.config, file);
    if (found === undefined) throw new KsealError('FILE_READ', 'no .kseal.yaml in this directory or any parent', { file, hint: 'create one at the repository root, or pass --config' });
    const namespace = flags.namespace ?? (await namespaceIn(resolve(io.cwd, file)));
    const match = matchRule(found, resolve(io.cwd, file), namespace);
    const shown = (p: string): string => (/^https?:\/\//i.test(p) ? p : relative(io.cwd, p) || '.');
    const lines = [`config: ${shown(found.file)}`, `path: ${match.path ?? '(none)'}${namespace === undefined ? '' : `, namespace ${namespace}`}`];
    for (const v of match.verdicts) lines.push(`rule ${v.rule.index} (line ${v.rule.line}): ${v.matched ? 'applies' : 'skipped'}: ${v.reason}`);
    const rule = match.rule;
    if (rule === undefined) {
      lines.push(found.rules.length === 0 ? 'no creation rules: flags, KSEAL_CERT or the controller decide' : 'no rule applies: flags, KSEAL_CERT or the controller decide');
    } else {
      lines.push(`  certificates: ${rule.certificates.length === 0 ? '(none: flags, KSEAL_CERT or the controller)' : rule.certificates.map(shown).join(', ')}`);
      lines.push(`  escrow: ${rule.escrow.length === 0 ? '(none)' : rule.escrow.join(', ')}`);
      lines.push(`  scope: ${rule.scope ?? '(from the object, else strict)'}`);
      lines.push(`  namespace: ${rule.namespace ?? '(from the object)'}`);
      lines.push(`  api_version: ${rule.apiVersion ?? '(default)'}`);
    }
    io.stdout(`${lines.join('\n')}\n`);
  });
}

async function namespaceIn(path: string): Promise<string | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const [first] = readManifests(text, path);
    const ns = (first?.value as { metadata?: { namespace?: unknown } } | undefined)?.metadata?.namespace;
    return typeof ns === 'string' ? ns : undefined;
  } catch {
    return undefined;
  }
}
