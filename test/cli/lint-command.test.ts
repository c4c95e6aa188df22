/**
 * `kseal lint` as a command beyond its rules: the exit codes CI relies on, --warn-expiry, and the
 * pre-commit hook this repo offers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';

const CORPUS = fileURLToPath(new URL('../lint/corpus/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const now = new Date('2026-06-01T00:00:00Z');
const GOOD = 'KS502-certificate-expiring/good-valid-for-years.yaml';

describe('kseal lint exit codes and options', () => {
  it('exits 0 on a clean file, 8 on findings, 7 on a path that does not exist and 3 on a bad config', async () => {
    expect((await runCli(['lint', GOOD], { cwd: CORPUS, now })).code).toBe(0);
    expect((await runCli(['lint', 'KS101-plaintext-secret'], { cwd: CORPUS, now })).code).toBe(8);
    const missing = await runCli(['lint', 'no-such-dir'], { cwd: CORPUS, now });
    expect(missing.code).toBe(7);
    expect(missing.stderr).toContain('no-such-dir');
    const dir = tempDir();
    try {
      dir.write('.kseal.yaml', 'creation_rules:\n  - pathregex: x\n');
      dir.write('a.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n');
      const bad = await runCli(['lint', '.'], { cwd: dir.path, now });
      expect(bad.code).toBe(3);
      expect(bad.stderr).toContain('line 2');
    } finally {
      dir.remove();
    }
  });

  it('reports a certificate expiring within --warn-expiry days, and not without it', async () => {
    // The corpus certificate is valid until 2120: about 34,000 days after `now`.
    const ids = async (args: string[]): Promise<string[]> => (JSON.parse((await runCli(['lint', '-o', 'json', ...args, GOOD], { cwd: CORPUS, now })).stdout) as { findings: Array<{ ruleId: string }> }).findings.map((f) => f.ruleId);
    expect(await ids([])).toEqual([]);
    expect(await ids(['--warn-expiry', '40000'])).toEqual(['KS502']);
    expect((await runCli(['lint', '--warn-expiry', 'soon', GOOD], { cwd: CORPUS, now })).code).toBe(2);
  });
});

describe('.pre-commit-hooks.yaml', () => {
  it('offers the kseal-lint hook, running kseal lint on the YAML and JSON files pre-commit passes', () => {
    const hooks = parse(readFileSync(join(ROOT, '.pre-commit-hooks.yaml'), 'utf8')) as Array<Record<string, unknown>>;
    expect(hooks).toEqual([expect.objectContaining({ id: 'kseal-lint', entry: 'kseal lint', language: 'node', pass_filenames: true })]);
    const files = new RegExp(hooks[0]?.files as string);
    expect(['a.yaml', 'b.yml', 'c.json'].every((f) => files.test(f))).toBe(true);
    expect(files.test('README.md')).toBe(false);
    // language: node installs this repo with npm, whose prepare script builds the bin the entry runs.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> };
    expect(pkg.bin.kseal).toBe('dist/kseal.cjs');
    expect(pkg.scripts.prepare).toContain('scripts/build.mjs');
  });
});
