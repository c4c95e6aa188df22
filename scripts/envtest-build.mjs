// `npm run envtest:build`: builds the real control plane for `npm run test:e2e` (etcd,
// kube-apiserver, kube-controller-manager) from the Go module in test/envtest into
// test/envtest/bin/ (gitignored). Go's build cache makes a rebuild with nothing changed take
// seconds. Skipped when KUBEBUILDER_ASSETS names a folder with ready binaries (envtest's
// convention) or when KSEAL_E2E_KUBECONFIG points the suite at an existing cluster.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager'];
const moduleDir = fileURLToPath(new URL('../test/envtest', import.meta.url));
const outDir = join(moduleDir, 'bin');

if ((process.env.KSEAL_E2E_KUBECONFIG ?? '') !== '') {
  console.log('envtest: KSEAL_E2E_KUBECONFIG is set; the suite uses that cluster, nothing to build');
  process.exit(0);
}
const assets = process.env.KUBEBUILDER_ASSETS ?? '';
if (assets !== '') {
  const missing = BINARIES.filter((b) => !existsSync(join(assets, b)));
  if (missing.length > 0) {
    console.error(`envtest: KUBEBUILDER_ASSETS=${assets} lacks ${missing.join(', ')}; unset it to build them from test/envtest`);
    process.exit(1);
  }
  console.log(`envtest: using the binaries in KUBEBUILDER_ASSETS=${assets}`);
  process.exit(0);
}
if (spawnSync('go', ['version'], { stdio: 'ignore' }).status !== 0) {
  console.error('envtest: `go` (1.26 or newer) is needed to build the control plane; or set KUBEBUILDER_ASSETS to ready binaries');
  process.exit(1);
}
const started = Date.now();
console.log(`envtest: building ${BINARIES.join(', ')} into ${outDir} (a cold Go cache takes a while)`);
const args = ['build', '-mod=readonly', '-ldflags=-s -w', '-o', `${outDir}/`, './cmd/etcd', './cmd/kube-apiserver', './cmd/kube-controller-manager'];
const r = spawnSync('go', args, { cwd: moduleDir, stdio: 'inherit' });
if (r.status !== 0) {
  console.error(`envtest: go build failed (exit ${r.status ?? r.signal})`);
  process.exit(1);
}
console.log(`envtest: built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
