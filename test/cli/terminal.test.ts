/**
 * The built binary as a real process where only a real process shows the behaviour: a terminal on
 * stdin (a pseudo-terminal from util-linux `script`), a reader that closes the pipe (EPIPE), exit
 * codes, the kubectl plugin's name, and the bash completion script in a real bash.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir, type TempDir } from '../helpers/cli.js';
import { testKey } from '../helpers/keys.js';

const BIN = resolve('dist/kseal.cjs');
const SECRET = 'apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: app}\nstringData: {password: "s3cret"}\n';
let dir: TempDir;
beforeEach(() => {
  dir = tempDir();
  dir.write('cert.pem', testKey('rsa-2048').certificatePem);
});
afterEach(() => dir.remove());

const env = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH ?? '', HOME: dir.path });

function kseal(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir.path, input, encoding: 'utf8', env: env(), timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('kseal as a process', () => {
  it('exits 2 and writes nothing for `kseal < secret.yaml > sealed.yaml`', () => {
    const r = kseal([], SECRET);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('kseal: error: no command given');
  });

  it('says what it expects when stdin is a terminal, and then reads it', () => {
    // script gives the command a pseudo-terminal; the input ends with Ctrl-D (EOF in canonical mode).
    const r = spawnSync('script', ['-qec', `${process.execPath} ${BIN} encrypt --cert cert.pem`, '/dev/null'], { cwd: dir.path, input: `${SECRET}\u0004`, encoding: 'utf8', env: env(), timeout: 20_000 });
    expect(r.stdout).toContain('kseal: tty detected: expecting a Secret manifest (YAML or JSON) on stdin; end it with Ctrl-D, or pass a file instead');
    expect(r.stdout).toContain('kind: SealedSecret');
    expect(r.status).toBe(0);
  });

  it('says nothing about a terminal when stdin is a pipe', () => {
    const r = kseal(['encrypt', '--cert', 'cert.pem'], SECRET);
    expect(r.stderr).toBe('');
  });

  it('exits quietly with 141 when the reader closes the pipe (EPIPE), without a stack trace', async () => {
    const child = spawn(process.execPath, [BIN, 'completion', 'bash'], { cwd: dir.path, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before kseal writes
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const status = await new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    expect(stderr).toBe('');
    expect(status).toBe(141);
  });

  it('exits 2 for a bad flag value and 0 for help', () => {
    expect(kseal(['encrypt', '--scope', 'wide']).status).toBe(2);
    expect(kseal(['help', 'encrypt']).status).toBe(0);
  });

  it('calls itself kubectl kseal in help when run as the kubectl plugin', () => {
    mkdirSync(join(dir.path, 'bin'));
    symlinkSync(BIN, join(dir.path, 'bin', 'kubectl-kseal'));
    const r = spawnSync('kubectl', ['kseal', '--help'], { cwd: dir.path, encoding: 'utf8', env: { ...env(), PATH: `${join(dir.path, 'bin')}:${process.env.PATH ?? ''}` } });
    expect(r.stdout).toMatch(/^Usage: kubectl kseal \[options\] \[command\]/);
    expect(r.stdout).not.toMatch(/^ {2}kseal /m);
  });

  it('completes commands, options and choices in a real bash from kseal completion bash', () => {
    mkdirSync(join(dir.path, 'bin'));
    symlinkSync(BIN, join(dir.path, 'bin', 'kseal'));
    const script = `source <(kseal completion bash)
complete -p kseal
COMP_WORDS=(kseal enc); COMP_CWORD=1; _kseal_complete; echo "1:\${COMPREPLY[*]}"
COMP_WORDS=(kseal encrypt --sco); COMP_CWORD=2; _kseal_complete; echo "2:\${COMPREPLY[*]}"
COMP_WORDS=(kseal encrypt --scope n); COMP_CWORD=3; _kseal_complete; echo "3:\${COMPREPLY[*]}"
COMP_WORDS=(kseal encrypt --cert ce); COMP_CWORD=3; _kseal_complete; echo "4:\${COMPREPLY[*]}"
`;
    const r = spawnSync('bash', ['--norc', '-c', script], { cwd: dir.path, encoding: 'utf8', env: { ...env(), PATH: `${join(dir.path, 'bin')}:${process.env.PATH ?? ''}` } });
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual(['complete -F _kseal_complete kseal', '1:encrypt', '2:--scope', '3:namespace-wide', '4:cert.pem', '']);
  });
});
