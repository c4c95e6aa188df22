/**
 * The lint corpus: test/lint/corpus/<RULE>-<name>/ holds one file (or chart) per case. Every `bad-*`
 * case must produce a finding of that rule and every `good-*` case none, linted through the whole
 * command (`kseal lint -o json`) with the corpus's own .kseal.yaml and certificates.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LINT_RULES } from '../../src/lint/rules.js';
import { runCli } from '../helpers/cli.js';

const CORPUS = fileURLToPath(new URL('./corpus/', import.meta.url));
const dirs = readdirSync(CORPUS, { withFileTypes: true }).filter((d) => d.isDirectory() && /^KS\d{3}-/.test(d.name)).map((d) => d.name);

describe('the lint corpus', () => {
  it('has a directory with at least one bad case for every rule, and a good case for every rule but KS502', () => {
    expect(dirs.map((d) => d.slice(0, 5)).sort()).toEqual(LINT_RULES.map((r) => r.id));
    for (const dir of dirs) {
      const cases = readdirSync(join(CORPUS, dir));
      expect(cases.some((c) => c.startsWith('bad-')), dir).toBe(true);
      expect(cases.some((c) => c.startsWith('good-')), dir).toBe(true);
    }
  });

  for (const dir of dirs) {
    const rule = dir.slice(0, 5);
    for (const name of readdirSync(join(CORPUS, dir))) {
      const bad = name.startsWith('bad-');
      it(`${dir}/${name} ${bad ? 'is' : 'is not'} reported as ${rule}`, async () => {
        // KS502's bad case is linted from a date two weeks before the test certificate expires.
        const now = rule === 'KS502' && bad ? new Date('2119-12-20T00:00:00Z') : new Date('2026-06-01T00:00:00Z');
        const run = await runCli(['lint', '-o', 'json', join(dir, name)], { cwd: CORPUS, now });
        const report = JSON.parse(run.stdout) as { findings: Array<{ ruleId: string; file: string; line: number; message: string }> };
        const ids = report.findings.map((f) => f.ruleId);
        if (bad) expect(ids).toContain(rule);
        else expect(ids).not.toContain(rule);
        for (const f of report.findings) {
          expect(f.file.startsWith(dir)).toBe(true);
          expect(f.line).toBeGreaterThan(0);
        }
      });
    }
  }
});
