/** Unit tests of manifest reading (src/manifest/read.ts): YAML streams, JSON streams, Lists and hostile input. */
import { describe, expect, it } from 'vitest';
import type { KsealError } from '../../src/errors.js';
import { MAX_DEPTH, MAX_INPUT_BYTES, readManifests, streamManifests } from '../../src/manifest/read.js';
import { readSecret } from '../../src/model/secret.js';
import { canaryHits, errorText, newCanary } from '../helpers/canary.js';
import { ksealErrorOf } from '../helpers/errors.js';

const values = (text: string) => readManifests(text, 'in.yaml').map((o) => o.value);

/** The KsealError reading `text` throws. */
const failure = (text: string): KsealError => ksealErrorOf(() => readManifests(text, 'in.yaml'));

describe('YAML streams', () => {
  it('reads every document of a multi-document stream with its number', () => {
    const objects = readManifests('kind: A\n---\nkind: B\n---\nkind: C\n', 'in.yaml');
    expect(objects.map((o) => o.value)).toEqual([{ kind: 'A' }, { kind: 'B' }, { kind: 'C' }]);
    expect(objects.map((o) => o.location)).toEqual([1, 2, 3].map((document) => ({ file: 'in.yaml', document })));
  });

  it('skips a leading and a trailing document separator', () => {
    expect(values('---\nkind: A\n---\n')).toEqual([{ kind: 'A' }]);
  });

  it('skips documents that hold only comments', () => {
    expect(values('kind: A\n---\n# nothing here\n---\nkind: B\n')).toEqual([{ kind: 'A' }, { kind: 'B' }]);
  });

  it('returns nothing for empty input', () => {
    expect(values('')).toEqual([]);
    expect(values('\n\n')).toEqual([]);
    expect(values('# only a comment\n')).toEqual([]);
  });

  it('reads unquoted yes/no/on/off as booleans, as Kubernetes (YAML 1.1) does', () => {
    expect(values('a: yes\nb: no\nc: on\nd: off\n')).toEqual([{ a: true, b: false, c: true, d: false }]);
  });

  it('rejects an unquoted yes as a stringData value with INVALID_FIELD', () => {
    const [object] = readManifests('apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  enabled: yes\n', 'in.yaml');
    try {
      readSecret(object?.value, object?.location ?? {});
      expect.unreachable();
    } catch (e) {
      expect((e as KsealError).code).toBe('INVALID_FIELD');
      expect((e as KsealError).message).toBe('stringData.enabled must be a string, not a boolean');
    }
  });

  it('keeps timestamps as strings', () => {
    expect(values('date: 2024-01-01\ntime: 2001-12-14t21:59:43.10-05:00\n')).toEqual([{ date: '2024-01-01', time: '2001-12-14t21:59:43.10-05:00' }]);
  });

  it('keeps quoted values as strings', () => {
    expect(values('a: "yes"\nb: "0777"\nc: "2024-01-01"\n')).toEqual([{ a: 'yes', b: '0777', c: '2024-01-01' }]);
  });

  it('expands a few aliases', () => {
    expect(values('base: &b {x: 1}\ncopy: *b\n')).toEqual([{ base: { x: 1 }, copy: { x: 1 } }]);
  });

  it('rejects an alias bomb with INVALID_YAML', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...['b', 'c', 'd', 'e', 'f', 'g', 'h'].map((n, i) => `${n}: &${n} [${Array(9).fill(`*${'abcdefg'[i]}`).join(', ')}]`)].join('\n');
    const error = failure(`${bomb}\n`);
    expect(error.code).toBe('INVALID_YAML');
    expect(error.message).toMatch(/alias/);
  });

  it(`rejects YAML nested deeper than ${MAX_DEPTH} levels with INVALID_YAML`, () => {
    const deep = `${'['.repeat(MAX_DEPTH + 10)}${']'.repeat(MAX_DEPTH + 10)}`;
    expect(failure(`a: ${deep}\n`).code).toBe('INVALID_YAML');
  });

  it('rejects very deep block nesting without overflowing the stack', () => {
    const lines = Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}k:`).join('\n');
    expect(failure(`${lines} v\n`).code).toBe('INVALID_YAML');
  });

  it('rejects duplicate keys with INVALID_YAML', () => {
    expect(failure('a: 1\na: 2\n').code).toBe('INVALID_YAML');
  });

  it('gives the line of a syntax error', () => {
    const error = failure('kind: Secret\nstringData:\n  a: "unclosed\n');
    expect(error.code).toBe('INVALID_YAML');
    expect(error.message).toMatch(/line \d+/);
    expect(error.document).toBe(1);
  });

  it('never quotes the input in a syntax error', () => {
    const canary = newCanary('yaml');
    const error = failure(`stringData:\n  password: "${canary}\n  other: [\n`);
    expect(canaryHits(canary, errorText(error))).toEqual([]);
  });
});

