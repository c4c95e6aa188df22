/**
 * The one YAML parse entry of kseal: every reader of user YAML (manifests, in-place edits, lint,
 * `.kseal.yaml`, controller request bodies) parses through `parseYamlDocuments`, so all of them
 * read a file the same way. YAML 1.1 as Kubernetes reads it (`yes`/`no` are booleans, `<<` merges)
 * but timestamps stay strings, as they do there: `created: 2024-01-01` is the string "2024-01-01"
 * everywhere.
 *
 * Parsing is linear in the input. yaml's own duplicate-key check (`uniqueKeys`) compares every key
 * with every earlier key of its mapping (a 1 MiB mapping of ~72,000 keys took over a minute), so it
 * is off and `duplicateKey` checks each mapping with a Set instead. Before anything is composed,
 * the syntax tree of each document is checked against PARSE_LIMITS (documents per stream, entries
 * per mapping, nesting depth, aliases), so a hostile input is refused early with a clear error
 * instead of exhausting time, memory or the stack.
 */
import { Composer, isCollection, isMap, isPair, isScalar, Lexer, LineCounter, Parser, type CST, type Document, type DocumentOptions, type ParseOptions, type SchemaOptions } from 'yaml';
import { KsealError } from '../errors.js';

/**
 * What one input may hold. Kubernetes objects are far inside every bound: a Secret is at most
 * 1 MiB, holds tens of keys and nests a handful of levels.
 */
export const PARSE_LIMITS = {
  /** Bytes of one input (a file, stdin, a request body is bounded lower by the controller). */
  maxInputBytes: 64 * 1024 * 1024,
  /** Documents in one YAML stream or JSON values in one JSON stream. */
  maxDocuments: 10_000,
  /** Entries of one mapping (a JSON object, a YAML mapping). */
  maxMapEntries: 10_000,
  /** Nesting depth of mappings and sequences. */
  maxDepth: 100,
  /**
   * Alias nodes per YAML document (more are refused before composing), and yaml's expansion guard
   * (`maxAliasCount`) with the same number, which refuses the 100th expansion of one anchor.
   */
  maxAliasCount: 100,
} as const;

/** The parse options every caller uses (YAML 1.1, no timestamp tag, duplicate keys checked by duplicateKey). */
const YAML_PARSE_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  version: '1.1',
  prettyErrors: false,
  strict: true,
  uniqueKeys: false,
  customTags: (tags) => tags.filter((t) => typeof t === 'string' || t.tag !== 'tag:yaml.org,2002:timestamp'),
};

/** The `toJS` options every caller uses. */
export const YAML_TO_JS_OPTIONS = { maxAliasCount: PARSE_LIMITS.maxAliasCount } as const;

/** Why a document cannot be used: its first syntax error or duplicate key, with the line (never the value). */
export interface DocumentProblem {
  readonly line: number;
  readonly message: string;
  /** The duplicated key, when that is the problem. */
  readonly key?: string;
}

/** One non-empty document of a stream. */
export interface ParsedYamlDocument {
  readonly doc: Document;
  /** 1-based index among the non-empty documents. */
  readonly document: number;
  /** Set when the document is not valid YAML; `doc` must then not be used. */
  readonly problem: DocumentProblem | undefined;
}

/** A parsed stream: its non-empty documents, the line counter (for callers that map nodes to lines). */
export interface ParsedYamlStream {
  readonly documents: readonly ParsedYamlDocument[];
  readonly lines: LineCounter;
  /** Every document, empty ones included, in order (for editors that re-print the whole stream). */
  readonly all: readonly Document[];
}

/**
 * Parses a YAML stream with the shared options and limits. Exceeded limits throw INPUT_LIMIT (or
 * INVALID_YAML for nesting depth); syntax errors and duplicate keys are reported per document in
 * `problem`, so lint can go on with the next document; other callers use `throwIfProblem`.
 */
export function parseYamlDocuments(text: string, source: string): ParsedYamlStream {
  const lines = new LineCounter();
  const all: Document[] = [];
  const documents: ParsedYamlDocument[] = [];
  for (const [doc, parsed] of composeDocuments(text, source, lines)) {
    all.push(doc);
    if (parsed !== undefined) documents.push(parsed);
  }
  return { documents, lines, all };
}

/**
 * The same parse as parseYamlDocuments, one non-empty document at a time as the composer finishes
 * it, for callers that start work on the first documents while the rest is read (bulk sealing).
 * A limit beyond the documents already yielded throws only when the parse gets there.
 */
