// kubectl v1.32 (/usr/bin/kubectl) against the server, through --kubeconfig and through --server.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeApi } from '../../kube-api/server.js';
import type { JsonObject, KubeApiServer } from '../../kube-api/server.js';
import { sealedSecretCrd } from './test-helpers.js';

const KUBECTL = '/usr/bin/kubectl';
let server: KubeApiServer;
let dir: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectl(args: string[], viaServerFlag = false): Promise<Run> {
  const conn = viaServerFlag
    ? ['--server', server.url, '--token', server.token, '--kubeconfig', join(dir, 'empty-config')]
    : ['--kubeconfig', server.kubeconfigPath];
  return new Promise((resolve) => {
    execFile(KUBECTL, [...conn, '--cache-dir', join(dir, 'cache'), ...args], { env: { ...process.env, HOME: dir }, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

function manifest(name: string, obj: JsonObject): string {
  const file = join(dir, name);
  writeFileSync(file, stringify(obj));
  return file;
}

const SS = (password: string): JsonObject => ({
  apiVersion: 'kseal.dev/v1alpha1',
  kind: 'SealedSecret',
  metadata: { name: 'db', namespace: 'demo' },
  spec: { encryptedData: { password } },
});

beforeAll(async () => {
  server = await startKubeApi();
  dir = mkdtempSync(join(tmpdir(), 'kube-api-kubectl-'));
  writeFileSync(join(dir, 'empty-config'), 'apiVersion: v1\nkind: Config\n');
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('kubectl', () => {
  it('reports the server version', async () => {
    const r = await kubectl(['version', '-o', 'json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { serverVersion: { gitVersion: string } }).serverVersion.gitVersion).toBe('v1.32.0-kseal');
  });

  it('creates a namespace (protobuf request body) and gets it', async () => {
    const r = await kubectl(['create', 'namespace', 'demo']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('namespace/demo created');
    const get = await kubectl(['get', 'namespace', 'demo', '-o', 'jsonpath={.status.phase}']);
    expect(get.stdout).toBe('Active');
  });

  it('applies a CRD and waits for it to be Established', async () => {
    const r = await kubectl(['apply', '-f', manifest('crd.yaml', sealedSecretCrd())]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('customresourcedefinition.apiextensions.k8s.io/sealedsecrets.kseal.dev created');
    const w = await kubectl(['wait', '--for=condition=Established', 'crd/sealedsecrets.kseal.dev', '--timeout=10s']);
    expect(w.stdout.trim()).toBe('customresourcedefinition.apiextensions.k8s.io/sealedsecrets.kseal.dev condition met');
  });

  it('applies a custom object, then re-applies a change as a merge patch', async () => {
    const created = await kubectl(['apply', '-f', manifest('ss.yaml', SS('AgA1'))]);
    expect(created.stderr).toBe('');
    expect(created.stdout.trim()).toBe('sealedsecret.kseal.dev/db created');
    const again = await kubectl(['apply', '-f', manifest('ss.yaml', SS('AgA2'))]);
    expect(again.stdout.trim()).toBe('sealedsecret.kseal.dev/db configured');
    const unchanged = await kubectl(['apply', '-f', manifest('ss.yaml', SS('AgA2'))]);
    expect(unchanged.stdout.trim()).toBe('sealedsecret.kseal.dev/db unchanged');
  });

  it('gets the custom object as YAML', async () => {
    const r = await kubectl(['get', 'sealedsecret', 'db', '-n', 'demo', '-o', 'yaml']);
    expect(r.code).toBe(0);
    const obj = parse(r.stdout) as { apiVersion: string; kind: string; metadata: { generation: number; annotations: Record<string, string> }; spec: unknown };
    expect(obj.apiVersion).toBe('kseal.dev/v1alpha1');
    expect(obj.kind).toBe('SealedSecret');
    expect(obj.spec).toEqual({ encryptedData: { password: 'AgA2' } });
    expect(obj.metadata.generation).toBe(2);
    expect(obj.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toContain('AgA2');
  });

  it('prints a server-side table with the printer columns (short name)', async () => {
    const r = await kubectl(['get', 'ss', '-n', 'demo']);
    expect(r.stdout.split('\n')[0]).toMatch(/^NAME\s+READY$/);
    expect(r.stdout).toMatch(/\ndb\s+\n?/);
  });

  it('waits for condition=Ready set through the status subresource', async () => {
    const waiting = kubectl(['wait', '--for=condition=Ready', 'sealedsecret/db', '-n', 'demo', '--timeout=15s']);
    await new Promise((r) => setTimeout(r, 300));
    const current = server.store.get('kseal.dev/v1alpha1', 'SealedSecret', 'db', 'demo')!;
    server.store.updateStatus({
      ...current,
      status: { observedGeneration: 2, conditions: [{ type: 'Ready', status: 'True', reason: 'Unsealed', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
    });
    const r = await waiting;
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('sealedsecret.kseal.dev/db condition met');
  });

  it('patches status with --subresource=status', async () => {
    const r = await kubectl(['patch', 'sealedsecret', 'db', '-n', 'demo', '--subresource=status', '--type=merge', '-p', '{"status":{"observedGeneration":3}}']);
    expect(r.stdout.trim()).toBe('sealedsecret.kseal.dev/db patched');
    const get = await kubectl(['get', 'sealedsecret', 'db', '-n', 'demo', '-o', 'jsonpath={.status.observedGeneration}']);
    expect(get.stdout).toBe('3');
  });

  it('creates and re-applies a Secret client-side (strategic merge patch) and server-side', async () => {
    const sec = (user: string): JsonObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app', namespace: 'demo' }, stringData: { user } });
    expect((await kubectl(['apply', '-f', manifest('s.yaml', sec('admin'))])).stdout.trim()).toBe('secret/app created');
    expect((await kubectl(['apply', '-f', manifest('s.yaml', sec('root'))])).stdout.trim()).toBe('secret/app configured');
    const ssa = await kubectl(['apply', '--server-side', '-f', manifest('s2.yaml', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'ssa', namespace: 'demo' }, data: { k: 'dg==' } })]);
    expect(ssa.stdout.trim()).toBe('secret/ssa serverside-applied');
    const get = await kubectl(['get', 'secret', 'app', '-n', 'demo', '-o', 'jsonpath={.data.user}']);
    expect(Buffer.from(get.stdout, 'base64').toString()).toBe('root');
  });

  it('works with --server and --token instead of a kubeconfig', async () => {
    const r = await kubectl(['get', 'secrets', '-n', 'demo', '-o', 'name'], true);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n').sort()).toEqual(['secret/app', 'secret/ssa']);
  });

  it('deletes the custom object and reports NotFound afterwards', async () => {
    const r = await kubectl(['delete', 'sealedsecret', 'db', '-n', 'demo']);
    expect(r.stdout.trim()).toBe('sealedsecret.kseal.dev "db" deleted');
    const get = await kubectl(['get', 'sealedsecret', 'db', '-n', 'demo']);
    expect(get.code).not.toBe(0);
    expect(get.stderr.trim()).toBe('Error from server (NotFound): sealedsecrets.kseal.dev "db" not found');
  });

  it('deletes the namespace and waits until it is gone', async () => {
    const r = await kubectl(['delete', 'namespace', 'demo', '--timeout=15s']);
    expect(r.stdout.trim()).toBe('namespace "demo" deleted');
    expect(server.store.get('v1', 'Namespace', 'demo')).toBeUndefined();
    expect(server.store.list('v1', 'Secret', 'demo')).toEqual([]);
  });
});
