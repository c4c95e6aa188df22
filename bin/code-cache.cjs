'use strict';
/**
 * Runs a CommonJS bundle with a V8 code cache: the one loader behind both entry points,
 * dist/kseal.cjs (the CLI, bundle kseal-cli.cjs) and dist/kseal-controller.mjs (the controller,
 * bundle kseal-controller.cjs). With the cache V8 skips compiling what the cache holds (the bundle's
 * top level and every function that ran while the cache was made), which is most of a start.
 *
 * A cache only fits the bundle it was made from, the node binary that made it and the V8 flags it ran
 * with. V8 itself checks the binary and the flags (and rejects the cache: `rejected`); the bundle is
 * checked here, by the build id scripts/build.mjs appends to it (`// kseal-build-id=...`), which
 * the cache file starts with (`stale` on a mismatch), with a digest of the data (`rejected` if damaged). A missing, stale or rejected cache costs only
 * the normal compile; nothing else changes. `KSEAL_CODE_CACHE_DEBUG=1` prints which of
 * used|missing|stale|rejected|unbuilt happened to stderr; the controller also logs it at start.
 *
 * Run as a program, `node [node flags] code-cache.cjs BUNDLE CACHE [ARGS...]` runs BUNDLE with ARGS
 * and writes CACHE when the process exits: that is how scripts/build.mjs and the Dockerfile make each
 * cache, with the node binary and flags that will run it. Plain CommonJS (not TypeScript, not
 * bundled): it must run before anything else, and both entry points require it as it is.
 */
const { createHash } = require('node:crypto');
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const { dirname, resolve } = require('node:path');
const { Script } = require('node:vm');
const Module = require('node:module');

/** Where the outcome is left for the bundle (the controller logs it): globalThis[STATE]. */
const STATE = Symbol.for('kseal.codeCache');
const ID_PREFIX = '\n// kseal-build-id=';

/** The build id a bundle ends with (scripts/build.mjs), or undefined for a bundle built otherwise. */
function buildIdOf(source) {
  const at = source.lastIndexOf(ID_PREFIX);
  if (at < 0 || source.length - at > 100) return undefined;
  return source.slice(at + ID_PREFIX.length).trim();
}

/**
 * The cache file's bytes: `ID SHA256\n`, then V8's data. V8 does not check the data's integrity in
 * release builds (a damaged cache crashes the process), so the digest is checked here (~2 ms for the
 * controller's 2 MB).
 */
function splitCache(bytes) {
  const nl = bytes.indexOf(10);
  if (nl < 0 || nl > 200) return undefined;
  const [id, digest] = bytes.toString('latin1', 0, nl).split(' ');
  const data = bytes.subarray(nl + 1);
  return { id, data, intact: digest === sha256(data) };
}

function sha256(data) {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Runs `file` (a CommonJS bundle) as a module of this process, with the code cache at `cacheFile`
 * when it fits. `write: true` ignores the cache and writes a new one at exit instead.
 */
function run(bundle, cache, options = {}) {
  const file = resolve(bundle);
  const cacheFile = resolve(cache);
  const source = readFileSync(file, 'utf8');
  const id = buildIdOf(source);
  let cachedData;
  let state = id === undefined ? 'unbuilt' : 'missing';
  if (id !== undefined && options.write !== true) {
    let bytes;
    try {
      bytes = readFileSync(cacheFile);
    } catch {
      // no cache: compile as usual
    }
    const cache = bytes === undefined ? undefined : splitCache(bytes);
    if (bytes !== undefined) state = cache === undefined || !cache.intact ? 'rejected' : cache.id === id ? 'pending' : 'stale';
    if (state === 'pending') cachedData = cache.data;
  }
  const script = new Script(Module.wrap(source), { filename: file, ...(cachedData === undefined ? {} : { cachedData }) });
  if (state === 'pending') state = script.cachedDataRejected ? 'rejected' : 'used';
  globalThis[STATE] = options.write === true ? 'writing' : state;
  if (process.env.KSEAL_CODE_CACHE_DEBUG === '1') process.stderr.write(`code cache ${cacheFile}: ${globalThis[STATE]}\n`);
  if (options.write === true) {
    if (id === undefined) throw new Error(`${file} has no build id (build it with scripts/build.mjs)`);
    // At exit, so the cache holds every function the run compiled; written whole or not at all.
    process.once('exit', () => {
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      const data = script.createCachedData();
      writeFileSync(tmp, Buffer.concat([Buffer.from(`${id} ${sha256(data)}\n`, 'latin1'), data]));
      renameSync(tmp, cacheFile);
    });
  }
  const mod = { exports: {}, filename: file, id: file, loaded: false };
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, dirname(file));
}

module.exports = { run, buildIdOf, ID_PREFIX };

if (require.main === module) {
  const [bundle, cache, ...args] = process.argv.slice(2);
  if (bundle === undefined || cache === undefined) {
    process.stderr.write('usage: node [node flags] code-cache.cjs BUNDLE CACHE [ARGS...]\n');
    process.exit(2);
  }
  // The bundle sees the argv it would see when run as itself.
  process.argv = [process.argv[0], resolve(bundle), ...args];
  run(bundle, cache, { write: true });
}