describe('JSON', () => {
  it('reads a JSON object', () => {
    expect(values('{"kind": "Secret", "data": {"a": "YQ=="}}')).toEqual([{ kind: 'Secret', data: { a: 'YQ==' } }]);
  });

  it('reads concatenated JSON objects as documents', () => {
    const objects = readManifests('{"kind":"A"}{"kind":"B"}\n{"kind":"C"}\n', 'in.json');
    expect(objects.map((o) => o.value)).toEqual([{ kind: 'A' }, { kind: 'B' }, { kind: 'C' }]);
    expect(objects.map((o) => o.location.document)).toEqual([1, 2, 3]);
  });

  it('handles braces and escaped quotes inside JSON strings', () => {
    expect(values('{"a": "}{\\"]"}{"b": 1}')).toEqual([{ a: '}{"]' }, { b: 1 }]);
  });

  it('rejects a JSON object that never closes with INVALID_JSON', () => {
    expect(failure('{"kind": "Secret"').code).toBe('INVALID_JSON');
  });

  it('rejects invalid JSON with INVALID_JSON, the document number and a line number', () => {
    // Node 20's JSON.parse messages carry no position, so the line is where the bad value starts.
    const error = failure('{"kind": "A"}\n\n{"kind": "Secret",\n "data": oops}');
    expect(error.code).toBe('INVALID_JSON');
    expect(error.document).toBe(2);
    expect(error.message).toMatch(/line [34]/);
  });

  it('never quotes the input in a JSON error', () => {
    const canary = newCanary('json');
    expect(canaryHits(canary, errorText(failure(`{"password": "${canary}" oops}`)))).toEqual([]);
  });

  it(`rejects JSON nested deeper than ${MAX_DEPTH} levels with INVALID_JSON`, () => {
    expect(failure(`{"a": ${'['.repeat(MAX_DEPTH + 5)}${']'.repeat(MAX_DEPTH + 5)}}`).code).toBe('INVALID_JSON');
  });
});

describe('Lists', () => {
  it('returns the items of a kind: List one by one, with item numbers', () => {
    const objects = readManifests('apiVersion: v1\nkind: List\nitems:\n- kind: A\n- kind: B\n', 'in.yaml');
    expect(objects.map((o) => o.value)).toEqual([{ kind: 'A' }, { kind: 'B' }]);
    expect(objects.map((o) => o.location)).toEqual([
      { file: 'in.yaml', document: 1, item: 1 },
      { file: 'in.yaml', document: 1, item: 2 },
    ]);
  });

  it('expands typed lists such as SecretList', () => {
    expect(values('{"kind": "SecretList", "items": [{"kind": "Secret"}]}')).toEqual([{ kind: 'Secret' }]);
  });

  it('returns nothing for an empty List', () => {
    expect(values('kind: List\nitems: []\n')).toEqual([]);
  });

  it('keeps an object whose kind ends in List but has no items array', () => {
    expect(values('kind: List\nitems: nope\n')).toEqual([{ kind: 'List', items: 'nope' }]);
  });
});

describe('hostile and odd input', () => {
  it('rejects binary input (a NUL byte) with INVALID_YAML', () => {
    expect(failure('kind: Secret\n\0\u0001\u0002').code).toBe('INVALID_YAML');
  });

  it(`rejects input over ${MAX_INPUT_BYTES / 1024 / 1024} MiB with INPUT_TOO_LARGE`, () => {
    expect(failure(`a: ${'x'.repeat(MAX_INPUT_BYTES)}`).code).toBe('INPUT_TOO_LARGE');
  });

  it('names the file in every error', () => {
    expect(failure('a: 1\na: 2\n').file).toBe('in.yaml');
    expect(failure('{').file).toBe('in.yaml');
  });

  it('gives input errors exit code 3', () => {
    expect(failure('a: 1\na: 2\n').exitCode).toBe(3);
  });
});

describe('streamManifests', () => {
  const inputs = {
    'a YAML stream with empty documents and a List': 'kind: A\n---\n---\n# only a comment\n---\nkind: List\nitems: [{kind: B}, {kind: C}]\n---\nkind: D\nx: &a [1]\ny: *a\n',
    'a JSON stream': '{"kind": "A"}\n{"kind": "List", "items": [{"kind": "B"}]}\n',
  };
  for (const [what, text] of Object.entries(inputs)) {
    it(`yields the objects readManifests returns, with their locations, for ${what}`, () => {
      expect([...streamManifests(text, 'in.yaml')]).toEqual(readManifests(text, 'in.yaml'));
    });
  }

  it('yields the first documents before it reaches an invalid one', () => {
    const stream = streamManifests('kind: A\n---\nkind: B\n---\nkind: [C\n', 'in.yaml');
    expect(stream.next().value).toEqual({ value: { kind: 'A' }, location: { file: 'in.yaml', document: 1 } });
    expect(stream.next().value).toEqual({ value: { kind: 'B' }, location: { file: 'in.yaml', document: 2 } });
    expect(ksealErrorOf(() => stream.next())).toMatchObject({ code: 'INVALID_YAML', document: 3 });
  });
});