export function* streamYamlDocuments(text: string, source: string): Generator<ParsedYamlDocument, void, undefined> {
  for (const [, parsed] of composeDocuments(text, source, new LineCounter())) if (parsed !== undefined) yield parsed;
}

/** Every composed document of the stream in order, with its ParsedYamlDocument when it is not empty. */
function* composeDocuments(text: string, source: string, lines: LineCounter): Generator<[Document, ParsedYamlDocument | undefined], void, undefined> {
  if (Buffer.byteLength(text, 'utf8') > PARSE_LIMITS.maxInputBytes) {
    throw new KsealError('INPUT_TOO_LARGE', `the input is larger than ${PARSE_LIMITS.maxInputBytes / 1024 / 1024} MiB`, { file: source, hint: 'split it into several files' });
  }
  const composer = new Composer(YAML_PARSE_OPTIONS);
  // The lexeme checks of syntaxTokens fire only on `*`, `[` and `{`; text without any of them (most
  // manifests: base64 has none) goes straight to the parser, one generator fewer per token.
  const tokens = FLOW_OR_ALIAS.test(text) ? syntaxTokens(text, source, lines) : new Parser(lines.addNewLine).parse(text);
  let count = 0;
  for (const doc of composer.compose(checkedTokens(tokens, source, lines))) {
    // An empty document (a trailing `---`, or only comments) parses as null: it is skipped everywhere.
    if (doc.errors.length === 0 && (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null))) {
      yield [doc, undefined];
      continue;
    }
    const document = ++count;
    const error = doc.errors[0];
    // The parser's own message can quote the input (a secret); only its code and position are shown.
    const problem: DocumentProblem | undefined =
      error !== undefined ? { line: lines.linePos(error.pos[0]).line, message: error.code.toLowerCase().replace(/_/g, ' ') } : duplicateKey(doc, lines);
    yield [doc, { doc, document, problem }];
  }
}

/** A character that starts an alias or a flow collection: what syntaxTokens counts. */
const FLOW_OR_ALIAS = /[*[{]/;

/** Throws INVALID_YAML for a document's problem: `file: document N: not valid YAML at line L (why)`. */
function throwIfProblem(parsed: ParsedYamlDocument, source: string): void {
  const p = parsed.problem;
  if (p === undefined) return;
  throw new KsealError('INVALID_YAML', `not valid YAML at line ${p.line} (${p.message})`, {
    file: source,
    document: parsed.document,
    ...(p.key === undefined ? {} : { key: p.key }),
    hint: p.key === undefined ? 'check the indentation and quoting near that line' : 'a key may appear once per mapping; remove or rename one of them',
  });
}

/** The document as plain data, with alias expansion bounded; throws INVALID_YAML when it cannot be. */
export function documentValue(parsed: ParsedYamlDocument, source: string): unknown {
  throwIfProblem(parsed, source);
  try {
    return parsed.doc.toJS(YAML_TO_JS_OPTIONS);
  } catch (e) {
    const why = e instanceof RangeError ? 'it is nested too deeply' : e instanceof ReferenceError ? 'it expands too many aliases (a YAML alias bomb?)' : 'it cannot be read';
    throw new KsealError('INVALID_YAML', `not valid YAML: ${why}`, { file: source, document: parsed.document });
  }
}

/** Keys longer than this are shortened in messages (a key is a name, but a hostile one can be a megabyte). */
const SHOWN_KEY = 100;
const shownKey = (key: string): string => (key.length > SHOWN_KEY ? `${key.slice(0, SHOWN_KEY)}…` : key);

/**
 * The first duplicated key of any mapping in the document, in linear time (one Set per mapping).
 * Keys are compared as the object keys they become (`1` and `"1"` are the same key), so no value is
 * ever silently replaced by a later one. `<<` merge keys may repeat, as YAML 1.1 allows.
 */
function duplicateKey(doc: Document, lines: LineCounter): DocumentProblem | undefined {
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        stack.push(pair.value);
        const key = pair.key;
        if (!isScalar(key)) {
          stack.push(key);
          continue;
        }
        if (typeof key.value === 'symbol') continue;
        const name = keyName(key.value);
        if (seen.has(name)) {
          const line = key.range === undefined || key.range === null ? 0 : lines.linePos(key.range[0]).line;
          return { line, message: `duplicate key ${JSON.stringify(shownKey(name))}`, key: shownKey(name) };
        }
        seen.add(name);
      }
    } else if (isCollection(node)) {
      for (const item of node.items) stack.push(isPair(item) ? item.value : item);
    }
  }
  return undefined;
}

