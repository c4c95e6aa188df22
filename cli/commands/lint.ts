/**
 * `kseal lint [PATH...]`: offline checks for CI and pre-commit, with public material only (the
 * committed certificates and `.kseal.yaml`; no cluster, no private key). Exit codes: 0 clean (or
 * warnings only), 8 findings at the failing severity, 3 a bad config, 7 a path that cannot be read.
 */
// Synchronous reads on purpose: a repo is thousands of small files, and one await per file costs more
// in thread-pool round trips than the reads themselves (the lint bench workload measured it).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { Option, type Command } from 'commander';
import { KsealError } from '../../src/errors.js';
import { parseCertificate } from '../../src/crypto/certificate.js';
import type { RepoConfig } from '../../src/config/repo-config.js';
import { matchRule } from '../../src/config/rule-match.js';
import { lintFile, type CiphertextSeen, type FileResult, type KnownKey } from '../../src/lint/lint-file.js';
import { jsonReport, sarifReport, sortFindings, textReport } from '../../src/lint/report.js';
import { RULES_BY_ID, type Finding } from '../../src/lint/rules.js';
import type { CliIo } from '../io.js';
import { addConfigOption, findRepoConfig } from '../repo-config.js';

interface LintFlags {
  output: string;
  config?: string;
  warnExpiry?: string;
  failOn: string;
  disable?: string[];
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
    .option('--disable <ids>', 'rule ids to skip, comma-separated (repeatable)', (v: string, p: string[] | undefined) => [...(p ?? []), ...v.split(',').map((s) => s.trim())]);
  const command = program.commands.find((c) => c.name() === 'lint') as Command;
  addConfigOption(command);
  command.action(async (paths: string[], flags: LintFlags) => {
    const files = paths.flatMap((p) => collect(io, p));
    const configs = new Map<string, RepoConfig | undefined>();
    const byFile = new Map<string, RepoConfig>();
    const keysOf = new Map<RepoConfig, ReadonlyMap<string, KnownKey>>();
    const disabled = new Set(flags.disable ?? []);
    for (const id of disabled) if (!RULES_BY_ID.has(id)) throw new KsealError('USAGE', `--disable names an unknown rule ${JSON.stringify(id)}`, { hint: 'rule ids look like KS101; kseal lint --help lists where to find them' });
    const findings: Finding[] = [];
    const results: Array<FileResult & { disabled: ReadonlySet<string> }> = [];
    for (const file of files) {
      const shown = relative(io.cwd, file).split(sep).join('/') || file;
      const dir = resolve(file, '..');
      if (!configs.has(dir)) {
        // One config object per config file, so its certificates are parsed once, not once per directory.
        const found = await findRepoConfig(io, flags.config, file);
        configs.set(dir, found === undefined ? undefined : (byFile.get(found.file) ?? byFile.set(found.file, found).get(found.file)));
      }
      const config = configs.get(dir);
      const keys = config === undefined ? new Map<string, KnownKey>() : (keysOf.get(config) ?? (await loadKeys(io, config, keysOf)));
      const rule = config === undefined ? undefined : matchRule(config, file, undefined).rule;
      const ruleKeyIds = rule === undefined ? [] : rule.certificates.flatMap((c) => [...keys].filter(([, k]) => k.sources.includes(c)).map(([id]) => id));
      const warnExpiryDays = flags.warnExpiry !== undefined ? Number(flags.warnExpiry) : (config?.lint.warnExpiryDays ?? 30);
      if (!Number.isFinite(warnExpiryDays) || warnExpiryDays < 0) throw new KsealError('USAGE', '--warn-expiry takes a whole number of days');
      const text = readText(file, shown);
      const off = new Set([...disabled, ...(config?.lint.disable ?? [])]);
      const result = lintFile(text, shown, { keys, ruleKeyIds, now: io.now(), warnExpiryDays });
      results.push({ ...result, disabled: off });
      findings.push(...result.findings.filter((f) => !off.has(f.ruleId)));
    }
    findings.push(...duplicates(results));
    const sorted = sortFindings(findings);
    const report = flags.output === 'json' ? jsonReport(sorted, files.length) : flags.output === 'sarif' ? sarifReport(sorted, typeof KSEAL_VERSION === 'string' ? KSEAL_VERSION : 'dev') : textReport(sorted, files.length);
    io.stdout(report);
    const failing = sorted.filter((f) => f.severity === 'error' || flags.failOn === 'warning');
    if (failing.length > 0) throw new KsealError('LINT_FINDINGS', `${failing.length} finding${failing.length === 1 ? '' : 's'} at ${flags.failOn} severity or above`);
  });
}

/** KS601 across every file: the second and later objects holding a ciphertext seen in another object. */
function duplicates(results: ReadonlyArray<FileResult & { disabled: ReadonlySet<string> }>): Finding[] {
  const first = new Map<string, CiphertextSeen>();
  const out: Finding[] = [];
  for (const result of results) {
    for (const c of result.ciphertexts) {
      const seen = first.get(c.value);
      if (seen === undefined) first.set(c.value, c);
      else if (seen.object !== c.object && !result.ignored('KS601', c.line) && !result.disabled.has('KS601')) {
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

/** A file's text, or FILE_READ naming it. */
function readText(file: string, shown: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new KsealError('FILE_READ', `cannot read the file: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, { file: shown });
  }
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
