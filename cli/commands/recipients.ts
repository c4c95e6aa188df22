/**
 * `kseal recipients add|remove|list FILE...`: who the SealedSecrets in some files are sealed for.
 * `remove` needs no key (that recipient's ciphertexts are dropped; the last cluster is never removed);
 * `add` opens each object with an escrow identity or a cluster private key and seals every value for
 * the new recipients. Always offline, never through the controller: an endpoint that re-seals for a
 * caller's key would hand out plaintext to anyone who can reach it (docs/SECURITY.md). Files are
 * edited in place, every other byte kept, and written all or none.
 */
import { Option, type Command } from 'commander';
import { KsealError } from '../../src/errors.js';
import type { PrivateKeyEntry } from '../../src/crypto/private-key.js';
import { openSealedFile, type SealedFile, type SealedFileDocument } from '../../src/manifest/sealed-file.js';
import { readPrivateKeys } from '../../src/model/key-secret.js';
import { openObject } from '../../src/model/object-recipients.js';
import { entriesWithAdded, missingRecipients, planRemoval } from '../../src/model/recipient-changes.js';
import { clusterRecipient, PRIMARY_RECIPIENT, uniqueRecipients, type SealingRecipient } from '../../src/model/recipients.js';
import { KEY_ID_ANNOTATION } from '../../src/wire.js';
import { writeFilesAtomic } from '../atomic-write.js';
import { loadCertificate } from '../cert-source.js';
import { readInput, type CliIo } from '../io.js';
import { escrowRecipientsOf, loadIdentities } from '../recipient-source.js';

