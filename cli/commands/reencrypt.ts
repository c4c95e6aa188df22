/**
 * `kseal reencrypt`: have the controller re-seal SealedSecrets with its newest key (after a key
 * renewal, or to retire an old key), without the plaintext ever leaving the cluster. Files given with
 * -f are edited in place (comments and layout kept; each file replaced atomically, only when all its
 * objects re-sealed; files holding no SealedSecret skipped and counted), with progress per object on
 * stderr; otherwise stdin (or --input) goes to stdout (or -w). Requests go out a few at a time
 * (--concurrency), waiting when the controller answers 429 with Retry-After.
 */
import { Option, type Command } from 'commander';
import { KsealError } from '../../src/errors.js';
import { parseCertificate } from '../../src/crypto/certificate.js';
import { openSealedFile, type SealedFileDocument } from '../../src/manifest/sealed-file.js';
import { writeFileAtomic } from '../atomic-write.js';
import { rotateSealed } from '../controller-api.js';
import { controllerClient, expectOk, type ControllerClient } from '../controller-client.js';
import { emit } from '../emit.js';
import { readInput, type CliIo } from '../io.js';
import { addAliases } from '../kubeseal-compat.js';
import { count, jsonErrors, mapLimit, ResultLog, where, type ObjectResult } from '../object-results.js';
import { addCertSourceOptions, certSource, type CertSourceFlags } from '../options.js';
import { HTTP_PATHS, KEY_ID_ANNOTATION } from '../../src/wire.js';
import { concurrencyOption } from './validate.js';

interface ReencryptFlags extends CertSourceFlags {
  file?: string[];
  input?: string;
  write?: string;
  force?: boolean;
  output: 'text' | 'json';
  concurrency: number;
}

/** Registers the command. */
export function reencryptCommand(program: Command, io: CliIo): void {
  const name = io.programName ?? 'kseal';
  const command = program
    .command('reencrypt')
    .alias('rotate')
    .summary("re-seal SealedSecrets with the controller's newest key")
    .description("Re-seal SealedSecrets with the controller's newest key, keeping name, namespace, scope, template and comments. Objects already sealed with the newest key are left as they are unless --force.")
    .option('-f, --file <file...>', 'files to re-seal in place; files without a SealedSecret are skipped')
    .option('--input <file>', 'read this file instead of stdin (the result goes to stdout or -w)')
    .option('-w, --write <file>', 'write the result of stdin/--input to this file (atomically) instead of stdout')
    .option('--force', 're-seal objects already sealed with the newest key too')
    .addOption(new Option('-o, --output <format>', 'with -f: results as text lines on stderr or one JSON document on stdout').choices(['text', 'json']).default('text'))
    .addOption(concurrencyOption());
  addCertSourceOptions(command, false);
  addAliases(command, [{ flags: '--secret-file <file>', target: 'input', targetFlag: '--input' }, { flags: '--sealed-secret-file <file>', target: 'write', targetFlag: '-w' }], '--re-encrypt');
  command.addHelpText(
    'after',
    `
Examples:
  ${name} reencrypt -f $(git ls-files '*.yaml')
  ${name} reencrypt < old.yaml > new.yaml`,
  );
  command.action(async (flags: ReencryptFlags, self: Command) => {
    if (flags.file !== undefined && (flags.input !== undefined || flags.write !== undefined)) {
      throw new KsealError('USAGE', '-f edits files in place; --input and -w are for one stream', { hint: 'use either -f FILE... or --input FILE [-w OUT]' });
    }
    if (flags.file === undefined && self.getOptionValueSource('output') === 'cli' && flags.output === 'json') {
      throw new KsealError('USAGE', '-o json reports on files re-sealed with -f; a stream re-sealed to stdout is the output itself');
    }
    const client = await controllerClient(certSource(flags), io);
    const newest = parseCertificate(expectOk(await client.request('GET', HTTP_PATHS.cert), `GET ${HTTP_PATHS.cert}`, client), { source: client.description, now: io.now() }).keyId;
    const options = { client, newest, force: flags.force === true, concurrency: flags.concurrency, multi: new Set<string>() };
    if (flags.file === undefined) {
      const { bytes, source } = await readInput(io, flags.input, 'SealedSecret manifests (YAML or JSON)');
      const log = new ResultLog(io, { json: jsonErrors(self), text: () => undefined });
      const { text, sealedCount } = await reencryptText(bytes.toString('utf8'), source, options, log, true);
      if (sealedCount === 0) throw new KsealError('NO_DOCUMENTS', 'no SealedSecret found', { file: source });
      await emit(io, text, flags.write);
      return;
    }
    const files = flags.file;
    const json = flags.output === 'json';
    // Progress within a file: failures always; each re-sealed object when the file holds several.
    const log = new ResultLog(io, {
      json: jsonErrors(self),
      quiet: json,
      text: (r) => (r.outcome === 'failed' || (r.outcome === 'resealed' && options.multi.has(r.file)) ? { stream: 'stderr', line: `  ${where(r)}: ${r.namespace ?? ''}/${r.name ?? ''}: ${r.outcome === 'failed' ? `not re-sealed: ${r.message ?? ''}` : 're-sealed'}` } : undefined),
    });
    let failedFiles = 0;
    let skippedFiles = 0;
    for (const [i, file] of files.entries()) {
      const progress = `[${i + 1}/${files.length}] ${file}`;
      try {
        const { bytes } = await readInput(io, file);
        const before = log.results.length;
        const { text, sealedCount, resealed, current } = await reencryptText(bytes.toString('utf8'), file, options, log, false);
        if (sealedCount === 0) {
          skippedFiles++;
          log.add({ file, outcome: 'skipped', message: 'no SealedSecret in the file' });
          if (!json) io.stderr(`${progress}: skipped (no SealedSecret)\n`);
          continue;
        }
        const failed = log.results.slice(before).filter((r) => r.outcome === 'failed').length;
        if (failed > 0) {
          failedFiles++;
          if (!json) io.stderr(`${progress}: not changed: ${count(failed, 'object')} could not be re-sealed\n`);
          continue;
        }
        if (resealed > 0) await writeFileAtomic(io.cwd, file, text);
        if (!json) io.stderr(`${progress}: ${resealed} re-sealed${current > 0 ? `, ${current} already current` : ''}\n`);
      } catch (e) {
        if (!(e instanceof KsealError) || e.exitCode === 6) throw e;
        failedFiles++;
        log.add({ file, outcome: 'failed', message: e.message });
        if (!json) io.stderr(`${progress}: not changed: ${e.format()}\n`);
      }
    }
    const resealed = log.tally('resealed');
    const current = log.tally('current');
    if (json) io.stdout(`${JSON.stringify({ controller: client.description, summary: { files: files.length, resealed, current, failedFiles, skippedFiles }, results: log.results }, null, 2)}\n`);
    else io.stderr(`kseal: ${resealed} re-sealed, ${current} already current in ${count(files.length - skippedFiles - failedFiles, 'file')}${skippedFiles > 0 ? `; ${count(skippedFiles, 'file')} without a SealedSecret skipped` : ''}\n`);
    if (failedFiles > 0) throw new KsealError('DECRYPT_FAILED', `${failedFiles} of ${count(files.length, 'file')} could not be re-sealed and ${failedFiles === 1 ? 'was' : 'were'} left unchanged`);
  });
}

