/**
 * Multi-recipient fixtures: objects sealed for a first cluster certificate plus further cluster and
 * escrow recipients (src/model/recipients.ts), a third RSA key for "another cluster" (generated once
 * per test file, 2048 bits), and the SealingKey a controller would hold for a test key.
 */
import type { SealingCertificate } from '../../src/crypto/certificate.js';
import { parseCertificate } from '../../src/crypto/certificate.js';
import { generateSealingKey } from '../../src/crypto/keygen.js';
import { generateIdentity, parseRecipient, type EscrowIdentity } from '../../src/crypto/identity.js';
import { parsePrivateKeysPem, type PrivateKeyEntry } from '../../src/crypto/private-key.js';
import { readSecret } from '../../src/model/secret.js';
import { clusterRecipient, escrowRecipient, type SealingRecipient } from '../../src/model/recipients.js';
import { readSealedSecret, sealSecret, type SealedSecret } from '../../src/model/sealed-secret.js';
import type { Scope } from '../../src/model/scope.js';

/** A generated cluster key: its certificate, its private key entry and PEMs. */
export interface ClusterKey {
  readonly certificate: SealingCertificate;
  readonly entry: PrivateKeyEntry;
  readonly privateKeyPem: string;
  readonly certificatePem: string;
}

let other: Promise<ClusterKey> | undefined;

/** An RSA-2048 key that no controller in the test holds unless given it: "another cluster". */
export function otherClusterKey(): Promise<ClusterKey> {
  other ??= generateSealingKey({ bits: 2048 }).then((k) => clusterKeyOf(k.privateKeyPem, k.certificatePem));
  return other;
}

/** The ClusterKey of a PEM pair. */
function clusterKeyOf(privateKeyPem: string, certificatePem: string): ClusterKey {
  const [entry] = parsePrivateKeysPem(privateKeyPem, 'cluster.key');
  if (entry === undefined) throw new Error('no private key');
  return { certificate: parseCertificate(certificatePem, { source: 'cluster.crt' }), entry, privateKeyPem, certificatePem };
}

/** A fresh escrow identity and its recipient. */
export function newEscrow(): { identity: EscrowIdentity; recipient: SealingRecipient } {
  const identity = generateIdentity();
  return { identity, recipient: escrowRecipient(parseRecipient(identity.recipient)) };
}

/** The cluster recipient of a certificate. */
export const cluster = (cert: SealingCertificate): SealingRecipient => clusterRecipient(cert);

export interface MultiSealOptions {
  readonly name?: string;
  readonly namespace?: string;
  readonly scope?: Scope;
  readonly values?: Readonly<Record<string, string>>;
}

/** A kseal.dev object sealed for `primary` (spec.encryptedData) and `others` (spec.recipients), as plain JSON. */
export function multiSealedJson(primary: SealingCertificate, others: readonly SealingRecipient[], options: MultiSealOptions = {}): SealedSecret {
  const metadata = { name: options.name ?? 'db', namespace: options.namespace ?? 'app' };
  const secret = readSecret({ apiVersion: 'v1', kind: 'Secret', metadata, stringData: options.values ?? { host: 'db.local', password: 'hunter2', user: 'admin' } }, {});
  return JSON.parse(JSON.stringify(sealSecret(secret, primary, { scope: options.scope ?? 'strict', recipients: others }))) as SealedSecret;
}

/** The same object read back as the controller reads it. */
export function multiSealed(primary: SealingCertificate, others: readonly SealingRecipient[], options: MultiSealOptions = {}): SealedSecret {
  return readSealedSecret(multiSealedJson(primary, others, options), {});
}
