/**
 * `kseal lint` output: text for people (`file:line: severity ID name: message`), JSON for scripts
 * (schema in docs/lint-output.schema.json) and SARIF 2.1.0 for GitHub code scanning (findings
 * inline in pull requests).
 */
import { LINT_RULES, RULES_BY_ID, type Finding } from './rules.js';

/** Findings in a stable order: file, line, rule. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0)));
}

/** One line per finding and a summary. */
export function textReport(findings: readonly Finding[], files: number): string {
  const lines = findings.map((f) => {
    const where = [f.document === undefined ? '' : `document ${f.document}`, f.key === undefined ? '' : `key ${JSON.stringify(f.key)}`].filter((s) => s !== '').join(', ');
    return `${f.file}:${f.line}: ${f.severity} ${f.ruleId} ${RULES_BY_ID.get(f.ruleId)?.name ?? ''}: ${where === '' ? '' : `${where}: `}${f.message}`;
  });
  const errors = findings.filter((f) => f.severity === 'error').length;
  lines.push(`${files} file${files === 1 ? '' : 's'} checked: ${errors} error${errors === 1 ? '' : 's'}, ${findings.length - errors} warning${findings.length - errors === 1 ? '' : 's'}`);
  return `${lines.join('\n')}\n`;
}

/** The JSON report. */
export function jsonReport(findings: readonly Finding[], files: number): string {
  const errors = findings.filter((f) => f.severity === 'error').length;
  return `${JSON.stringify({ version: 1, findings, summary: { files, errors, warnings: findings.length - errors } }, null, 2)}\n`;
}

/** A SARIF 2.1.0 log with every rule and one result per finding. */
export function sarifReport(findings: readonly Finding[], version: string): string {
  const index = new Map(LINT_RULES.map((r, i) => [r.id, i]));
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'kseal',
            version,
            informationUri: 'https://kseal.dev/',
            rules: LINT_RULES.map((r) => ({ id: r.id, name: r.name, shortDescription: { text: r.description }, defaultConfiguration: { level: r.severity } })),
          },
        },
        results: findings.map((f) => ({
          ruleId: f.ruleId,
          ruleIndex: index.get(f.ruleId) ?? 0,
          level: f.severity,
          message: { text: `${f.document === undefined ? '' : `document ${f.document}: `}${f.key === undefined ? '' : `key ${JSON.stringify(f.key)}: `}${f.message}` },
          locations: [{ physicalLocation: { artifactLocation: { uri: f.file }, region: { startLine: f.line } } }],
        })),
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
