import { describe, expect, it } from 'vitest';
import { parseRepoConfig } from '../../src/config/repo-config.js';
import { matchRule } from '../../src/config/rule-match.js';
import { ksealErrorOf } from '../helpers/errors.js';

const DIR = '/repo';
const parse = (text: string) => parseRepoConfig(text, '/repo/.kseal.yaml', DIR);

const CONFIG = `# team config
certificates:
  - name: prod
    file: certs/prod.pem
  - name: old
    file: certs/old.pem
    retired: true
creation_rules:
  - path_regex: ^apps/dev/
    certificate: certs/dev.pem
    scope: namespace-wide
  - path_regex: ^apps/prod/
    namespace_regex: ^prod-
    certificates: [prod, https://kseal.example/v1/cert.pem]
    namespace: prod-app
    api_version: bitnami.com/v1alpha1
  - certificate: prod
lint:
  warn_expiry_days: 14
  disable: [KS601]
`;

describe('parseRepoConfig', () => {
  it('reads certificates, rules and lint settings, resolving paths against the config directory', () => {
    const config = parse(CONFIG);
    expect(config.certificates).toEqual([
      { name: 'prod', source: '/repo/certs/prod.pem', retired: false, line: 3 },
      { name: 'old', source: '/repo/certs/old.pem', retired: true, line: 5 },
    ]);
    expect(config.rules.map((r) => [r.index, r.line, r.certificates, r.scope, r.namespace, r.apiVersion])).toEqual([
      [1, 9, ['/repo/certs/dev.pem'], 'namespace-wide', undefined, undefined],
      [2, 12, ['/repo/certs/prod.pem', 'https://kseal.example/v1/cert.pem'], undefined, 'prod-app', 'bitnami.com/v1alpha1'],
      [3, 17, ['/repo/certs/prod.pem'], undefined, undefined, undefined],
    ]);
    expect(config.lint).toEqual({ warnExpiryDays: 14, disable: ['KS601'] });
  });

  it('treats an empty file as a config with no rules', () => {
    expect(parse('# nothing yet\n').rules).toEqual([]);
  });

  it('rejects an unknown field naming its line and the known fields', () => {
    const e = ksealErrorOf(() => parse('creation_rules:\n  - path_regex: x\n    pathregex: y\n'));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toBe('line 3: unknown field "pathregex" in creation rule 1');
    expect(e.file).toBe('/repo/.kseal.yaml');
    expect(e.hint).toContain('path_regex');
  });

  it('rejects a bad regular expression naming its line', () => {
    const e = ksealErrorOf(() => parse('creation_rules:\n  - certificate: a.pem\n  - path_regex: "([a-z"\n'));
    expect(e.message).toBe('line 3: path_regex: "([a-z" is not a valid regular expression');
  });

  it('rejects an unknown scope, a bad namespace and an unsupported api_version', () => {
    expect(ksealErrorOf(() => parse('creation_rules:\n  - scope: wide\n')).message).toBe('line 2: unknown scope "wide"');
    expect(ksealErrorOf(() => parse('creation_rules:\n  - namespace: Prod\n')).message).toMatch(/^line 2: namespace: "Prod" is not valid/);
    expect(ksealErrorOf(() => parse('creation_rules:\n  -\n    api_version: v1\n')).message).toBe('line 3: api_version "v1" is not supported');
  });

  it('rejects invalid YAML naming the line', () => {
    const e = ksealErrorOf(() => parse('creation_rules:\n  - path_regex: [a\n'));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toMatch(/^line \d: not valid YAML/);
  });

  it('rejects a certificates entry with neither file nor url, and a repeated name', () => {
    expect(ksealErrorOf(() => parse('certificates:\n  - name: a\n')).message).toBe('line 2: a certificates entry needs exactly one of file: or url:');
    expect(ksealErrorOf(() => parse('certificates:\n  - {name: a, file: a.pem}\n  - {name: a, file: b.pem}\n')).message).toBe('line 3: the certificate name "a" is used twice');
  });

  it('rejects a top level that is not a mapping and fields of the wrong type', () => {
    expect(ksealErrorOf(() => parse('- a\n')).message).toBe('line 1: the config must be a mapping');
    expect(ksealErrorOf(() => parse('creation_rules: {}\n')).message).toBe('line 1: creation_rules must be a list');
    expect(ksealErrorOf(() => parse('certificates:\n  - {file: a.pem, retired: "yes"}\n')).message).toBe('line 2: retired: must be true or false');
  });
});

describe('matchRule', () => {
  const config = parse(CONFIG);

  it('picks the first rule whose path_regex matches the path relative to the config directory', () => {
    const match = matchRule(config, '/repo/apps/dev/db.sealed.yaml', 'dev');
    expect(match.rule?.index).toBe(1);
    expect(match.path).toBe('apps/dev/db.sealed.yaml');
    expect(match.verdicts).toEqual([{ rule: config.rules[0], matched: true, reason: 'path_regex "^apps/dev/" matches "apps/dev/db.sealed.yaml"' }]);
  });

  it('skips a rule whose namespace_regex does not match, saying why', () => {
    const match = matchRule(config, '/repo/apps/prod/db.sealed.yaml', 'staging');
    expect(match.rule?.index).toBe(3);
    expect(match.verdicts.map((v) => v.reason)).toEqual([
      'path_regex "^apps/dev/" does not match "apps/prod/db.sealed.yaml"',
      'namespace_regex "^prod-" does not match namespace "staging"',
      'the rule has no path_regex or namespace_regex, so it matches everything',
    ]);
  });

  it('matches namespace_regex together with path_regex', () => {
    expect(matchRule(config, '/repo/apps/prod/x.yaml', 'prod-web').rule?.index).toBe(2);
  });

  it('skips rules with namespace_regex when no namespace is known, and path rules when there is no path', () => {
    expect(matchRule(config, '/repo/apps/prod/x.yaml', undefined).rule?.index).toBe(3);
    expect(matchRule(config, undefined, 'prod-web').rule?.index).toBe(3);
  });

  it('returns no rule when none matches', () => {
    const only = parse('creation_rules:\n  - path_regex: ^k8s/\n');
    expect(matchRule(only, '/repo/apps/x.yaml', undefined).rule).toBeUndefined();
  });
});
