/**
 * Label and field selectors with the real grammar and semantics
 * (k8s.io/apimachinery/pkg/labels/selector.go and pkg/fields/selector.go):
 * labels `k`, `!k`, `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k>1`, `k<1`;
 * fields `f=v`, `f==v`, `f!=v` joined by commas, with `\` escapes.
 */
import { badRequest } from './errors.js';
import { isValidLabelValue, qualifiedNameError } from './names.js';

/** A parsed label requirement. */
export interface LabelRequirement {
  key: string;
  op: 'exists' | '!' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';
  values: string[];
}

/** A parsed label selector: every requirement must hold. An empty selector matches everything. */
export interface LabelSelector {
  requirements: LabelRequirement[];
}

type Tok = { t: 'id'; v: string } | { t: 'op'; v: string } | { t: 'end' };

function lexLabels(input: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    const two = input.slice(i, i + 2);
    if (two === '!=' || two === '==') { toks.push({ t: 'op', v: two }); i += 2; continue; }
    if ('!=(),<>'.includes(c)) { toks.push({ t: 'op', v: c }); i++; continue; }
    let j = i;
    while (j < input.length && !' \t\n\r!=(),<>'.includes(input[j]!)) j++;
    toks.push({ t: 'id', v: input.slice(i, j) });
    i = j;
  }
  toks.push({ t: 'end' });
  return toks;
}

function parseErr(msg: string): never {
  throw badRequest(`unable to parse requirement: ${msg}`);
}

function checkKey(key: string): void {
  const err = qualifiedNameError(key);
  if (err) parseErr(`key: Invalid value: ${JSON.stringify(key)}: ${err}`);
}

function checkValue(v: string): void {
  if (!isValidLabelValue(v)) {
    parseErr(
      `values[0][]: Invalid value: ${JSON.stringify(v)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
    );
  }
}

/** Parses a `labelSelector` query value; throws a 400 ApiError when malformed. */
export function parseLabelSelector(input: string | undefined): LabelSelector {
  const requirements: LabelRequirement[] = [];
  if (!input || input.trim() === '') return { requirements };
  const toks = lexLabels(input);
  let p = 0;
  const peek = (): Tok => toks[p]!;
  const next = (): Tok => toks[p++]!;
  for (;;) {
    let tok = next();
    if (tok.t === 'op' && tok.v === '!') {
      tok = next();
      if (tok.t !== 'id') parseErr(`found '${tokText(tok)}', expected: identifier after '!'`);
      checkKey(tok.v);
      requirements.push({ key: tok.v, op: '!', values: [] });
    } else {
      if (tok.t !== 'id') parseErr(`found '${tokText(tok)}', expected: !, identifier, or 'end of string'`);
      const key = tok.v;
      checkKey(key);
      const opTok = peek();
      if (opTok.t === 'end' || (opTok.t === 'op' && opTok.v === ',')) {
        requirements.push({ key, op: 'exists', values: [] });
      } else {
        next();
        const opText = opTok.v;
        if (opText === '=' || opText === '==' || opText === '!=') {
          const v = peek();
          let value = '';
          if (v.t === 'id') { value = v.v; next(); }
          else if (!(v.t === 'end' || (v.t === 'op' && v.v === ','))) parseErr(`found '${tokText(v)}', expected: identifier`);
          checkValue(value);
          requirements.push({ key, op: opText === '!=' ? '!=' : '=', values: [value] });
        } else if (opText === 'in' || opText === 'notin') {
          const open = next();
          if (!(open.t === 'op' && open.v === '(')) parseErr(`found '${tokText(open)}', expected: '('`);
          const values: string[] = [];
          for (;;) {
            const v = peek();
            if (v.t === 'id') { values.push(v.v); next(); }
            else values.push('');
            const sep = next();
            if (sep.t === 'op' && sep.v === ')') break;
            if (!(sep.t === 'op' && sep.v === ',')) parseErr(`found '${tokText(sep)}', expected: ',' or ')'`);
          }
          const cleaned = values.length === 1 && values[0] === '' ? [] : values;
          if (cleaned.length === 0) parseErr(`values: Required value: for 'in', 'notin' operators, values set can't be empty`);
          cleaned.forEach(checkValue);
          requirements.push({ key, op: opText, values: cleaned });
        } else if (opText === '>' || opText === '<') {
          const v = next();
          if (v.t !== 'id' || !/^-?\d+$/.test(v.v)) parseErr(`for 'Gt', 'Lt' operators, exactly one value is required and it must be an integer`);
          requirements.push({ key, op: opText === '>' ? 'gt' : 'lt', values: [v.v] });
        } else {
          parseErr(`found '${opText}', expected: in, notin, =, ==, !=, gt, lt`);
        }
      }
    }
    const sep = next();
    if (sep.t === 'end') break;
    if (!(sep.t === 'op' && sep.v === ',')) parseErr(`found '${tokText(sep)}', expected: ',' or 'end of string'`);
  }
  return { requirements };
}

