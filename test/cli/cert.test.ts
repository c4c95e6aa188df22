import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, tempDir, type TempDir } from '../helpers/cli.js';
import { startFakeController, kubeconfigFor, type FakeController } from '../helpers/fake-controller.js';
import { testKey } from '../helpers/keys.js';

const key = testKey('rsa-2048');
let dir: TempDir;
let controller: FakeController;

beforeEach(async () => {
  dir = tempDir();
  controller = await startFakeController(key.certificatePem);
});
afterEach(async () => {
  dir.remove();
  await controller.close();
});

describe('kseal cert', () => {
  it('prints the certificate fetched from --controller-url', async () => {
    const run = await runCli(['cert', '--controller-url', controller.url]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(key.certificate.pem);
    expect(controller.requests.map((r) => r.path)).toEqual(['/v1/cert.pem']);
  });

  it('takes the controller URL from KSEAL_CONTROLLER_URL', async () => {
    const run = await runCli(['cert'], { env: { KSEAL_CONTROLLER_URL: `${controller.url}/` } });
    expect(run.stdout).toBe(key.certificate.pem);
  });

  it('reaches the controller through the Kubernetes API service proxy with the kubeconfig credentials', async () => {
    const kubeconfig = dir.write('kubeconfig', kubeconfigFor(controller.url, 'tok-123'));
    const run = await runCli(['cert', '--kubeconfig', kubeconfig]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(key.certificate.pem);
    expect(controller.requests[0]).toEqual({ method: 'GET', path: '/api/v1/namespaces/kseal-system/services/http:kseal-controller:http/proxy/v1/cert.pem', authorization: 'Bearer tok-123' });
  });

  it('uses --controller-namespace, --controller-name and --context on the proxy path', async () => {
    const kubeconfig = dir.write('kubeconfig', kubeconfigFor(controller.url));
    await runCli(['cert', '--kubeconfig', kubeconfig, '--context', 'other', '--controller-namespace', 'sec', '--controller-name', 'ks']);
    expect(controller.requests[0]?.path).toBe('/api/v1/namespaces/sec/services/http:ks:http/proxy/v1/cert.pem');
  });

  it('finds the kubeconfig through KUBECONFIG', async () => {
    const kubeconfig = dir.write('kubeconfig', kubeconfigFor(controller.url));
    const run = await runCli(['cert'], { env: { KUBECONFIG: kubeconfig } });
    expect(run.code).toBe(0);
  });

  it('writes the certificate to a file with -w', async () => {
    await runCli(['cert', '--controller-url', controller.url, '-w', 'cert.pem'], { cwd: dir.path });
    expect(readFileSync(join(dir.path, 'cert.pem'), 'utf8')).toBe(key.certificate.pem);
  });

  it('says the controller is unreachable, and how to seal offline, with exit 6', async () => {
    const run = await runCli(['cert', '--controller-url', 'http://127.0.0.1:1']);
    expect(run.code).toBe(6);
    expect(run.stderr).toMatch(/cannot reach the controller at http:\/\/127\.0\.0\.1:1: ECONNREFUSED[\s\S]*--cert FILE/);
  });

  it('reports an error status from the controller with exit 6', async () => {
    const broken = await startFakeController('', (_req, _body, res) => {
      res.writeHead(503).end('no key yet');
      return true;
    });
    try {
      const run = await runCli(['cert', '--controller-url', broken.url]);
      expect(run.code).toBe(6);
      expect(run.stderr).toContain('answered 503');
    } finally {
      await broken.close();
    }
  });

  it('rejects an answer that is not a certificate', async () => {
    const bogus = await startFakeController('<html>login</html>');
    try {
      const run = await runCli(['cert', '--controller-url', bogus.url]);
      expect(run.code).toBe(4);
      expect(run.stderr).toContain('no PEM certificate found');
    } finally {
      await bogus.close();
    }
  });

  it('rejects a kubeconfig that cannot be read', async () => {
    const run = await runCli(['cert', '--kubeconfig', join(dir.path, 'missing')]);
    expect(run.code).toBe(6);
    expect(run.stderr).toContain('no such kubeconfig file');
  });
});

describe('kseal encrypt certificate sources', () => {
  it('fetches the certificate from a --cert URL', async () => {
    const run = await runCli(['encrypt', '--cert', `${controller.url}/v1/cert.pem`], { stdin: 'apiVersion: v1\nkind: Secret\nmetadata: {name: a, namespace: b}\nstringData: {k: v}\n' });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(key.certificate.keyId);
  });

  it('fetches the certificate from the controller when no --cert is given', async () => {
    const run = await runCli(['encrypt', '--controller-url', controller.url], { stdin: 'apiVersion: v1\nkind: Secret\nmetadata: {name: a, namespace: b}\nstringData: {k: v}\n' });
    expect(run.code).toBe(0);
    expect(controller.requests).toHaveLength(1);
  });
});
