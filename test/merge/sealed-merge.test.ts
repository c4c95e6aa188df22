/**
 * The merge behind `kseal merge-driver`, on hand-written files (ciphertexts are random base64: the
 * merge never opens a value), with git's own line merge for the rest of the file.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { gitMergeFile } from '../../cli/git-merge-file.js';
import { mergeSealedText, type MergeResult } from '../../src/merge/sealed-merge.js';

const v = (): string => randomBytes(60).toString('base64');
const ID1 = 'a'.repeat(64);
const ID2 = 'b'.repeat(64);

function sealed(data: Record<string, string>, extra: { name?: string; annotations?: Record<string, string>; recipients?: Array<{ id: string; data: Record<string, string>; publicKey?: string }>; labels?: string } = {}): string {
  const lines = ['apiVersion: kseal.dev/v1alpha1', 'kind: SealedSecret', 'metadata:', `  name: ${extra.name ?? 'db'}`, '  namespace: app'];
  if (extra.annotations !== undefined) lines.push('  annotations:', ...Object.entries(extra.annotations).map(([k, x]) => `    ${k}: "${x}"`));
  lines.push('spec:', '  encryptedData:', ...Object.entries(data).map(([k, x]) => `    ${k}: ${x}`));
  if (extra.recipients !== undefined) {
    lines.push('  recipients:');
    for (const r of extra.recipients) lines.push(`    - id: ${r.id}`, '      kind: cluster', `      publicKey: ${r.publicKey ?? 'MIIBIjAN'}`, '      encryptedData:', ...Object.entries(r.data).map(([k, x]) => `        ${k}: ${x}`));
  }
  lines.push('  template:', '    metadata:', `      name: ${extra.name ?? 'db'}`, ...(extra.labels === undefined ? [] : ['      labels:', `        team: ${extra.labels}`]), '    type: Opaque');
  return `${lines.join('\n')}\n`;
}

const merge = (base: string, ours: string, theirs: string): MergeResult => mergeSealedText(base, ours, theirs, { markerSize: 7, oursLabel: 'ours', theirsLabel: 'theirs', lineMerge: gitMergeFile({ ours: 'ours', theirs: 'theirs' }, 7) });

describe('mergeSealedText', () => {
  it('merges keys added next to each other on both sides, byte for byte, where git alone conflicts', () => {
    const [a, b, c] = [v(), v(), v()];
    const base = sealed({ password: a });
    const ours = sealed({ password: a, token: b });
    const theirs = sealed({ password: a, apikey: c });
    expect(gitMergeFile({ ours: 'ours', theirs: 'theirs' }, 7)(ours, base, theirs).conflicts).toBeGreaterThan(0);
    const result = merge(base, ours, theirs);
    expect(result.conflicts).toEqual([]);
    expect(result.text).toBe(sealed({ apikey: c, password: a, token: b }));
  });

  it('takes a change from one side and a removal from the other', () => {
    const [a, b, c, d] = [v(), v(), v(), v()];
    const result = merge(sealed({ password: a, token: b, user: c }), sealed({ password: d, token: b, user: c }), sealed({ password: a, user: c }));
    expect(result).toEqual({ text: sealed({ password: d, user: c }), conflicts: [] });
  });

  it('reports a key changed differently on both sides and marks only its lines', () => {
    const [a, b, c, d] = [v(), v(), v(), v()];
    const result = merge(sealed({ password: a, user: b }), sealed({ password: c, user: b }), sealed({ password: d, user: b }));
    expect(result.conflicts).toEqual([{ document: 1, object: 'app/db', field: 'spec.encryptedData', key: 'password', reason: 'changed differently on both sides' }]);
    expect(result.text).toContain(`  encryptedData:\n<<<<<<< ours\n    password: ${c}\n=======\n    password: ${d}\n>>>>>>> theirs\n    user: ${b}\n`);
  });

  it('treats the same change on both sides as no conflict', () => {
    const [a, b] = [v(), v()];
    expect(merge(sealed({ password: a }), sealed({ password: b }), sealed({ password: b }))).toEqual({ text: sealed({ password: b }), conflicts: [] });
  });

  it('conflicts when one side changes a key the other removed', () => {
    const [a, b] = [v(), v()];
    const result = merge(sealed({ password: a, user: a }), sealed({ password: b, user: a }), sealed({ user: a }));
    expect(result.conflicts.map((c) => c.key)).toEqual(['password']);
    expect(result.text).toContain(`<<<<<<< ours\n    password: ${b}\n=======\n>>>>>>> theirs\n`);
  });

  it('merges the key-id hints of both sides instead of conflicting', () => {
    const [a, b, c] = [v(), v(), v()];
    const result = merge(sealed({ password: a }, { annotations: { 'kseal.dev/key-id': ID1 } }), sealed({ password: a, token: b }, { annotations: { 'kseal.dev/key-id': `${ID2},${ID1}` } }), sealed({ password: a, user: c }, { annotations: { 'kseal.dev/key-id': `${'c'.repeat(64)},${ID1}` } }));
    expect(result.conflicts).toEqual([]);
    expect(result.text).toContain(`    kseal.dev/key-id: "${ID2},${ID1},${'c'.repeat(64)}"\n`);
  });

  it('merges edits outside the sealed values (template labels) with key changes', () => {
    const [a, b] = [v(), v()];
    const result = merge(sealed({ password: a }, { labels: 'red' }), sealed({ password: a }, { labels: 'blue' }), sealed({ password: a, token: b }, { labels: 'red' }));
    expect(result).toEqual({ text: sealed({ password: a, token: b }, { labels: 'blue' }), conflicts: [] });
  });

  it('merges key changes in different documents and a document added on one side', () => {
    const [a, b, c, d] = [v(), v(), v(), v()];
    const one = (x: string): string => sealed({ password: x }, { name: 'one' });
    const two = (data: Record<string, string>): string => sealed(data, { name: 'two' });
    const extra = sealed({ key: d }, { name: 'three' });
    const result = merge(`${one(a)}---\n${two({ k: a })}`, `${one(b)}---\n${two({ k: a })}---\n${extra}`, `${one(a)}---\n${two({ k: a, l: c })}`);
    expect(result).toEqual({ text: `${one(b)}---\n${two({ k: a, l: c })}---\n${extra}`, conflicts: [] });
  });

  it('falls back to a conflict when one side deletes an object whose keys the other changed', () => {
    const [a, b] = [v(), v()];
    const one = sealed({ password: a }, { name: 'one' });
    const result = merge(`${one}---\n${sealed({ k: a }, { name: 'two' })}`, `${one}---\n${sealed({ k: b }, { name: 'two' })}`, one);
    expect(result.conflicts[0]).toMatchObject({ object: 'app/two', field: 'spec.encryptedData', reason: 'they deleted it and the other side changed its keys' });
  });

  it('keeps comments above a key with the key, and keeps a file without a final newline so', () => {
    const [a, b, c] = [v(), v(), v()];
    const base = sealed({ password: a, user: a }).replace(`    user: ${a}\n`, `    # rotated in May\n    user: ${a}\n`).replace(/\n$/, '');
    const ours = base.replace(`    password: ${a}`, `    password: ${b}`);
    const theirs = base.replace(`    user: ${a}`, `    user: ${c}`);
    const result = merge(base, ours, theirs);
    expect(result).toEqual({ text: base.replace(`    password: ${a}`, `    password: ${b}`).replace(`    user: ${a}`, `    user: ${c}`), conflicts: [] });
  });

  it('merges a key added on one side with a recipient entry added on the other as a conflict naming the recipient', () => {
    const [a, b, c] = [v(), v(), v()];
    const base = sealed({ password: a }, { recipients: [{ id: ID1, data: { password: a } }] });
    const ours = sealed({ password: a, token: b }, { recipients: [{ id: ID1, data: { password: a, token: b } }] });
    const theirs = sealed({ password: a }, { recipients: [{ id: ID1, data: { password: a } }, { id: ID2, data: { password: c } }] });
    const result = merge(base, ours, theirs);
    expect(result.conflicts).toEqual([expect.objectContaining({ document: 1, key: 'token', field: `spec.recipients[${ID2.slice(0, 12)}…].encryptedData` })]);
    expect(result.conflicts[0]?.reason).toContain('kseal set FILE KEY');
  });

  it('merges keys added to every recipient entry on both sides', () => {
    const [a, b, c] = [v(), v(), v()];
    const base = sealed({ password: a }, { recipients: [{ id: ID1, data: { password: a } }] });
    const ours = sealed({ password: a, token: b }, { recipients: [{ id: ID1, data: { password: a, token: b } }] });
    const theirs = sealed({ apikey: c, password: a }, { recipients: [{ id: ID1, data: { apikey: c, password: a } }] });
    expect(merge(base, ours, theirs)).toEqual({ text: sealed({ apikey: c, password: a, token: b }, { recipients: [{ id: ID1, data: { apikey: c, password: a, token: b } }] }), conflicts: [] });
  });

  it('merges two branches that each add a different recipient, ours then theirs, where git alone conflicts', () => {
    const [a, b, c] = [v(), v(), v()];
    const ID3 = 'c'.repeat(64);
    const base = sealed({ password: a }, { recipients: [{ id: ID1, data: { password: a } }] });
    const ours = sealed({ password: a }, { recipients: [{ id: ID1, data: { password: a } }, { id: ID2, data: { password: b } }] });
    const theirs = sealed({ password: a }, { recipients: [{ id: ID1, data: { password: a } }, { id: ID3, data: { password: c } }] });
    expect(gitMergeFile({ ours: 'ours', theirs: 'theirs' }, 7)(ours, base, theirs).conflicts).toBeGreaterThan(0);
    expect(merge(base, ours, theirs)).toEqual({ text: sealed({ password: a }, { recipients: [{ id: ID1, data: { password: a } }, { id: ID2, data: { password: b } }, { id: ID3, data: { password: c } }] }), conflicts: [] });
  });

  it('reports a key changed on one side as a conflict for a recipient the other side added (it holds the old value)', () => {
    const [a, b, c] = [v(), v(), v()];
    const base = sealed({ password: a, user: a });
    const ours = sealed({ password: a, user: a }, { recipients: [{ id: ID1, data: { password: b, user: b } }] });
    const theirs = sealed({ password: a, user: c });
    const result = merge(base, ours, theirs);
    expect(result.conflicts).toEqual([expect.objectContaining({ document: 1, object: 'app/db', field: `spec.recipients[${ID1.slice(0, 12)}…].encryptedData`, key: 'user' })]);
    expect(result.conflicts[0]?.reason).toContain('kseal set FILE KEY');
    expect(result.text).toBe(sealed({ password: a, user: c }, { recipients: [{ id: ID1, data: { password: b, user: b } }] }));
  });

  it('takes a recipient removed on one side and one added on the other', () => {
    const [a, b, c] = [v(), v(), v()];
    const ID3 = 'c'.repeat(64);
    const base = sealed({ password: a }, { recipients: [{ id: ID1, data: { password: a } }, { id: ID2, data: { password: b } }] });
    const ours = sealed({ password: a }, { recipients: [{ id: ID2, data: { password: b } }] });
    const theirs = sealed({ password: a }, { recipients: [{ id: ID1, data: { password: a } }, { id: ID2, data: { password: b } }, { id: ID3, data: { password: c } }] });
    expect(merge(base, ours, theirs)).toEqual({ text: sealed({ password: a }, { recipients: [{ id: ID2, data: { password: b } }, { id: ID3, data: { password: c } }] }), conflicts: [] });
  });

  it('merges keys added to the same recipient on both sides, and the other fields changed on one side', () => {
    const [a, b, c] = [v(), v(), v()];
    const base = sealed({ password: a }, { recipients: [{ id: ID1, data: { password: a } }] });
    const ours = sealed({ password: a, token: b }, { recipients: [{ id: ID1, data: { password: a, token: b }, publicKey: 'MIIBIjANnew' }] });
    const theirs = sealed({ apikey: c, password: a }, { recipients: [{ id: ID1, data: { apikey: c, password: a } }] });
    expect(merge(base, ours, theirs)).toEqual({ text: sealed({ apikey: c, password: a, token: b }, { recipients: [{ id: ID1, data: { apikey: c, password: a, token: b }, publicKey: 'MIIBIjANnew' }] }), conflicts: [] });
  });

  it('reports a key of the same recipient changed differently on both sides, marking only that key', () => {
    const [a, b, c] = [v(), v(), v()];
    const base = sealed({ password: a }, { recipients: [{ id: ID1, data: { password: a } }] });
    const ours = sealed({ password: a }, { recipients: [{ id: ID1, data: { password: b } }] });
    const theirs = sealed({ password: a }, { recipients: [{ id: ID1, data: { password: c } }] });
    const result = merge(base, ours, theirs);
    expect(result.conflicts).toEqual([{ document: 1, object: 'app/db', field: `spec.recipients[${ID1.slice(0, 12)}…].encryptedData`, key: 'password', reason: 'changed differently on both sides' }]);
    expect(result.text).toContain(`      encryptedData:\n<<<<<<< ours\n        password: ${b}\n=======\n        password: ${c}\n>>>>>>> theirs\n  template:\n`);
  });

  it('reports the same recipient added differently on both sides as a conflict around that entry only', () => {
    const [a, b, c] = [v(), v(), v()];
    const base = sealed({ password: a }, { recipients: [{ id: ID1, data: { password: a } }] });
    const ours = sealed({ password: a }, { recipients: [{ id: ID1, data: { password: a } }, { id: ID2, data: { password: b }, publicKey: 'MIIBone' }] });
    const theirs = sealed({ password: a }, { recipients: [{ id: ID1, data: { password: a } }, { id: ID2, data: { password: c }, publicKey: 'MIIBtwo' }] });
    const result = merge(base, ours, theirs);
    expect(result.conflicts).toEqual([{ document: 1, object: 'app/db', field: `spec.recipients[${ID2.slice(0, 12)}…]`, reason: 'this recipient was changed differently on both sides' }]);
    const entry = (key: string, x: string): string => `    - id: ${ID2}\n      kind: cluster\n      publicKey: ${key}\n      encryptedData:\n        password: ${x}\n`;
    expect(result.text).toContain(`        password: ${a}\n<<<<<<< ours\n${entry('MIIBone', b)}=======\n${entry('MIIBtwo', c)}>>>>>>> theirs\n  template:\n`);
  });

  it('conflicts when one side removes a recipient the other changed', () => {
    const [a, b] = [v(), v()];
    const base = sealed({ password: a }, { recipients: [{ id: ID1, data: { password: a } }, { id: ID2, data: { password: a } }] });
    const ours = sealed({ password: a }, { recipients: [{ id: ID1, data: { password: a } }] });
    const theirs = sealed({ password: a }, { recipients: [{ id: ID1, data: { password: a } }, { id: ID2, data: { password: b } }] });
    expect(merge(base, ours, theirs).conflicts).toEqual([expect.objectContaining({ field: `spec.recipients[${ID2.slice(0, 12)}…]`, reason: 'we removed this recipient and the other side changed it' })]);
  });

  it('merges a file one side cannot parse line by line, as git would', () => {
    const [a, b] = [v(), v()];
    const base = sealed({ password: a });
    const result = merge(base, `${base}bad: [\n`, sealed({ password: b }));
    expect(result.conflicts).toEqual([]);
    expect(result.text).toBe(`${sealed({ password: b })}bad: [\n`);
  });

  it('merges files added on both branches (empty ancestor) key by key', () => {
    const [a, b] = [v(), v()];
    const result = merge('', sealed({ password: a }), sealed({ password: a, token: b }));
    expect(result.conflicts).toEqual([]);
    expect(result.text).toBe(sealed({ password: a, token: b }));
  });
});
