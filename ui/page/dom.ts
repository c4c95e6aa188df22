/** Small DOM helpers for the sealing page: element lookup that fails loudly, and element building without HTML strings. */

/** The element with `id`, which must exist and be of `type`. */
export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`the page has no ${type.name} #${id}`);
  return element;
}

/** Creates an element with attributes and text (never HTML: text goes through textContent). */
export function make<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  if (text !== undefined) element.textContent = text;
  return element;
}

/** Wires a Show/Hide button to a password input or a masked textarea. */
export function wireToggle(button: HTMLButtonElement, target: HTMLInputElement | HTMLTextAreaElement): void {
  button.addEventListener('click', () => {
    const show = button.getAttribute('aria-pressed') !== 'true';
    button.setAttribute('aria-pressed', String(show));
    button.textContent = show ? 'Hide' : 'Show';
    if (target instanceof HTMLInputElement) target.type = show ? 'text' : 'password';
    else target.classList.toggle('masked', !show);
  });
}

/** Puts an error message under a field (or clears it) and marks the field invalid for assistive technology. */
export function setFieldError(field: HTMLElement, errorElement: HTMLElement | undefined, message: string | undefined): void {
  if (message === undefined) field.removeAttribute('aria-invalid');
  else field.setAttribute('aria-invalid', 'true');
  if (errorElement !== undefined) {
    errorElement.textContent = message ?? '';
    errorElement.hidden = message === undefined;
  }
}
