/**
 * The npm package: `npm pack` holds only what runs (the bins' bundles, the unseal worker, the
 * sealing page, the typed library in dist/lib), every `bin` and `exports` target is in it, and the
 * packed library imports by name, type-checks and seals what the packed CLI's `decrypt` opens.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  exports: Record<string, string | Record<string, string>>;
  dependencies: Record<string, string>;
};
const npm = (args: string[], cwd = ROOT): string => execFileSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } });

/** Shapes every packed file must have: the bundles the bins and the controller run, the page, the library. */
const RUNS = [/^package\.json$/, /^README\.md$/, /^LICENSE$/, /^dist\/kseal\.cjs$/, /^dist\/code-cache\.cjs$/, /^dist\/kseal-cli\.(cjs|cache)$/, /^dist\/(lint|seal)-worker\.cjs$/, /^dist\/kseal-controller\.(mjs|cjs)$/, /^dist\/(unseal|body-parse)-worker\.mjs$/, /^dist\/ui\/[a-z0-9.-]+$/, /^dist\/lib\/[a-z0-9/-]+\.(js|d\.ts)$/];

let work: string;

beforeAll(() => {
  // dist/ is built by the global setup; the typed library is what `prepack` adds.
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.lib.json'], { cwd: ROOT });
  work = mkdtempSync(join(tmpdir(), 'kseal-pack-'));
  // Installs the tarball as `npm install` would, with the dependencies linked (no registry needed).
  const tarball = npm(['pack', '--ignore-scripts', '--pack-destination', work, '--silent']).trim().split('\n').pop()!;
  const modules = join(work, 'node_modules');
  const installed = join(modules, 'kseal');
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['xzf', join(work, tarball), '-C', installed, '--strip-components=1']);
  for (const dep of [...Object.keys(pkg.dependencies), '@types/node']) {
    mkdirSync(join(modules, dep, '..'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', dep), join(modules, dep));
  }
}, 180_000);

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('holds only files that run, and every bin and exports target', () => {
    const [info] = JSON.parse(npm(['pack', '--dry-run', '--json', '--ignore-scripts'])) as Array<{ files: Array<{ path: string }> }>;
    const paths = info!.files.map((f) => f.path);
    expect(paths.filter((p) => !RUNS.some((re) => re.test(p)))).toEqual([]);
    const targets = [...Object.values(pkg.bin), ...Object.values(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e)))].map((p) => p.replace(/^\.\//, ''));
    expect(targets.filter((t) => !paths.includes(t))).toEqual([]);
    expect(paths).toContain('dist/unseal-worker.mjs');
    expect(paths).toContain('dist/lint-worker.cjs');
    expect(paths).toContain('dist/seal-worker.cjs');
    // The bins' loaders run these (bin/code-cache.cjs).
    expect(paths).toEqual(expect.arrayContaining(['dist/code-cache.cjs', 'dist/kseal-cli.cjs', 'dist/kseal-controller.cjs']));
    expect(paths.some((p) => p.endsWith('.pem') || p.endsWith('.key') || p.startsWith('test/') || p.startsWith('src/'))).toBe(false);
  });

  it('installs as a package whose library imports by name, is typed, and seals what its CLI decrypts', () => {
    const installed = join(work, 'node_modules', 'kseal');
    const cert = join(ROOT, 'test/vectors/keys/test-rsa-2048.crt.pem');
    const key = join(ROOT, 'test/vectors/keys/test-rsa-2048.key.pem');
    const consumer = `import { readFileSync } from 'node:fs';
import { parseCertificate, readManifests, readSecret, sealSecret, writeManifests, KsealError, KSEAL_API_VERSION, type SealedSecret } from 'kseal';
const cert = parseCertificate(readFileSync(${JSON.stringify(cert)}), { skipValidity: true });
const [doc] = readManifests('apiVersion: v1\\nkind: Secret\\nmetadata: {name: db, namespace: app}\\nstringData: {password: hunter2}\\n', 'inline');
const sealed: SealedSecret = sealSecret(readSecret(doc!.value, doc!.location), cert, { scope: 'strict' });
if (sealed.apiVersion !== KSEAL_API_VERSION || !(new KsealError('USAGE', 'x') instanceof Error)) process.exit(3);
process.stdout.write(writeManifests([sealed], 'yaml'));
`;
    writeFileSync(join(work, 'consumer.ts'), consumer);
    writeFileSync(join(work, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    // Types: the consumer type-checks against the packed .d.ts under Node's own resolution rules.
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', 'consumer.ts'], { cwd: work });
    // Runtime: the same code without its type annotations, as plain JavaScript.
    writeFileSync(join(work, 'consumer.mjs'), consumer.replace(', type SealedSecret', '').replace('const sealed: SealedSecret =', 'const sealed =').replaceAll('doc!.', 'doc.'));
    const sealedYaml = execFileSync(process.execPath, ['consumer.mjs'], { cwd: work, encoding: 'utf8' });
    expect(sealedYaml).toMatch(/^apiVersion: kseal\.dev\/v1alpha1\nkind: SealedSecret\n/);
    const opened = execFileSync(process.execPath, [join(installed, pkg.bin['kseal']!), 'decrypt', '--key', key], { cwd: work, input: sealedYaml, encoding: 'utf8' });
    expect(opened).toContain(`password: ${Buffer.from('hunter2').toString('base64')}`);
  }, 180_000);

  it('ships a controller bin that starts from the package alone', () => {
    const installed = join(work, 'node_modules', 'kseal');
    const help = execFileSync(process.execPath, [join(installed, pkg.bin['kseal-controller']!), '--help'], { cwd: work, encoding: 'utf8' });
    expect(help).toMatch(/--namespace|--kubeconfig/);
  });
});
