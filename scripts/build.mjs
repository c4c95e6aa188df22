// Builds the runnable bundles into dist/ with esbuild. Type checking is `npm run typecheck` (tsc --noEmit).
//
// The CLI is one CommonJS bundle (dist/kseal-cli.cjs) because that starts ~40 ms faster than
// unbundled ESM; heavy or rarely used packages stay external and are imported lazily where a command
// needs them. The controller is one CommonJS bundle too (dist/kseal-controller.cjs), with everything
// in it. Both entry points (dist/kseal.cjs, dist/kseal-controller.mjs) are small loaders that run
// their bundle with a V8 code cache through bin/code-cache.cjs; the caches are made here at build
// time by a typical run (`kseal encrypt` for the CLI; for the controller a `--version` run with the
// image's node flags, which V8 requires to match), and again in the image by its own node
// (Dockerfile). A cache that is missing, stale or rejected (another node binary or flags) only costs
// the normal compile. Caches are build outputs: never committed.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFile, chmod, copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

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

// Modules the CLI imports at the top level but few commands use: loading them at every start costs
// time `kseal encrypt` does not need. node:child_process (and with it net, dgram, socket code...) is
// needed by edit's editor, the merge driver's git and commander's external sub-commands (kseal has
// none); fs/promises pulls readline, fs watchers and stream pipelines; worker_threads and os are
// for lint's and encrypt's worker pools; http, https and net for the controller client and the UI
// server; tweetnacl (escrow recipients) evaluates its tables on load. Each is replaced by a shim
// that loads the real module at the first property read (`cp.spawn`, named imports, a default
// import's `nacl.box`), which is how all of them are used.
const LAZY_MODULES = ['child_process', 'fs/promises', 'os', 'worker_threads', 'http', 'https', 'net', 'tweetnacl'];
const lazyModules = {
  name: 'lazy-modules',
  setup(b) {
    const load = createRequire(import.meta.url);
    for (const name of LAZY_MODULES) {
      const builtin = !name.includes('tweetnacl');
      const real = builtin ? `node:${name}` : name;
      const filter = new RegExp(`^${builtin ? '(node:)?' : ''}${name.replace('/', '\\/')}$`);
      // Every import but the shim's own, which must reach the real module.
      b.onResolve({ filter }, (args) => (args.namespace === 'kseal-shim' ? undefined : { path: name, namespace: 'kseal-shim' }));
      // One getter per export (names from this node and this package version), so that named
      // imports, default imports and require() all work. A Proxy does not: esbuild's __toESM copies own keys.
      const names = Object.keys(load(real));
      b.onLoad({ filter: new RegExp(`^${name.replace('/', '\\/')}$`), namespace: 'kseal-shim' }, () => ({
        contents: `let m; const load = () => (m ??= require(${JSON.stringify(real)}));\n${names.map((n) => `Object.defineProperty(exports, ${JSON.stringify(n)}, { enumerable: true, get: () => load()[${JSON.stringify(n)}] });`).join('\n')}\n`,
        loader: 'js',
        resolveDir: process.cwd(),
      }));
    }
  },
};

// Bundled CommonJS code calls require(); an ES module has none, so the bundle makes one.
const esmRequire = "import { createRequire as __ksealCreateRequire } from 'node:module'; const require = __ksealCreateRequire(import.meta.url);";

