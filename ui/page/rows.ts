/**
 * The key/value rows of the sealing form. Each row has a key name and a value that is typed text (a
 * password input with a Show toggle), several lines (a masked text area), or a file. Secret types
 * start with the rows they need (tls.crt and tls.key, username and password); their key names are
 * fixed but the rows can still be removed, and more keys can be added to any type.
 */
import type { FormEntry } from '../browser/secret-form.js';
import { make, setFieldError, wireToggle } from './dom.js';

export type ValueKind = 'text' | 'multiline' | 'file';

/** A row to start a Secret type with. */
export interface RowPreset {
  readonly key: string;
  readonly kind: ValueKind;
  /** The key name cannot be edited (the type needs it). */
  readonly fixed?: boolean;
  /** Typed text is shown rather than masked (a username). */
  readonly plain?: boolean;
}

/** The rows each Secret type starts with. */
const PRESETS: Readonly<Record<string, readonly RowPreset[]>> = {
  Opaque: [{ key: '', kind: 'text' }],
  'kubernetes.io/tls': [
    { key: 'tls.crt', kind: 'file', fixed: true },
    { key: 'tls.key', kind: 'file', fixed: true },
  ],
  'kubernetes.io/dockerconfigjson': [],
  'kubernetes.io/basic-auth': [
    { key: 'username', kind: 'text', fixed: true, plain: true },
    { key: 'password', kind: 'text', fixed: true },
  ],
};

interface Row {
  readonly element: HTMLFieldSetElement;
  readonly keyInput: HTMLInputElement;
  readonly keyError: HTMLParagraphElement;
  readonly fixed: boolean;
  kind: ValueKind;
  value: HTMLInputElement | HTMLTextAreaElement;
  valueError: HTMLParagraphElement;
}

/** The list of rows inside `container`. */
export class Rows {
  private readonly rows: Row[] = [];
  private counter = 0;

  constructor(private readonly container: HTMLElement) {}

  /** Replaces every row with the presets of `type`. */
  reset(type: string): void {
    for (const row of this.rows) this.wipe(row);
    this.rows.length = 0;
    this.container.replaceChildren();
    for (const preset of PRESETS[type] ?? PRESETS.Opaque ?? []) this.add(preset);
  }

  /** Adds a row and returns its key input (to focus it). */
  add(preset: RowPreset = { key: '', kind: 'text' }): HTMLInputElement {
    const n = ++this.counter;
    const element = make('fieldset', { class: 'row', id: `row-${n}` });
    const legend = make('legend', {}, preset.fixed === true ? `Key ${preset.key}` : 'Key');
    const keyId = `key-${n}`;
    const keyField = make('div', { class: 'field' });
    const keyInput = make('input', { id: keyId, autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', 'aria-describedby': `${keyId}-error` });
    keyInput.value = preset.key;
    if (preset.fixed === true) keyInput.readOnly = true;
    const keyError = make('p', { class: 'field-error', id: `${keyId}-error`, hidden: '' });
    keyField.append(make('label', { for: keyId }, 'Key name'), keyInput, keyError);

    const kindId = `kind-${n}`;
    const kindField = make('div', { class: 'field' });
    const kindSelect = make('select', { id: kindId });
    for (const [value, text] of [['text', 'typed, one line'], ['multiline', 'typed, several lines'], ['file', 'from a file']] as const) {
      const option = make('option', { value }, text);
      if (value === preset.kind) option.selected = true;
      kindSelect.append(option);
    }
    kindField.append(make('label', { for: kindId }, 'Value is'), kindSelect);

    const valueField = make('div', { class: 'field' });
    const remove = make('button', { type: 'button', class: 'remove' }, 'Remove this key');
    const head = make('div', { class: 'row-head' });
    head.append(keyField, remove);
    element.append(legend, head, kindField, valueField);
    this.container.append(element);

    const row: Row = { element, keyInput, keyError, fixed: preset.fixed === true, kind: preset.kind, value: keyInput, valueError: keyError };
    const renderValue = (): void => {
      const valueId = `value-${n}`;
      const label = make('label', { for: valueId }, row.kind === 'file' ? 'File' : 'Value');
      const error = make('p', { class: 'field-error', id: `${valueId}-error`, hidden: '' });
      let input: HTMLInputElement | HTMLTextAreaElement;
      let wrapper: HTMLElement;
      if (row.kind === 'file') {
        input = make('input', { id: valueId, type: 'file', 'aria-describedby': `${valueId}-error` });
        wrapper = input;
      } else {
        input = row.kind === 'text'
          ? make('input', { id: valueId, type: preset.plain === true ? 'text' : 'password', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': `${valueId}-error` })
          : make('textarea', { id: valueId, rows: '5', class: 'masked', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': `${valueId}-error` });
        wrapper = make('div', { class: 'with-toggle' });
        wrapper.append(input);
        if (preset.plain !== true || row.kind === 'multiline') {
          const toggle = make('button', { type: 'button', class: 'toggle', 'aria-controls': valueId, 'aria-pressed': 'false' }, 'Show');
          wireToggle(toggle, input);
          wrapper.append(toggle);
        }
      }
      this.wipe(row);
      row.value = input;
      row.valueError = error;
      valueField.replaceChildren(label, wrapper, error);
    };
    renderValue();
    kindSelect.addEventListener('change', () => {
      row.kind = kindSelect.value as ValueKind;
      renderValue();
    });
    remove.addEventListener('click', () => {
      const index = this.rows.indexOf(row);
      this.wipe(row);
      this.rows.splice(index, 1);
      element.remove();
      const next = this.rows[index] ?? this.rows[index - 1];
      (next?.keyInput ?? document.getElementById('add-row'))?.focus();
    });
    this.rows.push(row);
    return keyInput;
  }

  /** The filled-in rows as form entries (files read now). Empty rows, and fixed rows left empty, are skipped. */
  async entries(): Promise<FormEntry[]> {
    const out: FormEntry[] = [];
    for (const row of this.rows) {
      const key = row.keyInput.value;
      if (row.value instanceof HTMLInputElement && row.value.type === 'file') {
        const file = row.value.files?.[0];
        if (file === undefined) {
          if (key !== '' && !row.fixed) out.push({ key, value: new Uint8Array(0) });
          continue;
        }
        out.push({ key, value: new Uint8Array(await file.arrayBuffer()) });
      } else {
        const text = row.value.value;
        if (text === '' && (key === '' || row.fixed)) continue;
        out.push({ key, value: text });
      }
    }
    return out;
  }

  /** Shows `message` on the row of `key` (its key name when `onKey`, else its value) and returns the field to focus. */
  markError(key: string, message: string, onKey: boolean): HTMLElement | undefined {
    const row = this.rows.find((r) => r.keyInput.value === key);
    if (row === undefined) return undefined;
    const [field, error] = onKey ? [row.keyInput, row.keyError] : [row.value, row.valueError];
    setFieldError(field, error, message);
    return field;
  }

  /** Clears every error mark. */
  clearErrors(): void {
    for (const row of this.rows) {
      setFieldError(row.keyInput, row.keyError, undefined);
      setFieldError(row.value, row.valueError, undefined);
    }
  }

  /** Empties every value (typed text and chosen files). */
  clearValues(): void {
    for (const row of this.rows) this.wipe(row);
  }

  private wipe(row: Row): void {
    if (row.value === row.keyInput) return;
    row.value.value = '';
  }
}
