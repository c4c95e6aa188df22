/**
 * Finding and applying `.kseal.yaml`: `--config FILE` or `KSEAL_CONFIG` name it; otherwise it is
 * looked for in the directory of the file being written and each parent up to the root (as SOPS
 * finds `.sops.yaml`). Commands use the matching creation rule only for what no flag (or
 * environment variable) says: flags win, then KSEAL_CERT/SEALED_SECRETS_CERT, then the rule, then the
 * controller.
 */
import { dirname, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { KsealError } from '../src/errors.js';
import { CONFIG_FILE_NAME, parseRepoConfig, type CreationRule, type RepoConfig } from '../src/config/repo-config.js';
import { matchRule, type RuleMatch } from '../src/config/rule-match.js';
import type { RecipientFlags } from './recipient-source.js';
import { readWholeFile, type CliIo } from './io.js';

/** Adds `--config FILE`. */
export function addConfigOption(command: Command): Command {
  return command.addOption(new Option('--config <file>', `repository config (env KSEAL_CONFIG; default: the nearest ${CONFIG_FILE_NAME} above the file)`));
}

/**
 * Reads the config named by the flag or KSEAL_CONFIG, else the nearest one above `near` (a file
 * path; undefined: the working directory). With `cache` (lint: thousands of files in a few
 * directories), each directory is looked up and each config file parsed once per run, and files
 * under the same config get the same object.
 */
export async function findRepoConfig(io: CliIo, flag: string | undefined, near: string | undefined, cache?: Map<string, RepoConfig | undefined>): Promise<RepoConfig | undefined> {
  const named = flag ?? (io.env.KSEAL_CONFIG === '' ? undefined : io.env.KSEAL_CONFIG);
  if (named !== undefined) {
    const path = resolve(io.cwd, named);
    if (cache?.has(path) === true) return cache.get(path);
    const text = await readWholeFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new KsealError('FILE_READ', `cannot read the config file: ${e.code === 'ENOENT' ? 'no such file' : (e.code ?? 'error')}`, { file: named, cause: e });
    });
    const config = parseRepoConfig(text, named, dirname(path));
    cache?.set(path, config);
    return config;
  }
  let dir = near === undefined ? resolve(io.cwd) : dirname(resolve(io.cwd, near));
  const visited: string[] = [];
  let found: RepoConfig | undefined;
  for (;;) {
    if (cache?.has(dir) === true) {
      found = cache.get(dir);
      break;
    }
    visited.push(dir);
    const path = resolve(dir, CONFIG_FILE_NAME);
    const text = await readWholeFile(path, 'utf8').catch(() => undefined);
    if (text !== undefined) {
      found = parseRepoConfig(text, path, dir);
      break;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  for (const d of visited) cache?.set(d, found);
  return found;
}

/** The config and the rule matching `file` (absolute or relative to cwd; undefined for stdout) and `namespace`. */
export async function ruleFor(io: CliIo, flag: string | undefined, file: string | undefined, namespace: string | undefined): Promise<{ config: RepoConfig | undefined; match: RuleMatch | undefined; rule: CreationRule | undefined }> {
  const config = await findRepoConfig(io, flag, file);
  if (config === undefined) return { config, match: undefined, rule: undefined };
  const match = matchRule(config, file === undefined ? undefined : resolve(io.cwd, file), namespace);
  return { config, match, rule: match.rule };
}

/** The `--cert` value to seal with: the flag, else nothing when an environment variable names one (it wins), else the rule's first certificate. */
export function certFromRule(flag: string | undefined, io: CliIo, rule: CreationRule | undefined): string | undefined {
  if (flag !== undefined) return flag;
  if (nonEmpty(io.env.KSEAL_CERT) || nonEmpty(io.env.SEALED_SECRETS_CERT)) return undefined;
  return rule?.certificates[0];
}

/**
 * Recipient flags with the rule filled in: its certificates when no --cert (or KSEAL_CERT /
 * SEALED_SECRETS_CERT) names one, and its escrow keys added to --recipient.
 */
export function recipientFlagsFromRule<T extends RecipientFlags>(flags: T, io: CliIo, rule: CreationRule | undefined): T {
  if (rule === undefined) return flags;
  const certFromEnv = nonEmpty(io.env.KSEAL_CERT) || nonEmpty(io.env.SEALED_SECRETS_CERT);
  const cert = flags.cert !== undefined && flags.cert.length > 0 ? flags.cert : certFromEnv || rule.certificates.length === 0 ? flags.cert : [...rule.certificates];
  const recipient = [...(flags.recipient ?? []), ...rule.escrow];
  return { ...flags, cert, recipient };
}

function nonEmpty(value: string | undefined): boolean {
  return value !== undefined && value !== '';
}
