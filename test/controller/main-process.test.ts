/** kseal-controller as a real process (dist/kseal-controller.mjs): start-up failures, --help and --version. */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir, type TempDir } from '../helpers/cli.js';

const BIN = resolve('dist/kseal-controller.mjs');
let dir: TempDir;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.remove());

function controller(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir.path, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: dir.path, ...env }, timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('kseal-controller start-up', () => {
  it('exits 2 at once with a clear message when there is no kubeconfig and it is not in a pod', () => {
    const r = controller(['--port', '0', '--metrics-port', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('cannot start: no kubeconfig found');
    expect(r.stderr).toContain('pass --kubeconfig FILE');
    expect(r.stderr).not.toContain('started');
  });

  it('exits 2 naming the context when --context does not exist', () => {
    dir.write('kc', 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:1"}}]\ncontexts: [{name: a, context: {cluster: c}}]\ncurrent-context: a\n');
    const r = controller(['--kubeconfig', 'kc', '--context', 'nope']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('the kubeconfig has no context "nope"');
  });
});
