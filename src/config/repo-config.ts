/**
 * The repository config `.kseal.yaml` (like SOPS's `.sops.yaml`): the certificates a repo seals
 * for, and creation rules tried in order (first match wins) by path regex and optionally by
 * namespace, each giving the certificate(s), escrow recipients, scope, default namespace and
 * apiVersion to seal with when no flag says otherwise. Unknown fields, bad regexes and bad values
 * are errors naming the config file and line. Parsing only; finding the file is the CLI's job.
 */
import { resolve } from 'node:path';
import { isMap, isScalar, isSeq, type Node, type Pair } from 'yaml';
import { KsealError } from '../errors.js';
import { parseYamlDocuments } from '../manifest/parse.js';
import { API_VERSIONS, type SealedApiVersion } from '../model/sealed-secret.js';
import { SCOPES, type Scope } from '../model/scope.js';
import { invalidNamespace } from '../model/names.js';

/** The file name looked for in each directory from the file being written up to the root. */
export const CONFIG_FILE_NAME = '.kseal.yaml';

/** A certificate the repo knows: a file (absolute path, resolved against the config's directory) or a URL. */
export interface KnownCertificate {
  readonly name: string | undefined;
  /** Absolute path or http(s) URL. */
  readonly source: string;
  /** Retired keys must no longer seal; lint reports objects still sealed with them. */
  readonly retired: boolean;
  readonly line: number;
}

/** One creation rule. */
export interface CreationRule {
  /** 1-based position in creation_rules. */
  readonly index: number;
  readonly line: number;
  readonly pathRegex: RegExp | undefined;
  readonly namespaceRegex: RegExp | undefined;
  /** Certificate sources (absolute paths or URLs); the first seals encryptedData. */
  readonly certificates: readonly string[];
  /** Escrow recipients (kseal1… public keys), sealed for as well once multi-recipient objects are supported. */
  readonly escrow: readonly string[];
  readonly scope: Scope | undefined;
  readonly namespace: string | undefined;
  readonly apiVersion: SealedApiVersion | undefined;
}

/** Settings for `kseal lint`. */
export interface LintSettings {
  readonly warnExpiryDays: number | undefined;
  readonly disable: readonly string[];
}

/** A parsed `.kseal.yaml`. */
export interface RepoConfig {
  /** Path of the config file, for messages. */
  readonly file: string;
  /** Absolute directory the config's relative paths and path_regex are relative to. */
  readonly dir: string;
  readonly certificates: readonly KnownCertificate[];
  readonly rules: readonly CreationRule[];
  readonly lint: LintSettings;
}

const TOP_FIELDS = ['certificates', 'creation_rules', 'lint'];
const CERT_FIELDS = ['name', 'file', 'url', 'retired'];
const RULE_FIELDS = ['path_regex', 'namespace_regex', 'certificate', 'certificates', 'escrow', 'scope', 'namespace', 'api_version'];
const LINT_FIELDS = ['warn_expiry_days', 'disable'];