const entries = [
  // The CLI: client-node and node-forge are loaded only by the commands that need them.
  { entryPoints: ['bin/kseal.ts'], outfile: 'dist/kseal-cli.cjs', format: 'cjs', external: ['@kubernetes/client-node', 'node-forge'], plugins: [yamlDebugSwitches, lazyModules],
    // ui/server/page-assets.ts reads __dirname in this bundle and import.meta.url only elsewhere.
    logOverride: { 'empty-import-meta': 'silent' },
    // import() becomes require(): the bundle runs in a vm.Script (for the code cache), where import()
    // needs an experimental flag; Node >= 20.19 can require() ESM packages such as client-node.
    supported: { 'dynamic-import': false } },
  // kseal lint's worker thread (loaded by cli/lint-pool.ts from beside the CLI bundle).
  { entryPoints: ['cli/lint-worker.ts'], outfile: 'dist/lint-worker.cjs', format: 'cjs' },
  // Bulk `kseal encrypt`'s worker thread (loaded by cli/seal-pool.ts from beside the CLI bundle).
  { entryPoints: ['cli/seal-worker.ts'], outfile: 'dist/seal-worker.cjs', format: 'cjs', plugins: [lazyModules] },
  // The controller bundles its dependencies, client-node included: loading client-node's hundreds of
  // files unbundled cost ~50 MiB of RSS and ~0.8 s of start-up (measured: idle RSS 141 -> 90 MiB,
  // `--help` 1.0 s -> 0.2 s). CommonJS, so that it runs with a code cache (a vm.Script); import() is
  // require() as in the CLI, and import.meta.url (the worker files are found next to the bundle) is
  // the bundle's own file URL.
  { entryPoints: ['bin/kseal-controller.ts'], outfile: 'dist/kseal-controller.cjs', format: 'cjs',
    supported: { 'dynamic-import': false },
    define: { ...common.define, 'import.meta.url': '__ksealBundleUrl' },
    banner: { js: "const __ksealBundleUrl = require('node:url').pathToFileURL(__filename).href;" } },
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

// Each code-cached bundle ends with its build id (a hash of its content), which its cache file
// starts with: bin/code-cache.cjs uses a cache only for the bundle it was made from.
// (The Docker build's first `npm ci` has no bin/ yet, and no bundles.)
const codeCache = existsSync('bin/code-cache.cjs') ? createRequire(import.meta.url)('../bin/code-cache.cjs') : undefined;
for (const bundle of ['dist/kseal-cli.cjs', 'dist/kseal-controller.cjs']) {
  if (codeCache === undefined || !existsSync(bundle)) continue;
  const text = await readFile(bundle, 'utf8');
  if (codeCache.buildIdOf(text) === undefined) await appendFile(bundle, `${codeCache.ID_PREFIX}${createHash('sha256').update(text).digest('hex').slice(0, 32)}\n`);
}
// dist/ may not exist yet: the Docker build's first `npm ci` has only this script, so no bundle was built.
await mkdir('dist', { recursive: true });
if (existsSync('bin/code-cache.cjs')) await copyFile('bin/code-cache.cjs', 'dist/code-cache.cjs');
// The loaders behind the `kseal` and `kubectl-kseal` bins and the `kseal-controller` bin.
const CLI_LOADER = `#!/usr/bin/env node
'use strict';
// kseal: runs kseal-cli.cjs with its V8 code cache (code-cache.cjs; made by scripts/build.mjs).
const { join } = require('node:path');
require('./code-cache.cjs').run(join(__dirname, 'kseal-cli.cjs'), join(__dirname, 'kseal-cli.cache'));
`;
const CONTROLLER_LOADER = `#!/usr/bin/env node
// kseal-controller: runs kseal-controller.cjs with its V8 code cache (code-cache.cjs; made by
// scripts/build.mjs and, in the image, by the Dockerfile with the node and flags that run it).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
const here = (name) => fileURLToPath(new URL(name, import.meta.url));
createRequire(import.meta.url)('./code-cache.cjs').run(here('kseal-controller.cjs'), here('kseal-controller.cache'));
`;
await writeFile('dist/kseal.cjs', CLI_LOADER);
await chmod('dist/kseal.cjs', 0o755);
await writeFile('dist/kseal-controller.mjs', CONTROLLER_LOADER);
await chmod('dist/kseal-controller.mjs', 0o755);

/** Runs `bundle` once through code-cache.cjs with `nodeFlags` and `args`, writing its cache; no cache if it fails. */
function makeCache(nodeFlags, bundle, cache, args) {
  try {
    execFileSync(process.execPath, [...nodeFlags, 'dist/code-cache.cjs', bundle, cache, ...args], { stdio: 'ignore' });
  } catch {
    // No cache: the program still works, only compiles on every start.
  }
}

// The CLI's cache from a real run over the example Secret (functions compiled lazily are included).
await rm('dist/kseal-cli.cache', { force: true });
const cert = 'test/vectors/keys/test-rsa-2048.crt.pem';
if (existsSync('dist/kseal-cli.cjs') && existsSync(cert) && existsSync('examples/secret.yaml')) makeCache([], 'dist/kseal-cli.cjs', 'dist/kseal-cli.cache', ['encrypt', '--cert', cert, '-f', 'examples/secret.yaml']);

// The controller's cache, with the node flags of the image's ENTRYPOINT (the benchmarks run it with
// them too). In the image the Dockerfile makes it again with the image's own node binary.
await rm('dist/kseal-controller.cache', { force: true });
const entrypoint = existsSync('Dockerfile') ? /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(readFileSync('Dockerfile', 'utf8'))?.[1] : undefined;
if (existsSync('dist/kseal-controller.cjs') && entrypoint !== undefined) {
  const argv = JSON.parse(entrypoint);
  makeCache(argv.slice(1, argv.findIndex((a) => a.endsWith('.mjs'))), 'dist/kseal-controller.cjs', 'dist/kseal-controller.cache', ['--version']);
}
