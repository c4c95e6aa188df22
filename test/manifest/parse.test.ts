/** The one parse entry (src/manifest/parse.ts, parse-json.ts) through readManifests: shared options, linear duplicate-key check, limits. */
import { describe, expect, it } from 'vitest';
import type { KsealError } from '../../src/errors.js';
import { PARSE_LIMITS } from '../../src/manifest/parse.js';
import { readManifests } from '../../src/manifest/read.js';
import { deepBlockNesting, deepFlowNesting, duplicateKeyBomb, duplicateKeyBombJson, manyAliases, manyDocuments, manyKeysSealed } from '../helpers/bombs.js';
import { ksealErrorOf } from '../helpers/errors.js';

const values = (text: string): unknown[] => readManifests(text, 'in.yaml').map((o) => o.value);

/** The KsealError reading `text` throws. */
const failure = (text: string): KsealError => ksealErrorOf(() => readManifests(text, 'in.yaml'));

function keys(n: number, json: boolean): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(json ? `"k${i}":"v"` : `  k${i}: v\n`);
  return json ? `{"data":{${parts.join(',')}}}` : `data:\n${parts.join('')}`;
}

describe('the shared parse options', () => {
  it('reads an unquoted timestamp as the string it is written as', () => {
    expect(values('metadata:\n  annotations:\n    created: 2024-01-01\n    at: 2024-01-01T10:00:00Z\n')).toEqual([{ metadata: { annotations: { created: '2024-01-01', at: '2024-01-01T10:00:00Z' } } }]);
  });

  it('reads yes and no as booleans, as Kubernetes (YAML 1.1) does', () => {
    expect(values('a: yes\nb: no\n')).toEqual([{ a: true, b: false }]);
  });

  it('lets a mapping repeat the << merge key', () => {
    expect(values('one: &one {a: 1}\ntwo: &two {b: 2}\nz:\n  <<: *one\n  <<: *two\n')).toEqual([{ one: { a: 1 }, two: { b: 2 }, z: { a: 1, b: 2 } }]);
  });
});

describe('duplicate keys', () => {
  it('refuses a duplicate key naming the document, line and key but not the value', () => {
    const e = failure('kind: A\n---\nkind: Secret\nstringData:\n  password: first-CANARY\n  user: u\n  password: second-CANARY\n');
    expect(e.code).toBe('INVALID_YAML');
    expect(e.document).toBe(2);
    expect(e.key).toBe('password');
    expect(e.message).toContain('line 7');
    expect(e.message).toContain('duplicate key "password"');
    expect(e.format()).not.toContain('CANARY');
  });

  it('refuses keys that become the same object key (1 and "1")', () => {
    expect(failure('data:\n  1: a\n  "1": b\n').key).toBe('1');
  });

  it('refuses a duplicate key in a flow mapping', () => {
    expect(failure('data: {a: 1, b: 2, a: 3}\n').key).toBe('a');
  });

  it('refuses a duplicate key in JSON, where JSON.parse would keep the last one silently', () => {
    const e = failure('{\n  "kind": "Secret",\n  "stringData": {"a": "x-CANARY", "\\u0061": "y-CANARY"}\n}\n');
    expect(e.code).toBe('INVALID_JSON');
    expect(e.key).toBe('a');
    expect(e.message).toContain('line 3');
    expect(e.format()).not.toContain('CANARY');
  });

  it('finds the one duplicate among the most keys a mapping may hold (linear check)', () => {
    const text = `${keys(PARSE_LIMITS.maxMapEntries - 1, false)}  k0: again\n`;
    const e = failure(text);
    expect(e.code).toBe('INVALID_YAML');
    expect(e.key).toBe('k0');
    expect(e.message).toContain(`line ${PARSE_LIMITS.maxMapEntries + 1}`);
  });

  it('refuses the 1 MiB duplicate-key bomb of 72,000 keys quickly (the old check took a minute)', () => {
    expect(failure(duplicateKeyBomb()).code).toBe('INPUT_LIMIT');
  });

  it('refuses the same bomb as JSON', () => {
    expect(failure(duplicateKeyBombJson()).code).toBe('INPUT_LIMIT');
  });
});

