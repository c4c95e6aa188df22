/** kseal-controller as a real process (dist/kseal-controller.mjs): start-up failures, --help and --version. */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir, type TempDir } from '../helpers/cli.js';
import { startHttpServer } from '../../controller/http-server.js';
import type { KeyView } from '../../controller/contracts.js';
import { createLogger } from '../../controller/logger.js';
import { ControllerMetrics } from '../../controller/metrics.js';

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

describe('kseal-controller flags', () => {
  it('exits 2 with a message on a bad flag value, before touching any cluster', () => {
    const r = controller(['--resync-period', 'soon']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('invalid duration');
  });

  it('exits 2 on a --watch-namespaces list holding a name that is not a namespace', () => {
    const r = controller(['--watch-namespaces', 'team-a,Team_B']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('namespace "Team_B" must be lowercase');
  });

  it('prints its version with --version', () => {
    const r = controller(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('shows the --namespace default once, naming $POD_NAMESPACE', () => {
    const help = controller(['--help']).stdout;
    expect(help).toMatch(/--namespace <ns> +namespace of the keys and the leader lease\s+\(default: \$POD_NAMESPACE, else kseal-system\)\n/);
    expect(help.match(/\(default:[^)]*\)/g)?.filter((d) => d.includes('POD_NAMESPACE'))).toHaveLength(1);
    expect(help).toContain('--log-format <format>');
  });
});

describe('controller logs and metrics', () => {
  it('logs probe requests at debug, and failing probes and other requests at info', async () => {
    const lines: Array<{ level: string; msg: string; path?: string }> = [];
    const logger = createLogger({ level: 'debug', stream: { write: (s: string) => (lines.push(JSON.parse(s) as { level: string; msg: string }), true) } });
    const keys: KeyView = { list: () => [], newest: () => undefined };
    const server = await startHttpServer({ host: '127.0.0.1', port: 0, metricsPort: 0, keys, unsealer: { unseal: () => Promise.reject(new Error('unused')) }, metrics: new ControllerMetrics(), logger, ready: () => true });
    try {
      await fetch(`http://127.0.0.1:${server.port}/healthz`).then((r) => r.text());
      await fetch(`http://127.0.0.1:${server.port}/readyz`).then((r) => r.text());
      await fetch(`http://127.0.0.1:${server.port}/nope`).then((r) => r.text());
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      await server.close();
    }
    const requests = lines.filter((l) => l.msg === 'http request').map((l) => `${l.level} ${l.path ?? ''}`);
    // /readyz answers 503 here (no key yet): a failing probe is worth an info line.
    expect(requests).toEqual(['debug /healthz', 'info /readyz', 'info /nope']);
  });

  it('writes text lines with --log-format text', () => {
    let out = '';
    createLogger({ format: 'text', stream: { write: (s: string) => ((out += s), true) } }).info('started', { port: 8080, identity: 'a b' });
    expect(out).toMatch(/^\S+ INFO {2}started port=8080 identity="a b"\n$/);
  });

  it('names the default metrics kseal_process_*, not kseal_process_process_*', async () => {
    const text = await new ControllerMetrics({ defaultMetrics: true }).registry.metrics();
    expect(text).toContain('kseal_process_cpu_seconds_total');
    expect(text).not.toContain('kseal_process_process_');
  });
});
