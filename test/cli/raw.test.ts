import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unsealBytes } from '../../src/crypto/hybrid.js';
import { runCli, tempDir, type TempDir } from '../helpers/cli.js';
import { testKey } from '../helpers/keys.js';

const key = testKey('rsa-2048');
let dir: TempDir;
let cert: string;
beforeEach(() => {
  dir = tempDir();
  cert = dir.write('cert.pem', key.certificatePem);
});
afterEach(() => dir.remove());

function open(stdout: string, label: string): string {
  return unsealBytes([key.privateKey], Buffer.from(label), Buffer.from(stdout, 'base64')).plaintext.toString('utf8');
}

describe('kseal raw', () => {
  it('seals stdin byte for byte, trailing newline included, and prints base64 without a newline', async () => {
    const run = await runCli(['raw', '--cert', cert, '-n', 'app', '--name', 'db'], { stdin: 'hunter2\n' });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(open(run.stdout, 'app/db')).toBe('hunter2\n');
  });

  it('reads the value from --from-file', async () => {
    const file = dir.write('value.bin', Buffer.from([0, 1, 2, 255]));
    const run = await runCli(['raw', '--cert', cert, '-n', 'app', '--name', 'db', '--from-file', file]);
    const plain = unsealBytes([key.privateKey], Buffer.from('app/db'), Buffer.from(run.stdout, 'base64')).plaintext;
    expect([...plain]).toEqual([0, 1, 2, 255]);
  });

  it('binds a namespace-wide value to the namespace label', async () => {
    const run = await runCli(['raw', '--cert', cert, '--scope', 'namespace-wide', '-n', 'app'], { stdin: 'v' });
    expect(open(run.stdout, 'app')).toBe('v');
  });

  it('binds a cluster-wide value to the empty label', async () => {
    const run = await runCli(['raw', '--cert', cert, '--scope', 'cluster-wide'], { stdin: 'v' });
    expect(open(run.stdout, '')).toBe('v');
  });

  it('refuses strict scope without a name', async () => {
    const run = await runCli(['raw', '--cert', cert, '-n', 'app'], { stdin: 'v' });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('strict scope needs a name');
  });

  it('refuses namespace-wide scope without a namespace', async () => {
    const run = await runCli(['raw', '--cert', cert, '--scope', 'namespace-wide'], { stdin: 'v' });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('namespace-wide scope needs a namespace');
  });

  it('refuses an unknown scope as a usage error', async () => {
    const run = await runCli(['raw', '--cert', cert, '--scope', 'team'], { stdin: 'v' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("argument 'team' is invalid. Allowed choices are strict, namespace-wide, cluster-wide.");
  });

  it('has no option that takes the value from the command line', async () => {
    const run = await runCli(['raw', '--cert', cert, '-n', 'a', '--name', 'b', '--value', 'x']);
    expect(run.code).toBe(2);
  });
});
