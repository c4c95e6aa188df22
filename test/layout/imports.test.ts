/**
 * Layout: product code (src, cli, controller, bin, demo, kube-api) never imports test/ or bench/,
 * src/ (the library) imports no shell code, the control plane launcher (control-plane/) stands
 * alone, and bench/ never imports test/. ESLint's no-restricted-imports says the same at lint
 * time; this test also covers dynamic import() and re-exports, and runs with the suite.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const PRODUCT = ['src', 'cli', 'controller', 'bin', 'demo', 'kube-api', 'ui'];

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.ts'))
    .map((d) => relative(ROOT, join(d.parentPath, d.name)));
}

/** Every relative module specifier in a TS source: static imports, re-exports, import() and require(). */
function relativeSpecifiers(source: string): string[] {
  const out: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"](\.{1,2}\/[^'"]*)['"]/g;
  for (const m of source.matchAll(re)) out.push(m[1]!);
  return out;
}

/** The top-level folder a relative import from `file` lands in. */
function targetTop(file: string, spec: string): string {
  return relative(ROOT, resolve(ROOT, dirname(file), spec)).split('/')[0]!;
}

function violations(dirs: readonly string[], forbidden: readonly string[]): string[] {
  const out: string[] = [];
  for (const dir of dirs) {
    for (const file of tsFiles(dir)) {
      for (const spec of relativeSpecifiers(readFileSync(join(ROOT, file), 'utf8'))) {
        if (forbidden.includes(targetTop(file, spec))) out.push(`${file} imports ${spec}`);
      }
    }
  }
  return out;
}

describe('layout', () => {
  it('finds static, dynamic and re-exported imports, so a violation cannot hide', () => {
    const src = "import a from '../test/x.js';\nexport { b } from '../../bench/y.js';\nconst c = await import('../test/z.js');\nimport '../test/side.js';";
    expect(relativeSpecifiers(src)).toEqual(['../test/x.js', '../../bench/y.js', '../test/z.js', '../test/side.js']);
  });

  it('product code never imports test/ or bench/', () => {
    expect(violations(PRODUCT, ['test', 'bench'])).toEqual([]);
  });

  it('the library src/ imports no shell, demo or embedded API code', () => {
    expect(violations(['src'], ['cli', 'controller', 'bin', 'demo', 'kube-api', 'test', 'bench'])).toEqual([]);
  });

  it('the embedded Kubernetes API stands alone', () => {
    expect(violations(['kube-api'], ['src', 'cli', 'controller', 'bin', 'demo', 'test', 'bench'])).toEqual([]);
  });

  it('the real control plane launcher stands alone, shared by test/e2e and bench/', () => {
    expect(violations(['control-plane'], ['src', 'cli', 'controller', 'bin', 'demo', 'kube-api', 'net', 'ui', 'test', 'bench'])).toEqual([]);
  });

  it('benchmarks never import tests', () => {
    expect(violations(['bench'], ['test'])).toEqual([]);
  });
});
