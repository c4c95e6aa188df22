/**
 * `kseal edit FILE --identity FILE`: SOPS's edit loop for identity holders. The object is opened with
 * an escrow identity (or a cluster private key), shown as a plain Secret in $VISUAL / $EDITOR / vi
 * from a 0600 file in a private directory (edit-session.ts), and only the keys that changed or are
 * new are sealed again, for every recipient on the object; removed keys go from every recipient;
 * every other ciphertext, comment and line of the file stays byte for byte. The plaintext is removed
 * on success, on error and on SIGINT. An editor that exits non-zero changes nothing; a result that is
 * not a valid Secret is refused, or on a terminal offered for another round in the editor.
 */
import { createPublicKey } from 'node:crypto';
import type { Command } from 'commander';
import { KsealError } from '../../src/errors.js';
import type { PrivateKeyEntry } from '../../src/crypto/private-key.js';
import { readPrivateKeys } from '../../src/model/key-secret.js';
import { openObject } from '../../src/model/object-recipients.js';
import { compareEdit, editableDocument, type EditChanges } from '../../src/model/secret-edit.js';
import { KEY_ID_ANNOTATION } from '../../src/wire.js';
import { withPlaintextFile, type EditSession } from '../edit-session.js';
import { warn } from '../emit.js';
import { readInput, type CliIo } from '../io.js';
import { addCertSourceOptions } from '../options.js';
import { loadIdentities } from '../recipient-source.js';
import { addConfigOption } from '../repo-config.js';
import { openOneSealedSecret, primaryCertificate, saveSealedFile, sealWithCertificate, type EditFlags, type OpenedSealedFile } from '../sealed-file-edit.js';

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

interface EditCommandFlags extends EditFlags {
  identity?: string[];
  key?: string[];
}

/** Registers the command. */
export function editCommand(program: Command, io: CliIo): void {
  const command = program
    .command('edit')
    .summary("edit a SealedSecret file's values in your editor (needs an escrow identity or a private key)")
    .description(
      'Open the SealedSecret in FILE with an escrow identity (--identity) or a cluster private key (--key), show it as a Secret in $VISUAL, $EDITOR or vi, ' +
        'and seal again only the keys you changed or added, for every recipient on the object; deleted keys are removed from every recipient and every other ciphertext stays byte for byte. ' +
        'The plaintext lives in a 0600 file in a private temporary directory and is removed when the editor exits, on error and on Ctrl-C. ' +
        "New values for spec.encryptedData need its cluster's certificate (--cert, KSEAL_CERT, .kseal.yaml or the controller) unless --key holds that cluster's private key.",
    )
    .argument('<file>', 'SealedSecret file to edit in place')
    .option('-i, --identity <file>', 'escrow identity file (KSEAL-SECRET-KEY-1…, from kseal identity new); repeatable', collect)
    .option('-k, --key <file>', 'cluster private keys: PEM, a kubernetes.io/tls Secret, or a List of them; repeatable', collect);
  addConfigOption(addCertSourceOptions(command));
  command.addHelpText(
    'after',
    `
Examples:
  kseal edit db.sealed.yaml --identity ~/.kseal/escrow.txt
  EDITOR="code --wait" kseal edit db.sealed.yaml -i escrow.txt --cert prod.pem
  kseal edit db.sealed.yaml --key keys-backup.yaml          # with the first cluster's private key`,
  );
  command.action(async (file: string, flags: EditCommandFlags) => {
    if ((flags.identity ?? []).length === 0 && (flags.key ?? []).length === 0) {
      throw new KsealError('USAGE', 'kseal edit needs an escrow identity (--identity FILE) or a cluster private key (--key FILE) to open the object', { hint: 'kseal edit FILE --identity FILE' });
    }
    const identities = await loadIdentities(flags.identity, io);
    const keys: PrivateKeyEntry[] = [];
    for (const keyFile of flags.key ?? []) {
      const { bytes, source } = await readInput(io, keyFile, 'private keys');
      keys.push(...readPrivateKeys(bytes.toString('utf8'), source));
    }
    const original = (await readInput(io, file)).bytes;
    const opened = await openOneSealedSecret(io, file, 'kseal edit');
    const { sealed } = opened;
    const values = openObject(sealed, { identities, keys }, opened.document.location).data;
    try {
      // Before the editor opens, so a missing certificate never costs the user their edit.
      const cert = await primaryKey(io, flags, opened, keys);
      const changes = await withPlaintextFile(io, `${sealed.metadata.name}.yaml`, editableDocument(sealed, values), (session) => editLoop(io, file, session, (text) => compareEdit(sealed, values, text)));
      if (changes === undefined || changes.changed.size + changes.added.size + changes.removed.length === 0) {
        io.stderr(`kseal: ${file}: no changes\n`);
        return;
      }
      for (const warning of changes.warnings) warn(io, warning);
      const reseal = new Map([...changes.changed, ...changes.added]);
      if (reseal.size > 0) sealWithCertificate(io, opened, cert, reseal);
      if (changes.removed.length > 0) opened.document.removeKeys(changes.removed);
      for (const bytes of reseal.values()) bytes.fill(0);
      if (!(await readInput(io, file)).bytes.equals(original)) {
        throw new KsealError('FILE_WRITE', 'the file changed on disk while it was being edited; nothing was written', { file, hint: 'run kseal edit again on the new version' });
      }
      await saveSealedFile(io, opened);
      const recipients = 1 + (sealed.spec.recipients?.length ?? 0);
      io.stderr(
        `kseal: ${file}: ${changes.changed.size} changed, ${changes.added.size} added, ${changes.removed.length} removed, ${changes.unchanged.length} unchanged; ` +
          `sealed for ${recipients} recipient${recipients === 1 ? '' : 's'}\n`,
      );
    } finally {
      for (const bytes of values.values()) bytes.fill(0);
    }
  });
}

/**
 * The public key for spec.encryptedData: from a --key whose id the key-id hint names (no certificate
 * needed), else the certificate from the usual sources.
 */
async function primaryKey(io: CliIo, flags: EditFlags, opened: OpenedSealedFile, keys: readonly PrivateKeyEntry[]): Promise<Parameters<typeof sealWithCertificate>[2]> {
  const hinted = opened.sealed.metadata.annotations?.[KEY_ID_ANNOTATION]?.split(',')[0]?.trim();
  const held = keys.find((k) => k.keyId === hinted);
  if (held !== undefined) return { publicKey: createPublicKey(held.key), keyId: held.keyId };
  return primaryCertificate(io, flags, opened);
}

/**
 * Runs the editor until the result is usable: undefined when the file was saved unchanged, else the
 * changes. An invalid result fails (the file is left unchanged) or, on a terminal, is offered for
 * another round after Enter; Ctrl-C there abandons the edit.
 */
async function editLoop(io: CliIo, file: string, session: EditSession, check: (text: string) => EditChanges): Promise<EditChanges | undefined> {
  const shown = await session.read();
  for (;;) {
    await session.edit();
    const text = await session.read();
    if (text === shown) return undefined;
    try {
      return check(text);
    } catch (e) {
      if (!(e instanceof KsealError) || e.code === 'INTERNAL') throw e;
      if (io.stdinIsTty !== true || io.promptHidden === undefined) {
        io.stderr(`kseal: ${file}: not changed\n`);
        throw e;
      }
      io.stderr(`kseal: error: ${e.format()}\n`);
      try {
        await io.promptHidden('kseal: press Enter to return to the editor, or Ctrl-C to abandon the edit ');
      } catch {
        throw new KsealError('EDIT_INVALID', 'the edit was abandoned; the file was not changed', { file });
      }
    }
  }
}
