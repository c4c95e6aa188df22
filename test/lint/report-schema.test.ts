/**
 * `kseal lint -o json` and `-o sarif` validated against their schemas: docs/lint-output.schema.json
 * and SARIF 2.1.0's JSON schema (test/data/sarif-schema-2.1.0.json, as shipped in the npm package
 * @microsoft/jest-sarif 1.0.0-beta.0), over the whole lint corpus so every rule's findings appear.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import AjvDraft04Module from 'ajv-draft-04';
import { describe, expect, it } from 'vitest';
import { LINT_RULES } from '../../src/lint/rules.js';
import { runCli } from '../helpers/cli.js';

// ajv-draft-04 is CommonJS with a default export; under NodeNext its class is the module's `default`.
type AjvClass = new (options: Record<string, unknown>) => { compile(schema: object): ((data: unknown) => boolean) & { errors?: unknown[] | null } };
const AjvDraft04 = ((AjvDraft04Module as unknown as { default?: AjvClass }).default ?? AjvDraft04Module) as unknown as AjvClass;
const CORPUS = fileURLToPath(new URL('./corpus/', import.meta.url));
const NOW = new Date('2119-12-20T00:00:00Z');
const load = (path: string): object => JSON.parse(readFileSync(fileURLToPath(new URL(path, import.meta.url)), 'utf8')) as object;

describe('lint report schemas', () => {
  it('the JSON report of the whole corpus matches docs/lint-output.schema.json and has every rule', async () => {
    const run = await runCli(['lint', '-o', 'json', '.'], { cwd: CORPUS, now: NOW });
    expect(run.code).toBe(8);
    const report = JSON.parse(run.stdout) as { findings: Array<{ ruleId: string }> };
    const validate = new Ajv({ allErrors: true, strict: false }).compile(load('../../docs/lint-output.schema.json'));
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(new Set(report.findings.map((f) => f.ruleId))).toEqual(new Set(LINT_RULES.map((r) => r.id)));
  });

  it('the SARIF report of the whole corpus is valid SARIF 2.1.0 with a rule entry for every result', async () => {
    const run = await runCli(['lint', '-o', 'sarif', '.'], { cwd: CORPUS, now: NOW });
    const log = JSON.parse(run.stdout) as { version: string; runs: Array<{ tool: { driver: { rules: Array<{ id: string }> } }; results: Array<{ ruleId: string; ruleIndex: number; locations: Array<{ physicalLocation: { region: { startLine: number } } }> }> }> };
    const validate = new AjvDraft04({ allErrors: true, strict: false, validateFormats: false, unicodeRegExp: false }).compile(load('../data/sarif-schema-2.1.0.json'));
    expect(validate(log), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    const [only] = log.runs;
    expect(only?.results.length).toBeGreaterThan(LINT_RULES.length - 1);
    for (const r of only?.results ?? []) {
      expect(only?.tool.driver.rules[r.ruleIndex]?.id).toBe(r.ruleId);
      expect(r.locations[0]?.physicalLocation.region.startLine).toBeGreaterThan(0);
    }
  });

  it('a tree with no findings exits 0 with an empty report', async () => {
    const run = await runCli(['lint', '-o', 'json', 'KS101-plaintext-secret/good-sealed.yaml'], { cwd: CORPUS });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ version: 1, findings: [], summary: { files: 1, errors: 0, warnings: 0 } });
  });

  it('warnings fail only with --fail-on warning, and --disable skips a rule', async () => {
    const file = 'KS301-template-placeholder/bad-placeholder.yaml';
    expect((await runCli(['lint', file], { cwd: CORPUS })).code).toBe(0);
    expect((await runCli(['lint', '--fail-on', 'warning', file], { cwd: CORPUS })).code).toBe(8);
    expect((await runCli(['lint', '--fail-on', 'warning', '--disable', 'KS301', file], { cwd: CORPUS })).code).toBe(0);
  });

  it('text output names file, line, rule, document and key', async () => {
    const run = await runCli(['lint', 'KS201-sealed-value-not-base64/bad-value.yaml'], { cwd: CORPUS });
    expect(run.stdout).toMatch(/^KS201-sealed-value-not-base64\/bad-value\.yaml:\d+: error KS201 sealed-value-not-base64: document 1, key "password": the sealed value is not standard padded base64\n/);
    expect(run.stderr).toContain('1 finding at error severity');
  });
});
