/**
 * The V8 code cache behind both entry points (bin/code-cache.cjs): a cache is used only by the bundle,
 * node binary and V8 flags that made it, anything else falls back to a normal compile with the same
 * result, and the built entry points and the image make and use theirs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const LOADER = resolve('bin/code-cache.cjs');
const codeCache = createRequire(import.meta.url)(LOADER) as { ID_PREFIX: string };
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kseal-code-cache-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A bundle that prints its argv and what the loader did with its cache, ending with build id `id`. */
function bundle(id: string | undefined, body = "process.stdout.write(JSON.stringify({ args: process.argv.slice(2), state: globalThis[Symbol.for('kseal.codeCache')], file: __filename }));"): string {
  const file = join(dir, 'bundle.cjs');
  writeFileSync(file, `'use strict';\nfunction helper(x) { return x * 2; }\nhelper(2);\n${body}\n${id === undefined ? '' : `${codeCache.ID_PREFIX}${id}\n`}`);
  return file;
}

const cacheFile = (): string => join(dir, 'bundle.cache');

/** Runs `file` through the loader as an entry point would. */
function runBundle(file: string, nodeFlags: string[] = []): { state: string; args: string[]; file: string } {
  const entry = join(dir, 'entry.cjs');
  writeFileSync(entry, `require(${JSON.stringify(LOADER)}).run(${JSON.stringify(file)}, ${JSON.stringify(cacheFile())});\n`);
  const out = execFileSync(process.execPath, [...nodeFlags, entry, 'a'], { encoding: 'utf8' });
  return JSON.parse(out) as { state: string; args: string[]; file: string };
}

/** Makes the cache as the build does: `node FLAGS code-cache.cjs BUNDLE CACHE ARGS`. */
function makeCache(file: string, nodeFlags: string[] = []): string {
  return execFileSync(process.execPath, [...nodeFlags, LOADER, file, cacheFile(), 'x', '--y'], { encoding: 'utf8' });
}

describe('bin/code-cache.cjs', () => {
  it('runs a bundle without a cache, compiling it as usual', () => {
    expect(runBundle(bundle('one')).state).toBe('missing');
  });

  it('makes a cache by running the bundle with its own argv, and the next start uses it', () => {
    const file = bundle('one');
    const made = JSON.parse(makeCache(file)) as { args: string[]; file: string };
    expect(made.args).toEqual(['x', '--y']);
    expect(made.file).toBe(file);
    expect(readFileSync(cacheFile()).toString('latin1').split('\n')[0]).toMatch(/^one [0-9a-f]{64}$/);
    expect(runBundle(file).state).toBe('used');
  });

  it('does not use the cache of another build of the bundle (stale), and still runs', () => {
    makeCache(bundle('one'));
    const r = runBundle(bundle('two'));
    expect(r.state).toBe('stale');
    expect(r.args).toEqual(['a']);
  });

  it('falls back when V8 rejects the cache: other V8 flags', () => {
    const file = bundle('one');
    makeCache(file, ['--max-semi-space-size=1']);
    expect(runBundle(file, ['--max-semi-space-size=1']).state).toBe('used');
    const r = runBundle(file);
    expect(r.state).toBe('rejected');
    expect(r.args).toEqual(['a']);
  });

  it('falls back when the cache is damaged', () => {
    const file = bundle('one');
    makeCache(file);
    const bytes = readFileSync(cacheFile());
    for (let i = 100; i < bytes.length; i += 7) bytes[i] = bytes[i]! ^ 0xff;
    writeFileSync(cacheFile(), bytes);
    const r = runBundle(file);
    expect(r.state).toBe('rejected');
    expect(r.args).toEqual(['a']);
  });

  it('uses no cache for a bundle without a build id', () => {
    expect(runBundle(bundle(undefined)).state).toBe('unbuilt');
  });

  it('refuses to make a cache for a bundle without a build id', () => {
    const r = spawnSync(process.execPath, [LOADER, bundle(undefined), cacheFile()], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('has no build id');
    expect(existsSync(cacheFile())).toBe(false);
  });
});

/** The image's ENTRYPOINT and the exec-form RUN of its runtime stage that makes the controller's cache. */
function imageCommands(): { entrypoint: string[]; cacheRun: string[]; lastDistCopy: number; cacheRunAt: number } {
  const text = readFileSync('Dockerfile', 'utf8');
  const runtime = text.slice(text.lastIndexOf('\nFROM '));
  const entrypoint = JSON.parse(/^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(runtime)![1]!) as string[];
  const run = /^RUN\s+(\[.*code-cache\.cjs.*\])\s*$/m.exec(runtime)!;
  return { entrypoint, cacheRun: JSON.parse(run[1]!) as string[], lastDistCopy: runtime.lastIndexOf('COPY --from=build /app/dist'), cacheRunAt: run.index };
}

describe('the built entry points and the image', () => {
  const debug = { ...process.env, KSEAL_CODE_CACHE_DEBUG: '1' };

  it('the CLI starts with the cache made at build time', () => {
    const r = spawnSync(process.execPath, [resolve('dist/kseal.cjs'), '--version'], { encoding: 'utf8', env: debug });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/kseal-cli\.cache: used/);
  });

  it("the controller starts with the cache made at build time when run with the image's node flags, and without them still runs", () => {
    const flags = imageCommands().entrypoint.slice(1, -1);
    expect(flags.length).toBeGreaterThan(0);
    const used = spawnSync(process.execPath, [...flags, resolve('dist/kseal-controller.mjs'), '--version'], { encoding: 'utf8', env: debug });
    expect(used.stderr).toMatch(/kseal-controller\.cache: used/);
    const plain = spawnSync(process.execPath, [resolve('dist/kseal-controller.mjs'), '--version'], { encoding: 'utf8', env: debug });
    expect(plain.stderr).toMatch(/kseal-controller\.cache: rejected/);
    expect(plain.stdout).toBe(used.stdout);
    expect(plain.status).toBe(0);
  });

  it("makes the controller's cache in the runtime stage with the ENTRYPOINT's node and node flags, and the ENTRYPOINT uses it", () => {
    const { entrypoint, cacheRun, lastDistCopy, cacheRunAt } = imageCommands();
    expect(cacheRun[0]).toBe(entrypoint[0]);
    const flags = entrypoint.slice(1, -1);
    expect(cacheRun.slice(1, 1 + flags.length)).toEqual(flags);
    expect(cacheRun.slice(1 + flags.length, 4 + flags.length)).toEqual(['dist/code-cache.cjs', 'dist/kseal-controller.cjs', 'dist/kseal-controller.cache']);
    expect(cacheRunAt).toBeGreaterThan(lastDistCopy);
    // Replay it on a copy of dist/ with this machine's node standing in for the image's.
    const app = join(dir, 'app');
    mkdirSync(join(app, 'dist'), { recursive: true });
    for (const f of ['code-cache.cjs', 'kseal-controller.cjs', 'kseal-controller.mjs']) copyFileSync(resolve('dist', f), join(app, 'dist', f));
    execFileSync(process.execPath, cacheRun.slice(1), { cwd: app, stdio: 'ignore' });
    expect(existsSync(join(app, 'dist/kseal-controller.cache'))).toBe(true);
    const r = spawnSync(process.execPath, entrypoint.slice(1).concat('--version'), { cwd: app, encoding: 'utf8', env: debug });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/kseal-controller\.cache: used/);
  });
});
