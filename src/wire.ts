/**
 * Wire names: every string and number that other programs, manifests or scripts depend on (API
 * group, version and plural; label and annotation names; the controller's HTTP paths; process exit
 * codes), defined once here. Changing one is a breaking change of kseal's interface.
 *
 * Bitnami's names are listed beside kseal's where kseal honours them, so objects move both ways.
 */

// --- API group, versions, resources ---------------------------------------------------------------

/** kseal's own API group, version, plural and kind of the SealedSecret custom resource. */
export const SEALED_SECRET_GROUP = 'kseal.dev';
export const SEALED_SECRET_VERSION = 'v1alpha1';
export const SEALED_SECRET_PLURAL = 'sealedsecrets';
export const SEALED_SECRET_KIND = 'SealedSecret';
export const KSEAL_API_VERSION = `${SEALED_SECRET_GROUP}/${SEALED_SECRET_VERSION}` as 'kseal.dev/v1alpha1';
/** Bitnami Sealed Secrets' apiVersion, read and written for compatibility. */
export const BITNAMI_API_VERSION = 'bitnami.com/v1alpha1';
/** Bitnami's API group (watched with --adopt-bitnami). */
export const BITNAMI_GROUP = 'bitnami.com';

// --- Annotations on SealedSecrets -----------------------------------------------------------------

/** Scope of a kseal SealedSecret: `strict`, `namespace-wide` or `cluster-wide`. */
export const SCOPE_ANNOTATION = 'kseal.dev/scope';
/** Bitnami's scope annotations (value `"true"`); cluster-wide is checked first. */
export const BITNAMI_CLUSTER_WIDE = 'sealedsecrets.bitnami.com/cluster-wide';
export const BITNAMI_NAMESPACE_WIDE = 'sealedsecrets.bitnami.com/namespace-wide';
/** Hint: the key id (see crypto/key-id.ts) of the certificate the values were sealed with. */
export const KEY_ID_ANNOTATION = 'kseal.dev/key-id';

// --- Labels and annotations on Secrets ------------------------------------------------------------

/** Label of the controller's key Secrets, and its value on active keys. */
export const SEALING_KEY_LABEL = 'kseal.dev/sealing-key';
export const SEALING_KEY_ACTIVE = 'active';
/** Bitnami's key Secret label (value `active`). */
export const BITNAMI_SEALING_KEY_LABEL = 'sealedsecrets.bitnami.com/sealed-secrets-key';

/** Label on every Secret the controller writes: the managed-Secret informer selects on it. */
export const MANAGED_BY_LABEL = 'kseal.dev/managed-by';
export const MANAGED_BY_VALUE = 'kseal-controller';
/** On a Secret: SHA-256 of the SealedSecret content it was produced from. */
export const SPEC_HASH_ANNOTATION = 'kseal.dev/spec-hash';
/** On a Secret: `<key id prefix>:<HMAC-SHA256>` over what the controller wrote. */
export const INTEGRITY_ANNOTATION = 'kseal.dev/integrity';
/** On a Secret: the ids of the sealing keys that opened its values, comma-separated. */
export const UNSEALED_WITH_ANNOTATION = 'kseal.dev/unsealed-with';
/** On a Secret: the uid of the SealedSecret it belongs to (ownership without an ownerReference). */
export const OWNER_UID_ANNOTATION = 'kseal.dev/owner-uid';
/** On an existing Secret: let the controller take it over. */
export const MANAGED_ANNOTATIONS: readonly string[] = ['kseal.dev/managed', 'sealedsecrets.bitnami.com/managed'];
/** On an existing Secret: merge the SealedSecret's keys into it, leaving its other keys. */
export const PATCH_ANNOTATIONS: readonly string[] = ['kseal.dev/patch', 'sealedsecrets.bitnami.com/patch'];
/** On the template's annotations: write no ownerReference. */
export const SKIP_OWNER_REFERENCE_ANNOTATIONS: readonly string[] = ['kseal.dev/skip-owner-reference', 'sealedsecrets.bitnami.com/skip-set-owner-references'];

// --- The controller's HTTP API --------------------------------------------------------------------

/** Paths of the controller's HTTP API (and of its metrics listener). */
export const HTTP_PATHS = {
  /** GET: the newest sealing certificate, PEM. */
  cert: '/v1/cert.pem',
  /** POST one SealedSecret: 200 when every value unseals, 409 when not. */
  verify: '/v1/verify',
  /** POST one SealedSecret: the object re-sealed with the newest key. */
  rotate: '/v1/rotate',
  healthz: '/healthz',
  readyz: '/readyz',
  /** On the metrics port. */
  metrics: '/metrics',
} as const;

// --- Process exit codes ---------------------------------------------------------------------------

/** Exit codes by error family. Stable: scripts may depend on them. */
export const EXIT = {
  /** An unexpected internal failure (a bug). */
  internal: 1,
  /** Wrong command-line usage. */
  usage: 2,
  /** The input manifest is not valid (parse, kind, fields, sizes). */
  input: 3,
  /** A certificate or key could not be used. */
  key: 4,
  /** A ciphertext could not be opened. */
  decrypt: 5,
  /** The controller or cluster could not be reached or answered with an error. */
  remote: 6,
  /** A file could not be read or written. */
  io: 7,
  /** `kseal lint` found problems at or above the failing severity. */
  findings: 8,
  /** `kseal merge-driver`: both sides changed the same key; the file holds conflict markers. */
  conflict: 9,
  /** Interrupted by a signal (SIGINT, SIGTERM, SIGHUP), as a shell reports 128 + SIGINT. */
  interrupted: 130,
} as const;
