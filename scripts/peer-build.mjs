// `npm run peer:build`: builds Bitnami Sealed Secrets' controller and kubeseal from their Go
// module (github.com/bitnami-labs/sealed-secrets, the version below) with `go install` into
// bench/peer/bin/ (gitignored), under `nice -n 10`. The peer benchmark (`npm run bench -- real`)
// and the peer e2e test (test/e2e/bitnami-peer.test.ts) use them when they are there and skip,
// saying so, when they are not. CI does not build them. Skipped when both binaries exist;
// `--force` builds again (Go's build cache makes that take seconds once warm).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The Bitnami release the peer is built from (v0.36.x, as issue 15 asks). */
const VERSION = 'v0.36.6';
const MODULE = 'github.com/bitnami-labs/sealed-secrets';
const COMMANDS = ['controller', 'kubeseal'];
const outDir = fileURLToPath(new URL('../bench/peer/bin', import.meta.url));

if (!process.argv.includes('--force') && COMMANDS.every((c) => existsSync(join(outDir, c)))) {
  console.log(`peer: ${COMMANDS.join(' and ')} already built in ${outDir} (--force to build again)`);
  process.exit(0);
}
if (spawnSync('go', ['version'], { stdio: 'ignore' }).status !== 0) {
  console.error('peer: `go` (1.26.2 or newer, as the module asks) is needed to build Bitnami\'s controller');
  process.exit(1);
}
mkdirSync(outDir, { recursive: true });
const started = Date.now();
const packages = COMMANDS.map((c) => `${MODULE}/cmd/${c}@${VERSION}`);
console.log(`peer: go install ${packages.join(' ')} into ${outDir}`);
// Outside the repository, so kseal's own Go module (test/envtest) plays no part in the build.
const r = spawnSync('nice', ['-n', '10', 'go', 'install', '-ldflags=-s -w', ...packages], {
  cwd: fileURLToPath(new URL('../bench/peer', import.meta.url)),
  stdio: 'inherit',
  env: { ...process.env, GOBIN: outDir, GOFLAGS: '-buildvcs=false', GOWORK: 'off' },
});
if (r.status !== 0) {
  console.error(`peer: go install failed (exit ${r.status ?? r.signal})`);
  process.exit(1);
}
console.log(`peer: built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