interface ReencryptOptions {
  readonly client: ControllerClient;
  readonly newest: string;
  readonly force: boolean;
  readonly concurrency: number;
  /** Files holding more than one SealedSecret (their objects get progress lines). */
  readonly multi: Set<string>;
}

/** Re-seals every SealedSecret of one text; failures are logged per object (or thrown with `failFast`). */
async function reencryptText(text: string, source: string, options: ReencryptOptions, log: ResultLog, failFast: boolean): Promise<{ text: string; sealedCount: number; resealed: number; current: number }> {
  const file = openSealedFile(text, source);
  const sealedDocs = file.documents.filter((d): d is SealedFileDocument & { sealed: NonNullable<SealedFileDocument['sealed']> } => d.sealed !== undefined);
  if (sealedDocs.length > 1) options.multi.add(source);
  const put = log.ordered();
  let resealed = 0;
  let current = 0;
  const rotated = await mapLimit(sealedDocs, options.concurrency, async (doc, index) => {
    const base: Omit<ObjectResult, 'outcome'> = { file: source, document: doc.location.document, item: doc.location.item, kind: 'SealedSecret', name: doc.sealed.metadata.name, namespace: doc.sealed.metadata.namespace };
    // Current when the newest key already seals spec.encryptedData or one cluster entry of spec.recipients.
    if (!options.force && (doc.sealed.metadata.annotations?.[KEY_ID_ANNOTATION] === options.newest || doc.sealed.spec.recipients?.some((r) => r.kind === 'cluster' && r.id === options.newest) === true)) {
      current++;
      put(index, { ...base, outcome: 'current' });
      return undefined;
    }
    try {
      const result = await rotateSealed(options.client, doc.sealed);
      resealed++;
      put(index, { ...base, outcome: 'resealed' });
      return result;
    } catch (e) {
      const error = e instanceof KsealError ? e.at(doc.location) : e;
      if (failFast || !(error instanceof KsealError) || error.exitCode === 6) throw error;
      put(index, { ...base, outcome: 'failed', message: error.message });
      return undefined;
    }
  });
  for (const [i, doc] of sealedDocs.entries()) {
    const result = rotated[i];
    if (result === undefined) continue;
    doc.setValues(result.spec.encryptedData, result.metadata.annotations?.[KEY_ID_ANNOTATION] ?? options.newest);
    // The controller replaced only its own cluster's ciphertexts; entries it did not touch are kept as written.
    if (doc.sealed.spec.recipients !== undefined) doc.setRecipients(result.spec.recipients ?? []);
  }
  return { text: file.render(), sealedCount: sealedDocs.length, resealed, current };
}
