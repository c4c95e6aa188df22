/**
 * kseal as a library: `import { sealSecret, parseCertificate } from 'kseal'`. Lets other tools
 * (generators, operators, CI checks) seal and open SealedSecrets exactly as the `kseal` CLI does,
 * byte-compatible with Bitnami Sealed Secrets. No HTTP, terminal or cluster code is reachable from
 * here, and nothing here loads `@kubernetes/client-node`.
 *
 * Typed: `npm pack` builds `dist/lib/` (JavaScript and .d.ts) with `tsc -p tsconfig.lib.json`.
 */

// Sealing and re-sealing.
export { sealValue, sealValues } from './crypto/seal-value.js';
export { sealSecret, checkSealable, assembleSealedSecret, type SealOptions, type SealedSecretParts } from './model/sealed-secret.js';
export { resealSealedSecret, type ResealTarget } from './model/reseal.js';

// Opening.
export { unsealSealedSecret, secretFromTemplate, sealedValues, sealedSecretLabel, sealedSecretScope, type UnsealResult } from './model/sealed-secret.js';
export { sealBytes, unsealBytes, type Unsealed } from './crypto/hybrid.js';

// Keys and certificates.
export { parseCertificate, type SealingCertificate, type ParseCertificateOptions } from './crypto/certificate.js';
export { parsePrivateKeysPem, type PrivateKeyEntry } from './crypto/private-key.js';
export { readPrivateKeys, keySecretManifest } from './model/key-secret.js';
export { generateSealingKey, type GeneratedKey, type KeygenOptions } from './crypto/keygen.js';
export { keyDue, newestFirst, orderKeysByHint, KeyTrialOrder, type KeyDue } from './model/key-choice.js';

// Scope.
export { SCOPES, parseScope, scopeFromAnnotations, scopeLabel, describeScope, type Scope } from './model/scope.js';

// The model.
export { readSecret, type SecretInput } from './model/secret.js';
export { readSealedSecret, API_VERSIONS, type SealedApiVersion, type SealedSecret, type SecretObject, type SecretTemplate, type ObjectMeta } from './model/sealed-secret.js';

// Manifest I/O.
export { readManifests, type ManifestObject } from './manifest/read.js';
export { writeManifests, type OutputFormat } from './manifest/write.js';
export { openSealedFile, type SealedFile, type SealedFileDocument } from './manifest/sealed-file.js';

// Errors and wire names.
export { KsealError, isKsealError, ERROR_CODES, type ErrorCode, type ErrorLocation } from './errors.js';
export * from './wire.js';