describe('limits', () => {
  it(`accepts a mapping of exactly ${PARSE_LIMITS.maxMapEntries} entries, in YAML and JSON`, () => {
    expect(Object.keys((values(keys(PARSE_LIMITS.maxMapEntries, false))[0] as { data: object }).data)).toHaveLength(PARSE_LIMITS.maxMapEntries);
    expect(Object.keys((values(keys(PARSE_LIMITS.maxMapEntries, true))[0] as { data: object }).data)).toHaveLength(PARSE_LIMITS.maxMapEntries);
  });

  it('refuses a mapping of one entry more with INPUT_LIMIT naming its line', () => {
    const e = failure(manyKeysSealed(PARSE_LIMITS.maxMapEntries + 1));
    expect(e.code).toBe('INPUT_LIMIT');
    expect(e.message).toBe(`a mapping at line 6 has more than ${PARSE_LIMITS.maxMapEntries} entries`);
    expect(failure(keys(PARSE_LIMITS.maxMapEntries + 1, true)).code).toBe('INPUT_LIMIT');
  });

  it(`accepts ${PARSE_LIMITS.maxDocuments} documents and refuses one more`, () => {
    expect(values(manyDocuments(PARSE_LIMITS.maxDocuments))).toHaveLength(PARSE_LIMITS.maxDocuments);
    const e = failure(manyDocuments(PARSE_LIMITS.maxDocuments + 1));
    expect(e.code).toBe('INPUT_LIMIT');
    expect(e.message).toContain(`more than ${PARSE_LIMITS.maxDocuments} documents`);
  });

  it('refuses more JSON values in one stream than documents in a YAML stream', () => {
    expect(failure('{"kind":"A"}\n'.repeat(PARSE_LIMITS.maxDocuments + 1)).code).toBe('INPUT_LIMIT');
  });

  it(`accepts ${PARSE_LIMITS.maxDepth} levels of nesting and refuses one more, block and flow`, () => {
    expect(values(deepBlockNesting(PARSE_LIMITS.maxDepth - 1))).toHaveLength(1);
    expect(failure(deepBlockNesting(PARSE_LIMITS.maxDepth)).message).toContain(`nested more than ${PARSE_LIMITS.maxDepth} levels`);
    expect(failure(`a: ${deepFlowNesting(PARSE_LIMITS.maxDepth)}\n`).code).toBe('INVALID_YAML');
  });

  it('refuses half a million levels of nesting without overflowing the stack', () => {
    expect(failure(`a: ${deepFlowNesting(500_000)}\n`).code).toBe('INVALID_YAML');
    expect(failure(`{"a": ${deepFlowNesting(500_000)}}`).code).toBe('INVALID_JSON');
  });

  it(`accepts ${PARSE_LIMITS.maxAliasCount - 1} aliases and refuses more than ${PARSE_LIMITS.maxAliasCount}`, () => {
    expect(values(manyAliases(PARSE_LIMITS.maxAliasCount - 1))).toHaveLength(1);
    expect(failure(manyAliases(PARSE_LIMITS.maxAliasCount)).message).toContain('aliases');
    const e = failure(manyAliases(PARSE_LIMITS.maxAliasCount + 1));
    expect(e.code).toBe('INVALID_YAML');
    expect(e.message).toContain('aliases');
  });

  it('refuses 1 MiB of aliases', () => {
    expect(failure(manyAliases(150_000)).code).toBe('INVALID_YAML');
  });
});

describe('what looks like an alias but is not', () => {
  it('reads block scalar text that starts with * however often it occurs', () => {
    const text = `a:\n${'  - |\n    *bold*\n'.repeat(PARSE_LIMITS.maxAliasCount + 5)}`;
    expect((values(text)[0] as { a: string[] }).a).toHaveLength(PARSE_LIMITS.maxAliasCount + 5);
  });

  it('reads quoted and plain scalars holding * and brackets', () => {
    expect(values(`a: "${'*x ['.repeat(200)}"\nb: x*y\nc: '${'{'.repeat(200)}'\n`)).toEqual([{ a: '*x ['.repeat(200), b: 'x*y', c: '{'.repeat(200) }]);
  });
});
