// Builds the runnable bundles into dist/ with esbuild. Type checking is `npm run typecheck` (tsc --noEmit).
//
// The CLI is one CommonJS bundle (dist/kseal-cli.cjs) because that starts ~40 ms faster than
// unbundled ESM; heavy or rarely used packages stay external and are imported lazily where a command
// needs them. dist/kseal.cjs is a small loader that runs the bundle with a V8 code cache made here at
// build time from a typical `kseal encrypt` run, which saves most of the bundle's compile time on
// every start. A cache V8 rejects (another Node version) only costs the normal compile.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
// yaml's Parser reads process.env.LOG_TOKENS (a debug switch) once per lexical token: a getenv() each
// time, ~0.5 µs, which was about a quarter of parsing a SealedSecret (120 tokens) and so of `kseal
// lint` (profiled). The bundles read it false; the same for the Composer's LOG_STREAM. The build fails
// if yaml stops having either line, or either file, so the edit cannot silently stop applying.
const yamlPatched = new Set();
const yamlDebugSwitches = {
  name: 'yaml-debug-switches',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]yaml[\\/]dist[\\/](parse[\\/]parser|compose[\\/]composer)\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const name = args.path.endsWith('parser.js') ? 'LOG_TOKENS' : 'LOG_STREAM';
      const switchRead = `node_process.env.${name}`;
      if (source.split(switchRead).length !== 2) throw new Error(`yaml's ${args.path} no longer reads ${switchRead} exactly once; check scripts/build.mjs yamlDebugSwitches`);
      yamlPatched.add(name);
      return { contents: source.replace(switchRead, 'false'), loader: 'js' };
    });
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: false,
  logLevel: 'warning',
  define: { KSEAL_VERSION: JSON.stringify(pkg.version) },
  plugins: [yamlDebugSwitches],
};

// commander loads node:child_process (and with it net, dgram...) at start-up only to run external
// sub-commands, which kseal has none of; this shim defers that load until something uses it.
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) => (args.importer.includes('commander') ? { path: 'lazy-child-process', namespace: 'kseal-shim' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'kseal-shim' }, () => ({
      contents: "let m; const load = () => (m ??= require('node:child_process')); module.exports = new Proxy({}, { get: (_t, p) => load()[p] });",
      loader: 'js',
    }));
  },
};

// Bundled CommonJS code calls require(); an ES module has none, so the bundle makes one.
const esmRequire = "import { createRequire as __ksealCreateRequire } from 'node:module'; const require = __ksealCreateRequire(import.meta.url);";

const entries = [
  // The CLI: client-node and node-forge are loaded only by the commands that need them.
  { entryPoints: ['bin/kseal.ts'], outfile: 'dist/kseal-cli.cjs', format: 'cjs', external: ['@kubernetes/client-node', 'node-forge'], plugins: [yamlDebugSwitches, lazyChildProcess],
    // ui/server/page-assets.ts reads __dirname in this bundle and import.meta.url only elsewhere.
    logOverride: { 'empty-import-meta': 'silent' },
    // import() becomes require(): the bundle runs in a vm.Script (for the code cache), where import()
    // needs an experimental flag; Node >= 20.19 can require() ESM packages such as client-node.
    supported: { 'dynamic-import': false } },
  // kseal lint's worker thread (loaded by cli/lint-pool.ts from beside the CLI bundle).
  { entryPoints: ['cli/lint-worker.ts'], outfile: 'dist/lint-worker.cjs', format: 'cjs' },
  // The controller bundles its dependencies, client-node included: loading client-node's hundreds of
  // files unbundled cost ~50 MiB of RSS and ~0.8 s of start-up (measured: idle RSS 141 -> 90 MiB,
  // `--help` 1.0 s -> 0.2 s). CommonJS dependencies inside an ES module bundle need a `require`.
  { entryPoints: ['bin/kseal-controller.ts'], outfile: 'dist/kseal-controller.mjs', format: 'esm', banner: { js: `#!/usr/bin/env node\n${esmRequire}` } },
  // The controller's unseal worker thread (loaded by controller/unseal-pool.ts from next to the controller bundle).
  { entryPoints: ['controller/unseal-worker.ts'], outfile: 'dist/unseal-worker.mjs', format: 'esm', banner: { js: esmRequire } },
  // The controller's request-body parse worker (loaded by controller/body-parser.ts from next to the controller bundle).
  { entryPoints: ['controller/body-parse-worker.ts'], outfile: 'dist/body-parse-worker.mjs', format: 'esm', banner: { js: esmRequire } },
  { entryPoints: ['bin/kseal-demo.ts'], outfile: 'dist/kseal-demo.mjs', format: 'esm', packages: 'external' },
  { entryPoints: ['bench/main.ts'], outfile: 'dist/bench.mjs', format: 'esm', packages: 'external' },
  { entryPoints: ['bin/kube-api.ts'], outfile: 'dist/kube-api.mjs', format: 'esm', packages: 'external', banner: { js: '#!/usr/bin/env node' } },
];

