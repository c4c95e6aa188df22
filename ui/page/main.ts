/**
 * The sealing page (served by the controller at / and /ui/, and by `kseal ui`). It loads the sealing
 * certificate once from ../v1/cert.pem (relative to this script, so it works behind the API server's
 * service proxy), then seals in the browser: no request made after that carries anything typed or
 * chosen in the form. The check tab posts a pasted SealedSecret (public material) to ../v1/verify.
 */
import { isKsealError, type KsealError } from '../../src/errors.js';
import { describeScope, type Scope } from '../../src/model/scope.js';
import type { SealedApiVersion } from '../../src/model/sealed-secret.js';
import { parseCertificateWeb, type WebSealingCertificate } from '../browser/web-certificate.js';
import { checkDockerLogin, dockerConfigJson, sealForm, type FormEntry, type SealForm } from '../browser/secret-form.js';
import { byId, setFieldError, wireToggle } from './dom.js';
import { Rows } from './rows.js';
import { wireTabs } from './tabs.js';

const mode = document.querySelector('meta[name="kseal-mode"]')?.getAttribute('content') === 'local' ? 'local' : 'controller';
const apiRoot = new URL('../', import.meta.url);

const form = byId('seal-form', HTMLFormElement);
const errors = byId('errors', HTMLDivElement);
const namespaceInput = byId('namespace', HTMLInputElement);
const nameInput = byId('name', HTMLInputElement);
const typeSelect = byId('type', HTMLSelectElement);
const apiVersionSelect = byId('api-version', HTMLSelectElement);
const sealButton = byId('seal', HTMLButtonElement);
const certStatus = byId('cert-status', HTMLParagraphElement);
const certRetry = byId('cert-retry', HTMLButtonElement);
const output = byId('output', HTMLTextAreaElement);
const outputSection = byId('output-section', HTMLElement);
const outputStatus = byId('output-status', HTMLParagraphElement);
const copyStatus = byId('copy-status', HTMLSpanElement);
const docker = byId('docker', HTMLFieldSetElement);
const dockerFields = { server: byId('docker-server', HTMLInputElement), username: byId('docker-username', HTMLInputElement), password: byId('docker-password', HTMLInputElement), email: byId('docker-email', HTMLInputElement) };
const rows = new Rows(byId('rows', HTMLDivElement));

let certificate: WebSealingCertificate | undefined;
let outputName = 'sealed';

wireTabs([byId('tab-seal', HTMLButtonElement), byId('tab-check', HTMLButtonElement)]);
for (const button of document.querySelectorAll<HTMLButtonElement>('button.toggle[aria-controls]')) {
  const target = document.getElementById(button.getAttribute('aria-controls') ?? '');
  if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) wireToggle(button, target);
}

/** Fetches and parses the certificate; sealing stays disabled until it succeeds. */
async function loadCertificate(): Promise<void> {
  certRetry.hidden = true;
  certStatus.classList.remove('bad');
  certStatus.textContent = 'Loading the sealing certificate…';
  const source = mode === 'local' ? 'the pinned certificate' : 'this controller';
  try {
    if (!window.isSecureContext || crypto.subtle === undefined) {
      throw new Error('this browser allows WebCrypto only on https:// or http://localhost pages; open the page through kubectl port-forward or kseal ui');
    }
    const response = await fetch(new URL('v1/cert.pem', apiRoot), { cache: 'no-store', credentials: 'same-origin' });
    if (!response.ok) throw new Error(`${source} answered ${response.status} for the certificate${response.status === 503 ? ' (no sealing key yet; retry shortly)' : ''}`);
    certificate = await parseCertificateWeb(await response.text(), { source });
    certStatus.textContent = `Sealing to key ${certificate.keyId.slice(0, 16)}… (RSA-${certificate.bits}, certificate valid until ${certificate.notAfter.toISOString().slice(0, 10)}), from ${source}.`;
    certStatus.title = `key id ${certificate.keyId}`;
    sealButton.disabled = false;
  } catch (e) {
    certificate = undefined;
    sealButton.disabled = true;
    certStatus.classList.add('bad');
    certStatus.textContent = `Cannot seal: ${isKsealError(e) ? e.message : e instanceof Error ? e.message : String(e)}`;
    certRetry.hidden = false;
  }
}
certRetry.addEventListener('click', () => void loadCertificate());

function showType(): void {
  const type = typeSelect.value;
  docker.hidden = type !== 'kubernetes.io/dockerconfigjson';
  if (docker.hidden) for (const input of Object.values(dockerFields)) input.value = '';
  rows.reset(type);
}
typeSelect.addEventListener('change', showType);
byId('add-row', HTMLButtonElement).addEventListener('click', () => rows.add().focus());

function clearErrors(): void {
  errors.hidden = true;
  errors.replaceChildren();
  setFieldError(namespaceInput, byId('namespace-error', HTMLParagraphElement), undefined);
  setFieldError(nameInput, byId('name-error', HTMLParagraphElement), undefined);
  for (const input of Object.values(dockerFields)) setFieldError(input, undefined, undefined);
  rows.clearErrors();
}

