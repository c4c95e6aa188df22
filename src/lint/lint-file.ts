/**
 * The per-file checks of `kseal lint`, with public material only: the file's text, the certificates
 * the repo config knows (key id → key size, expiry, retired) and the creation rule for the file's
 * path. Returns findings (with lines, from the syntax tree) and every ciphertext seen, so the caller
 * can find values copied between objects across files. Findings can be silenced in the file:
 * `# kseal-lint-ignore KS101` on the line of a finding or the line above it, or
 * `# kseal-lint-ignore-file KS101` anywhere for the whole file.
 */
import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import { isKsealError } from '../errors.js';
import { parseYamlDocuments, YAML_TO_JS_OPTIONS, type ParsedYamlStream } from '../manifest/parse.js';
import { decodeBase64 } from '../crypto/base64.js';
import { splitSealed } from '../crypto/hybrid.js';
import { BITNAMI_CLUSTER_WIDE, BITNAMI_NAMESPACE_WIDE, KEY_ID_ANNOTATION, SCOPE_ANNOTATION } from '../wire.js';
import { SCOPES } from '../model/scope.js';
import { RULES_BY_ID, type Finding } from './rules.js';

/** What lint knows about a certificate. */
export interface KnownKey {
  readonly name: string;
  readonly bits: number;
  readonly notAfter: Date;
  readonly retired: boolean;
  /** Where the config names it (absolute paths), to match rules' certificates. */
  readonly sources: readonly string[];
}

/** Context for one file. */
export interface FileContext {
  /** Certificates the config knows, by key id. */
  readonly keys: ReadonlyMap<string, KnownKey>;
  /** Key ids of the certificates of the creation rule for this path (empty: no rule or no file certificates). */
  readonly ruleKeyIds: readonly string[];
  readonly now: Date;
  readonly warnExpiryDays: number;
}

/** A ciphertext and where it is. */
export interface CiphertextSeen {
  readonly value: string;
  readonly object: string;
  readonly file: string;
  readonly line: number;
  readonly document: number;
  readonly key: string;
  /** A KS601 finding here (made later, across files) is silenced by a comment in the file. */
  readonly silenced: boolean;
}

/** What linting one file found; plain data, so it can come back from a worker thread. */
export interface FileResult {
  readonly findings: Finding[];
  readonly ciphertexts: CiphertextSeen[];
}

const IGNORE = /kseal-lint-ignore(-file)?((?:\s+KS\d{3})+)/g;