/** Parses the text of a config file at `file` (absolute directory `dir`). Throws CONFIG_INVALID naming the line. */
export function parseRepoConfig(text: string, file: string, dir: string): RepoConfig {
  // The one parse entry (YAML 1.1 as for manifests, duplicate keys refused, limits applied).
  const { documents, lines } = parseYamlDocuments(text, file);
  const lineOf = (node: Node | Pair | null | undefined): number | undefined => {
    const n = node as { range?: [number, number, number]; key?: { range?: [number, number, number] } } | null | undefined;
    const pos = n?.range?.[0] ?? n?.key?.range?.[0];
    return pos === undefined ? undefined : lines.linePos(pos).line;
  };
  const fail = (node: Node | Pair | null | undefined, message: string, hint?: string): never => {
    const line = lineOf(node);
    throw new KsealError('CONFIG_INVALID', `${line === undefined ? '' : `line ${line}: `}${message}`, { file, ...(hint === undefined ? {} : { hint }) });
  };
  const [first, second] = documents;
  if (second !== undefined) throw new KsealError('CONFIG_INVALID', `line ${lineOf(second.doc.contents) ?? 1}: the config holds more than one YAML document`, { file });
  if (first === undefined) return { file, dir, certificates: [], rules: [], lint: { warnExpiryDays: undefined, disable: [] } };
  if (first.problem !== undefined) throw new KsealError('CONFIG_INVALID', `line ${first.problem.line}: not valid YAML (${first.problem.message})`, { file });
  const doc = first.doc;
  const root = doc.contents;
  const top = mapping(root, 'the config', TOP_FIELDS, fail);

  const certificates: KnownCertificate[] = [];
  const certNode = top.get('certificates');
  if (certNode !== undefined) {
    for (const item of list(certNode, 'certificates', fail)) {
      const m = mapping(item, 'a certificates entry', CERT_FIELDS, fail);
      const name = optionalText(m, 'name', fail);
      const pathValue = optionalText(m, 'file', fail);
      const url = optionalText(m, 'url', fail);
      if ((pathValue === undefined) === (url === undefined)) fail(item, 'a certificates entry needs exactly one of file: or url:');
      if (url !== undefined && !/^https?:\/\//i.test(url)) fail(m.get('url'), 'url: must start with http:// or https://');
      if (name !== undefined && certificates.some((c) => c.name === name)) fail(m.get('name'), `the certificate name ${JSON.stringify(name)} is used twice`);
      certificates.push({ name, source: url ?? resolvePath(dir, pathValue ?? ''), retired: optionalBool(m, 'retired', fail) ?? false, line: lineOf(item) ?? 0 });
    }
  }

  const rules: CreationRule[] = [];
  const ruleNode = top.get('creation_rules');
  if (ruleNode !== undefined) {
    list(ruleNode, 'creation_rules', fail).forEach((item, i) => {
      const m = mapping(item, `creation rule ${i + 1}`, RULE_FIELDS, fail);
      const refs: string[] = [];
      const single = optionalText(m, 'certificate', fail);
      if (single !== undefined) refs.push(single);
      const many = m.get('certificates');
      if (many !== undefined) for (const c of list(many, 'certificates', fail)) refs.push(str(c, 'a certificates item', fail));
      const certs = refs.map((ref) => {
        const named = certificates.find((c) => c.name === ref);
        if (named !== undefined) return named.source;
        return /^https?:\/\//i.test(ref) ? ref : resolvePath(dir, ref);
      });
      const escrow: string[] = [];
      const escrowNode = m.get('escrow');
      if (escrowNode !== undefined) for (const e of list(escrowNode, 'escrow', fail)) escrow.push(str(e, 'an escrow item', fail));
      const scopeText = optionalText(m, 'scope', fail);
      if (scopeText !== undefined && !(SCOPES as readonly string[]).includes(scopeText)) fail(m.get('scope'), `unknown scope ${JSON.stringify(scopeText)}`, `use one of: ${SCOPES.join(', ')}`);
      const namespace = optionalText(m, 'namespace', fail);
      const whyNs = namespace === undefined ? undefined : invalidNamespace(namespace);
      if (whyNs !== undefined) fail(m.get('namespace'), `namespace: ${JSON.stringify(namespace)} is not valid: it ${whyNs}`);
      const apiVersion = optionalText(m, 'api_version', fail);
      if (apiVersion !== undefined && !(API_VERSIONS as readonly string[]).includes(apiVersion)) fail(m.get('api_version'), `api_version ${JSON.stringify(apiVersion)} is not supported`, `use ${API_VERSIONS.join(' or ')}`);
      rules.push({
        index: i + 1,
        line: lineOf(item) ?? 0,
        pathRegex: regex(m, 'path_regex', fail),
        namespaceRegex: regex(m, 'namespace_regex', fail),
        certificates: certs,
        escrow,
        scope: scopeText as Scope | undefined,
        namespace,
        apiVersion: apiVersion as SealedApiVersion | undefined,
      });
    });
  }

  let lint: LintSettings = { warnExpiryDays: undefined, disable: [] };
  const lintNode = top.get('lint');
  if (lintNode !== undefined) {
    const m = mapping(lintNode, 'lint', LINT_FIELDS, fail);
    const days = m.get('warn_expiry_days', true);
    let warnExpiryDays: number | undefined;
    if (days !== undefined) {
      if (!isScalar(days) || typeof days.value !== 'number' || !Number.isInteger(days.value) || days.value < 0) fail(days, 'warn_expiry_days must be a whole number of days');
      warnExpiryDays = (days as { value: number }).value;
    }
    const disable: string[] = [];
    const disableNode = m.get('disable');
    if (disableNode !== undefined) for (const d of list(disableNode, 'disable', fail)) disable.push(str(d, 'a disable item', fail));
    lint = { warnExpiryDays, disable };
  }
  return { file, dir, certificates, rules, lint };
}

type Fail = (node: Node | Pair | null | undefined, message: string, hint?: string) => never;

interface Fields {
  get(key: string, keepNode?: true): Node | undefined;
}

function mapping(node: unknown, what: string, allowed: readonly string[], fail: Fail): Fields {
  if (!isMap(node)) return fail(node as Node, `${what} must be a mapping`);
  const map = node;
  for (const pair of map.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!allowed.includes(key)) fail(pair.key as Node, `unknown field ${JSON.stringify(key)} in ${what}`, `known fields: ${allowed.join(', ')}`);
  }
  return { get: (key) => map.get(key, true) };
}

function list(node: Node, what: string, fail: Fail): Node[] {
  if (!isSeq(node)) return fail(node, `${what} must be a list`);
  return node.items as Node[];
}

function str(node: Node, what: string, fail: Fail): string {
  if (!isScalar(node) || typeof node.value !== 'string') return fail(node, `${what} must be a string`, 'quote the value');
  return node.value;
}

function optionalText(m: Fields, key: string, fail: Fail): string | undefined {
  const node = m.get(key, true);
  return node === undefined ? undefined : str(node, `${key}:`, fail);
}

function optionalBool(m: Fields, key: string, fail: Fail): boolean | undefined {
  const node = m.get(key, true);
  if (node === undefined) return undefined;
  if (!isScalar(node) || typeof node.value !== 'boolean') fail(node, `${key}: must be true or false`);
  return (node as { value: boolean }).value;
}

function regex(m: Fields, key: string, fail: Fail): RegExp | undefined {
  const source = optionalText(m, key, fail);
  if (source === undefined) return undefined;
  try {
    return new RegExp(source);
  } catch {
    return fail(m.get(key, true), `${key}: ${JSON.stringify(source)} is not a valid regular expression`);
  }
}

function resolvePath(dir: string, path: string): string {
  return resolve(dir, path);
}