/**
 * The parser's tokens, fed lexeme by lexeme (what Parser.parse does) so that flow nesting and aliases
 * are counted as they are read: 1 MiB of `[` or of `*a` is refused after the 101st instead of after
 * building the whole tree.
 */
function* syntaxTokens(text: string, source: string, lines: LineCounter): Generator<CST.Token> {
  const parser = new Parser(lines.addNewLine);
  lines.addNewLine(0);
  let depth = 0;
  let aliases = 0;
  let afterScalarMarker = false;
  for (const lexeme of new Lexer().lex(text)) {
    // An alias lexeme starts with `*`; so can the text of a block scalar, which follows the scalar marker.
    if (lexeme === '---') aliases = 0;
    else if (!afterScalarMarker && lexeme.startsWith('*') && ++aliases > PARSE_LIMITS.maxAliasCount) {
      throw new KsealError('INVALID_YAML', `not valid YAML: a document holds more than ${PARSE_LIMITS.maxAliasCount} aliases (a YAML alias bomb?) (line ${lines.lineStarts.length})`, { file: source });
    }
    afterScalarMarker = lexeme === '\x1f';
    if (lexeme === '[' || lexeme === '{') {
      if (++depth > PARSE_LIMITS.maxDepth) {
        throw new KsealError('INVALID_YAML', `not valid YAML: it is nested more than ${PARSE_LIMITS.maxDepth} levels deep (line ${lines.lineStarts.length})`, { file: source });
      }
    } else if (lexeme === ']' || lexeme === '}') depth = Math.max(0, depth - 1);
    yield* parser.next(lexeme);
  }
  yield* parser.end();
}

/** The object key a scalar key becomes in toJS (null is the empty key, as yaml makes it). */
function keyName(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value) ?? '';
}

/** Passes the parser's tokens on to the composer, refusing a stream or document beyond PARSE_LIMITS before it is composed. */
function* checkedTokens(tokens: Generator<CST.Token>, source: string, lines: LineCounter): Generator<CST.Token> {
  let documents = 0;
  for (const token of tokens) {
    if (token.type === 'document') {
      documents++;
      if (documents > PARSE_LIMITS.maxDocuments) {
        throw new KsealError('INPUT_LIMIT', `the input holds more than ${PARSE_LIMITS.maxDocuments} documents`, { file: source, hint: 'split it into several files' });
      }
      checkTree(token, documents, source, lines);
    }
    yield token;
  }
}

/** Walks one document's syntax tree without recursion: depth, entries per mapping, alias count. */
function checkTree(document: CST.Document, index: number, source: string, lines: LineCounter): void {
  const lineAt = (offset: number): number => lines.linePos(offset).line;
  const stack: Array<[CST.Token, number]> = [];
  if (document.value !== undefined) stack.push([document.value, 0]);
  let aliases = 0;
  while (stack.length > 0) {
    const [token, depth] = stack.pop() as [CST.Token, number];
    if (token.type === 'alias') {
      aliases++;
      if (aliases > PARSE_LIMITS.maxAliasCount) {
        throw new KsealError('INVALID_YAML', `not valid YAML: it holds more than ${PARSE_LIMITS.maxAliasCount} aliases (a YAML alias bomb?)`, { file: source, document: index });
      }
      continue;
    }
    if (token.type !== 'block-map' && token.type !== 'block-seq' && token.type !== 'flow-collection') continue;
    if (depth >= PARSE_LIMITS.maxDepth) {
      throw new KsealError('INVALID_YAML', `not valid YAML: it is nested more than ${PARSE_LIMITS.maxDepth} levels deep (line ${lineAt(token.offset)})`, { file: source, document: index });
    }
    const isMapping = token.type === 'block-map' || (token.type === 'flow-collection' && token.start.source === '{');
    if (isMapping && token.items.length > PARSE_LIMITS.maxMapEntries) {
      throw new KsealError('INPUT_LIMIT', `a mapping at line ${lineAt(token.offset)} has more than ${PARSE_LIMITS.maxMapEntries} entries`, {
        file: source,
        document: index,
        hint: 'Kubernetes objects never need that many; split the data',
      });
    }
    for (const item of token.items) {
      const entry = item as { key?: CST.Token | null; value?: CST.Token };
      if (entry.value !== undefined) stack.push([entry.value, depth + 1]);
      if (entry.key !== undefined && entry.key !== null) stack.push([entry.key, depth + 1]);
    }
  }
}
