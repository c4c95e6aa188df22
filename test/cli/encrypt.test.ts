import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { readSealedSecret, unsealSealedSecret, type SealedSecret } from '../../src/model/sealed-secret.js';
import { containsCanary, newCanary } from '../helpers/canary.js';
import { certFixture, runCli } from '../helpers/cli.js';
import { testKey } from '../helpers/keys.js';

const key = testKey('rsa-2048');
const fixture = certFixture(key);

function secretYaml(fields: { name?: string; namespace?: string; extra?: string; data?: string } = {}): string {
  const meta = [fields.name === undefined ? '  name: db' : fields.name === '' ? '' : `  name: ${fields.name}`, fields.namespace === '' ? '' : `  namespace: ${fields.namespace ?? 'app'}`]
    .filter((l) => l !== '')
    .join('\n');
  return `apiVersion: v1\nkind: Secret\nmetadata:\n${meta}\n${fields.extra ?? ''}${fields.data ?? 'stringData:\n  password: hunter2\n'}`;
}

function sealedDocs(stdout: string): SealedSecret[] {
  return parseAllDocuments(stdout).map((d, i) => readSealedSecret(d.toJS(), { document: i + 1 }));
}

function openAll(sealed: SealedSecret): Record<string, string> {
  const { secret } = unsealSealedSecret(sealed, [key.entry]);
  return Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

describe('kseal encrypt', () => {
  it('seals a Secret from stdin into a SealedSecret the matching key opens', async () => {
    const run = await runCli(['encrypt', '--cert', fixture.certPath], { stdin: secretYaml() });
    expect(run.code).toBe(0);
    const [sealed] = sealedDocs(run.stdout);
    expect(sealed?.apiVersion).toBe('kseal.dev/v1alpha1');
    expect(sealed?.metadata.annotations?.['kseal.dev/scope']).toBe('strict');
    expect(sealed?.metadata.annotations?.['kseal.dev/key-id']).toBe(key.certificate.keyId);
    expect(openAll(sealed!)).toEqual({ password: 'hunter2' });
  });

  it('reads the input from -f and decodes data values from base64', async () => {
    const file = fixture.dir.write('s.yaml', secretYaml({ data: 'data:\n  user: YWRtaW4=\n' }));
    const run = await runCli(['encrypt', '--cert', fixture.certPath, '-f', file]);
    expect(openAll(sealedDocs(run.stdout)[0]!)).toEqual({ user: 'admin' });
  });

  it('keeps type, immutable, labels and annotations in the template and drops last-applied-configuration and server fields', async () => {
    const extra = `type: kubernetes.io/basic-auth\nimmutable: true\n`;
    const input = secretYaml({ extra }).replace(
      '  namespace: app\n',
      `  namespace: app\n  uid: 123\n  resourceVersion: "9"\n  creationTimestamp: "2024-01-01T00:00:00Z"\n  managedFields: []\n  ownerReferences: [{apiVersion: v1, kind: X, name: y, uid: z}]\n  labels: {b: "2", a: "1"}\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{"stringData":{"password":"hunter2"}}'\n    note: keep\n`,
    );
    const run = await runCli(['encrypt', '--cert', fixture.certPath], { stdin: input });
    expect(run.stderr).toBe('');
    expect(run.stdout).not.toContain('last-applied');
    expect(run.stdout).not.toContain('hunter2');
    expect(run.stdout).not.toMatch(/uid|resourceVersion|creationTimestamp|managedFields|ownerReferences/);
    const sealed = sealedDocs(run.stdout)[0]!;
    expect(sealed.spec.template).toEqual({ metadata: { labels: { a: '1', b: '2' }, annotations: { note: 'keep' } }, type: 'kubernetes.io/basic-auth', immutable: true });
    expect(Object.keys(sealed.metadata.labels ?? {})).toEqual(['a', 'b']);
  });

  it('writes encryptedData keys in sorted order', async () => {
    const run = await runCli(['encrypt', '--cert', fixture.certPath], { stdin: secretYaml({ data: 'stringData:\n  zeta: "1"\n  alpha: "2"\n  Mid: "3"\n' }) });
    expect(Object.keys(sealedDocs(run.stdout)[0]!.spec.encryptedData)).toEqual(['Mid', 'alpha', 'zeta']);
  });

  it('seals every Secret of a multi-document stream, in order', async () => {
    const input = [secretYaml({ name: 'one' }), secretYaml({ name: 'two' }), secretYaml({ name: 'three' })].join('---\n');
    const run = await runCli(['encrypt', '--cert', fixture.certPath], { stdin: input });
    expect(sealedDocs(run.stdout).map((s) => s.metadata.name)).toEqual(['one', 'two', 'three']);
  });

  it('reads concatenated JSON objects', async () => {
    const obj = (name: string): string => JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'app' }, stringData: { k: 'v' } });
    const run = await runCli(['encrypt', '--cert', fixture.certPath], { stdin: `${obj('a')}${obj('b')}\n${obj('c')}` });
    expect(sealedDocs(run.stdout).map((s) => s.metadata.name)).toEqual(['a', 'b', 'c']);
  });

  it('expands a kind: List into one SealedSecret per item', async () => {
    const list = { apiVersion: 'v1', kind: 'List', items: ['a', 'b'].map((name) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'app' }, stringData: { k: 'v' } })) };
    const run = await runCli(['encrypt', '--cert', fixture.certPath], { stdin: JSON.stringify(list) });
    expect(sealedDocs(run.stdout).map((s) => s.metadata.name)).toEqual(['a', 'b']);
  });

  it('prints JSON with -o json', async () => {
    const run = await runCli(['encrypt', '--cert', fixture.certPath, '-o', 'json'], { stdin: secretYaml() });
    const parsed = JSON.parse(run.stdout) as SealedSecret;
    expect(parsed.kind).toBe('SealedSecret');
  });

  it('writes the output file with -w and prints nothing', async () => {
    const run = await runCli(['encrypt', '--cert', fixture.certPath, '-w', 'out.yaml'], { stdin: secretYaml(), cwd: fixture.dir.path });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(parse(readFileSync(join(fixture.dir.path, 'out.yaml'), 'utf8'))).toMatchObject({ kind: 'SealedSecret' });
  });

  it('leaves an existing -w file untouched when sealing fails', async () => {
    const out = fixture.dir.write('out.yaml', 'previous content\n');
    const run = await runCli(['encrypt', '--cert', fixture.certPath, '-w', out], { stdin: `${secretYaml()}---\nkind: ConfigMap\napiVersion: v1\n` });
    expect(run.code).toBe(3);
    expect(readFileSync(out, 'utf8')).toBe('previous content\n');
  });

  it('takes the certificate from KSEAL_CERT', async () => {
    const run = await runCli(['encrypt'], { stdin: secretYaml(), env: { KSEAL_CERT: fixture.certPath } });
    expect(run.code).toBe(0);
  });

  it('overrides name and namespace with --name and --namespace, binding the values to them', async () => {
    const run = await runCli(['encrypt', '--cert', fixture.certPath, '--name', 'other', '-n', 'prod'], { stdin: secretYaml() });
    const sealed = sealedDocs(run.stdout)[0]!;
    expect(sealed.metadata).toMatchObject({ name: 'other', namespace: 'prod' });
    expect(openAll(sealed)).toEqual({ password: 'hunter2' });
  });

  it('refuses --name with several Secrets', async () => {
    const run = await runCli(['encrypt', '--cert', fixture.certPath, '--name', 'x'], { stdin: `${secretYaml()}---\n${secretYaml({ name: 'b' })}` });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--name applies to one Secret');
  });

  it('seals namespace-wide with --scope so any name in the namespace opens it', async () => {
    const run = await runCli(['encrypt', '--cert', fixture.certPath, '--scope', 'namespace-wide'], { stdin: secretYaml() });
    const sealed = sealedDocs(run.stdout)[0]!;
    expect(sealed.metadata.annotations?.['kseal.dev/scope']).toBe('namespace-wide');
    expect(openAll({ ...sealed, metadata: { ...sealed.metadata, name: 'renamed' } })).toEqual({ password: 'hunter2' });
  });

  it('seals cluster-wide without a namespace', async () => {
    const run = await runCli(['encrypt', '--cert', fixture.certPath, '--scope', 'cluster-wide'], { stdin: secretYaml({ namespace: '' }) });
    expect(run.code).toBe(0);
    const sealed = sealedDocs(run.stdout)[0]!;
    expect(openAll({ ...sealed, metadata: { ...sealed.metadata, namespace: 'anywhere', name: 'x' } })).toEqual({ password: 'hunter2' });
  });

  it('binds a strict value to its name so a copy under another name does not open', async () => {
    const run = await runCli(['encrypt', '--cert', fixture.certPath], { stdin: secretYaml() });
    const sealed = sealedDocs(run.stdout)[0]!;
    expect(() => openAll({ ...sealed, metadata: { ...sealed.metadata, name: 'copy' } })).toThrow(/no key could decrypt/);
  });

  it("honours Bitnami's namespace-wide annotation on the input Secret", async () => {
    const input = secretYaml().replace('  namespace: app\n', '  namespace: app\n  annotations:\n    sealedsecrets.bitnami.com/namespace-wide: "true"\n');
    const sealed = sealedDocs((await runCli(['encrypt', '--cert', fixture.certPath], { stdin: input })).stdout)[0]!;
    expect(sealed.metadata.annotations?.['kseal.dev/scope']).toBe('namespace-wide');
    expect(sealed.spec.template?.metadata?.annotations).toBeUndefined();
  });

  it('writes a Bitnami SealedSecret with --api-version bitnami.com/v1alpha1', async () => {
    const run = await runCli(['encrypt', '--cert', fixture.certPath, '--api-version', 'bitnami.com/v1alpha1', '--scope', 'cluster-wide'], { stdin: secretYaml() });
    const sealed = sealedDocs(run.stdout)[0]!;
    expect(sealed.apiVersion).toBe('bitnami.com/v1alpha1');
    expect(sealed.metadata.annotations?.['sealedsecrets.bitnami.com/cluster-wide']).toBe('true');
    expect(sealed.metadata.annotations?.['kseal.dev/scope']).toBeUndefined();
    expect(sealed.spec.template?.metadata).toMatchObject({ name: 'db', namespace: 'app' });
  });

  it('seals values of a 4096-bit certificate that start with Ag, as Bitnami values do', async () => {
    const big = testKey('rsa-4096');
    const run = await runCli(['encrypt', '--cert', fixture.dir.write('c4096.pem', big.certificatePem)], { stdin: secretYaml() });
    expect(sealedDocs(run.stdout)[0]!.spec.encryptedData.password).toMatch(/^Ag/);
  });

  it('seals an empty Secret only with --allow-empty-data', async () => {
    const input = secretYaml({ data: '' });
    const refused = await runCli(['encrypt', '--cert', fixture.certPath], { stdin: input });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('--allow-empty-data');
    const allowed = await runCli(['encrypt', '--cert', fixture.certPath, '--allow-empty-data'], { stdin: input });
    expect(allowed.code).toBe(0);
    expect(sealedDocs(allowed.stdout)[0]!.spec.encryptedData).toEqual({});
  });

  it('warns when a key is in both data and stringData and seals the stringData value', async () => {
    const run = await runCli(['encrypt', '--cert', fixture.certPath], { stdin: secretYaml({ data: 'data:\n  k: YQ==\nstringData:\n  k: b\n' }) });
    expect(run.stderr).toContain('both data and stringData');
    expect(openAll(sealedDocs(run.stdout)[0]!)).toEqual({ k: 'b' });
  });
});

