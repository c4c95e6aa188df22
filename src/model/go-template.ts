/**
 * The part of Go's text/template (with Sprig's string functions) that Bitnami Sealed Secrets
 * evaluates in `spec.template.data`, over the unsealed values as strings: text with actions
 * `{{ pipeline }}`, whitespace trimming `{{-`/`-}}`, comments, fields `.key`, string and number
 * literals, pipelines `a | b`, and the functions below. Missing keys print `<no value>`, as Go does
 * for a map. Control structures (if, range, with, define), variables and parentheses are refused
 * with UNSUPPORTED_TEMPLATE naming the construct, never guessed at. Linear in the template's length.
 */
import { createHash } from 'node:crypto';
import { KsealError } from '../errors.js';

type Fn = (...args: string[]) => string;

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const indent = (n: string, s: string): string => s.replace(/^/gm, ' '.repeat(Math.max(0, Math.min(1000, Number(n) || 0))));

/** Go text/template builtins and Sprig string functions, on strings. */
const FUNCTIONS: Readonly<Record<string, Fn>> = Object.assign(Object.create(null) as Record<string, Fn>, {
  print: (...a: string[]) => a.join(''),
  println: (...a: string[]) => `${a.join(' ')}\n`,
  printf: (format: string, ...a: string[]) => {
    let i = 0;
    return format.replace(/%[sdvq%]/g, (m) => (m === '%%' ? '%' : m === '%q' ? JSON.stringify(a[i++] ?? '') : (a[i++] ?? '%!v(MISSING)')));
  },
  len: (s: string) => String([...s].length),
  b64enc: b64,
  b64dec: (s: string) => Buffer.from(s, 'base64').toString('utf8'),
  upper: (s: string) => s.toUpperCase(),
  lower: (s: string) => s.toLowerCase(),
  trim: (s: string) => s.trim(),
  trimPrefix: (p: string, s: string) => (s.startsWith(p) ? s.slice(p.length) : s),
  trimSuffix: (p: string, s: string) => (p !== '' && s.endsWith(p) ? s.slice(0, s.length - p.length) : s),
  trimAll: (c: string, s: string) => s.replace(new RegExp(`^[${escapeClass(c)}]+|[${escapeClass(c)}]+$`, 'g'), ''),
  quote: (...a: string[]) => a.map((s) => JSON.stringify(s)).join(' '),
  squote: (...a: string[]) => a.map((s) => `'${s}'`).join(' '),
  replace: (from: string, to: string, s: string) => (from === '' ? s : s.split(from).join(to)),
  default: (d: string, s = '') => (s === '' ? d : s),
  cat: (...a: string[]) => a.filter((s) => s !== '').join(' '),
  indent,
  nindent: (n: string, s: string) => `\n${indent(n, s)}`,
  sha256sum: (s: string) => createHash('sha256').update(s, 'utf8').digest('hex'),
  toString: (s: string) => s,
  toJson: (s: string) => JSON.stringify(s),
});

function escapeClass(s: string): string {
  return s.replace(/[\\\]^-]/g, '\\$&');
}

function unsupported(what: string): KsealError {
  return new KsealError('UNSUPPORTED_TEMPLATE', `spec.template.data uses ${what}, which kseal does not evaluate`, { hint: 'use fields, pipelines and string functions only, or seal the final value' });
}

/** Renders `template` over `data` (Bitnami's `spec.template.data` semantics; see the module comment). */
export function renderGoTemplate(template: string, data: Readonly<Record<string, string>>): string {
  let out = '';
  let pos = 0;
  for (;;) {
    const open = template.indexOf('{{', pos);
    if (open < 0) return out + template.slice(pos);
    let text = template.slice(pos, open);
    let start = open + 2;
    if (template.startsWith('- ', start) || template.startsWith('-\t', start) || template.startsWith('-\n', start)) {
      text = text.replace(/\s+$/, '');
      start++;
    }
    out += text;
    const close = template.indexOf('}}', start);
    if (close < 0) throw new KsealError('UNSUPPORTED_TEMPLATE', 'spec.template.data has an unclosed {{ action', { hint: 'close it with }}' });
    let end = close;
    let trimAfter = false;
    if (close > start && template[close - 1] === '-' && /\s/.test(template[close - 2] ?? '')) {
      end = close - 1;
      trimAfter = true;
    }
    out += evaluate(template.slice(start, end).trim(), data);
    pos = close + 2;
    if (trimAfter) while (pos < template.length && /\s/.test(template[pos] ?? '')) pos++;
  }
}

