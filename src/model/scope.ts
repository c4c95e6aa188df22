/**
 * Scopes bind a ciphertext to where it may be unsealed. The binding is cryptographic: the scope's
 * label is the RSA-OAEP label of every value (see docs/FORMAT.md), so a value copied to another name
 * or namespace cannot be opened, whatever the object around it says.
 *
 * - `strict`: label `<namespace>/<name>`; only this Secret in this namespace.
 * - `namespace-wide`: label `<namespace>`; any name in this namespace.
 * - `cluster-wide`: empty label; anywhere.
 */
import { KsealError } from '../errors.js';
import { BITNAMI_CLUSTER_WIDE, BITNAMI_NAMESPACE_WIDE, SCOPE_ANNOTATION } from '../wire.js';

export const SCOPES = ['strict', 'namespace-wide', 'cluster-wide'] as const;
export type Scope = (typeof SCOPES)[number];


/** Every annotation that carries scope; they belong on the sealed object, never in its template. */
export const SCOPE_ANNOTATIONS: readonly string[] = [SCOPE_ANNOTATION, BITNAMI_CLUSTER_WIDE, BITNAMI_NAMESPACE_WIDE];

/** Why `value` is not a scope name (UNKNOWN_SCOPE naming the accepted values), or undefined when it is one. */
export function scopeNameError(value: string): KsealError | undefined {
  if ((SCOPES as readonly string[]).includes(value)) return undefined;
  return new KsealError('UNKNOWN_SCOPE', `unknown scope ${JSON.stringify(value)}`, { hint: `use one of: ${SCOPES.join(', ')}` });
}

/** Parses a scope name; throws UNKNOWN_SCOPE naming the accepted values. */
export function parseScope(value: string): Scope {
  const error = scopeNameError(value);
  if (error !== undefined) throw error;
  return value as Scope;
}

/**
 * Reads the scope from an object's annotations: `kseal.dev/scope`, else Bitnami's cluster-wide, else
 * Bitnami's namespace-wide (value "true"). `scope` is undefined when none is set. Contradicting
 * annotations give an `error` rather than a silent pick, since the wrong pick seals undecryptable
 * values; callers that only check (the controller's InvalidSpec) read the error, not a throw.
 */
export function readScopeAnnotations(annotations: Readonly<Record<string, string>> | undefined): { readonly scope?: Scope; readonly error?: KsealError } {
  if (annotations === undefined) return {};
  const own = annotations[SCOPE_ANNOTATION];
  const clusterWide = annotations[BITNAMI_CLUSTER_WIDE] === 'true';
  const namespaceWide = annotations[BITNAMI_NAMESPACE_WIDE] === 'true';
  const bitnami: Scope | undefined = clusterWide ? 'cluster-wide' : namespaceWide ? 'namespace-wide' : undefined;
  if (clusterWide && namespaceWide) {
    return { error: new KsealError('SCOPE_CONFLICT', `both ${BITNAMI_CLUSTER_WIDE} and ${BITNAMI_NAMESPACE_WIDE} are "true"`, { hint: 'keep only the annotation for the scope you mean' }) };
  }
  if (own !== undefined) {
    const error = scopeNameError(own);
    if (error !== undefined) return { error };
    const scope = own as Scope;
    if (bitnami !== undefined && bitnami !== scope) {
      return { error: new KsealError('SCOPE_CONFLICT', `${SCOPE_ANNOTATION} says ${scope} but a Bitnami annotation says ${bitnami}`, { hint: 'keep only one scope annotation' }) };
    }
    return { scope };
  }
  return bitnami === undefined ? {} : { scope: bitnami };
}

/** The scope from an object's annotations (readScopeAnnotations); throws its error. */
export function scopeFromAnnotations(annotations: Readonly<Record<string, string>> | undefined): Scope | undefined {
  const { scope, error } = readScopeAnnotations(annotations);
  if (error !== undefined) throw error;
  return scope;
}

/**
 * The RSA-OAEP label for a scope: UTF-8 `namespace/name`, `namespace`, or empty. Strict and
 * namespace-wide need a namespace; strict needs a name.
 */
export function scopeLabel(scope: Scope, namespace: string | undefined, name: string | undefined): Buffer {
  switch (scope) {
    case 'cluster-wide':
      return Buffer.alloc(0);
    case 'namespace-wide':
      if (!namespace) throw new KsealError('MISSING_NAMESPACE', 'namespace-wide scope needs a namespace', { hint: 'set metadata.namespace or pass --namespace' });
      return Buffer.from(namespace, 'utf8');
    case 'strict':
      if (!namespace) throw new KsealError('MISSING_NAMESPACE', 'strict scope needs a namespace', { hint: 'set metadata.namespace, pass --namespace, or choose --scope cluster-wide' });
      if (!name) throw new KsealError('MISSING_NAME', 'strict scope needs a name', { hint: 'set metadata.name or pass --name' });
      return Buffer.from(`${namespace}/${name}`, 'utf8');
  }
}

/** Human description of where a scope lets a value be unsealed, for messages. */
export function describeScope(scope: Scope, namespace: string | undefined, name: string | undefined): string {
  switch (scope) {
    case 'cluster-wide':
      return 'cluster-wide';
    case 'namespace-wide':
      return `namespace-wide (${namespace ?? '?'})`;
    case 'strict':
      return `strict (${namespace ?? '?'}/${name ?? '?'})`;
  }
}