describe('kseal encrypt errors', () => {
  const cases: Array<{ title: string; input: string; code: number; says: RegExp; args?: string[] }> = [
    { title: 'input that is not YAML', input: 'a: [\n  b: ]]]\n', code: 3, says: /not valid YAML at line/ },
    { title: 'input that is not JSON', input: '{"kind": "Secret",,}', code: 3, says: /not valid JSON at line 1/ },
    { title: 'empty input', input: '# only a comment\n', code: 3, says: /no documents/ },
    { title: 'a document that is not a Secret, naming its kind', input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n', code: 3, says: /document 1: expected a Secret but found kind ConfigMap/ },
    { title: 'a missing name', input: secretYaml({ name: '' }), code: 3, says: /no metadata\.name/ },
    { title: 'a missing namespace for strict scope', input: secretYaml({ namespace: '' }), code: 3, says: /no metadata\.namespace/ },
    { title: 'an invalid name', input: secretYaml({ name: 'Bad_Name' }), code: 3, says: /name "Bad_Name" is not valid/ },
    { title: 'invalid base64, naming the key', input: secretYaml({ data: 'data:\n  token: "not base64!"\n' }), code: 3, says: /key "token": the value in data is not valid base64/ },
    { title: 'an invalid key name', input: secretYaml({ data: 'stringData:\n  "bad/key": x\n' }), code: 3, says: /key "bad\/key": the key name is not valid/ },
    { title: 'a Secret over 1 MiB', input: secretYaml({ data: `stringData:\n  big: ${'x'.repeat(1024 * 1024 + 1)}\n` }), code: 3, says: /at most 1048576 \(1 MiB\)/ },
    { title: 'a TLS Secret without tls.key', input: secretYaml({ extra: 'type: kubernetes.io/tls\n', data: 'stringData:\n  tls.crt: x\n' }), code: 3, says: /kubernetes\.io\/tls Secret needs the key "tls\.key"/ },
    { title: 'a docker config Secret without .dockerconfigjson', input: secretYaml({ extra: 'type: kubernetes.io/dockerconfigjson\n' }), code: 3, says: /needs the key "\.dockerconfigjson"/ },
    { title: 'a basic-auth Secret without username or password', input: secretYaml({ extra: 'type: kubernetes.io/basic-auth\n', data: 'stringData:\n  other: x\n' }), code: 3, says: /at least one of the keys "username", "password"/ },
    { title: 'an ssh-auth Secret without ssh-privatekey', input: secretYaml({ extra: 'type: kubernetes.io/ssh-auth\n' }), code: 3, says: /needs the key "ssh-privatekey"/ },
    { title: 'an unknown scope', input: secretYaml(), args: ['--scope', 'galaxy-wide'], code: 2, says: /option '--scope <scope>' argument 'galaxy-wide' is invalid\. Allowed choices are strict, namespace-wide, cluster-wide/ },
    { title: 'an unknown scope annotation', input: secretYaml().replace('  namespace: app\n', '  namespace: app\n  annotations: {kseal.dev/scope: wide}\n'), code: 3, says: /document 1: unknown scope "wide"/ },
    { title: 'a YAML alias bomb', input: `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n`, code: 3, says: /too many aliases/ },
    { title: 'a non-string stringData value', input: secretYaml({ data: 'stringData:\n  enabled: yes\n' }), code: 3, says: /stringData\.enabled must be a string, not a boolean[\s\S]*quote/ },
    { title: 'an unsupported --api-version', input: secretYaml(), args: ['--api-version', 'v1'], code: 2, says: /argument 'v1' is invalid\. Allowed choices are kseal\.dev\/v1alpha1, bitnami\.com\/v1alpha1/ },
  ];
  for (const c of cases) {
    it(`rejects ${c.title} with exit ${c.code}`, async () => {
      const run = await runCli(['encrypt', '--cert', fixture.certPath, ...(c.args ?? [])], { stdin: c.input });
      expect(run.stderr).toMatch(c.says);
      expect(run.code).toBe(c.code);
      expect(run.stdout).toBe('');
      expect(run.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('names the document index of the bad document in a stream', async () => {
    const run = await runCli(['encrypt', '--cert', fixture.certPath], { stdin: `${secretYaml()}---\n${secretYaml({ data: 'data:\n  k: "%%%"\n' })}` });
    expect(run.stderr).toContain('<stdin>: document 2: key "k"');
  });

  it('never shows a value in an error message', async () => {
    const canary = newCanary();
    const inputs = [
      secretYaml({ data: `data:\n  k: "${canary}!"\n` }),
      secretYaml({ data: `stringData:\n  "bad key": ${canary}\n` }),
      `${secretYaml({ data: `stringData:\n  k: ${canary}\n` })}  broken: [\n`,
      `{"apiVersion":"v1","kind":"Secret","stringData":{"k":"${canary}"} "x"}`,
      `a: [\n  ${canary}: ]]]\n`,
      secretYaml({ extra: 'type: kubernetes.io/tls\n', data: `stringData:\n  tls.crt: ${canary}\n` }),
    ];
    for (const stdin of inputs) {
      const run = await runCli(['encrypt', '--cert', fixture.certPath], { stdin });
      expect(run.code).not.toBe(0);
      expect(containsCanary(canary, run.stderr + run.stdout)).toBe(false);
    }
  });

  it('rejects a certificate file that is not PEM', async () => {
    const run = await runCli(['encrypt', '--cert', fixture.dir.write('bad.pem', 'hello')], { stdin: secretYaml() });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('no PEM certificate found');
  });

  it('rejects a private key given as the certificate', async () => {
    const run = await runCli(['encrypt', '--cert', fixture.dir.write('k.pem', key.privateKeyPem)], { stdin: secretYaml() });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('this is a private key, not a certificate');
    expect(run.stderr).not.toContain('PRIVATE KEY-----');
  });

  it('rejects an expired certificate and says when it expired', async () => {
    const run = await runCli(['encrypt', '--cert', fixture.certPath], { stdin: secretYaml(), now: new Date('2200-01-01T00:00:00Z') });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/the certificate expired on 21\d\d-/);
  });

  it('rejects a missing certificate file with an I/O error', async () => {
    const run = await runCli(['encrypt', '--cert', join(fixture.dir.path, 'nope.pem')], { stdin: secretYaml() });
    expect(run.code).toBe(7);
    expect(run.stderr).toContain('nope.pem: no such file');
  });

  it('checks the input before it looks for a certificate', async () => {
    const run = await runCli(['encrypt', '--controller-url', 'http://127.0.0.1:1'], { stdin: secretYaml({ name: '' }) });
    expect(run.code).toBe(3);
  });

  it('rejects an unknown option as a usage error', async () => {
    const run = await runCli(['encrypt', '--nope']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown option '--nope'");
  });
});

describe('kseal encrypt --merge-into', () => {
  const target = (scope: string): string => `# Database credentials, managed by the platform team
apiVersion: kseal.dev/v1alpha1
kind: SealedSecret
metadata:
  name: db
  namespace: app
  annotations:
    kseal.dev/scope: ${scope}
spec:
  encryptedData:
    # the admin password
    alpha: AAAA
    zeta: ZZZZ # rotated yearly
  template:
    type: Opaque
`;

  it('adds and replaces keys, keeping every other ciphertext, comment and line as it was', async () => {
    const file = fixture.dir.write('db.yaml', target('strict'));
    const run = await runCli(['encrypt', '--cert', fixture.certPath, '--merge-into', file], { stdin: secretYaml({ data: 'stringData:\n  mid: new\n  zeta: replaced\n' }) });
    expect(run.code).toBe(0);
    const text = readFileSync(file, 'utf8');
    const before = target('strict').split('\n');
    const after = text.split('\n');
    expect(after.filter((l) => !/^\s+(mid|zeta):/.test(l))).toEqual(before.filter((l) => !/^\s+(zeta):/.test(l)));
    expect(after.findIndex((l) => l.includes('mid:'))).toBeLessThan(after.findIndex((l) => l.includes('zeta:')));
    expect(text).toContain('alpha: AAAA');
    expect(text).toMatch(/zeta: \S+ # rotated yearly/);
  });

  it("seals merged values with the target's scope, not the input's or a flag's default", async () => {
    const file = fixture.dir.write('db.yaml', target('namespace-wide'));
    await runCli(['encrypt', '--cert', fixture.certPath, '--merge-into', file], { stdin: secretYaml({ name: 'other-name', data: 'stringData:\n  mid: new\n' }) });
    const sealed = readSealedSecret(parse(readFileSync(file, 'utf8')), {});
    const { unsealBytes } = await import('../../src/crypto/hybrid.js');
    const value = Buffer.from(sealed.spec.encryptedData.mid!, 'base64');
    expect(unsealBytes([key.privateKey], Buffer.from('app'), value).plaintext.toString()).toBe('new');
  });

  it('refuses a --scope that differs from the target scope and leaves the file alone', async () => {
    const file = fixture.dir.write('db.yaml', target('strict'));
    const run = await runCli(['encrypt', '--cert', fixture.certPath, '--scope', 'cluster-wide', '--merge-into', file], { stdin: secretYaml() });
    expect(run.code).toBe(3);
    expect(readFileSync(file, 'utf8')).toBe(target('strict'));
  });

  it('keeps the file mode of the target', async () => {
    const file = fixture.dir.write('db.yaml', target('strict'));
    const { chmodSync } = await import('node:fs');
    chmodSync(file, 0o640);
    await runCli(['encrypt', '--cert', fixture.certPath, '--merge-into', file], { stdin: secretYaml() });
    expect(statSync(file).mode & 0o777).toBe(0o640);
  });
});

describe('kseal encrypt registered alone', () => {
  // A run that starts with `encrypt` builds only that command (cli/main.ts commandsFor); `help
  // encrypt` builds them all, so the two must print the same.
  it('prints the same help as the program with every command', async () => {
    const alone = await runCli(['encrypt', '--help']);
    const full = await runCli(['help', 'encrypt']);
    expect(alone.code).toBe(0);
    expect(full.code).toBe(0);
    expect(alone.stdout).toContain('--merge-into');
    expect(alone.stdout).toBe(full.stdout);
  });

  it('reports an unknown option as the program with every command does', async () => {
    const alone = await runCli(['encrypt', '--bogus']);
    const full = await runCli(['--error-format', 'text', 'encrypt', '--bogus']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toBe(full.stderr);
  });
});
