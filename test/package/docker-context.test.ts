/**
 * The controller image builds from its build context. Docker sends the context minus .dockerignore;
 * this test takes exactly those files (of a clean clone: `git ls-files`), then replays the build
 * stage of the Dockerfile (WORKDIR, ENV, COPY and RUN, in order) in a temporary directory, and runs
 * the bundled controller's `--help` with only the production node_modules left. It catches what once
 * broke the image: product code that imports a file the context does not hold (test/, bench/...).
 *
 * Differences from a real `docker build`: the host's Node (20) instead of the image's, and npm may
 * use the local cache (`prefer-offline`). scripts/docker-build.sh builds the real image where a
 * container engine runs.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** A .dockerignore pattern as a RegExp over slash-separated paths (Go filepath.Match plus `**`). */
function patternRegExp(pattern: string): RegExp {
  const clean = pattern.replace(/^\/+/, '').replace(/\/+$/, '');
  let re = '';
  for (let i = 0; i < clean.length; i++) {
    const c = clean[i]!;
    if (c === '*' && clean[i + 1] === '*') {
      re += '.*';
      i++;
      if (clean[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Parses .dockerignore into ordered rules; the last matching rule decides, `!` re-includes. */
function dockerignore(text: string): Array<{ re: RegExp; exclude: boolean }> {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => (l.startsWith('!') ? { re: patternRegExp(l.slice(1)), exclude: false } : { re: patternRegExp(l), exclude: true }));
}

/** True when Docker leaves `path` out of the context: a rule matches it or one of its parent folders. */
function ignored(rules: ReturnType<typeof dockerignore>, path: string): boolean {
  const parts = path.split('/');
  let out = false;
  for (const rule of rules) {
    for (let n = 1; n <= parts.length; n++) {
      if (rule.re.test(parts.slice(0, n).join('/'))) {
        out = rule.exclude;
        break;
      }
    }
  }
  return out;
}

/** The build stage's instructions, continuation lines joined. */
function buildStage(dockerfile: string): Array<{ op: string; args: string }> {
  const lines = dockerfile.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const steps: Array<{ op: string; args: string }> = [];
  let stage = 0;
  for (const line of lines) {
    const [, op = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (op.toUpperCase() === 'FROM') {
      stage++;
      continue;
    }
    if (stage === 1) steps.push({ op: op.toUpperCase(), args });
  }
  return steps;
}

const work = mkdtempSync(join(tmpdir(), 'kseal-docker-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the Docker build context', () => {
  const rules = dockerignore(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));

  it('reads .dockerignore as Docker does: folders, globs, ** and re-includes', () => {
    const r = dockerignore('test\n**/*.pem\n*.log\nkeep/**\n!keep/this.txt\n');
    expect(ignored(r, 'test/x/y.ts')).toBe(true);
    expect(ignored(r, 'src/test.ts')).toBe(false);
    expect(ignored(r, 'a/b/c.pem')).toBe(true);
    expect(ignored(r, 'c.pem')).toBe(true);
    expect(ignored(r, 'x.log')).toBe(true);
    expect(ignored(r, 'logs/x.log')).toBe(false);
    expect(ignored(r, 'keep/that.txt')).toBe(true);
    expect(ignored(r, 'keep/this.txt')).toBe(false);
  });

  it('holds no tests, benchmarks or key material', () => {
    const files = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
    const context = files.filter((f) => !ignored(rules, f));
    expect(context.filter((f) => /^(test|bench|docs)\/|\.(pem|key)$/.test(f))).toEqual([]);
    expect(context).toContain('package-lock.json');
  });

  it("builds with the Dockerfile's own steps from exactly the context's files, and the controller starts", () => {
    const files = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
    const context = join(work, 'context');
    for (const f of files.filter((p) => !ignored(rules, p) && existsSync(join(ROOT, p)))) {
      mkdirSync(dirname(join(context, f)), { recursive: true });
      cpSync(join(ROOT, f), join(context, f));
    }
    const app = join(work, 'app');
    mkdirSync(app, { recursive: true });
    const env: NodeJS.ProcessEnv = { ...process.env, npm_config_prefer_offline: 'true' };
    delete env['NODE_ENV'];
    for (const key of Object.keys(env)) if (key.startsWith('npm_') && key !== 'npm_config_prefer_offline' && key !== 'npm_config_cache') delete env[key];
    const steps = buildStage(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
    expect(steps.map((s) => s.op)).toContain('RUN');
    for (const { op, args } of steps) {
      if (op === 'WORKDIR') continue; // the temporary directory stands for /app
      if (op === 'ENV') {
        for (const [, k, v] of args.matchAll(/(\w+)=(\S+)/g)) env[k!] = v!;
      } else if (op === 'COPY') {
        const parts = args.split(/\s+/).filter((p) => !p.startsWith('--'));
        const dest = parts.pop()!;
        for (const src of parts) {
          const target = dest.endsWith('/') || parts.length > 1 || src === '.' ? join(app, dest, src === '.' ? '' : src.split('/').pop()!) : join(app, dest);
          mkdirSync(dirname(target), { recursive: true });
          cpSync(join(context, src), target, { recursive: true });
        }
      } else if (op === 'RUN') {
        execFileSync('sh', ['-c', args], { cwd: app, env, stdio: 'pipe' });
      } else throw new Error(`the test does not replay Dockerfile instruction ${op}; teach it`);
    }
    expect(existsSync(join(app, 'node_modules', 'esbuild'))).toBe(false); // pruned to production dependencies
    const help = execFileSync(process.execPath, [join(app, 'dist/kseal-controller.mjs'), '--help'], { cwd: app, encoding: 'utf8' });
    expect(help).toMatch(/--kubeconfig/);
  }, 600_000);
});
