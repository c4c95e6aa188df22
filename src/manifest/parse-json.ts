/**
 * The JSON side of the parse entry (parse.ts): a stream of JSON values, concatenated or one per
 * line (what `kubectl get -o json` loops produce). One linear scan finds where each value ends and
 * applies the same rules as YAML: PARSE_LIMITS (values per stream, entries per object, nesting
 * depth) and no duplicate key in an object (JSON.parse would silently keep the last one, so the
 * same file would mean something else as YAML). Each value is then parsed by JSON.parse.
 */
import { KsealError } from '../errors.js';
import { PARSE_LIMITS } from './parse.js';

/** Parses every JSON value of `text`. Throws INVALID_JSON (syntax, depth, duplicate key) or INPUT_LIMIT. */
export function parseJsonValues(text: string, source: string): unknown[] {
  const values: unknown[] = [];
  const scan = new Scanner(text, source);
  for (;;) {
    scan.skipSpace();
    if (scan.i >= text.length) break;
    const document = values.length + 1;
    if (document > PARSE_LIMITS.maxDocuments) {
      throw new KsealError('INPUT_LIMIT', `the input holds more than ${PARSE_LIMITS.maxDocuments} JSON values`, { file: source, hint: 'split it into several files' });
    }
    const start = scan.i;
    const startLine = scan.line;
    const end = scan.value(document);
    if (end === undefined) {
      throw new KsealError('INVALID_JSON', `not valid JSON: the value starting at line ${startLine} never ends`, { file: source, document });
    }
    try {
      values.push(JSON.parse(text.slice(start, end)));
    } catch (e) {
      // V8's message quotes the input (a secret); only the position is kept.
      const position = e instanceof SyntaxError ? /position (\d+)/.exec(e.message)?.[1] : undefined;
      const line = position === undefined ? startLine : startLine + countLines(text, start, start + Number(position));
      throw new KsealError('INVALID_JSON', `not valid JSON at line ${line}`, { file: source, document, hint: 'check the commas, quotes and brackets near that line' });
    }
    scan.i = end;
  }
  return values;
}

interface Frame {
  readonly object: boolean;
  readonly keys: Set<string>;
  entries: number;
  expectKey: boolean;
}

/** Finds value ends and checks structure; JSON.parse does the real parsing after it. */
class Scanner {
  i = 0;
  line = 1;

  constructor(
    private readonly text: string,
    private readonly source: string,
  ) {}

  skipSpace(): void {
    const t = this.text;
    while (this.i < t.length) {
      const c = t.charCodeAt(this.i);
      if (c === 0x0a) this.line++;
      else if (c !== 0x20 && c !== 0x09 && c !== 0x0d) break;
      this.i++;
    }
  }

  /** Scans one value from `i`; returns the index just past it, or undefined when it never closes. */
  value(document: number): number | undefined {
    const t = this.text;
    const first = t.charCodeAt(this.i);
    if (first !== 0x7b && first !== 0x5b) {
      // Something other than an object or array at top level: let JSON.parse report it.
      let j = this.i;
      while (j < t.length && !/\s/.test(t[j] ?? '')) j++;
      return j;
    }
    const stack: Frame[] = [];
    for (let i = this.i; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (c === 0x0a) this.line++;
      else if (c === 0x22) {
        const end = this.stringEnd(i);
        if (end === undefined) return undefined;
        const top = stack[stack.length - 1];
        if (top?.object === true && top.expectKey) {
          top.expectKey = false;
          this.key(top, t.slice(i, end + 1), document);
        }
        i = end;
      } else if (c === 0x7b || c === 0x5b) {
        if (stack.length >= PARSE_LIMITS.maxDepth) {
          throw new KsealError('INVALID_JSON', `not valid JSON: it is nested more than ${PARSE_LIMITS.maxDepth} levels deep (line ${this.line})`, { file: this.source, document });
        }
        stack.push({ object: c === 0x7b, keys: new Set(), entries: 0, expectKey: c === 0x7b });
      } else if (c === 0x2c) {
        const top = stack[stack.length - 1];
        if (top?.object === true) top.expectKey = true;
      } else if (c === 0x7d || c === 0x5d) {
        stack.pop();
        if (stack.length === 0) return i + 1;
      }
    }
    return undefined;
  }

  /** Index of the closing quote of the string opening at `start`. */
  private stringEnd(start: number): number | undefined {
    const t = this.text;
    for (let i = start + 1; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (c === 0x5c) i++;
      else if (c === 0x22) return i;
      else if (c === 0x0a) this.line++;
    }
    return undefined;
  }

  private key(frame: Frame, quoted: string, document: number): void {
    frame.entries++;
    if (frame.entries > PARSE_LIMITS.maxMapEntries) {
      throw new KsealError('INPUT_LIMIT', `an object at line ${this.line} has more than ${PARSE_LIMITS.maxMapEntries} entries`, { file: this.source, document, hint: 'Kubernetes objects never need that many; split the data' });
    }
    let name: string;
    try {
      name = quoted.includes('\\') ? (JSON.parse(quoted) as string) : quoted.slice(1, -1);
    } catch {
      return; // A broken string: JSON.parse of the whole value reports it with its line.
    }
    if (frame.keys.has(name)) {
      const shown = name.length > 100 ? `${name.slice(0, 100)}…` : name;
      throw new KsealError('INVALID_JSON', `not valid JSON at line ${this.line} (duplicate key ${JSON.stringify(shown)})`, {
        file: this.source,
        document,
        key: shown,
        hint: 'a key may appear once per object; remove or rename one of them',
      });
    }
    frame.keys.add(name);
  }
}

function countLines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}
