/**
 * The built binary (dist/kseal.cjs, built by the global test setup) as a real process over
 * stdin/stdout, and the promise that offline commands never load @kubernetes/client-node.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, openSync, closeSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir, type TempDir } from '../helpers/cli.js';
import { testKey } from '../helpers/keys.js';

const BIN = resolve('dist/kseal.cjs');
const key = testKey('rsa-2048');
const SECRET = 'apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: app}\nstringData: {password: hunter2}\n';
let dir: TempDir;

beforeEach(() => {
  dir = tempDir();
  dir.write('cert.pem', key.certificatePem);
  dir.write('key.pem', key.privateKeyPem);
});
afterEach(() => dir.remove());

function kseal(args: string[], input?: string, bin = BIN, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir.path, input, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: dir.path, ...env }, timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the kseal binary', () => {
  it('seals stdin to stdout and exits 0', () => {
    const r = kseal(['encrypt', '--cert', 'cert.pem'], SECRET);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(parse(r.stdout)).toMatchObject({ kind: 'SealedSecret', metadata: { name: 'db', namespace: 'app' } });
  });

  it('round-trips through encrypt and decrypt as two processes', () => {
    const sealed = kseal(['encrypt', '--cert', 'cert.pem'], SECRET).stdout;
    const opened = kseal(['decrypt', '--key', 'key.pem'], sealed);
    expect(opened.status).toBe(0);
    expect(Buffer.from((parse(opened.stdout) as { data: { password: string } }).data.password, 'base64').toString()).toBe('hunter2');
  });

  it('exits 3 with a one-line error and no stack trace on bad input', () => {
    const r = kseal(['encrypt', '--cert', 'cert.pem'], 'kind: ConfigMap\napiVersion: v1\n');
    expect(r.status).toBe(3);
    expect(r.stderr).toBe('kseal: error: <stdin>: document 1: expected a Secret but found kind ConfigMap\n  hint: kseal encrypt seals kind: Secret (v1) documents\n');
  });

  it('prints its version and help', () => {
    expect(kseal(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const help = kseal(['encrypt', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Examples:');
  });

  it('works as a kubectl plugin named kubectl-kseal', () => {
    const plugin = join(dir.path, 'bin', 'kubectl-kseal');
    mkdirSync(join(dir.path, 'bin'));
    symlinkSync(BIN, plugin);
    const r = spawnSync('kubectl', ['kseal', 'encrypt', '--cert', 'cert.pem'], { cwd: dir.path, input: SECRET, encoding: 'utf8', env: { PATH: `${join(dir.path, 'bin')}:${process.env.PATH ?? ''}`, HOME: dir.path } });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('kind: SealedSecret');
  });
});

describe('what kseal encrypt --cert loads', () => {
  // The built-in modules loaded by the time the process exits, with stdin a pipe and stdout and stderr a file.
  function modulesLoaded(args: string[], input: string): { status: number | null; modules: string[]; output: string } {
    const list = join(dir.path, 'modules.json');
    const preload = join(dir.path, 'record-modules.cjs');
    writeFileSync(preload, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(list)}, JSON.stringify(process.moduleLoadList)));\n`);
    const out = join(dir.path, 'out.yaml');
    const fd = openSync(out, 'w');
    try {
      const r = spawnSync(process.execPath, ['-r', preload, BIN, ...args], { cwd: dir.path, input, stdio: ['pipe', fd, fd], env: { PATH: process.env.PATH ?? '', HOME: dir.path }, timeout: 20_000 });
      return { status: r.status, modules: JSON.parse(readFileSync(list, 'utf8')) as string[], output: readFileSync(out, 'utf8') };
    } finally {
      closeSync(fd);
    }
  }

  it('leaves fs/promises, worker_threads, os, net, child_process and timers/promises unloaded', () => {
    const r = modulesLoaded(['encrypt', '--cert', 'cert.pem'], SECRET);
    expect(r.status).toBe(0);
    expect(r.output).toContain('kind: SealedSecret');
    for (const name of ['fs/promises', 'worker_threads', 'os', 'net', 'child_process', 'timers/promises']) expect(r.modules).not.toContain(`NativeModule ${name}`);
  });

  it('does load fs/promises for -w, so the check above can fail', () => {
    const r = modulesLoaded(['encrypt', '--cert', 'cert.pem', '-w', 'sealed.yaml'], SECRET);
    expect(r.status).toBe(0);
    expect(r.modules).toContain('NativeModule fs/promises');
  });

  it('seals for an escrow recipient through the lazily loaded tweetnacl and opens it with the identity', () => {
    expect(kseal(['identity', 'new', '-o', 'escrow.txt']).status).toBe(0);
    const recipient = kseal(['identity', 'public', 'escrow.txt']).stdout.trim();
    const sealed = kseal(['encrypt', '--cert', 'cert.pem', '--recipient', recipient], SECRET);
    expect(sealed.stderr).toBe('');
    const opened = kseal(['decrypt', '--identity', 'escrow.txt'], sealed.stdout);
    expect(opened.status).toBe(0);
    expect(opened.stderr).toContain('opened with escrow identity');
    expect(Buffer.from((parse(opened.stdout) as { data: { password: string } }).data.password, 'base64').toString()).toBe('hunter2');
  });
});

describe('offline commands and @kubernetes/client-node', () => {
  // A copy of the bundle next to a stand-in client-node that leaves a marker file when loaded.
  function isolatedBundle(): { bin: string; marker: string } {
    const root = join(dir.path, 'isolated');
    const fake = join(root, 'node_modules', '@kubernetes', 'client-node');
    mkdirSync(fake, { recursive: true });
    writeFileSync(join(fake, 'package.json'), JSON.stringify({ name: '@kubernetes/client-node', main: 'index.js' }));
    writeFileSync(join(fake, 'index.js'), "require('fs').writeFileSync(process.env.KSEAL_MARKER, 'loaded'); module.exports = {};\n");
    symlinkSync(resolve('node_modules/node-forge'), join(root, 'node_modules', 'node-forge'));
    for (const file of ['kseal.cjs', 'code-cache.cjs', 'kseal-cli.cjs', 'kseal-cli.cache']) copyFileSync(resolve('dist', file), join(root, file));
    return { bin: join(root, 'kseal.cjs'), marker: join(dir.path, 'client-node-loaded') };
  }

  it('kseal encrypt --cert never loads client-node', () => {
    const { bin, marker } = isolatedBundle();
    const r = kseal(['encrypt', '--cert', 'cert.pem'], SECRET, bin, { KSEAL_MARKER: marker });
    expect(r.status).toBe(0);
    expect(existsSync(marker)).toBe(false);
  });

  it('kseal raw, decrypt and keygen never load client-node', () => {
    const { bin, marker } = isolatedBundle();
    const env = { KSEAL_MARKER: marker };
    expect(kseal(['raw', '--cert', 'cert.pem', '-n', 'a', '--name', 'b'], 'v', bin, env).status).toBe(0);
    const sealed = kseal(['encrypt', '--cert', 'cert.pem'], SECRET, bin, env).stdout;
    expect(kseal(['decrypt', '--key', 'key.pem'], sealed, bin, env).status).toBe(0);
    expect(kseal(['keygen', '--bits', '2048'], undefined, bin, env).status).toBe(0);
    expect(existsSync(marker)).toBe(false);
  });

  it('does load it for the service-proxy path, so the check above can fail', () => {
    const { bin, marker } = isolatedBundle();
    dir.write('kubeconfig', 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:1"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n');
    kseal(['cert', '--kubeconfig', 'kubeconfig'], undefined, bin, { KSEAL_MARKER: marker });
    expect(existsSync(marker)).toBe(true);
  });
});
