/**
 * Parse time against input size for hostile and ordinary shapes (issue 9 finding 3): each shape is
 * built at 256 KiB, 512 KiB and 1 MiB and parsed through readManifests (the one parse entry), and
 * the script prints milliseconds and the ratio of each size to the one before. Linear parsing shows
 * ratios near 2; the old quadratic duplicate-key check showed ~4. Not a test (no exit code depends
 * on a time) and not part of `npm run bench`: run it alone with `npx jiti bench/parse-scaling.ts`.
 * Refused inputs (beyond PARSE_LIMITS) are timed too: refusing must be as cheap as parsing.
 */
import { performance } from 'node:perf_hooks';
import { readManifests } from '../src/manifest/read.js';

const KIB = 1024;
const SIZES = [256 * KIB, 512 * KIB, 1024 * KIB];

/** Repeats `unit(i)` until the text reaches `bytes`. */
function fill(bytes: number, head: string, unit: (i: number) => string, tail = ''): string {
  const parts = [head];
  let n = head.length + tail.length;
  for (let i = 0; n < bytes; i++) {
    const u = unit(i);
    parts.push(u);
    n += u.length;
  }
  parts.push(tail);
  return parts.join('');
}

const SHAPES: Record<string, (bytes: number) => string> = {
  'many keys (distinct)': (b) => fill(b, 'apiVersion: v1\nkind: Secret\nstringData:\n', (i) => `  k${i}: v\n`),
  'many keys (one duplicated key)': (b) => fill(b, 'apiVersion: v1\nkind: Secret\nstringData:\n', (i) => `  k${i}: v\n`, '  k0: v\n'),
  'many keys, JSON': (b) => fill(b, '{"apiVersion":"v1","kind":"Secret","stringData":{', (i) => `"k${i}":"v",`, '"end":"v"}}'),
  'many documents': (b) => fill(b, '', (i) => `---\napiVersion: v1\nkind: Secret\nmetadata: {name: s${i}}\n`),
  'many empty documents': (b) => fill(b, '', () => '---\n'),
  'deep nesting (flow)': (b) => `${'['.repeat(b / 2)}${']'.repeat(b / 2)}`,
  'deep nesting (block)': (b) => fill(b, '', (i) => `${' '.repeat(i % 2000)}k:\n`),
  'long string': (b) => `apiVersion: v1\nkind: Secret\nstringData:\n  a: ${'x'.repeat(b)}\n`,
  'long quoted string': (b) => `apiVersion: v1\nkind: Secret\nstringData:\n  a: "${'x\\n'.repeat(b / 3)}"\n`,
  'many aliases': (b) => fill(b, 'a: &a x\nb:\n', () => '  - *a\n'),
  'a long sequence': (b) => fill(b, 'apiVersion: v1\nkind: List\nitems:\n', (i) => `- {kind: Secret, metadata: {name: s${i}}}\n`),
};

function time(text: string): { ms: number; outcome: string } {
  const start = performance.now();
  let outcome = 'parsed';
  try {
    readManifests(text, 'bench');
  } catch (e) {
    outcome = (e as { code?: string }).code ?? 'threw';
  }
  return { ms: performance.now() - start, outcome };
}

for (const [shape, make] of Object.entries(SHAPES)) {
  const cells: string[] = [];
  let previous: number | undefined;
  let outcome = '';
  for (const size of SIZES) {
    const text = make(size);
    time(text); // warm up
    const runs = [time(text), time(text), time(text)];
    const ms = Math.min(...runs.map((r) => r.ms));
    outcome = runs[0]?.outcome ?? '';
    cells.push(`${size / KIB} KiB ${ms.toFixed(1)} ms${previous === undefined ? '' : ` (x${(ms / previous).toFixed(1)})`}`);
    previous = ms;
  }
  console.log(`${shape.padEnd(32)} ${cells.join('  ')}  -> ${outcome}`);
}