interface ChangeFlags {
  cert?: string[];
  recipient?: string[];
  recipientsFile?: string[];
  id?: string[];
  identity?: string[];
  key?: string[];
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** --cert / --recipient / --recipients-file, without KSEAL_CERT: a recipient change names its recipients explicitly. */
function addWhoOptions(command: Command): Command {
  return command
    .addOption(new Option('--cert <file>', "a cluster's sealing certificate (repeatable)").argParser(collect))
    .option('--recipient <kseal1…>', 'an escrow recipient (repeatable)', collect)
    .option('--recipients-file <file>', 'every kseal1… line of this file (repeatable)', collect);
}

/** Registers `kseal recipients`. */
export function recipientsCommand(program: Command, io: CliIo): void {
  const group = program.command('recipients').summary('add or remove clusters and escrow identities on SealedSecret files').description('List, add or remove the recipients (cluster certificates, escrow identities) of the SealedSecrets in files, offline.');
  addWhoOptions(group.command('add').summary('seal every value for more recipients (needs an identity or a key)').argument('<files...>', 'SealedSecret files, edited in place'))
    .option('-i, --identity <file>', 'escrow identity file to open the objects with (repeatable)', collect)
    .option('-k, --key <file>', 'cluster private keys to open the objects with (repeatable)', collect)
    .addHelpText('after', '\nExamples:\n  kseal recipients add --cert dr.pem --identity escrow.txt apps/*/secrets.yaml\n  kseal recipients add --recipient kseal1… --key keys-backup.yaml db.sealed.yaml')
    .action((files: string[], flags: ChangeFlags) => add(io, files, flags));
  addWhoOptions(group.command('remove').summary("drop recipients' ciphertexts (no key needed)").argument('<files...>', 'SealedSecret files, edited in place'))
    .option('--id <key-id>', 'a recipient by key id, as kseal recipients list shows it (repeatable; 12 or more hex digits)', collect)
    .addHelpText('after', '\nRemoving a recipient does not take back what git history already holds: rotate the values if its key leaked.\n\nExamples:\n  kseal recipients remove --cert old-cluster.pem apps/*/secrets.yaml\n  kseal recipients remove --id 3f9a1c2b7d4e db.sealed.yaml')
    .action((files: string[], flags: ChangeFlags) => remove(io, files, flags));
  group
    .command('list')
    .summary('show who each SealedSecret is sealed for')
    .argument('<files...>', 'SealedSecret files')
    .action(async (files: string[]) => {
      for (const { file, target } of await openAll(io, files)) {
        for (const doc of sealedDocuments(target)) {
          const { sealed } = doc;
          const lines = [`  ${PRIMARY_RECIPIENT}  cluster  ${sealed.metadata.annotations?.[KEY_ID_ANNOTATION] ?? '(no key-id hint)'}`, ...(sealed.spec.recipients ?? []).map((e) => `  recipients  ${e.kind.padEnd(7)}  ${e.id}${e.kind === 'escrow' ? `  ${e.publicKey}` : ''}`)];
          io.stdout(`${file}: document ${doc.location.document}: ${sealed.metadata.namespace ?? ''}/${sealed.metadata.name}\n${lines.join('\n')}\n`);
        }
      }
    });
}

type Opened = { file: string; target: SealedFile };

async function openAll(io: CliIo, files: readonly string[]): Promise<Opened[]> {
  const out: Opened[] = [];
  for (const file of files) out.push({ file, target: openSealedFile((await readInput(io, file)).bytes.toString('utf8'), file) });
  return out;
}

function sealedDocuments(target: SealedFile): Array<SealedFileDocument & { sealed: NonNullable<SealedFileDocument['sealed']> }> {
  return target.documents.filter((d): d is SealedFileDocument & { sealed: NonNullable<SealedFileDocument['sealed']> } => d.sealed !== undefined);
}

/** The recipients the flags name: clusters from --cert, escrow from --recipient / --recipients-file. */
async function namedRecipients(io: CliIo, flags: ChangeFlags): Promise<SealingRecipient[]> {
  const clusters: SealingRecipient[] = [];
  for (const cert of flags.cert ?? []) clusters.push(clusterRecipient(await loadCertificate({ cert, controllerNamespace: '', controllerName: '' }, io)));
  return uniqueRecipients([...clusters, ...(await escrowRecipientsOf(flags, io))]);
}

async function writeAll(io: CliIo, opened: readonly Opened[], changed: ReadonlySet<string>): Promise<void> {
  await writeFilesAtomic(io.cwd, opened.filter((o) => changed.has(o.file)).map((o) => ({ path: o.file, content: o.target.render() })));
}

async function remove(io: CliIo, files: string[], flags: ChangeFlags): Promise<void> {
  const named = await namedRecipients(io, flags);
  const prefixes = (flags.id ?? []).map((p) => p.toLowerCase());
  for (const p of prefixes) if (!/^[0-9a-f]{12,64}$/.test(p)) throw new KsealError('USAGE', `--id ${JSON.stringify(p)} is not a key id (12 to 64 hex digits)`);
  if (named.length === 0 && prefixes.length === 0) throw new KsealError('USAGE', 'name the recipients to remove: --cert FILE, --recipient kseal1…, --recipients-file FILE or --id KEY-ID');
  const opened = await openAll(io, files);
  const changed = new Set<string>();
  let removed = 0;
  for (const { file, target } of opened) {
    for (const doc of sealedDocuments(target)) {
      const { sealed } = doc;
      const all = [...(sealed.metadata.annotations?.[KEY_ID_ANNOTATION] ?? '').split(','), ...(sealed.spec.recipients ?? []).map((e) => e.id)].map((s) => s.trim()).filter((s) => s !== '');
      const ids = new Set([...named.map((r) => r.keyId), ...all.filter((id) => prefixes.some((p) => id.startsWith(p)))]);
      const plan = planRemoval(sealed, ids, doc.location);
      if (plan.removed.length === 0) continue;
      if (plan.promoted !== undefined) doc.setPrimary(plan.promoted.encryptedData, plan.promoted.id);
      doc.setRecipients(plan.entries);
      changed.add(file);
      removed += plan.removed.length;
      const what = plan.removed.map((r) => (r === PRIMARY_RECIPIENT ? 'spec.encryptedData' : r.slice(0, 16))).join(', ');
      io.stderr(`kseal: ${file}: document ${doc.location.document}: ${sealed.metadata.namespace ?? ''}/${sealed.metadata.name}: removed ${what}${plan.promoted === undefined ? '' : `; ${plan.promoted.id.slice(0, 16)} is now spec.encryptedData`}\n`);
    }
  }
  if (removed === 0) throw new KsealError('RECIPIENT_MISSING', 'no SealedSecret in the files is sealed for the recipients named', { hint: 'kseal recipients list FILE shows who each object is sealed for' });
  await writeAll(io, opened, changed);
  io.stderr(`kseal: removed ${removed} recipient${removed === 1 ? '' : 's'} in ${changed.size} file${changed.size === 1 ? '' : 's'}; git history still holds the old ciphertexts (rotate the values if a key leaked)\n`);
}

async function add(io: CliIo, files: string[], flags: ChangeFlags): Promise<void> {
  const named = await namedRecipients(io, flags);
  if (named.length === 0) throw new KsealError('USAGE', 'name the recipients to add: --cert FILE, --recipient kseal1… or --recipients-file FILE');
  if ((flags.identity ?? []).length === 0 && (flags.key ?? []).length === 0) {
    throw new KsealError('USAGE', 'adding a recipient seals every value again: pass an escrow identity (--identity FILE) or a cluster private key (--key FILE) that opens the objects', { hint: 'removing needs no key; adding does, by design (docs/SECURITY.md)' });
  }
  const identities = await loadIdentities(flags.identity, io);
  const keys: PrivateKeyEntry[] = [];
  for (const file of flags.key ?? []) {
    const { bytes, source } = await readInput(io, file, 'private keys');
    keys.push(...readPrivateKeys(bytes.toString('utf8'), source));
  }
  const opened = await openAll(io, files);
  const changed = new Set<string>();
  let objects = 0;
  for (const { file, target } of opened) {
    for (const doc of sealedDocuments(target)) {
      const missing = missingRecipients(doc.sealed, named);
      if (missing.length === 0) continue;
      const { data } = openObject(doc.sealed, { identities, keys }, doc.location);
      try {
        doc.setRecipients(entriesWithAdded(doc.sealed, missing, data, doc.location));
      } finally {
        for (const bytes of data.values()) bytes.fill(0);
      }
      changed.add(file);
      objects++;
      io.stderr(`kseal: ${file}: document ${doc.location.document}: ${doc.sealed.metadata.namespace ?? ''}/${doc.sealed.metadata.name}: added ${missing.map((r) => `${r.kind} ${r.keyId.slice(0, 16)}`).join(', ')}\n`);
    }
  }
  await writeAll(io, opened, changed);
  io.stderr(`kseal: added recipients to ${objects} object${objects === 1 ? '' : 's'} in ${changed.size} file${changed.size === 1 ? '' : 's'}\n`);
}