/** Shows a KsealError as the CLI words it (message, then hint), next to the field it is about, and focuses that field. */
function showError(e: KsealError): void {
  const where = e.key === undefined ? '' : `key ${JSON.stringify(e.key)}: `;
  const message = `${where}${e.message}`;
  const text = document.createElement('p');
  text.textContent = message;
  errors.replaceChildren(text);
  if (e.hint !== undefined) {
    const hint = document.createElement('p');
    hint.textContent = `hint: ${e.hint}`;
    errors.append(hint);
  }
  errors.hidden = false;
  let field: HTMLElement | undefined;
  if (e.code === 'MISSING_NAME' || e.code === 'INVALID_NAME') field = nameInput;
  else if (e.code === 'MISSING_NAMESPACE' || e.code === 'INVALID_NAMESPACE') field = namespaceInput;
  if (field !== undefined) setFieldError(field, byId(`${field.id}-error`, HTMLParagraphElement), e.message);
  else if (e.key === '.dockerconfigjson' && typeSelect.value === 'kubernetes.io/dockerconfigjson') {
    field = Object.values(dockerFields).find((input) => input.value === '' && input !== dockerFields.email) ?? dockerFields.server;
    setFieldError(field, undefined, e.message);
  } else if (e.key !== undefined) field = rows.markError(e.key, e.message, e.code === 'INVALID_KEY_NAME' || e.code === 'INVALID_FIELD');
  (field ?? errors).focus();
}

async function collect(): Promise<SealForm> {
  const entries: FormEntry[] = [];
  if (typeSelect.value === 'kubernetes.io/dockerconfigjson') {
    const login = { server: dockerFields.server.value.trim(), username: dockerFields.username.value, password: dockerFields.password.value, email: dockerFields.email.value.trim() };
    if (login.server !== '' || login.username !== '' || login.password !== '') {
      checkDockerLogin(login);
      entries.push({ key: '.dockerconfigjson', value: dockerConfigJson(login) });
    }
  }
  entries.push(...(await rows.entries()));
  const scope = (form.querySelector<HTMLInputElement>('input[name="scope"]:checked')?.value ?? 'strict') as Scope;
  return { namespace: namespaceInput.value.trim(), name: nameInput.value.trim(), scope, type: typeSelect.value, apiVersion: apiVersionSelect.value as SealedApiVersion, entries };
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void (async () => {
    clearErrors();
    // No stale output while the form may have changed since the last seal.
    output.value = '';
    outputSection.hidden = true;
    if (certificate === undefined) return;
    try {
      const filled = await collect();
      const yaml = await sealForm(filled, certificate);
      output.value = yaml;
      outputName = filled.name;
      outputSection.hidden = false;
      copyStatus.textContent = '';
      const count = filled.entries.length;
      outputStatus.textContent = `Sealed ${count} key${count === 1 ? '' : 's'}, ${describeScope(filled.scope, filled.namespace, filled.name)}, to key ${certificate.keyId.slice(0, 16)}… Copy or download it, then commit it.`;
      output.focus();
      output.setSelectionRange(0, 0);
      output.scrollTop = 0;
    } catch (e) {
      if (isKsealError(e)) showError(e);
      else {
        const text = document.createElement('p');
        text.textContent = `Sealing failed: ${e instanceof Error ? e.name : 'error'}`;
        errors.replaceChildren(text);
        errors.hidden = false;
        errors.focus();
      }
    }
  })();
});

byId('clear', HTMLButtonElement).addEventListener('click', () => {
  rows.clearValues();
  for (const input of Object.values(dockerFields)) input.value = '';
  output.value = '';
  outputSection.hidden = true;
  clearErrors();
});

byId('copy', HTMLButtonElement).addEventListener('click', () => {
  void (async () => {
    try {
      await navigator.clipboard.writeText(output.value);
      copyStatus.textContent = 'Copied to the clipboard.';
    } catch {
      output.select();
      copyStatus.textContent = 'The browser refused the clipboard: the text is selected, press Ctrl+C.';
    }
  })();
});

byId('download', HTMLButtonElement).addEventListener('click', () => {
  const url = URL.createObjectURL(new Blob([output.value], { type: 'application/yaml' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = `${outputName}.sealed.yaml`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  copyStatus.textContent = `Downloaded ${outputName}.sealed.yaml.`;
});

// The check tab: asks the controller's /v1/verify about a pasted SealedSecret.
const checkForm = byId('check-form', HTMLFormElement);
const checkInput = byId('check-input', HTMLTextAreaElement);
const checkButton = byId('check', HTMLButtonElement);
const checkResult = byId('check-result', HTMLParagraphElement);
if (mode === 'local') {
  checkButton.disabled = true;
  byId('check-intro', HTMLParagraphElement).textContent = 'Checking asks a controller whether it can unseal a SealedSecret. This page is served by kseal ui from a pinned certificate, with no controller: open the page the controller serves, or run kseal validate.';
}
checkForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void (async () => {
    checkResult.className = 'result';
    if (checkInput.value.trim() === '') {
      checkResult.textContent = 'Paste a SealedSecret first.';
      checkInput.focus();
      return;
    }
    checkResult.textContent = 'Asking the controller…';
    try {
      const response = await fetch(new URL('v1/verify', apiRoot), { method: 'POST', headers: { 'Content-Type': 'application/yaml' }, body: checkInput.value, cache: 'no-store', credentials: 'same-origin' });
      if (response.status === 200) {
        checkResult.classList.add('ok');
        checkResult.textContent = 'This controller can unseal it: every value opens.';
      } else if (response.status === 409) {
        checkResult.classList.add('bad');
        checkResult.textContent = 'This controller cannot unseal it: it was sealed with another key, or for another name, namespace or scope.';
      } else if (response.status === 429) {
        checkResult.classList.add('bad');
        checkResult.textContent = 'Too many checks at once; wait a second and try again.';
      } else {
        const body = (await response.json().catch(() => ({}))) as { message?: unknown };
        checkResult.classList.add('bad');
        checkResult.textContent = `The controller refused it (${response.status}): ${typeof body.message === 'string' ? body.message : 'no reason given'}`;
      }
    } catch {
      checkResult.classList.add('bad');
      checkResult.textContent = 'The controller could not be reached.';
    }
  })();
});

showType();
void loadCertificate();
