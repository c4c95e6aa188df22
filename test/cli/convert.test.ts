import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { readSealedSecret, unsealSealedSecret } from '../../src/model/sealed-secret.js';
import { certFixture, runCli } from '../helpers/cli.js';
import { testKey } from '../helpers/keys.js';

const key = testKey('rsa-2048');
const fixture = certFixture(key);

async function seal(apiVersion: string, scope: string, name = 'db'): Promise<string> {
  const secret = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${name}\n  namespace: app\nstringData:\n  password: hunter2\n  user: admin\n`;
  const run = await runCli(['encrypt', '--cert', fixture.certPath, '--api-version', apiVersion, '--scope', scope], { stdin: secret });
  expect(run.code).toBe(0);
  return run.stdout;
}

function values(text: string): Record<string, string> {
  return Object.fromEntries(
    parseAllDocuments(text)
      .map((d) => d.toJS() as { kind?: string })
      .filter((o) => o.kind === 'SealedSecret')
      .map((o, i) => {
        const { secret } = unsealSealedSecret(readSealedSecret(o, { document: i + 1 }), [key.entry]);
        return [i, JSON.stringify(Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])))];
      }),
  );
}

function ciphertexts(text: string): string[] {
  return [...text.matchAll(/^\s+(?:password|user): (\S+)$/gm)].map((m) => m[1]!);
}

describe('kseal convert', () => {
  it('moves a commented Bitnami file to kseal in place: apiVersion and scope annotation change, every other byte stays', async () => {
    const sealed = await seal('bitnami.com/v1alpha1', 'namespace-wide');
    const text = `# database credentials, sealed by the platform team\n${sealed.replace('spec:\n', 'spec: # do not edit by hand\n')}`;
    const file = fixture.dir.write('db.yaml', text);
    const run = await runCli(['convert', '--to', 'kseal', '-f', file]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('1 converted');
    const out = readFileSync(file, 'utf8');
    expect(out).toContain('# database credentials, sealed by the platform team\n');
    expect(out).toContain('spec: # do not edit by hand\n');
    expect(ciphertexts(out)).toEqual(ciphertexts(text));
    const obj = parse(out) as { apiVersion: string; metadata: { annotations: Record<string, string> } };
    expect(obj.apiVersion).toBe('kseal.dev/v1alpha1');
    expect(obj.metadata.annotations['kseal.dev/scope']).toBe('namespace-wide');
    expect(obj.metadata.annotations['sealedsecrets.bitnami.com/namespace-wide']).toBeUndefined();
    const changed = out.split('\n').filter((line) => !text.split('\n').includes(line));
    expect(changed.map((l) => l.trim()).sort()).toEqual(['apiVersion: kseal.dev/v1alpha1', 'kseal.dev/scope: namespace-wide']);
    expect(values(out)).toEqual(values(text));
  });

  it.each(['strict', 'namespace-wide', 'cluster-wide'])('round-trips a %s kseal file through Bitnami byte for byte', async (scope) => {
    const original = await seal('kseal.dev/v1alpha1', scope);
    const file = fixture.dir.write('x.yaml', original);
    expect((await runCli(['convert', '--to', 'bitnami', '-f', file])).code).toBe(0);
    const bitnami = readFileSync(file, 'utf8');
    const obj = parse(bitnami) as { apiVersion: string; metadata: { annotations?: Record<string, string> } };
    expect(obj.apiVersion).toBe('bitnami.com/v1alpha1');
    const expected: Record<string, string> = scope === 'strict' ? {} : { [`sealedsecrets.bitnami.com/${scope}`]: 'true' };
    expect(Object.fromEntries(Object.entries(obj.metadata.annotations ?? {}).filter(([k]) => k !== 'kseal.dev/key-id'))).toEqual(expected);
    expect(values(bitnami)).toEqual(values(original));
    expect((await runCli(['convert', '--to', 'kseal', '-f', file])).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(original);
  });

  it('leaves a file already in the target group untouched (not even rewritten)', async () => {
    const file = fixture.dir.write('k.yaml', await seal('kseal.dev/v1alpha1', 'strict'));
    const before = statSync(file).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    const run = await runCli(['convert', '--to', 'kseal', '-f', file]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('0 converted, 1 already kseal');
    expect(statSync(file).mtimeMs).toBe(before);
  });

  it('changes no file in which one document cannot be converted, converts the others, and exits non-zero', async () => {
    const good = fixture.dir.write('good.yaml', await seal('bitnami.com/v1alpha1', 'strict'));
    const conflicting = (await seal('bitnami.com/v1alpha1', 'cluster-wide', 'b')).replace('sealedsecrets.bitnami.com/cluster-wide: "true"', 'sealedsecrets.bitnami.com/cluster-wide: "true"\n    sealedsecrets.bitnami.com/namespace-wide: "true"');
    const mixedText = `${await seal('bitnami.com/v1alpha1', 'strict', 'a')}---\n${conflicting}`;
    const mixed = fixture.dir.write('mixed.yaml', mixedText);
    const run = await runCli(['convert', '--to', 'kseal', '-f', mixed, good]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/mixed\.yaml: not changed: .*document 2.*both/);
    expect(readFileSync(mixed, 'utf8')).toBe(mixedText);
    expect(parse(readFileSync(good, 'utf8')).apiVersion).toBe('kseal.dev/v1alpha1');
  });

  it('keeps documents of other kinds as they are and converts from stdin to stdout', async () => {
    const config = 'apiVersion: v1\nkind: ConfigMap # plain\nmetadata:\n  name: c\ndata:\n  a: "1"\n';
    const input = `${config}---\n${await seal('bitnami.com/v1alpha1', 'cluster-wide')}`;
    const run = await runCli(['convert', '--to', 'kseal'], { stdin: input });
    expect(run.code).toBe(0);
    expect(run.stdout.startsWith(config)).toBe(true);
    expect(parseAllDocuments(run.stdout)[1]!.toJS().metadata.annotations['kseal.dev/scope']).toBe('cluster-wide');
  });

  it('edits a JSON SealedSecret with its own indentation, ciphertext unchanged', async () => {
    const obj = parse(await seal('bitnami.com/v1alpha1', 'strict')) as Record<string, unknown>;
    const file = fixture.dir.write('s.json', `${JSON.stringify(obj, null, 4)}\n`);
    expect((await runCli(['convert', '--to', 'kseal', '-f', file])).code).toBe(0);
    const out = JSON.parse(readFileSync(file, 'utf8')) as { apiVersion: string; spec: unknown; metadata: { annotations: Record<string, string> } };
    expect(out.apiVersion).toBe('kseal.dev/v1alpha1');
    expect(out.spec).toEqual(obj.spec);
    expect(out.metadata.annotations['kseal.dev/scope']).toBe('strict');
    expect(readFileSync(file, 'utf8')).toMatch(/\n {4}"apiVersion"/);
  });

  it('refuses a template data key that is also an encrypted key, naming it', async () => {
    const text = (await seal('bitnami.com/v1alpha1', 'strict')).replace('  template:\n', '  template:\n    data:\n      user: plain\n');
    const file = fixture.dir.write('t.yaml', text);
    const run = await runCli(['convert', '--to', 'kseal', '-f', file]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('key "user"');
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('needs --to', async () => {
    const file = fixture.dir.write('n.yaml', 'x: 1\n');
    writeFileSync(file, 'x: 1\n');
    expect((await runCli(['convert', '-f', file])).code).toBe(2);
  });
});