/** Lints one file's text. `file` is the path shown in findings. */
export function lintFile(text: string, file: string, context: FileContext): FileResult {
  const ignored = ignoreChecker(text);
  const findings: Finding[] = [];
  const ciphertexts: CiphertextSeen[] = [];
  const add = (ruleId: string, line: number, message: string, where: { document?: number; key?: string } = {}, severity = RULES_BY_ID.get(ruleId)?.severity ?? 'error'): void => {
    if (!ignored(ruleId, line)) findings.push({ ruleId, severity, message, file, line, ...where });
  };
  const parts = file.split('/');
  if (parts.includes('templates') && text.includes('{{')) {
    // A Helm template is not YAML until rendered; look for a Secret with values in its text.
    if (/^\s*kind:\s*["']?Secret["']?\s*$/m.test(text) && /^\s*(data|stringData):\s*$/m.test(text)) {
      add('KS102', lineOfMatch(text, /^\s*kind:\s*["']?Secret/m), 'a Helm template creates a Secret with data or stringData: its values are plaintext in the chart', {});
    }
    return { findings, ciphertexts };
  }
  let stream: ParsedYamlStream;
  try {
    stream = parseYamlDocuments(text, file);
  } catch (e) {
    // A stream beyond the parse limits (documents, depth, entries, aliases): one finding for the file.
    if (!isKsealError(e)) throw e;
    add('KS001', 1, `the file cannot be read: ${e.message}`, e.document === undefined ? {} : { document: e.document });
    return { findings, ciphertexts };
  }
  const lines = stream.lines;
  for (const { doc, document, problem } of stream.documents) {
    if (problem !== undefined) {
      add('KS001', problem.line, `document ${document} is not valid YAML (${problem.message})`, { document });
      continue;
    }
    const line = (path: ReadonlyArray<string | number>): number => lineOf(doc, path, lines);
    let value: unknown;
    try {
      value = doc.toJS(YAML_TO_JS_OPTIONS);
    } catch {
      add('KS001', 1, `document ${document} cannot be read (it expands too many aliases or nests too deeply)`, { document });
      continue;
    }
    if (!isRecord(value)) continue;
    const kind = value.kind;
    const isKustomization = kind === 'Kustomization' || /(^|\/)kustomization\.ya?ml$/.test(file);
    if (isKustomization) checkKustomization(value, line, document, add);
    if (typeof kind === 'string' && /List$/.test(kind) && Array.isArray(value.items)) {
      value.items.forEach((item, i) => {
        if (isRecord(item) && item.kind === 'Secret') checkSecret(item, (p) => line(['items', i, ...p]), document, add, ' (inside a List)');
      });
    }
    if (kind === 'Secret') checkSecret(value, line, document, add, '');
    if (kind === 'SealedSecret') checkSealed(value, line, document, file, context, add, (c) => ciphertexts.push({ ...c, silenced: ignored('KS601', c.line) }));
  }
  return { findings, ciphertexts };
}

type Add = (ruleId: string, line: number, message: string, where?: { document?: number; key?: string }, severity?: 'error' | 'warning') => void;
type LineOf = (path: ReadonlyArray<string | number>) => number;

function checkSecret(secret: Record<string, unknown>, line: LineOf, document: number, add: Add, where: string): void {
  const name = isRecord(secret.metadata) && typeof secret.metadata.name === 'string' ? secret.metadata.name : '?';
  for (const field of ['data', 'stringData'] as const) {
    const values = secret[field];
    if (!isRecord(values) || Object.keys(values).length === 0) continue;
    add('KS101', line([field]), `Secret ${JSON.stringify(name)}${where} holds ${field} in plaintext; seal it (kseal encrypt, or kseal create secret) and commit the SealedSecret`, { document });
  }
  const stringData = secret.stringData;
  if (isRecord(stringData)) {
    for (const [key, v] of Object.entries(stringData)) {
      if (typeof v === 'string' && /\{\{.*\}\}/s.test(v)) add('KS301', line(['stringData', key]), 'the stringData value holds a {{ … }} template placeholder, which kseal seals literally', { document, key });
    }
  }
}

function checkKustomization(k: Record<string, unknown>, line: LineOf, document: number, add: Add): void {
  if (!Array.isArray(k.secretGenerator)) return;
  k.secretGenerator.forEach((g, i) => {
    if (!isRecord(g)) return;
    const name = typeof g.name === 'string' ? g.name : '?';
    if (Array.isArray(g.literals) && g.literals.length > 0) add('KS103', line(['secretGenerator', i, 'literals']), `secretGenerator ${JSON.stringify(name)} has literals: the values are plaintext in the repo`, { document });
    for (const field of ['files', 'envs']) {
      const list = g[field];
      if (Array.isArray(list) && list.length > 0) add('KS103', line(['secretGenerator', i, field]), `secretGenerator ${JSON.stringify(name)} reads ${field} from the repo, which are plaintext there`, { document }, 'warning');
    }
  });
}

function checkSealed(obj: Record<string, unknown>, line: LineOf, document: number, file: string, context: FileContext, add: Add, seen: (c: Omit<CiphertextSeen, 'silenced'>) => void): void {
  const meta = isRecord(obj.metadata) ? obj.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : undefined;
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : undefined;
  const annotations = isRecord(meta.annotations) ? meta.annotations : {};
  const spec = isRecord(obj.spec) ? obj.spec : {};
  const at = (key: string): LineOf => (p) => line(p.length === 0 ? ['metadata', 'annotations', key] : p);

  // Scope annotations.
  const own = annotations[SCOPE_ANNOTATION];
  const cw = annotations[BITNAMI_CLUSTER_WIDE];
  const nw = annotations[BITNAMI_NAMESPACE_WIDE];
  let scope: string | undefined;
  if (own !== undefined && !(typeof own === 'string' && (SCOPES as readonly string[]).includes(own))) add('KS402', at(SCOPE_ANNOTATION)([]), `${SCOPE_ANNOTATION} is ${JSON.stringify(own)}; use one of ${SCOPES.join(', ')}`, { document });
  else if (typeof own === 'string') scope = own;
  for (const [key, v] of [[BITNAMI_CLUSTER_WIDE, cw], [BITNAMI_NAMESPACE_WIDE, nw]] as const) {
    if (v !== undefined && v !== 'true' && v !== 'false') add('KS402', at(key)([]), `${key} is ${JSON.stringify(v)}; Bitnami reads only "true"`, { document });
  }
  const bitnami = cw === 'true' ? 'cluster-wide' : nw === 'true' ? 'namespace-wide' : undefined;
  if (cw === 'true' && nw === 'true') add('KS401', at(BITNAMI_NAMESPACE_WIDE)([]), `both ${BITNAMI_CLUSTER_WIDE} and ${BITNAMI_NAMESPACE_WIDE} are "true"`, { document });
  else if (scope !== undefined && bitnami !== undefined && scope !== bitnami) add('KS401', at(SCOPE_ANNOTATION)([]), `${SCOPE_ANNOTATION} says ${scope} but a Bitnami annotation says ${bitnami}`, { document });
  const effective = scope ?? bitnami ?? 'strict';
  if (effective !== 'cluster-wide' && (namespace === undefined || namespace === '')) {
    add('KS403', line(['metadata']), `the SealedSecret is ${effective} but has no metadata.namespace: its values open only in the namespace they were sealed for`, { document });
  }
  const template = isRecord(spec.template) && isRecord(spec.template.metadata) ? spec.template.metadata : undefined;
  if (template !== undefined) {
    for (const [field, own2] of [['name', name], ['namespace', namespace]] as const) {
      const t = template[field];
      if (typeof t === 'string' && own2 !== undefined && t !== own2) add('KS404', line(['spec', 'template', 'metadata', field]), `spec.template.metadata.${field} is ${JSON.stringify(t)} but the object's is ${JSON.stringify(own2)}; the controller uses the object's`, { document });
    }
  }

  // Which key sealed it.
  const keyId = typeof annotations[KEY_ID_ANNOTATION] === 'string' ? (annotations[KEY_ID_ANNOTATION]) : undefined;
  const known = keyId === undefined ? undefined : context.keys.get(keyId);
  const idLine = at(KEY_ID_ANNOTATION)([]);
  if (keyId !== undefined && known === undefined && context.keys.size > 0) add('KS501', idLine, `${KEY_ID_ANNOTATION} ${keyId.slice(0, 12)}… names no certificate in .kseal.yaml`, { document });
  if (known !== undefined) {
    if (known.retired) add('KS503', idLine, `sealed with ${known.name}, which .kseal.yaml marks retired; re-seal it (kseal reencrypt)`, { document });
    const days = (known.notAfter.getTime() - context.now.getTime()) / 86_400_000;
    if (days < context.warnExpiryDays) add('KS502', idLine, days < 0 ? `the certificate ${known.name} expired on ${known.notAfter.toISOString().slice(0, 10)}` : `the certificate ${known.name} expires on ${known.notAfter.toISOString().slice(0, 10)}, in ${Math.floor(days)} days`, { document });
  }
  if (keyId !== undefined && context.ruleKeyIds.length > 0 && !context.ruleKeyIds.includes(keyId)) {
    const expected = context.keys.get(context.ruleKeyIds[0] ?? '')?.name ?? `${(context.ruleKeyIds[0] ?? '').slice(0, 12)}…`;
    add('KS701', idLine, `.kseal.yaml says this path is sealed with ${expected}, but it is sealed with ${known?.name ?? `${keyId.slice(0, 12)}…`}`, { document });
  }

  // The values.
  const data = isRecord(spec.encryptedData) ? spec.encryptedData : {};
  const object = `${namespace ?? ''}/${name ?? ''}`;
  for (const [key, v] of Object.entries(data)) {
    const l = line(['spec', 'encryptedData', key]);
    const bytes = typeof v === 'string' ? decodeBase64(v) : undefined;
    if (bytes === undefined) {
      add('KS201', l, 'the sealed value is not standard padded base64', { document, key });
      continue;
    }
    try {
      const { wrappedKey } = splitSealed(bytes);
      if (known !== undefined && wrappedKey.length !== known.bits / 8) add('KS203', l, `the RSA part is ${wrappedKey.length} bytes, but ${known.name} is a ${known.bits}-bit key (${known.bits / 8} bytes)`, { document, key });
      else if (known === undefined && ![128, 256, 384, 512, 1024].includes(wrappedKey.length)) add('KS203', l, `the RSA part is ${wrappedKey.length} bytes, which is no RSA key size`, { document, key });
    } catch (e) {
      add('KS202', l, e instanceof Error ? e.message : 'the sealed value is malformed', { document, key });
      continue;
    }
    seen({ value: v as string, object, file, line: l, document, key });
  }
}

function ignoreChecker(text: string): (ruleId: string, line: number) => boolean {
  const fileWide = new Set<string>();
  const byLine = new Map<number, Set<string>>();
  if (text.includes('kseal-lint-ignore')) {
    for (const m of text.matchAll(IGNORE)) {
      const ids = (m[2] ?? '').trim().split(/\s+/);
      if (m[1] !== undefined) for (const id of ids) fileWide.add(id);
      else {
        const line = lineOfIndex(text, m.index);
        for (const l of [line, line + 1]) byLine.set(l, new Set([...(byLine.get(l) ?? []), ...ids]));
      }
    }
  }
  return (ruleId, line) => fileWide.has(ruleId) || byLine.get(line)?.has(ruleId) === true;
}

/** 1-based line of the key at `path` (the deepest pair found), else of the document. */
function lineOf(doc: Document, path: ReadonlyArray<string | number>, lines: LineCounter): number {
  let node: unknown = doc.contents;
  let pos = (doc.contents)?.range?.[0] ?? 0;
  for (const step of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === step);
      if (pair === undefined) break;
      pos = (pair.key as Node | null)?.range?.[0] ?? pos;
      node = pair.value;
    } else if (isSeq(node) && typeof step === 'number') {
      const item = node.items[step] as Node | undefined;
      if (item === undefined) break;
      pos = item.range?.[0] ?? pos;
      node = item;
    } else break;
  }
  return lines.linePos(pos).line;
}

function lineOfIndex(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function lineOfMatch(text: string, re: RegExp): number {
  const m = re.exec(text);
  return m === null ? 1 : lineOfIndex(text, m.index + (m[0].length - m[0].trimStart().length));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
