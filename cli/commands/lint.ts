/**
 * `kseal lint [PATH...]`: offline checks for CI and pre-commit, with public material only (the
 * committed certificates and `.kseal.yaml`; no cluster, no private key). Exit codes: 0 clean (or
 * warnings only), 8 findings at the failing severity, 3 a bad config, 7 a path that cannot be read.
 */
import { readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { Option, type Command } from 'commander';
import { KsealError } from '../../src/errors.js';
import { parseCertificate } from '../../src/crypto/certificate.js';
import type { CreationRule, RepoConfig } from '../../src/config/repo-config.js';
import { matchRule } from '../../src/config/rule-match.js';
import type { CiphertextSeen, FileContext, FileResult, KnownKey } from '../../src/lint/lint-file.js';
import { jsonReport, sarifReport, sortFindings, textReport } from '../../src/lint/report.js';
import { RULES_BY_ID, type Finding } from '../../src/lint/rules.js';
import type { CliIo } from '../io.js';
import { lintInThread, lintWorkerCount, readText, type LintTask } from '../lint-jobs.js';
import { lintInWorkers, lintWorkerScript } from '../lint-pool.js';
import { addConfigOption, findRepoConfig } from '../repo-config.js';

interface LintFlags {
  output: string;
  config?: string;
  warnExpiry?: string;
  failOn: string;
  disable?: string[];
  jobs: string;
}

const MANIFEST = /\.(ya?ml|json)$/i;
const SKIP_DIRS = new Set(['.git', 'node_modules', 'dist', '.terraform']);

/** Registers the command. */
export function lintCommand(program: Command, io: CliIo): void {
  program
    .command('lint')
    .summary('check committed manifests offline (CI, pre-commit)')
    .description('Check YAML/JSON manifests under each PATH (default: .) for plaintext Secrets, malformed sealed values, scope problems, stale or unknown keys and copied ciphertexts, using only the committed certificates and .kseal.yaml. Silence one finding with a comment "# kseal-lint-ignore KS101" on its line or the line above, or a rule for a whole file with "# kseal-lint-ignore-file KS101".')
    .argument('[paths...]', 'files or directories', ['.'])
    .addOption(new Option('-o, --output <format>', 'report format').choices(['text', 'json', 'sarif']).default('text'))
    .option('--warn-expiry <days>', 'warn when a certificate expires within this many days (default: .kseal.yaml lint.warn_expiry_days, else 30)')
    .addOption(new Option('--fail-on <severity>', 'lowest severity that fails the run').choices(['error', 'warning']).default('error'))
    .option('--disable <ids>', 'rule ids to skip, comma-separated (repeatable)', (v: string, p: string[] | undefined) => [...(p ?? []), ...v.split(',').map((s) => s.trim())])
    .option('-j, --jobs <n>', 'worker threads that read and check files: a number (1: none, all on the main thread) or auto (one per core, when there are enough files to pay for starting them)', 'auto');
  const command = program.commands.find((c) => c.name() === 'lint') as Command;
  addConfigOption(command);
  command.action(async (paths: string[], flags: LintFlags) => {
    const jobs = flags.jobs === 'auto' ? 'auto' : Number(flags.jobs);
    if (jobs !== 'auto' && !(Number.isInteger(jobs) && jobs >= 1)) throw new KsealError('USAGE', '--jobs takes a whole number of worker threads (1 or more) or auto');
    const files = paths.flatMap((p) => collect(io, p));
    const disabled = new Set(flags.disable ?? []);
    for (const id of disabled) if (!RULES_BY_ID.has(id)) throw new KsealError('USAGE', `--disable names an unknown rule ${JSON.stringify(id)}`, { hint: 'rule ids look like KS101; kseal lint --help lists where to find them' });
    const { tasks, contexts, error } = await plan(io, files, flags, disabled);
    if (error !== undefined) {
      // A config problem at file N: an earlier file that cannot be read is still the first error, as it was when each file was checked in turn.
      for (const task of tasks) readText(task.file, task.shown);
      throw error;
    }
    const workers = lintWorkerCount(tasks.length, jobs, availableParallelism());
    const script = workers > 0 ? lintWorkerScript() : undefined;
    const results = script === undefined ? lintInThread(tasks, contexts) : await lintInWorkers(tasks, contexts, workers, script);
    const findings: Finding[] = [];
    results.forEach((result, i) => {
      const off = (contexts[(tasks[i] as LintTask).context] as LintContext).disabled;
      findings.push(...result.findings.filter((f) => !off.has(f.ruleId)));
    });
    findings.push(...duplicates(results, (i) => (contexts[(tasks[i] as LintTask).context] as LintContext).disabled));
    const sorted = sortFindings(findings);
    const report = flags.output === 'json' ? jsonReport(sorted, files.length) : flags.output === 'sarif' ? sarifReport(sorted, typeof KSEAL_VERSION === 'string' ? KSEAL_VERSION : 'dev') : textReport(sorted, files.length);
    io.stdout(report);
    const failing = sorted.filter((f) => f.severity === 'error' || flags.failOn === 'warning');
    if (failing.length > 0) throw new KsealError('LINT_FINDINGS', `${failing.length} finding${failing.length === 1 ? '' : 's'} at ${flags.failOn} severity or above`);
  });
}

/** What one file is checked against, with the rules switched off for it (by the flags and its config). */
interface LintContext extends FileContext {
  readonly disabled: ReadonlySet<string>;
}

/**
 * Each file's task and the few distinct contexts they share (one per config file and creation
 * rule). Stops at the first file whose config or flags are wrong, returning the tasks before it
 * and the error.
 */
async function plan(io: CliIo, files: readonly string[], flags: LintFlags, disabled: ReadonlySet<string>): Promise<{ tasks: LintTask[]; contexts: LintContext[]; error?: Error }> {
  const configs = new Map<string, RepoConfig | undefined>();
  const keysOf = new Map<RepoConfig, ReadonlyMap<string, KnownKey>>();
  const contextOf = new Map<RepoConfig | undefined, Map<CreationRule | undefined, number>>();
  const tasks: LintTask[] = [];
  const contexts: LintContext[] = [];
  const now = io.now();
  try {
    for (const file of files) {
      const shown = relative(io.cwd, file).split(sep).join('/') || file;
      // One lookup per directory and one config object per config file, so its certificates are parsed once.
      const config = await findRepoConfig(io, flags.config, file, configs);
      const rule = config === undefined ? undefined : matchRule(config, file, undefined).rule;
      let byRule = contextOf.get(config);
      if (byRule === undefined) contextOf.set(config, (byRule = new Map<CreationRule | undefined, number>()));
      let context = byRule.get(rule);
      if (context === undefined) {
        const keys = config === undefined ? new Map<string, KnownKey>() : (keysOf.get(config) ?? (await loadKeys(io, config, keysOf)));
        const ruleKeyIds = rule === undefined ? [] : rule.certificates.flatMap((c) => [...keys].filter(([, k]) => k.sources.includes(c)).map(([id]) => id));
        const warnExpiryDays = flags.warnExpiry !== undefined ? Number(flags.warnExpiry) : (config?.lint.warnExpiryDays ?? 30);
        if (!Number.isFinite(warnExpiryDays) || warnExpiryDays < 0) throw new KsealError('USAGE', '--warn-expiry takes a whole number of days');
        context = contexts.push({ keys, ruleKeyIds, now, warnExpiryDays, disabled: new Set([...disabled, ...(config?.lint.disable ?? [])]) }) - 1;
        byRule.set(rule, context);
      }
      tasks.push({ file, shown, context });
    }
  } catch (error) {
    return { tasks, contexts, error: error instanceof Error ? error : new Error(String(error)) };
  }
  return { tasks, contexts };
}

/** KS601 across every file, in file order: the second and later objects holding a ciphertext seen in another object. */
function duplicates(results: readonly FileResult[], disabledFor: (file: number) => ReadonlySet<string>): Finding[] {
  const first = new Map<string, CiphertextSeen>();
  const out: Finding[] = [];
  for (const [i, result] of results.entries()) {
    for (const c of result.ciphertexts) {
      const seen = first.get(c.value);
      if (seen === undefined) first.set(c.value, c);
      else if (seen.object !== c.object && !c.silenced && !disabledFor(i).has('KS601')) {
        out.push({ ruleId: 'KS601', severity: 'error', file: c.file, line: c.line, document: c.document, key: c.key, message: `the ciphertext is copied from ${seen.object} (${seen.file}:${seen.line}); it does not open under this object's label, seal the value again` });
      }
    }
  }
  return out;
}

async function loadKeys(io: CliIo, config: RepoConfig, cache: Map<RepoConfig, ReadonlyMap<string, KnownKey>>): Promise<ReadonlyMap<string, KnownKey>> {
  const keys = new Map<string, KnownKey>();
  const sources = [...config.certificates.map((c) => ({ name: c.name ?? relative(config.dir, c.source), source: c.source, retired: c.retired })), ...config.rules.flatMap((r) => r.certificates.map((c) => ({ name: relative(config.dir, c), source: c, retired: false })))];
  for (const { name, source, retired } of sources) {
    if (/^https?:\/\//i.test(source)) continue; // offline: URLs are not fetched
    const text = await readFile(source).catch(() => undefined);
    if (text === undefined) throw new KsealError('FILE_READ', `the certificate ${JSON.stringify(name)} named in the config cannot be read`, { file: config.file });
    const cert = parseCertificate(text, { source, skipValidity: true });
    const existing = keys.get(cert.keyId);
    keys.set(cert.keyId, { name: existing?.name ?? name, bits: cert.bits, notAfter: cert.notAfter, retired: retired || existing?.retired === true, sources: [...(existing?.sources ?? []), source] });
  }
  cache.set(config, keys);
  return keys;
}

/** The manifests at `path`: the file itself, or every manifest below the directory in name order. */
function collect(io: CliIo, path: string): string[] {
  const full = resolve(io.cwd, path);
  let info;
  try {
    info = statSync(full);
  } catch {
    info = undefined;
  }
  if (info === undefined) throw new KsealError('FILE_READ', 'no such file or directory', { file: path });
  if (info.isFile()) return [full];
  const out: string[] = [];
  const walk = (dir: string): void => {
    const entries = readdirSync(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) walk(join(dir, e.name));
      } else if (e.isFile() && MANIFEST.test(e.name) && e.name !== '.kseal.yaml' && e.name !== '.pre-commit-hooks.yaml' && e.name !== 'package.json' && e.name !== 'package-lock.json') out.push(join(dir, e.name));
    }
  };
  walk(full);
  return out;
}
