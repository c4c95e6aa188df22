/** Unit tests of scopes (src/model/scope.ts): names, annotations and OAEP labels. */
import { describe, expect, it } from 'vitest';
import { KsealError } from '../../src/errors.js';
import { describeScope, parseScope, SCOPES, scopeFromAnnotations, scopeLabel } from '../../src/model/scope.js';
import { BITNAMI_CLUSTER_WIDE, BITNAMI_NAMESPACE_WIDE, SCOPE_ANNOTATION } from '../../src/wire.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof KsealError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('parseScope', () => {
  for (const scope of SCOPES) {
    it(`accepts "${scope}"`, () => {
      expect(parseScope(scope)).toBe(scope);
    });
  }

  it('rejects an unknown scope with UNKNOWN_SCOPE and lists the accepted ones', () => {
    try {
      parseScope('Strict');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(KsealError);
      expect((e as KsealError).code).toBe('UNKNOWN_SCOPE');
      expect((e as KsealError).hint).toBe('use one of: strict, namespace-wide, cluster-wide');
    }
  });
});

describe('scopeFromAnnotations', () => {
  it('returns undefined without annotations', () => {
    expect(scopeFromAnnotations(undefined)).toBeUndefined();
    expect(scopeFromAnnotations({})).toBeUndefined();
    expect(scopeFromAnnotations({ team: 'data' })).toBeUndefined();
  });

  for (const scope of SCOPES) {
    it(`reads kseal.dev/scope: ${scope}`, () => {
      expect(scopeFromAnnotations({ [SCOPE_ANNOTATION]: scope })).toBe(scope);
    });
  }

  it('reads Bitnami cluster-wide: "true" as cluster-wide', () => {
    expect(scopeFromAnnotations({ [BITNAMI_CLUSTER_WIDE]: 'true' })).toBe('cluster-wide');
  });

  it('reads Bitnami namespace-wide: "true" as namespace-wide', () => {
    expect(scopeFromAnnotations({ [BITNAMI_NAMESPACE_WIDE]: 'true' })).toBe('namespace-wide');
  });

  it('checks Bitnami cluster-wide first, so namespace-wide: "false" beside it does not matter', () => {
    expect(scopeFromAnnotations({ [BITNAMI_CLUSTER_WIDE]: 'true', [BITNAMI_NAMESPACE_WIDE]: 'false' })).toBe('cluster-wide');
  });

  it('ignores Bitnami annotations whose value is not exactly "true"', () => {
    for (const value of ['false', 'True', 'TRUE', 'yes', '1', '']) {
      expect(scopeFromAnnotations({ [BITNAMI_CLUSTER_WIDE]: value, [BITNAMI_NAMESPACE_WIDE]: value })).toBeUndefined();
    }
  });

  it('rejects both Bitnami annotations set to "true" with SCOPE_CONFLICT', () => {
    expect(codeOf(() => scopeFromAnnotations({ [BITNAMI_CLUSTER_WIDE]: 'true', [BITNAMI_NAMESPACE_WIDE]: 'true' }))).toBe('SCOPE_CONFLICT');
  });

  it('rejects kseal.dev/scope contradicting a Bitnami annotation with SCOPE_CONFLICT', () => {
    expect(codeOf(() => scopeFromAnnotations({ [SCOPE_ANNOTATION]: 'strict', [BITNAMI_CLUSTER_WIDE]: 'true' }))).toBe('SCOPE_CONFLICT');
    expect(codeOf(() => scopeFromAnnotations({ [SCOPE_ANNOTATION]: 'cluster-wide', [BITNAMI_NAMESPACE_WIDE]: 'true' }))).toBe('SCOPE_CONFLICT');
  });

  it('accepts kseal.dev/scope agreeing with a Bitnami annotation', () => {
    expect(scopeFromAnnotations({ [SCOPE_ANNOTATION]: 'namespace-wide', [BITNAMI_NAMESPACE_WIDE]: 'true' })).toBe('namespace-wide');
  });

  it('rejects an unknown kseal.dev/scope value with UNKNOWN_SCOPE', () => {
    expect(codeOf(() => scopeFromAnnotations({ [SCOPE_ANNOTATION]: 'global' }))).toBe('UNKNOWN_SCOPE');
  });
});

describe('scopeLabel', () => {
  it('is "namespace/name" for strict', () => {
    expect(scopeLabel('strict', 'prod', 'db').toString('utf8')).toBe('prod/db');
  });

  it('is "namespace" for namespace-wide, whatever the name', () => {
    expect(scopeLabel('namespace-wide', 'prod', 'db').toString('utf8')).toBe('prod');
    expect(scopeLabel('namespace-wide', 'prod', undefined).toString('utf8')).toBe('prod');
  });

  it('is empty for cluster-wide, whatever the namespace and name', () => {
    expect(scopeLabel('cluster-wide', 'prod', 'db').length).toBe(0);
    expect(scopeLabel('cluster-wide', undefined, undefined).length).toBe(0);
  });

  it('encodes the label as UTF-8', () => {
    expect(scopeLabel('strict', 'prod', 'dé').equals(Buffer.from('prod/d\u00e9', 'utf8'))).toBe(true);
  });

  it('rejects strict without a namespace with MISSING_NAMESPACE', () => {
    expect(codeOf(() => scopeLabel('strict', undefined, 'db'))).toBe('MISSING_NAMESPACE');
    expect(codeOf(() => scopeLabel('strict', '', 'db'))).toBe('MISSING_NAMESPACE');
  });

  it('rejects strict without a name with MISSING_NAME', () => {
    expect(codeOf(() => scopeLabel('strict', 'prod', undefined))).toBe('MISSING_NAME');
  });

  it('rejects namespace-wide without a namespace with MISSING_NAMESPACE', () => {
    expect(codeOf(() => scopeLabel('namespace-wide', undefined, 'db'))).toBe('MISSING_NAMESPACE');
  });
});

describe('describeScope', () => {
  it('names the namespace and name each scope binds to', () => {
    expect(describeScope('strict', 'prod', 'db')).toBe('strict (prod/db)');
    expect(describeScope('namespace-wide', 'prod', 'db')).toBe('namespace-wide (prod)');
    expect(describeScope('cluster-wide', 'prod', 'db')).toBe('cluster-wide');
  });
});
