import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runDemo, type DemoRun } from '../../demo/demo.js';
import { runCli } from '../helpers/cli.js';

let demo: DemoRun | undefined;
let dir: string | undefined;
afterEach(async () => {
  await demo?.stop();
  demo = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('runDemo', () => {
  it('seals the examples with the served certificate, waits for Ready and masks the values', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kseal-demo-'));
    let text = '';
    demo = await runDemo({ keySize: 2048, workDir: dir, out: (t) => (text += t) });
    const database = demo.secrets.find((s) => s.name === 'database');
    expect(database?.values).toEqual({ username: 'shop', password: 'correct-horse-battery-staple', 'api-token': 'sk-test-1234567890' });
    expect(demo.secrets.map((s) => `${s.namespace}/${s.name}`)).toEqual(['demo/database', 'demo/shop-tls']);
    expect(text).toContain('Certificate fetched from /v1/cert.pem');
    expect(text).toContain(`export KUBECONFIG=${join(dir, 'kubeconfig')}`);
    expect(text).not.toContain('correct-horse-battery-staple');
  });

  it('prints the KSEAL_CONTROLLER_URL line with which kseal cert reaches the demo controller', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kseal-demo-'));
    let text = '';
    demo = await runDemo({ keySize: 2048, workDir: dir, out: (t) => (text += t) });
    const url = /export KSEAL_CONTROLLER_URL=(\S+)\n/.exec(text)?.[1];
    expect(url).toBe(`http://127.0.0.1:${demo.controller.port}`);
    const run = await runCli(['cert'], { env: { KSEAL_CONTROLLER_URL: url } });
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
  });

  it('prints the values with showValues', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kseal-demo-'));
    let text = '';
    demo = await runDemo({ keySize: 2048, workDir: dir, showValues: true, out: (t) => (text += t) });
    expect(text).toContain('"correct-horse-battery-staple"');
  });
});
