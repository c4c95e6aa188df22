/**
 * Choosing the creation rule of a `.kseal.yaml` for a file: rules are tried in order and the first
 * whose `path_regex` matches the file's path (relative to the config's directory, `/`-separated)
 * and whose `namespace_regex` matches the object's namespace wins, as in SOPS. Every rule tried
 * gets a reason, so `kseal config show` can say why a rule did or did not apply.
 */
import { relative, sep } from 'node:path';
import type { CreationRule, RepoConfig } from './repo-config.js';

/** Why one rule was or was not chosen. */
export interface RuleVerdict {
  readonly rule: CreationRule;
  readonly matched: boolean;
  readonly reason: string;
}

/** The result of matching: the chosen rule (if any) and a verdict for every rule tried. */
export interface RuleMatch {
  readonly rule: CreationRule | undefined;
  /** The path as matched against path_regex (relative to the config's directory), or undefined when there was no file. */
  readonly path: string | undefined;
  readonly verdicts: readonly RuleVerdict[];
}

/** The path of `absolutePath` relative to the config's directory, with `/` separators. */
function configRelativePath(config: RepoConfig, absolutePath: string): string {
  return relative(config.dir, absolutePath).split(sep).join('/');
}

/**
 * Matches `absolutePath` (undefined when sealing to stdout from stdin: only rules without
 * path_regex can apply) and `namespace` (undefined when not known yet: rules with
 * namespace_regex are skipped) against the rules in order.
 */
export function matchRule(config: RepoConfig, absolutePath: string | undefined, namespace: string | undefined): RuleMatch {
  const path = absolutePath === undefined ? undefined : configRelativePath(config, absolutePath);
  const verdicts: RuleVerdict[] = [];
  for (const rule of config.rules) {
    const why = mismatch(rule, path, namespace);
    verdicts.push({ rule, matched: why === undefined, reason: why ?? matchReason(rule, path, namespace) });
    if (why === undefined) return { rule, path, verdicts };
  }
  return { rule: undefined, path, verdicts };
}

function mismatch(rule: CreationRule, path: string | undefined, namespace: string | undefined): string | undefined {
  if (rule.pathRegex !== undefined) {
    if (path === undefined) return `path_regex ${shown(rule.pathRegex)} needs a file path, and there is none`;
    if (!rule.pathRegex.test(path)) return `path_regex ${shown(rule.pathRegex)} does not match ${JSON.stringify(path)}`;
  }
  if (rule.namespaceRegex !== undefined) {
    if (namespace === undefined) return `namespace_regex ${shown(rule.namespaceRegex)} needs a namespace, and none is known`;
    if (!rule.namespaceRegex.test(namespace)) return `namespace_regex ${shown(rule.namespaceRegex)} does not match namespace ${JSON.stringify(namespace)}`;
  }
  return undefined;
}

function matchReason(rule: CreationRule, path: string | undefined, namespace: string | undefined): string {
  const parts: string[] = [];
  if (rule.pathRegex !== undefined) parts.push(`path_regex ${shown(rule.pathRegex)} matches ${JSON.stringify(path)}`);
  if (rule.namespaceRegex !== undefined) parts.push(`namespace_regex ${shown(rule.namespaceRegex)} matches namespace ${JSON.stringify(namespace)}`);
  return parts.length === 0 ? 'the rule has no path_regex or namespace_regex, so it matches everything' : parts.join(' and ');
}

/** A regex as written in the config (RegExp.source escapes `/`). */
function shown(re: RegExp): string {
  return JSON.stringify(re.source.replace(/\\\//g, '/'));
}
