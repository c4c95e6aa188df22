import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCertificate } from '../../src/crypto/certificate.js';
import { readPrivateKeys } from '../../src/model/key-secret.js';
import { runCli, tempDir, type TempDir } from '../helpers/cli.js';

let dir: TempDir;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.remove());

const mode = (file: string): number => statSync(join(dir.path, file)).mode & 0o777;

describe('kseal keygen', () => {
  it('writes a 0600 private key and a 0644 certificate that belong together', async () => {
    const run = await runCli(['keygen', '--bits', '2048'], { cwd: dir.path });
    expect(run.code).toBe(0);
    expect(mode('kseal.key')).toBe(0o600);
    expect(mode('kseal.crt')).toBe(0o644);
    const cert = parseCertificate(readFileSync(join(dir.path, 'kseal.crt')));
    const [key] = readPrivateKeys(readFileSync(join(dir.path, 'kseal.key'), 'utf8'), 'kseal.key');
    expect(cert.keyId).toBe(key?.keyId);
    expect(cert.bits).toBe(2048);
    expect(run.stderr).toContain(cert.keyId.slice(0, 12));
  });

  it('sets the certificate lifetime from --days', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    await runCli(['keygen', '--bits', '2048', '--days', '30'], { cwd: dir.path, now });
    const cert = parseCertificate(readFileSync(join(dir.path, 'kseal.crt')), { now });
    expect(cert.notAfter.toISOString()).toBe('2030-01-31T00:00:00.000Z');
  });

  it('writes a key Secret manifest (0600) for the controller namespace', async () => {
    await runCli(['keygen', '--bits', '2048', '--secret-out', 'key.yaml', '--secret-name', 'byo-key'], { cwd: dir.path });
    expect(mode('key.yaml')).toBe(0o600);
    const manifest = parse(readFileSync(join(dir.path, 'key.yaml'), 'utf8')) as { metadata: Record<string, unknown>; type: string };
    expect(manifest.type).toBe('kubernetes.io/tls');
    expect(manifest.metadata).toEqual({ name: 'byo-key', namespace: 'kseal-system', labels: { 'kseal.dev/sealing-key': 'active' } });
    expect(readPrivateKeys(readFileSync(join(dir.path, 'key.yaml'), 'utf8'), 'key.yaml')).toHaveLength(1);
  });

  it('refuses to overwrite an existing key and writes nothing', async () => {
    dir.write('kseal.crt', 'old');
    const run = await runCli(['keygen', '--bits', '2048'], { cwd: dir.path });
    expect(run.code).toBe(7);
    expect(run.stderr).toContain('kseal.crt: the file already exists');
    expect(readFileSync(join(dir.path, 'kseal.crt'), 'utf8')).toBe('old');
    expect(() => statSync(join(dir.path, 'kseal.key'))).toThrow();
  });

  it('replaces existing files with --force and still makes the key 0600', async () => {
    dir.write('kseal.key', 'old');
    await runCli(['keygen', '--bits', '2048', '--force'], { cwd: dir.path });
    expect(mode('kseal.key')).toBe(0o600);
    expect(readFileSync(join(dir.path, 'kseal.key'), 'utf8')).toContain('BEGIN RSA PRIVATE KEY');
  });

  it('refuses an unsupported key size', async () => {
    const run = await runCli(['keygen', '--bits', '1024'], { cwd: dir.path });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("option '--bits <n>' argument '1024' is invalid. Allowed choices are 2048, 3072, 4096.");
  });
});
