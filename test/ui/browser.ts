/**
 * Drives the sealing page in a real browser: Debian's Chromium (/usr/bin/chromium, or KSEAL_CHROMIUM)
 * through playwright-core, which downloads nothing. Every page is instrumented: each request it makes
 * (method, URL, headers, body), Content-Security-Policy violations (the `securitypolicyviolation`
 * event and the console's "Refused to..." reports), uncaught errors and console errors. Helpers fill
 * the form the way a person does, through the page's own controls.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page, type Request } from 'playwright-core';

const CHROMIUM = process.env.KSEAL_CHROMIUM ?? '/usr/bin/chromium';
const KSEAL_BIN = fileURLToPath(new URL('../../dist/kseal.cjs', import.meta.url));

/** Launches headless Chromium (as root it needs --no-sandbox). */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium package (.ci/run does) or set KSEAL_CHROMIUM`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
}

/** One request the page made. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** A page with everything it did recorded. */
export interface WatchedPage {
  readonly page: Page;
  readonly requests: SeenRequest[];
  readonly cspViolations: string[];
  readonly errors: string[];
  close(): Promise<void>;
}

/** Opens a new page (own context) with recording, at `viewport`. */
export async function watchedPage(browser: Browser, viewport = { width: 1000, height: 1300 }): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const requests: SeenRequest[] = [];
  const cspViolations: string[] = [];
  const errors: string[] = [];
  // Runs before the page's own code (injected by the browser, outside the page's CSP): every violation
  // the page reports is kept in an attribute of <html>, which the tests read through a locator.
  await page.addInitScript(
    "const seen = []; document.addEventListener('securitypolicyviolation', (e) => { seen.push(e.violatedDirective + ' ' + e.blockedURI + (e.sample ? ' (' + e.sample + ')' : '') + (e.sourceFile ? ' at ' + e.sourceFile + ':' + e.lineNumber : '')); document.documentElement.setAttribute('data-csp-violations', JSON.stringify(seen)); });",
  );
  page.on('request', (r: Request) => {
    requests.push({ method: r.method(), url: r.url(), headers: r.headers(), body: r.postDataBuffer()?.toString('latin1') ?? '' });
  });
  page.on('console', (m) => {
    const text = m.text();
    if (/Content Security Policy|Refused to|Trusted Type/i.test(text)) cspViolations.push(text);
    else if (m.type() === 'error') errors.push(text);
  });
  page.on('pageerror', (e) => errors.push(`${e.name}: ${e.message}`));
  return {
    page,
    requests,
    cspViolations,
    errors,
    close: () => context.close(),
  };
}

/**
 * The CSP violations the page itself saw (securitypolicyviolation events). Tests read the page through
 * locators only: Playwright evaluates string expressions and waitForFunction predicates with eval
 * inside the page, which this page's CSP and Trusted Types rightly refuse.
 */
export async function pageCspViolations(page: Page): Promise<string[]> {
  return JSON.parse((await page.locator('html').getAttribute('data-csp-violations')) ?? '[]') as string[];
}

/** The id of the focused element ('' when none has one). */
export function focusedId(page: Page): Promise<string> {
  return page.locator(':focus').getAttribute('id').then((id) => id ?? '');
}

/** The text of the focused element. */
export function focusedText(page: Page): Promise<string> {
  return page.locator(':focus').textContent().then((text) => text ?? '');
}

/** Waits until the certificate is loaded and sealing is enabled. */
export async function waitForCertificate(page: Page): Promise<string> {
  await page.locator('#seal:enabled').waitFor({ timeout: 15_000 });
  return (await page.textContent('#cert-status')) ?? '';
}

/** A value for one key row: typed text, several lines, or a file. */
export type RowValue = { readonly text: string } | { readonly lines: string } | { readonly file: Buffer };

/** Fills row `index` (0-based) of the key list: its key name (unless fixed) and its value. */
export async function fillRow(page: Page, index: number, key: string | undefined, value: RowValue): Promise<void> {
  const row = page.locator('#rows fieldset.row').nth(index);
  if (key !== undefined) await row.locator('input[id^="key-"]').fill(key);
  const kind = 'text' in value ? 'text' : 'lines' in value ? 'multiline' : 'file';
  await row.locator('select[id^="kind-"]').selectOption(kind);
  const input = row.locator('input[id^="value-"], textarea[id^="value-"]');
  if ('file' in value) await input.setInputFiles({ name: `${key ?? 'value'}.bin`, mimeType: 'application/octet-stream', buffer: value.file });
  else await input.fill('text' in value ? value.text : value.lines);
}

/** Clicks Seal and returns the output YAML, failing with the page's error text when there is none. */
export async function seal(page: Page): Promise<string> {
  await page.click('#seal');
  await page.locator('#output-section:visible, #errors:visible').first().waitFor({ timeout: 15_000 });
  const errors = page.locator('#errors');
  if (await errors.isVisible()) throw new Error(`the page refused to seal: ${await errors.textContent()}`);
  return page.inputValue('#output');
}

/** A running `kseal ui` process and its address. */
export interface KsealUi {
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<number | null>;
}

/** Starts `kseal ui` (dist/kseal.cjs) with `args` and waits for the address it prints. */
export async function startKsealUi(args: readonly string[]): Promise<KsealUi> {
  const child = spawn(process.execPath, [KSEAL_BIN, 'ui', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBECONFIG: '' } });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kseal ui printed no address: ${output}`)), 15_000);
    const check = (): void => {
      const match = /serving the sealing page at (http:\/\/\S+)/.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', check);
    void exited.then(() => reject(new Error(`kseal ui exited: ${output}`)));
  });
  return {
    url,
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
