import { Parser, Lexer } from 'yaml';
import { performance } from 'node:perf_hooks';
for (const n of [25000, 50000, 100000]) {
  const s = `a: ${'['.repeat(n)}${']'.repeat(n)}\n`;
  let t = performance.now(); for (const _ of new Lexer().lex(s)); const lex = performance.now() - t;
  t = performance.now(); for (const _ of new Parser().parse(s)); const p = performance.now() - t;
  console.log(n, 'lex', lex.toFixed(0), 'parse', p.toFixed(0));
}