function evaluate(action: string, data: Readonly<Record<string, string>>): string {
  if (action.startsWith('/*')) {
    if (!action.endsWith('*/')) throw unsupported('a comment that is not closed');
    return '';
  }
  const commands = splitPipeline(tokenize(action));
  let value: string | undefined;
  for (const command of commands) value = run(command, value, data);
  return value ?? '';
}

type Token = { kind: 'field' | 'string' | 'number' | 'ident' | 'pipe'; text: string };

function tokenize(action: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < action.length) {
    const c = action[i] ?? '';
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '|') {
      tokens.push({ kind: 'pipe', text: '|' });
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < action.length && action[j] !== '"') j += action[j] === '\\' ? 2 : 1;
      if (j >= action.length) throw unsupported('an unterminated string');
      // A Go string literal inside a template action (already scanned to its end), not a document.
      tokens.push({ kind: 'string', text: JSON.parse(action.slice(i, j + 1)) as string });
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = action.indexOf('`', i + 1);
      if (j < 0) throw unsupported('an unterminated raw string');
      tokens.push({ kind: 'string', text: action.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    const m = /^(?:\.[A-Za-z0-9_-]*|-?[0-9]+|[A-Za-z_][A-Za-z0-9_]*)/.exec(action.slice(i));
    if (m === null) throw unsupported(c === '$' ? 'a variable' : c === '(' || c === ')' ? 'parentheses' : `"${c}"`);
    const text = m[0];
    tokens.push({ kind: text.startsWith('.') ? 'field' : /^-?[0-9]/.test(text) ? 'number' : 'ident', text });
    i += text.length;
  }
  return tokens;
}

function splitPipeline(tokens: Token[]): Token[][] {
  const commands: Token[][] = [[]];
  for (const t of tokens) {
    if (t.kind === 'pipe') commands.push([]);
    else commands[commands.length - 1]?.push(t);
  }
  if (commands.some((c) => c.length === 0)) throw unsupported('an empty pipeline stage');
  return commands;
}

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue', 'nil', 'true', 'false']);

function run(command: Token[], piped: string | undefined, data: Readonly<Record<string, string>>): string {
  const [head, ...rest] = command as [Token, ...Token[]];
  const operand = (t: Token): string => {
    if (t.kind === 'string' || t.kind === 'number') return t.text;
    if (t.kind === 'field') {
      if (t.text === '.') throw unsupported('"." as a value');
      const k = t.text.slice(1);
      return Object.hasOwn(data, k) ? (data[k] ?? '') : '<no value>';
    }
    throw unsupported(`"${t.text}" as an argument`);
  };
  if (head.kind !== 'ident') {
    if (rest.length > 0 || piped !== undefined) throw unsupported('arguments after a value');
    return operand(head);
  }
  if (KEYWORDS.has(head.text)) throw unsupported(`"${head.text}"`);
  if (head.text === 'index') {
    const [target, keyToken] = rest;
    if (target?.kind !== 'field' || target.text !== '.' || keyToken === undefined || rest.length !== 2) throw unsupported('index other than index . "key"');
    const k = operand(keyToken);
    return Object.hasOwn(data, k) ? (data[k] ?? '') : '<no value>';
  }
  const fn = FUNCTIONS[head.text];
  if (fn === undefined) throw unsupported(`the function "${head.text}"`);
  const args = rest.map(operand);
  if (piped !== undefined) args.push(piped);
  return fn(...args);
}
