/**
 * The rules of `kseal lint`: a stable id (part of the interface: CI configs and ignore comments name
 * them), a short name, a default severity and what each one means. Findings name file, line,
 * document and key, never a value.
 */

export type Severity = 'error' | 'warning';

export interface LintRule {
  readonly id: string;
  readonly name: string;
  readonly severity: Severity;
  readonly description: string;
}

/** Every rule, in id order. */
export const LINT_RULES: readonly LintRule[] = [
  { id: 'KS001', name: 'unreadable-manifest', severity: 'error', description: 'The file is not valid YAML or JSON, or a SealedSecret in it cannot be read.' },
  { id: 'KS101', name: 'plaintext-secret', severity: 'error', description: 'A Secret with data or stringData is committed in plaintext (also inside a List).' },
  { id: 'KS102', name: 'helm-template-secret', severity: 'error', description: "A Helm chart's templates/ holds a Secret with data or stringData." },
  { id: 'KS103', name: 'kustomize-secret-generator', severity: 'error', description: 'A kustomize secretGenerator has literals (error) or files/envs that are plaintext in the repo (warning).' },
  { id: 'KS201', name: 'sealed-value-not-base64', severity: 'error', description: 'A sealed value is not standard padded base64.' },
  { id: 'KS202', name: 'sealed-value-malformed', severity: 'error', description: 'A sealed value is not valid sealed bytes (length prefix, total length).' },
  { id: 'KS203', name: 'sealed-value-key-size', severity: 'error', description: "A sealed value's RSA part does not fit the key size of the certificate it was sealed for." },
  { id: 'KS301', name: 'template-placeholder', severity: 'warning', description: 'A stringData value of a Secret holds a {{ … }} template placeholder, which would be sealed literally.' },
  { id: 'KS401', name: 'scope-annotation-conflict', severity: 'error', description: 'Scope annotations contradict each other (kseal vs Bitnami, or both Bitnami ones).' },
  { id: 'KS402', name: 'scope-annotation-unknown', severity: 'error', description: 'A scope annotation has a value kseal and Bitnami do not know.' },
  { id: 'KS403', name: 'scope-missing-namespace', severity: 'warning', description: 'A strict or namespace-wide SealedSecret has no metadata.namespace, so where it opens depends on where it is applied.' },
  { id: 'KS404', name: 'template-name-mismatch', severity: 'error', description: "spec.template.metadata names another Secret or namespace than the object's own." },
  { id: 'KS501', name: 'unknown-key-id', severity: 'warning', description: 'kseal.dev/key-id names no certificate .kseal.yaml knows.' },
  { id: 'KS502', name: 'certificate-expiring', severity: 'warning', description: 'The certificate named by kseal.dev/key-id expires within --warn-expiry days (or has expired).' },
  { id: 'KS503', name: 'retired-key', severity: 'error', description: 'The object is sealed with a key .kseal.yaml marks retired; re-seal it (kseal reencrypt).' },
  { id: 'KS601', name: 'duplicate-ciphertext', severity: 'error', description: "The same ciphertext is in two objects; a copied value never opens under the other object's label." },
  { id: 'KS701', name: 'config-certificate-mismatch', severity: 'error', description: 'The .kseal.yaml rule for this path says to seal with one certificate, but the object is sealed with another.' },
];

/** Rules by id. */
export const RULES_BY_ID: ReadonlyMap<string, LintRule> = new Map(LINT_RULES.map((r) => [r.id, r]));

/** One finding. */
export interface Finding {
  readonly ruleId: string;
  readonly severity: Severity;
  readonly message: string;
  readonly file: string;
  readonly line: number;
  readonly document?: number;
  readonly key?: string;
}
