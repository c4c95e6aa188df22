/**
 * The sealing page served by a real controller process (dist/kseal-controller.mjs) against the in-repo
 * Kubernetes API, in Chromium: what the page seals for each scope becomes a Ready SealedSecret with the
 * right Secret, `kseal decrypt --key` (with the controller's own key) opens it too, and the check tab
 * asks /v1/verify about a pasted SealedSecret. No request carries a value.
 */
import type { Browser, Page } from 'playwright-core';
import { parse } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../controller/kube-client.js';
import type { Scope } from '../../src/model/scope.js';
import { containsCanary, newCanary } from '../helpers/canary.js';
import { runCli, tempDir, type TempDir } from '../helpers/cli.js';
import { createSealed, e2eEnv, kill, runControllerProcess, secretValues, waitReady, type ControllerProcess, type E2eEnv } from '../controller/e2e-env.js';
import { fillRow, launchBrowser, pageCspViolations, seal, waitForCertificate, watchedPage, type WatchedPage } from './browser.js';

let env: E2eEnv;
let controller: ControllerProcess;
let browser: Browser;
let base: string;
let controllerNs: string;
let app: string;
let tmp: TempDir;
let watched: WatchedPage[] = [];

beforeAll(async () => {
  tmp = tempDir();
  env = await e2eEnv();
  controllerNs = await env.namespace('kseal-ui');
  app = await env.namespace('ui-app');
  controller = runControllerProcess(env, controllerNs, 'ui');
  const { port } = await controller.ports();
  base = `http://127.0.0.1:${port}/`;
  // The page fetches the certificate once when it loads: wait until the controller has made its key.
  const deadline = Date.now() + 45_000;
  while ((await fetch(new URL('v1/cert.pem', base)).then((r) => r.status, () => 0)) !== 200) {
    if (Date.now() > deadline) throw new Error('the controller served no certificate within 45 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await kill(controller);
  await env?.close();
  tmp?.remove();
});
afterEach(async () => {
  for (const w of watched) {
    expect(w.cspViolations).toEqual([]);
    expect(await pageCspViolations(w.page)).toEqual([]);
    expect(w.errors).toEqual([]);
    await w.close();
  }
  watched = [];
});

async function open(path: string): Promise<WatchedPage> {
  const w = await watchedPage(browser);
  watched.push(w);
  await w.page.goto(new URL(path, base).toString());
  await waitForCertificate(w.page);
  return w;
}

async function place(page: Page, namespace: string, name: string, scope: Scope): Promise<void> {
  await page.fill('#namespace', namespace);
  await page.fill('#name', name);
  await page.check(`#scope-${scope}`);
}

/** The controller's private key, as a PEM file for kseal decrypt --key. */
async function controllerKeyFile(): Promise<string> {
  const list = await env.core.listNamespacedSecret({ namespace: controllerNs, labelSelector: 'kseal.dev/sealing-key=active' });
  const pem = list.items.map((s) => Buffer.from(s.data?.['tls.key'] ?? '', 'base64').toString('utf8')).join('');
  expect(pem).toContain('PRIVATE KEY');
  return tmp.write('controller-key.pem', pem);
}

describe('the sealing page served by the controller', () => {
  it('seals for every scope through the page (at / and /ui/); the controller makes the Secrets (Ready) and kseal decrypt opens them', async () => {
    const cases: Array<{ path: string; scope: Scope; name: string; type: string; fill: (page: Page, canary: string) => Promise<void>; key: string }> = [
      { path: '/', scope: 'strict', name: 'db', type: 'Opaque', key: 'password', fill: (page, canary) => fillRow(page, 0, 'password', { text: canary }) },
      { path: '/ui/', scope: 'namespace-wide', name: 'login', type: 'kubernetes.io/basic-auth', key: 'password', fill: async (page, canary) => { await fillRow(page, 0, undefined, { text: 'admin' }); await fillRow(page, 1, undefined, { text: canary }); } },
      { path: '/', scope: 'cluster-wide', name: 'web-tls', type: 'kubernetes.io/tls', key: 'tls.key', fill: async (page, canary) => { await fillRow(page, 0, undefined, { file: Buffer.from('-----BEGIN CERTIFICATE-----\n') }); await fillRow(page, 1, undefined, { file: Buffer.from(canary) }); } },
    ];
    let keyFile: string | undefined;
    for (const c of cases) {
      const w = await open(c.path);
      const canary = newCanary(c.scope);
      await w.page.selectOption('#type', c.type);
      await place(w.page, app, c.name, c.scope);
      await c.fill(w.page, canary);
      const before = w.requests.length;
      const yaml = await seal(w.page);
      expect(w.requests.slice(before)).toEqual([]);
      for (const r of w.requests) expect(containsCanary(canary, `${r.url}\n${JSON.stringify(r.headers)}\n${r.body}`)).toBe(false);

      await createSealed(env, parse(yaml) as KubeObject);
      await waitReady(env, app, c.name);
      expect((await secretValues(env, app, c.name))?.[c.key]).toBe(canary);

      keyFile ??= await controllerKeyFile(); // the key exists once the page has its certificate
      const decrypted = await runCli(['decrypt', '--key', keyFile], { stdin: yaml });
      expect(decrypted.code, decrypted.stderr).toBe(0);
      expect(Buffer.from((parse(decrypted.stdout) as { data: Record<string, string> }).data[c.key] ?? '', 'base64').toString()).toBe(canary);
    }
  });

  it('checks a pasted SealedSecret with /v1/verify: yes for its own output, no once it is renamed', async () => {
    const w = await open('/');
    const canary = newCanary('check');
    await place(w.page, app, 'checked', 'strict');
    await fillRow(w.page, 0, 'token', { text: canary });
    const yaml = await seal(w.page);

    await w.page.click('#tab-check');
    await w.page.fill('#check-input', yaml);
    await w.page.click('#check');
    await expect.poll(() => w.page.textContent('#check-result')).toBe('This controller can unseal it: every value opens.');
    const verify = w.requests.filter((r) => r.method === 'POST');
    expect(verify.map((r) => new URL(r.url).pathname)).toEqual(['/v1/verify']);
    expect(verify[0]?.body).toBe(yaml);

    await new Promise((resolve) => setTimeout(resolve, 1100)); // the verify rate limit is 2/s
    await w.page.fill('#check-input', yaml.replace('name: checked', 'name: renamed'));
    await w.page.click('#check');
    await expect.poll(() => w.page.textContent('#check-result')).toContain('This controller cannot unseal it');
    // Chromium logs every non-2xx fetch on the console; this 409 is the answer the test asked for.
    expect(w.errors.splice(0)).toEqual([expect.stringContaining('status of 409')]);
    for (const r of w.requests) expect(containsCanary(canary, `${r.url}\n${JSON.stringify(r.headers)}\n${r.body}`)).toBe(false);
  });
});
