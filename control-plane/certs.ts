/**
 * Certificates for the test control plane, generated per run: a CA, the API server's serving
 * certificate (127.0.0.1 and localhost only), an admin client certificate in `system:masters`
 * and the service-account signing key pair that TokenRequest tokens are signed with. Keys come
 * from node:crypto (fast); node-forge only assembles the X.509 certificates.
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';

/** Paths of the files written by writeControlPlaneCerts. */
export interface ControlPlaneCerts {
  readonly dir: string;
  readonly caCert: string;
  readonly servingCert: string;
  readonly servingKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
  /** PEM texts for kubeconfigs. */
  readonly pem: { readonly ca: string; readonly adminCert: string; readonly adminKey: string };
}

interface Issued {
  readonly certPem: string;
  readonly keyPem: string;
  readonly cert: forge.pki.Certificate;
  readonly key: forge.pki.rsa.PrivateKey;
}

function rsaKey(): { forgeKey: forge.pki.rsa.PrivateKey; forgePub: forge.pki.rsa.PublicKey; pem: string; publicPem: string; object: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { forgeKey: forge.pki.privateKeyFromPem(pem), forgePub: forge.pki.publicKeyFromPem(publicPem), pem, publicPem, object: privateKey };
}

function issue(
  subject: forge.pki.CertificateField[],
  extensions: object[],
  issuer: Issued | undefined,
): Issued {
  const key = rsaKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = key.forgePub;
  cert.serialNumber = `01${randomBytes(8).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  cert.setSubject(subject);
  cert.setIssuer(issuer === undefined ? subject : issuer.cert.subject.attributes);
  cert.setExtensions(extensions);
  cert.sign(issuer === undefined ? key.forgeKey : issuer.key, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: key.pem, cert, key: key.forgeKey };
}

/** Generates every certificate and key into `dir` (mode 0600 for keys). */
export function writeControlPlaneCerts(dir: string): ControlPlaneCerts {
  const ca = issue([{ name: 'commonName', value: 'kseal-e2e-ca' }], [
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
  ], undefined);
  const serving = issue([{ name: 'commonName', value: 'kube-apiserver' }], [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }, { type: 2, value: 'kubernetes.default.svc' }] },
  ], ca);
  const admin = issue([{ name: 'commonName', value: 'kseal-e2e-admin' }, { name: 'organizationName', value: 'system:masters' }], [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
  ], ca);
  const sa = rsaKey();
  const files = {
    caCert: join(dir, 'ca.crt'),
    servingCert: join(dir, 'apiserver.crt'),
    servingKey: join(dir, 'apiserver.key'),
    adminCert: join(dir, 'admin.crt'),
    adminKey: join(dir, 'admin.key'),
    serviceAccountKey: join(dir, 'sa.key'),
    serviceAccountPub: join(dir, 'sa.pub'),
  };
  writeFileSync(files.caCert, ca.certPem);
  writeFileSync(files.servingCert, serving.certPem);
  writeFileSync(files.servingKey, serving.keyPem, { mode: 0o600 });
  writeFileSync(files.adminCert, admin.certPem);
  writeFileSync(files.adminKey, admin.keyPem, { mode: 0o600 });
  writeFileSync(files.serviceAccountKey, sa.pem, { mode: 0o600 });
  writeFileSync(files.serviceAccountPub, sa.publicPem);
  return { dir, ...files, pem: { ca: ca.certPem, adminCert: admin.certPem, adminKey: admin.keyPem } };
}
