import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { contextNamespace, loadKubeconfig } from '../../net/kubeconfig.js';
import { loadKubeConfig } from '../../net/kube-config-client.js';
import { tempDir, type TempDir } from '../helpers/cli.js';
import { ksealErrorOf } from '../helpers/errors.js';
import type { ErrorCode, KsealError } from '../../src/errors.js';

function expectKsealError(fn: () => unknown, code: ErrorCode): KsealError {
  const e = ksealErrorOf(fn);
  expect(e.code).toBe(code);
  return e;
}

let dir: TempDir;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.remove());

function kubeconfig(options: { current?: string; contexts?: { name: string; cluster?: string; namespace?: string }[]; clusters?: { name: string; server: string; ca?: string }[] }): string {
  const clusters = options.clusters ?? [{ name: 'c1', server: 'https://one.example:6443' }];
  const contexts = options.contexts ?? [{ name: 'ctx1', cluster: 'c1' }];
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    ...clusters.map((c) => `- name: ${c.name}\n  cluster:\n    server: ${c.server}${c.ca === undefined ? '' : `\n    certificate-authority: ${c.ca}`}`),
    'users:',
    '- name: u1',
    '  user: {token: abc}',
    'contexts:',
    ...contexts.map((c) => `- name: ${c.name}\n  context:\n    cluster: ${c.cluster ?? 'c1'}\n    user: u1${c.namespace === undefined ? '' : `\n    namespace: ${c.namespace}`}`),
    ...(options.current === undefined ? [] : [`current-context: ${options.current}`]),
    '',
  ].join('\n');
}

describe('the kubeconfig loader', () => {
  it('reads --kubeconfig and takes the namespace of the current context', () => {
    const file = dir.write('kc', kubeconfig({ current: 'ctx1', contexts: [{ name: 'ctx1', namespace: 'team-a' }] }));
    const resolved = loadKubeconfig({ kubeconfig: file }, {});
    expect(resolved).toMatchObject({ source: 'files', context: 'ctx1', namespace: 'team-a', server: 'https://one.example:6443' });
  });

  it('uses "default" when the context sets no namespace, as kubectl does', () => {
    const file = dir.write('kc', kubeconfig({ current: 'ctx1' }));
    expect(loadKubeconfig({ kubeconfig: file }, {}).namespace).toBe('default');
  });

  it('merges every file of KUBECONFIG, the first file to set a value winning, and skips missing files', () => {
    const a = dir.write('a', kubeconfig({ current: 'ctx1', contexts: [{ name: 'ctx1', namespace: 'first' }] }));
    const b = dir.write('b', kubeconfig({ current: 'ctx2', contexts: [{ name: 'ctx1', namespace: 'second' }, { name: 'ctx2', namespace: 'two' }] }));
    const env = { KUBECONFIG: `${join(dir.path, 'missing')}:${a}:${b}` };
    expect(loadKubeconfig({}, env)).toMatchObject({ context: 'ctx1', namespace: 'first', files: [a, b] });
    expect(loadKubeconfig({ context: 'ctx2' }, env).namespace).toBe('two');
  });

  it('falls back to ~/.kube/config', () => {
    mkdirSync(join(dir.path, '.kube'));
    dir.write('.kube/config', kubeconfig({ current: 'ctx1', contexts: [{ name: 'ctx1', namespace: 'home' }] }));
    expect(loadKubeconfig({}, { HOME: dir.path }).namespace).toBe('home');
  });

  it('names the missing context and lists the ones there are', () => {
    const file = dir.write('kc', kubeconfig({ current: 'ctx1' }));
    const e = expectKsealError(() => loadKubeconfig({ kubeconfig: file, context: 'nope' }, {}), 'KUBECONFIG_INVALID');
    expect(e.message).toBe('the kubeconfig has no context "nope"');
    expect(e.hint).toContain('ctx1');
  });

  it('says no kubeconfig was found and where it looked', () => {
    const e = expectKsealError(() => loadKubeconfig({}, { HOME: dir.path }, { serviceAccountDir: join(dir.path, 'sa') }), 'NO_KUBECONFIG');
    expect(e.message).toBe(`no kubeconfig found (looked at ${join(dir.path, '.kube', 'config')})`);
    expect(e.hint).toContain('--cert FILE');
  });

  it('uses the in-cluster service account when there is no file', () => {
    dir.write('token', 't');
    dir.write('namespace', 'kseal-system\n');
    const resolved = loadKubeconfig({}, { HOME: join(dir.path, 'nohome'), KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, { serviceAccountDir: dir.path });
    expect(resolved).toMatchObject({ source: 'in-cluster', namespace: 'kseal-system', server: 'https://10.0.0.1:443' });
  });

  it('resolves relative certificate paths against the kubeconfig file, as kubectl does', () => {
    mkdirSync(join(dir.path, 'sub'));
    const file = dir.write('sub/kc', kubeconfig({ current: 'ctx1', clusters: [{ name: 'c1', server: 'https://x:1', ca: 'ca.crt' }] }));
    const resolved = loadKubeconfig({ kubeconfig: file }, {});
    if (resolved.source !== 'files') throw new Error('expected files');
    expect((resolved.document.clusters[0]?.cluster as { 'certificate-authority': string })['certificate-authority']).toBe(join(dir.path, 'sub', 'ca.crt'));
  });

  it('gives no context namespace on a machine without a kubeconfig, but fails on a broken one', () => {
    expect(contextNamespace({}, { HOME: dir.path }, { serviceAccountDir: join(dir.path, 'sa') })).toBeUndefined();
    const file = dir.write('kc', 'apiVersion: v1\nkind: Config\n');
    expectKsealError(() => contextNamespace({ kubeconfig: file }, {}), 'KUBECONFIG_INVALID');
  });

  it('builds a client-node KubeConfig with the chosen context', () => {
    const file = dir.write('kc', kubeconfig({ current: 'ctx1', contexts: [{ name: 'ctx1' }, { name: 'ctx2', cluster: 'c2' }], clusters: [{ name: 'c1', server: 'https://one:1' }, { name: 'c2', server: 'https://two:2' }] }));
    const kc = loadKubeConfig({ kubeconfig: file, context: 'ctx2' }, {});
    expect(kc.getCurrentCluster()?.server).toBe('https://two:2');
    expect(kc.getCurrentUser()?.token).toBe('abc');
  });
});
