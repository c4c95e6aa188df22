/**
 * The write-only edit path shared by `kseal set`, `kseal encrypt --merge-into` and the key commands:
 * open a file holding exactly one SealedSecret through the syntax-tree editor (comments, order and
 * other ciphertexts stay byte for byte), seal new values for the object's own scope, name and
 * namespace and every recipient on it (sealForObject), and write the file back atomically. No private key is involved.
 */
import { KEY_ID_ANNOTATION } from '../src/wire.js';
import { KsealError } from '../src/errors.js';
import { openSealedFile, type SealedFile, type SealedFileDocument } from '../src/manifest/sealed-file.js';
import { sealForObject } from '../src/model/object-recipients.js';
import type { SealedSecret } from '../src/model/sealed-secret.js';
import type { SealingCertificate } from '../src/crypto/certificate.js';
import { loadCertificate } from './cert-source.js';
import { warn } from './emit.js';
import { readInput, type CliIo } from './io.js';
import { certSource, type CertSourceFlags } from './options.js';
import { certFromRule, ruleFor } from './repo-config.js';
import { writeFileAtomic } from './atomic-write.js';

/** A file opened for an edit of its one SealedSecret. */
export interface OpenedSealedFile {
  readonly file: string;
  readonly target: SealedFile;
  readonly document: SealedFileDocument;
  readonly sealed: SealedSecret;
}

/**
 * Opens `file`, which must hold exactly one SealedSecret (`what` names the command in messages).
 * Other documents (a ConfigMap beside it, a kustomize bundle) are allowed and kept byte for byte.
 */
export async function openOneSealedSecret(io: CliIo, file: string, what: string): Promise<OpenedSealedFile> {
  const { bytes } = await readInput(io, file);
  const target = openSealedFile(bytes.toString('utf8'), file);
  const sealedDocs = target.documents.filter((d) => d.sealed !== undefined);
  const [document] = sealedDocs;
  const sealed = document?.sealed;
  if (document === undefined || sealed === undefined || sealedDocs.length > 1) {
    const kinds = [...new Set(target.documents.map((d) => d.kind ?? 'no kind'))].join(', ');
    throw new KsealError('NOT_A_SEALED_SECRET', `${what} needs a file with exactly one SealedSecret, found ${sealedDocs.length} among ${target.documents.length} document${target.documents.length === 1 ? '' : 's'}${sealedDocs.length === 0 && kinds !== '' ? ` (${kinds})` : ''}`, {
      file,
      hint: sealedDocs.length > 1 ? 'split the file, one SealedSecret per file' : 'create one first with kseal create secret or kseal encrypt',
    });
  }
  return { file, target, document, sealed };
}

/** Flags that choose the certificate for an edit. */
export interface EditFlags extends CertSourceFlags {
  readonly config?: string | undefined;
}

/**
 * Seals `values` for the opened object (its scope label; the certificate from the flags, the
 * environment, the matching `.kseal.yaml` rule or the controller) and sets them in the document.
 */
export async function sealIntoDocument(io: CliIo, flags: EditFlags, opened: OpenedSealedFile, values: ReadonlyMap<string, Uint8Array>): Promise<void> {
  sealWithCertificate(io, opened, await primaryCertificate(io, flags, opened), values);
}

/** The certificate for the object's spec.encryptedData: flags, environment, `.kseal.yaml` rule or controller. */
export async function primaryCertificate(io: CliIo, flags: EditFlags, opened: OpenedSealedFile): Promise<Pick<SealingCertificate, 'publicKey' | 'keyId'>> {
  const { sealed, file } = opened;
  const { rule } = await ruleFor(io, flags.config, file, sealed.metadata.namespace);
  const cert = await loadCertificate({ ...certSource(flags), cert: certFromRule(flags.cert, io, rule) }, io);
  if ((sealed.spec.recipients ?? []).some((r) => r.id === cert.keyId)) {
    throw new KsealError('RECIPIENT_MISSING', `the certificate (key id ${cert.keyId.slice(0, 16)}) belongs to a spec.recipients entry, not to spec.encryptedData`, {
      file,
      hint: "pass the certificate of the object's first cluster (its kseal.dev/key-id)",
    });
  }
  return cert;
}

/** Seals `values` for every recipient of the opened object, `cert` for spec.encryptedData, and sets them in the document. */
export function sealWithCertificate(io: CliIo, opened: OpenedSealedFile, cert: Pick<SealingCertificate, 'publicKey' | 'keyId'>, values: ReadonlyMap<string, Uint8Array>): void {
  const { sealed, document, file } = opened;
  const hint = sealed.metadata.annotations?.[KEY_ID_ANNOTATION];
  const replacesAll = Object.keys(sealed.spec.encryptedData).every((k) => values.has(k));
  if (hint !== undefined && hint !== cert.keyId && !replacesAll) {
    warn(io, `${file}: the object's other values were sealed with key ${hint.slice(0, 12)}…, the new ones with ${cert.keyId.slice(0, 12)}…; the controller opens both, kseal reencrypt makes them one`);
  }
  // Every recipient on the object: its first cluster (this certificate) and each spec.recipients entry.
  document.setObjectValues(sealForObject(sealed, cert, values, opened.document.location), cert.keyId);
}

/** Writes the edited file back atomically, keeping its mode. */
export async function saveSealedFile(io: CliIo, opened: OpenedSealedFile): Promise<void> {
  await writeFileAtomic(io.cwd, opened.file, opened.target.render());
}
