import fc from 'fast-check';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { emitYaml } from '../../src/manifest/yaml-emit.js';

const readBoth = (text: string): [unknown, unknown] => [parse(text, { version: '1.1' }), parse(text, { version: '1.2' })];

describe('emitYaml', () => {
  it('writes block mappings and sequences with two-space indentation', () => {
    expect(emitYaml({ a: { b: 'c', d: ['x', { e: 'f', g: 'h' }] }, i: [] })).toBe('a:\n  b: c\n  d:\n    - x\n    - e: f\n      g: h\ni: []\n');
  });

  it('writes base64 and dotted keys plain', () => {
    expect(emitYaml({ '.dockerconfigjson': 'AgBy+/x==', 'kseal.dev/scope': 'strict' })).toBe('.dockerconfigjson: AgBy+/x==\nkseal.dev/scope: strict\n');
  });

  it('quotes strings YAML 1.1 would read as something else', () => {
    for (const s of ['yes', 'No', 'on', 'OFF', 'y', 'n', 'true', 'null', '~', '0777', '1:20', '2024-01-01', '1e3', 'E0', 'e_5', '.inf', '._', '._1', '.e5', '._E+5', '=', '<<', '', ' padded', 'a: b', 'a #b', '- x', '*ref', '&a', '!tag', '%x', '@x', '`x', '{x}', '[x]', 'line\nbreak', 'tab\there']) {
      const text = emitYaml({ v: s });
      expect(readBoth(text), s).toEqual([{ v: s }, { v: s }]);
    }
  });

  it('reads back as the same data under YAML 1.1 and 1.2, whatever the data', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        const normalised = JSON.parse(JSON.stringify(value)) as unknown;
        const text = emitYaml({ root: normalised });
        expect(readBoth(text)).toEqual([{ root: normalised }, { root: normalised }]);
      }),
      { numRuns: 2000 },
    );
  });
});
