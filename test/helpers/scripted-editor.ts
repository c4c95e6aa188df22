/**
 * A scripted $EDITOR for `kseal edit` tests: a small node script that logs what it was given (path,
 * file and directory modes, its pid) to a JSON-lines file, applies text replacements from the
 * environment (one list per run, so a second run can fix the first), and exits with a chosen status
 * or sleeps until it is killed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SCRIPT = `
const fs = require('fs');
const path = require('path');
const file = process.argv[2];
const spec = JSON.parse(process.env.KSEAL_TEST_EDITOR);
const runs = fs.existsSync(spec.log) ? fs.readFileSync(spec.log, 'utf8').split('\\n').filter(Boolean).length : 0;
const step = spec.steps[Math.min(runs, spec.steps.length - 1)];
fs.appendFileSync(spec.log, JSON.stringify({ file, pid: process.pid, mode: fs.statSync(file).mode & 0o777, dirMode: fs.statSync(path.dirname(file)).mode & 0o777 }) + '\\n');
let text = fs.readFileSync(file, 'utf8');
for (const [from, to] of step.replace || []) {
  if (!text.includes(from)) { process.stderr.write('editor script: text not found\\n'); process.exit(99); }
  text = text.replace(from, to);
}
if (step.replace) fs.writeFileSync(file, text);
if (step.sleep) setInterval(() => {}, 1000);
else process.exit(step.exit || 0);
`;

/** One editor run: replacements to apply, then exit with `exit`, or `sleep` until killed. */
export interface EditorStep {
  readonly replace?: ReadonlyArray<readonly [string, string]>;
  readonly exit?: number;
  readonly sleep?: boolean;
}

/** What the editor saw on one run. */
export interface EditorRun {
  readonly file: string;
  readonly pid: number;
  readonly mode: number;
  readonly dirMode: number;
}

/** Writes the script into `dir`; returns the environment for kseal and a reader of the runs. */
export function scriptedEditor(dir: string, steps: readonly EditorStep[]): { env: Record<string, string>; runs: () => EditorRun[] } {
  const script = join(dir, 'editor.cjs');
  const log = join(dir, `editor-${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(script, SCRIPT);
  return {
    env: { EDITOR: `"${process.execPath}" "${script}"`, KSEAL_TEST_EDITOR: JSON.stringify({ log, steps }), TMPDIR: dir, PATH: process.env.PATH ?? '' },
    runs: () => {
      try {
        return readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as EditorRun);
      } catch {
        return [];
      }
    },
  };
}
