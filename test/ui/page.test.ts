/**
 * The sealing page in a real browser (Chromium through playwright-core): served by `kseal ui` with the
 * fixed RSA-2048 test certificate, and by a controller process against the in-repo API. Values are
 * canaries; every request the page makes is recorded and none may carry one, and sealing itself must
 * make no request at all. CSP violations and page errors fail every test. What the page seals is
 * opened by `kseal decrypt --key`, by the independent decoder (test/crypto) and by the controller.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { parse } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate } from '../../src/crypto/certificate.js';
import { checkSecretNames } from '../../src/model/secret.js';
import type { Scope } from '../../src/model/scope.js';
import { independentLabel, independentOpen } from '../crypto/independent-decoder.js';
import { containsCanary, newCanary } from '../helpers/canary.js';
import { runCli, tempDir, type TempDir } from '../helpers/cli.js';
import { ksealErrorOf } from '../helpers/errors.js';
import { testKey, TEST_KEY_DIR } from '../helpers/keys.js';
import { fillRow, focusedId, focusedText, launchBrowser, pageCspViolations, seal, startKsealUi, waitForCertificate, watchedPage, type KsealUi, type WatchedPage } from './browser.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/ui/', import.meta.url));
const DOCS_SCREENSHOT = fileURLToPath(new URL('../../docs/images/sealing-page.png', import.meta.url));
const key = testKey('rsa-2048');
const CERT_FILE = `${TEST_KEY_DIR}test-rsa-2048.crt.pem`;
const KEY_FILE = `${TEST_KEY_DIR}test-rsa-2048.key.pem`;

let browser: Browser;
let ui: KsealUi;
let watched: WatchedPage[] = [];
let tmp: TempDir;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  tmp = tempDir();
  browser = await launchBrowser();
  ui = await startKsealUi(['--cert', CERT_FILE, '--port', '0']);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await ui?.stop();
  tmp?.remove();
});
afterEach(async () => {
  for (const w of watched) {
    expect(w.cspViolations, 'CSP violations reported on the console').toEqual([]);
    expect(await pageCspViolations(w.page), 'securitypolicyviolation events').toEqual([]);
    expect(w.errors, 'page errors').toEqual([]);
    await w.close();
  }
  watched = [];
});

async function open(url: string, viewport?: { width: number; height: number }): Promise<WatchedPage> {
  const w = await watchedPage(browser, viewport);
  watched.push(w);
  await w.page.goto(url);
  await waitForCertificate(w.page);
  return w;
}

/** Fills where the Secret goes. */
async function place(page: Page, namespace: string, name: string, scope: Scope): Promise<void> {
  await page.fill('#namespace', namespace);
  await page.fill('#name', name);
  await page.check(`#scope-${scope}`);
}

/** Seals through the page and checks that sealing made no request. */
async function sealQuietly(w: WatchedPage): Promise<string> {
  const before = w.requests.length;
  const yaml = await seal(w.page);
  expect(w.requests.slice(before), 'requests made while sealing').toEqual([]);
  return yaml;
}

/** Opens every value with the independent decoder and returns them as UTF-8 (latin1 for binary files). */
function openIndependently(yaml: string): Record<string, Buffer> {
  const sealed = parse(yaml) as { metadata: { name: string; namespace?: string; annotations: Record<string, string> }; spec: { encryptedData: Record<string, string> } };
  const annotations = sealed.metadata.annotations;
  const scope: Scope = (annotations['kseal.dev/scope'] as Scope | undefined) ?? (annotations['sealedsecrets.bitnami.com/cluster-wide'] === 'true' ? 'cluster-wide' : annotations['sealedsecrets.bitnami.com/namespace-wide'] === 'true' ? 'namespace-wide' : 'strict');
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(sealed.spec.encryptedData)) {
    const outcome = independentOpen(key.privateKeyPem, independentLabel(scope, sealed.metadata.namespace ?? '', sealed.metadata.name), v);
    if (!outcome.ok) throw new Error(`the independent decoder could not open ${k}: ${outcome.failure}`);
    out[k] = outcome.plaintext;
  }
  return out;
}

