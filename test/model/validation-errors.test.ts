// Validation as functions that return the error (issue 14): each returns the same KsealError its
// throwing wrapper throws, or undefined, so callers that only check (the controller's InvalidSpec)
// read a value instead of catching.
import { describe, expect, it } from 'vitest';
import { readScopeAnnotations, scopeFromAnnotations, scopeNameError } from '../../src/model/scope.js';
import { readSealedSecret, sealedSecretSpecError } from '../../src/model/sealed-secret.js';
import { checkSecretContent, checkSecretNames, readSecret, secretContentError, secretNamesError } from '../../src/model/secret.js';
import { ksealErrorOf } from '../helpers/errors.js';

const sealed = (annotations: Record<string, string>, data?: Record<string, string>) =>
  readSealedSecret({ apiVersion: 'kseal.dev/v1alpha1', kind: 'SealedSecret', metadata: { name: 'db', namespace: 'app', annotations }, spec: { encryptedData: { a: 'AAAA' }, ...(data === undefined ? {} : { template: { data } }) } }, {});

describe('errors returned, not thrown', () => {
  it('names an unknown scope and accepts the three known ones', () => {
    expect(scopeNameError('wide')?.code).toBe('UNKNOWN_SCOPE');
    for (const s of ['strict', 'namespace-wide', 'cluster-wide']) expect(scopeNameError(s)).toBeUndefined();
  });

  it('returns contradicting scope annotations as SCOPE_CONFLICT, the same error scopeFromAnnotations throws', () => {
    const both = { 'sealedsecrets.bitnami.com/cluster-wide': 'true', 'sealedsecrets.bitnami.com/namespace-wide': 'true' };
    expect(readScopeAnnotations(both).error?.code).toBe('SCOPE_CONFLICT');
    expect(ksealErrorOf(() => scopeFromAnnotations(both)).message).toBe(readScopeAnnotations(both).error?.message);
    expect(readScopeAnnotations({ 'kseal.dev/scope': 'namespace-wide' })).toEqual({ scope: 'namespace-wide' });
    expect(readScopeAnnotations(undefined)).toEqual({});
  });

  it("gives the controller's InvalidSpec reasons for a read SealedSecret: scope and Go templates", () => {
    expect(sealedSecretSpecError(sealed({}))).toBeUndefined();
    expect(sealedSecretSpecError(sealed({ 'kseal.dev/scope': 'everywhere' }))?.code).toBe('UNKNOWN_SCOPE');
    const template = sealedSecretSpecError(sealed({}, { url: 'https://{{ .host }}' }));
    expect(template).toMatchObject({ code: 'UNSUPPORTED_TEMPLATE', key: 'url' });
  });

  it('returns the name, namespace and content errors that the check functions throw', () => {
    expect(secretNamesError('Bad_Name', 'app', {})?.code).toBe('INVALID_NAME');
    expect(secretNamesError('db', 'App', {})?.code).toBe('INVALID_NAMESPACE');
    expect(secretNamesError('db', undefined, {})).toBeUndefined();
    expect(ksealErrorOf(() => checkSecretNames('db', 'App', {})).code).toBe('INVALID_NAMESPACE');
    const empty = readSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'app' } }, {});
    expect(secretContentError(empty)?.code).toBe('EMPTY_DATA');
    expect(secretContentError(empty, { allowEmptyData: true })).toBeUndefined();
    expect(ksealErrorOf(() => checkSecretContent(empty)).code).toBe('EMPTY_DATA');
  });
});
