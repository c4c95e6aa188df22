/**
 * Recipients from the command line: `--cert` (repeatable; the first is the object's primary cluster
 * key, or the controller's certificate when none is given), `--recipient kseal1…` (repeatable) and
 * `--recipients-file FILE` (repeatable), and escrow identities from `--identity FILE`.
 */
import { Option, type Command } from 'commander';
import type { SealingCertificate } from '../src/crypto/certificate.js';
import { parseIdentityFile, parseRecipient, parseRecipientsFile, type EscrowIdentity } from '../src/crypto/identity.js';
import { clusterRecipient, escrowRecipient, uniqueRecipients, type SealingRecipient } from '../src/model/recipients.js';
import { loadCertificate } from './cert-source.js';
import { readInput, type CliIo } from './io.js';
import { certSource, type CertSourceFlags } from './options.js';

/** Flags of the recipient options. */
export interface RecipientFlags extends Omit<CertSourceFlags, 'cert'> {
  cert?: string[];
  recipient?: string[];
  recipientsFile?: string[];
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Adds --cert (repeatable), --recipient and --recipients-file. Use with addCertSourceOptions(command, false). */
export function addRecipientOptions(command: Command): Command {
  return command
    .addOption(new Option('--cert <path|url>', 'sealing certificate: a file, file:// or http(s) URL, for offline sealing; repeat for more clusters, the first goes in encryptedData').env('KSEAL_CERT').argParser(collect))
    .option('--recipient <kseal1…>', 'also seal for this escrow identity (repeatable)', collect)
    .option('--recipients-file <file>', 'also seal for every kseal1… line of this file (repeatable)', collect);
}

/** True when the flags name more than one recipient (Bitnami objects cannot hold them). */
export function hasExtraRecipients(flags: RecipientFlags): boolean {
  return (flags.cert?.length ?? 0) > 1 || (flags.recipient?.length ?? 0) > 0 || (flags.recipientsFile?.length ?? 0) > 0;
}

/** The escrow recipients named by --recipient and --recipients-file. */
export async function escrowRecipientsOf(flags: Pick<RecipientFlags, 'recipient' | 'recipientsFile'>, io: CliIo): Promise<SealingRecipient[]> {
  const out: SealingRecipient[] = (flags.recipient ?? []).map((text, i) => escrowRecipient(parseRecipient(text, `--recipient ${i + 1}`)));
  for (const file of flags.recipientsFile ?? []) {
    const { bytes, source } = await readInput(io, file);
    out.push(...parseRecipientsFile(bytes.toString('utf8'), source).map(escrowRecipient));
  }
  return out;
}

/** The primary certificate (first --cert, else KSEAL_CERT or the controller) and every other recipient. */
export async function loadRecipients(flags: RecipientFlags, io: CliIo): Promise<{ primary: SealingCertificate; others: SealingRecipient[] }> {
  const escrow = await escrowRecipientsOf(flags, io);
  const { cert: certs = [], recipient: _recipient, recipientsFile: _files, ...source } = flags;
  const [first, ...more] = certs;
  const primary = await loadCertificate(certSource(first === undefined ? source : { ...source, cert: first }), io);
  const others: SealingRecipient[] = [];
  for (const cert of more) others.push(clusterRecipient(await loadCertificate(certSource({ ...source, cert }), io)));
  return { primary, others: uniqueRecipients([...others, ...escrow]).filter((r) => r.keyId !== primary.keyId) };
}

/** Reads every --identity file. */
export async function loadIdentities(files: readonly string[] | undefined, io: CliIo): Promise<EscrowIdentity[]> {
  const out: EscrowIdentity[] = [];
  for (const file of files ?? []) {
    const { bytes, source } = await readInput(io, file);
    out.push(...parseIdentityFile(bytes.toString('utf8'), source));
  }
  return out;
}