/** `kseal decrypt --key` on the output; returns the Secret's values. */
async function decryptWithCli(yaml: string, keyFile = KEY_FILE): Promise<{ type: string; data: Record<string, Buffer> }> {
  const run = await runCli(['decrypt', '--key', keyFile], { stdin: yaml });
  expect(run.code, run.stderr).toBe(0);
  const secret = parse(run.stdout) as { type: string; data: Record<string, string> };
  return { type: secret.type, data: Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64')])) };
}

function expectNoCanary(w: WatchedPage, canaries: readonly string[]): void {
  expect(w.requests.length).toBeGreaterThan(0);
  for (const request of w.requests) {
    const text = `${request.method} ${request.url}\n${JSON.stringify(request.headers)}\n${request.body}`;
    for (const canary of canaries) expect(containsCanary(canary, text), `${canary} in ${request.method} ${request.url}`).toBe(false);
  }
}

describe('the sealing page served by kseal ui with a pinned certificate', () => {
  it('prints the key id of the pinned certificate and loads only the page, its assets and the certificate', async () => {
    expect(ui.output()).toContain(parseCertificate(key.certificatePem).keyId);
    const w = await open(ui.url);
    expect(await w.page.textContent('#cert-status')).toContain(key.certificate.keyId.slice(0, 16));
    const paths = w.requests.map((r) => `${r.method} ${new URL(r.url).pathname}`).sort();
    expect(paths.filter((p) => p !== 'GET /ui/icon.svg')).toEqual(['GET /', 'GET /ui/app.css', 'GET /ui/app.js', 'GET /v1/cert.pem']);
  });

  it('seals every Secret type and scope so that kseal decrypt and the independent decoder open it, sending no value anywhere', async () => {
    const w = await open(ui.url);
    const { page } = w;
    const c = { password: newCanary('password'), note: newCanary('note'), blob: newCanary('blob'), crt: newCanary('crt'), tlsKey: newCanary('tlskey'), registry: newCanary('registry'), basic: newCanary('basic') };

    // Opaque, strict: a typed value, several lines, and a binary file.
    await place(page, 'app', 'db', 'strict');
    await fillRow(page, 0, 'password', { text: c.password });
    await page.click('#add-row');
    await fillRow(page, 1, 'note', { lines: `line one\n${c.note}\n` });
    await page.click('#add-row');
    const blob = Buffer.concat([Buffer.from([0, 255, 10]), Buffer.from(c.blob)]);
    await fillRow(page, 2, 'blob', { file: blob });
    const opaque = await sealQuietly(w);
    expect(parse(opaque).metadata.annotations).toEqual({ 'kseal.dev/key-id': key.certificate.keyId, 'kseal.dev/scope': 'strict' });
    const opaqueValues = openIndependently(opaque);
    expect(opaqueValues.password?.toString()).toBe(c.password);
    expect(opaqueValues.note?.toString()).toBe(`line one\n${c.note}\n`);
    expect(opaqueValues.blob).toEqual(blob);
    expect((await decryptWithCli(opaque)).data.blob).toEqual(blob);

    // kubernetes.io/tls, namespace-wide: the two files.
    await page.selectOption('#type', 'kubernetes.io/tls');
    await place(page, 'app', 'web-tls', 'namespace-wide');
    await page.locator('#rows fieldset.row').nth(0).locator('input[id^="value-"]').setInputFiles({ name: 'tls.crt', mimeType: 'application/x-pem-file', buffer: Buffer.from(`-----BEGIN CERTIFICATE-----\n${c.crt}\n`) });
    await page.locator('#rows fieldset.row').nth(1).locator('input[id^="value-"]').setInputFiles({ name: 'tls.key', mimeType: 'application/x-pem-file', buffer: Buffer.from(`-----BEGIN PRIVATE KEY-----\n${c.tlsKey}\n`) });
    const tls = await sealQuietly(w);
    const tlsSecret = await decryptWithCli(tls);
    expect(tlsSecret.type).toBe('kubernetes.io/tls');
    expect(tlsSecret.data['tls.key']?.toString()).toContain(c.tlsKey);
    expect(openIndependently(tls)['tls.crt']?.toString()).toContain(c.crt);

    // kubernetes.io/dockerconfigjson, cluster-wide, as Bitnami's apiVersion.
    await page.selectOption('#type', 'kubernetes.io/dockerconfigjson');
    await place(page, 'app', 'regcred', 'cluster-wide');
    await page.fill('#docker-server', 'registry.example.com');
    await page.fill('#docker-username', 'robot');
    await page.fill('#docker-password', c.registry);
    await page.selectOption('#api-version', 'bitnami.com/v1alpha1');
    const docker = await sealQuietly(w);
    expect(parse(docker).apiVersion).toBe('bitnami.com/v1alpha1');
    expect(parse(docker).metadata.annotations['sealedsecrets.bitnami.com/cluster-wide']).toBe('true');
    const config = JSON.parse((await decryptWithCli(docker)).data['.dockerconfigjson']?.toString() ?? '{}');
    expect(config.auths['registry.example.com']).toEqual({ username: 'robot', password: c.registry, auth: Buffer.from(`robot:${c.registry}`).toString('base64') });
    expect(openIndependently(docker)['.dockerconfigjson']?.toString()).toContain(c.registry);

    // kubernetes.io/basic-auth, strict, back to kseal's apiVersion.
    await page.selectOption('#api-version', 'kseal.dev/v1alpha1');
    await page.selectOption('#type', 'kubernetes.io/basic-auth');
    await place(page, 'app', 'login', 'strict');
    await fillRow(page, 0, undefined, { text: 'admin' });
    await fillRow(page, 1, undefined, { text: c.basic });
    const basic = await sealQuietly(w);
    const basicSecret = await decryptWithCli(basic);
    expect(basicSecret.type).toBe('kubernetes.io/basic-auth');
    expect(basicSecret.data.password?.toString()).toBe(c.basic);
    expect(basicSecret.data.username?.toString()).toBe('admin');

    expectNoCanary(w, Object.values(c));
  });

  it('shows the message the CLI prints for a bad name next to the name field, and focuses it', async () => {
    const w = await open(ui.url);
    await place(w.page, 'app', 'Bad_Name', 'strict');
    await fillRow(w.page, 0, 'k', { text: 'v' });
    await w.page.click('#seal');
    const expected = ksealErrorOf(() => checkSecretNames('Bad_Name', undefined, {})).message;
    await expect.poll(() => w.page.textContent('#errors')).toContain(expected);
    expect(await w.page.getAttribute('#name', 'aria-invalid')).toBe('true');
    expect(await w.page.textContent('#name-error')).toBe(expected);
    expect(await focusedId(w.page)).toBe('name');
  });

  it('reports a CSP violation when the page breaks its policy, so the checks above can fail', async () => {
    const w = await watchedPage(browser);
    await w.page.goto(ui.url);
    await w.page.locator('body').evaluate((body: { setAttribute(name: string, value: string): void }) => body.setAttribute('style', 'color: red'));
    await expect.poll(() => pageCspViolations(w.page)).toEqual([expect.stringContaining('style-src')]);
    await w.close();
  });

  it('can be used with the keyboard alone, from the first Tab to the sealed output', async () => {
    const w = await open(ui.url);
    const { page } = w;
    const canary = newCanary('keyboard');
    const focused = (): Promise<string> => focusedId(page);
    const tab = async (expected: string | RegExp): Promise<void> => {
      await page.keyboard.press('Tab');
      if (typeof expected === 'string') expect(await focused()).toBe(expected);
      else expect(await focused()).toMatch(expected);
    };
    await tab('tab-seal');
    await page.keyboard.press('ArrowRight');
    expect(await focused()).toBe('tab-check');
    expect(await page.isVisible('#panel-check')).toBe(true);
    await page.keyboard.press('ArrowLeft');
    expect(await page.isVisible('#panel-seal')).toBe(true);
    await tab('namespace');
    await page.keyboard.type('app');
    await tab('name');
    await page.keyboard.type('keyboard');
    await tab('scope-strict');
    await page.keyboard.press('ArrowDown');
    expect(await focused()).toBe('scope-namespace-wide');
    expect(await page.isChecked('#scope-namespace-wide')).toBe(true);
    await tab('type');
    await tab(/^key-\d+$/);
    await page.keyboard.type('token');
    await page.keyboard.press('Tab');
    expect(await focusedText(page)).toBe('Remove this key');
    await tab(/^kind-\d+$/);
    await tab(/^value-\d+$/);
    await page.keyboard.type(canary);
    await page.keyboard.press('Tab');
    expect(await focusedText(page)).toBe('Show');
    await page.keyboard.press('Space');
    expect(await page.locator('#rows input[id^="value-"]').getAttribute('type')).toBe('text');
    await tab('add-row');
    await tab('api-version');
    await tab('seal');
    await page.keyboard.press('Enter');
    await page.locator('#output-section:visible').waitFor();
    expect(await focused()).toBe('output');
    const yaml = await page.inputValue('#output');
    expect(openIndependently(yaml).token?.toString()).toBe(canary);
    expect(parse(yaml).metadata.annotations['kseal.dev/scope']).toBe('namespace-wide');
    await tab('copy');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.textContent('#copy-status')).not.toBe('');
    expectNoCanary(w, [canary]);
  });

  it('stays usable at 200% zoom (a 640 CSS-pixel-wide window): nothing wider than the window', async () => {
    const w = await open(ui.url, { width: 640, height: 500 });
    await w.page.selectOption('#type', 'kubernetes.io/dockerconfigjson');
    type Box = { id: string; tagName: string; getBoundingClientRect(): { right: number } };
    const width = await w.page.locator('html').evaluate((html: { clientWidth: number }) => html.clientWidth);
    const scroll = await w.page.locator('html').evaluate((html: { scrollWidth: number; clientWidth: number }) => html.scrollWidth - html.clientWidth);
    const rights = await w.page
      .locator('input:visible, select:visible, textarea:visible, button:visible, label:visible, legend:visible, p:visible')
      .evaluateAll((elements: Box[]) => elements.map((e) => ({ what: e.id || e.tagName, right: e.getBoundingClientRect().right })));
    const overflow = { scroll, wide: rights.filter((r) => r.right > width + 0.5).map((r) => r.what) };
    expect(rights.length).toBeGreaterThan(20);
    expect(overflow).toEqual({ scroll: 0, wide: [] });
  });

  it('takes a screenshot of a sealed Secret (test-artifacts/ui/, and docs/images/ with KSEAL_WRITE_SCREENSHOT=1)', async () => {
    const w = await open(ui.url, { width: 900, height: 1200 });
    const { page } = w;
    await place(page, 'shop', 'payments-api', 'strict');
    await fillRow(page, 0, 'api-token', { text: 'not-a-real-token' });
    await page.click('#add-row');
    await fillRow(page, 1, 'webhook-secret', { text: 'not-a-real-secret' });
    await sealQuietly(w);
    const png = await page.screenshot({ fullPage: true });
    writeFileSync(join(ARTIFACTS, 'sealing-page.png'), png);
    if (process.env.KSEAL_WRITE_SCREENSHOT === '1') writeFileSync(DOCS_SCREENSHOT, png);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  });
});

describe('kseal ui on the command line', () => {
  it('stops cleanly on SIGTERM', async () => {
    const other = await startKsealUi(['--cert', CERT_FILE]);
    expect(await other.stop()).toBe(0);
  });

  it('refuses a port that is not a number, before loading anything', async () => {
    const run = await runCli(['ui', '--cert', CERT_FILE, '--port', 'http']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--port "http" is not a port number');
  });

  it('refuses a certificate file that is not a certificate, with the usual message', async () => {
    const run = await runCli(['ui', '--cert', KEY_FILE]);
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('this is a private key, not a certificate');
  });
});