// The Docker build's first `npm ci` runs this script before the sources are copied: nothing to build yet.
const present = entries.filter((e) => existsSync(e.entryPoints[0]));
await Promise.all(
  present
    .map(async (e) => {
      await build({ ...common, ...e });
      await chmod(e.outfile, 0o755);
    }),
);

if (present.some((e) => e.packages !== 'external') && yamlPatched.size !== 2) throw new Error(`the yaml debug switches were not found in yaml's parser and composer (patched: ${[...yamlPatched].join(', ') || 'none'}); check scripts/build.mjs yamlDebugSwitches`);

// The sealing page (ui/page/) for the browser: one ES module, one style sheet, one icon and the HTML,
// in dist/ui/ beside the bundles that serve it (ui/server/page-assets.ts). The library's model code
// runs in the page unchanged, with Buffer from the `buffer` package; node:crypto is replaced by a stub
// that must be tree-shaken away (sealing in the page is WebCrypto, ui/browser/web-seal.ts), and the
// build fails if any of it survives. The HTML gets Subresource Integrity hashes of the two assets.
const NODE_STUB = 'kseal-browser-stub: node built-in';
const browserStubs = {
  name: 'browser-stubs',
  setup(b) {
    // Side-effect free, so esbuild drops the import wherever nothing that uses it survives; a
    // CommonJS Proxy, so any name src/ imports from node:* resolves.
    b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'kseal-node-stub', sideEffects: false }));
    b.onLoad({ filter: /.*/, namespace: 'kseal-node-stub' }, (args) => ({
      contents: `const fail = () => { throw new Error(${JSON.stringify(NODE_STUB)} + ' ' + ${JSON.stringify(args.path)}); };\nmodule.exports = new Proxy({}, { get: () => fail });`,
      loader: 'js',
    }));
  },
};
if (existsSync('ui/page/main.ts')) {
  await mkdir('dist/ui', { recursive: true });
  const result = await build({
    entryPoints: ['ui/page/main.ts'],
    outfile: 'dist/ui/app.js',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    minify: true,
    legalComments: 'none',
    sourcemap: false,
    logLevel: 'warning',
    inject: ['ui/page/buffer-global.ts'],
    plugins: [browserStubs],
    write: false,
  });
  const js = result.outputFiles[0].contents;
  if (Buffer.from(js).includes(NODE_STUB)) throw new Error('the sealing page bundle still uses a Node built-in; keep node:* imports out of what ui/page/ reaches');
  const css = await readFile('ui/page/style.css');
  const sri = (bytes) => `sha384-${createHash('sha384').update(bytes).digest('base64')}`;
  const html = (await readFile('ui/page/index.html', 'utf8')).replace('{{JS_SRI}}', sri(js)).replace('{{CSS_SRI}}', sri(css));
  await Promise.all([writeFile('dist/ui/app.js', js), writeFile('dist/ui/app.css', css), writeFile('dist/ui/index.html', html), copyFile('ui/page/icon.svg', 'dist/ui/icon.svg')]);
}

// The loader behind the `kseal` and `kubectl-kseal` bins.
const LOADER = `#!/usr/bin/env node
'use strict';
// kseal: runs kseal-cli.cjs with the V8 code cache made at build time (see scripts/build.mjs).
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { Script } = require('node:vm');
const Module = require('node:module');
const file = join(__dirname, 'kseal-cli.cjs');
const cacheFile = join(__dirname, 'kseal-cli.cache');
let cachedData;
try { cachedData = readFileSync(cacheFile); } catch {}
const script = new Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
const mod = { exports: {}, filename: file, id: file, loaded: false };
const localRequire = Module.createRequire(file);
script.runInThisContext().call(mod.exports, mod.exports, localRequire, mod, file, __dirname);
if (process.env.KSEAL_WRITE_CODE_CACHE === '1') process.once('beforeExit', () => writeFileSync(cacheFile, script.createCachedData()));
`;
// dist/ may not exist yet: the Docker build's first `npm ci` has only this script, so no bundle was built.
await mkdir('dist', { recursive: true });
await writeFile('dist/kseal.cjs', LOADER);
await chmod('dist/kseal.cjs', 0o755);

// Make the cache from a real run over the example Secret (functions compiled lazily are included).
await rm('dist/kseal-cli.cache', { force: true });
const cert = 'test/vectors/keys/test-rsa-2048.crt.pem';
if (existsSync(cert) && existsSync('examples/secret.yaml')) {
  try {
    execFileSync(process.execPath, ['dist/kseal.cjs', 'encrypt', '--cert', cert, '-f', 'examples/secret.yaml'], { env: { ...process.env, KSEAL_WRITE_CODE_CACHE: '1' }, stdio: 'ignore' });
  } catch {
    // No cache: kseal still works, only compiles on every start.
  }
}
