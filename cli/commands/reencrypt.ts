/**
 * `kseal reencrypt`: have the controller re-seal SealedSecrets with its newest key (after a key
 * renewal, or to retire an old key), without the plaintext ever leaving the cluster. Files given with
 * -f are edited in place (comments and layout kept; each file replaced atomically, only when all its
 * objects re-sealed), with progress on stderr; stdin goes to stdout.
 */
import type { Command } from 'commander';
import { KsealError } from '../../src/errors.js';
import { parseCertificate } from '../../src/crypto/certificate.js';
import { openSealedFile } from '../../src/manifest/sealed-file.js';
import { writeFileAtomic } from '../atomic-write.js';
import { rotateSealed } from '../controller-api.js';
import { controllerClient, expectOk, type ControllerClient } from '../controller-client.js';
import { readInput, type CliIo } from '../io.js';
import { addCertSourceOptions, certSource, type CertSourceFlags } from '../options.js';
import { HTTP_PATHS, KEY_ID_ANNOTATION } from '../../src/wire.js';

interface ReencryptFlags extends CertSourceFlags {
  file?: string[];
  force?: boolean;
}

/** Registers the command. */
export function reencryptCommand(program: Command, io: CliIo): void {
  const command = program
    .command('reencrypt')
    .alias('rotate')
    .summary("re-seal SealedSecrets with the controller's newest key")
    .description("Re-seal SealedSecrets with the controller's newest key, keeping name, namespace, scope, template and comments. Objects already sealed with the newest key are left as they are unless --force.")
    .option('-f, --file <file...>', 'files to re-seal in place (default: stdin to stdout)')
    .option('--force', 're-seal objects already sealed with the newest key too');
  addCertSourceOptions(command, false);
  command.addHelpText(
    'after',
    `
Examples:
  kseal reencrypt -f $(git ls-files '*.sealed.yaml')
  kseal reencrypt < old.yaml > new.yaml`,
  );
  command.action(async (flags: ReencryptFlags) => {
    const client = await controllerClient(certSource(flags), io);
    const newest = parseCertificate(expectOk(await client.request('GET', HTTP_PATHS.cert), `GET ${HTTP_PATHS.cert}`, client), { source: client.description, now: io.now() }).keyId;
    if (flags.file === undefined) {
      const { bytes, source } = await readInput(io, undefined);
      const { text } = await reencryptText(client, bytes.toString('utf8'), source, newest, flags.force === true);
      io.stdout(text);
      return;
    }
    const files = flags.file;
    let failures = 0;
    for (const [i, file] of files.entries()) {
      const progress = `[${i + 1}/${files.length}] ${file}`;
      try {
        const { bytes } = await readInput(io, file);
        const { text, resealed, current } = await reencryptText(client, bytes.toString('utf8'), file, newest, flags.force === true);
        if (resealed > 0) await writeFileAtomic(io.cwd, file, text);
        io.stderr(`${progress}: ${resealed} re-sealed${current > 0 ? `, ${current} already current` : ''}\n`);
      } catch (e) {
        if (!(e instanceof KsealError) || e.exitCode === 6) throw e;
        failures++;
        io.stderr(`${progress}: not changed: ${e.format()}\n`);
      }
    }
    if (failures > 0) throw new KsealError('DECRYPT_FAILED', `${failures} of ${files.length} file${files.length === 1 ? '' : 's'} could not be re-sealed and were left unchanged`);
  });
}

async function reencryptText(client: ControllerClient, text: string, source: string, newest: string, force: boolean): Promise<{ text: string; resealed: number; current: number }> {
  const file = openSealedFile(text, source);
  let resealed = 0;
  let current = 0;
  for (const doc of file.documents) {
    if (doc.sealed === undefined) continue;
    // Current when the newest key already seals spec.encryptedData or one cluster entry of spec.recipients.
    if (!force && (doc.sealed.metadata.annotations?.[KEY_ID_ANNOTATION] === newest || doc.sealed.spec.recipients?.some((r) => r.kind === 'cluster' && r.id === newest) === true)) {
      current++;
      continue;
    }
    try {
      const rotated = await rotateSealed(client, doc.sealed);
      doc.setValues(rotated.spec.encryptedData, rotated.metadata.annotations?.[KEY_ID_ANNOTATION] ?? newest);
      // The controller replaced only its own cluster's ciphertexts; entries it did not touch are kept as written.
      if (doc.sealed.spec.recipients !== undefined) doc.setRecipients(rotated.spec.recipients ?? []);
      resealed++;
    } catch (e) {
      throw e instanceof KsealError ? e.at(doc.location) : e;
    }
  }
  if (resealed + current === 0) throw new KsealError('NO_DOCUMENTS', 'no SealedSecret found', { file: source });
  return { text: file.render(), resealed, current };
}