function tokText(t: Tok): string {
  return t.t === 'end' ? '' : t.v;
}

/** True when `labels` satisfy every requirement of `sel`. */
export function matchLabels(sel: LabelSelector, labels: Record<string, unknown> | undefined): boolean {
  for (const r of sel.requirements) {
    const raw = labels?.[r.key];
    const has = typeof raw === 'string';
    const v = has ? raw : '';
    switch (r.op) {
      case 'exists': if (!has) return false; break;
      case '!': if (has) return false; break;
      case '=': if (!has || v !== r.values[0]) return false; break;
      case '!=': if (has && v === r.values[0]) return false; break;
      case 'in': if (!has || !r.values.includes(v)) return false; break;
      case 'notin': if (has && r.values.includes(v)) return false; break;
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(v)) return false;
        const n = Number(v);
        const ref = Number(r.values[0]);
        if (r.op === 'gt' ? !(n > ref) : !(n < ref)) return false;
        break;
      }
    }
  }
  return true;
}

/** A parsed field requirement. */
export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

/** A parsed field selector. */
export interface FieldSelector {
  requirements: FieldRequirement[];
}

function splitUnescaped(s: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) { cur += c + s[i + 1]!; i++; continue; }
    if (c === sep) { parts.push(cur); cur = ''; continue; }
    cur += c;
  }
  parts.push(cur);
  return parts;
}

function unescapeField(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      const n = s[i + 1];
      if (n === undefined || !',=!\\'.includes(n)) throw badRequest(`invalid field selector: invalid escape sequence: \\${n ?? ''}`);
      out += n;
      i++;
      continue;
    }
    if (c === ',' || c === '=') throw badRequest(`invalid field selector: unescaped ${c}`);
    out += c;
  }
  return out;
}

/**
 * Parses a `fieldSelector` query value. `supported` lists the field labels the resource knows;
 * an unknown label answers 400 like the real server ("field label not supported: x").
 */
export function parseFieldSelector(input: string | undefined, supported: readonly string[]): FieldSelector {
  const requirements: FieldRequirement[] = [];
  if (!input || input.trim() === '') return { requirements };
  for (const term of splitUnescaped(input, ',')) {
    if (term === '') continue;
    let m: { field: string; op: '=' | '!='; value: string } | undefined;
    for (const [opText, op] of [['!=', '!='], ['==', '='], ['=', '=']] as const) {
      const idx = indexOfUnescaped(term, opText);
      if (idx >= 0) {
        m = { field: term.slice(0, idx).trim(), op, value: term.slice(idx + opText.length) };
        break;
      }
    }
    if (!m) throw badRequest(`invalid selector: '${input}'; can't understand '${term}'`);
    if (!supported.includes(m.field)) throw badRequest(`field label not supported: ${m.field}`);
    requirements.push({ field: m.field, op: m.op, value: unescapeField(m.value) });
  }
  return { requirements };
}

function indexOfUnescaped(s: string, needle: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') { i++; continue; }
    if (s.startsWith(needle, i)) return i;
  }
  return -1;
}

/** True when the object's field set satisfies the selector (a missing field is ""). */
export function matchFields(sel: FieldSelector, fields: Record<string, string>): boolean {
  for (const r of sel.requirements) {
    const v = fields[r.field] ?? '';
    if (r.op === '=' ? v !== r.value : v === r.value) return false;
  }
  return true;
}

/** The metadata.name value an `=` requirement pins, if any (lets list/watch skip a scan). */
export function pinnedName(sel: FieldSelector): string | undefined {
  return sel.requirements.find((r) => r.field === 'metadata.name' && r.op === '=')?.value;
}
