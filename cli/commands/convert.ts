/**
 * `kseal convert --to kseal|bitnami`: move SealedSecret files between kseal's API group and
 * Bitnami's, for teams that adopted their Bitnami objects with `--adopt-bitnami` and want to leave
 * the Bitnami group later (or go back). Only apiVersion and the scope annotations change; comments,
 * layout, other documents and every ciphertext stay byte for byte. Files given with -f are edited in
 * place, each replaced atomically and only when all its SealedSecrets converted; stdin goes to stdout.
 * Works offline: no certificate, no key, no cluster.
 */
import { Option, type Command } from 'commander';
import { KsealError } from '../../src/errors.js';
import { openSealedFile } from '../../src/manifest/sealed-file.js';
import { CONVERT_TARGETS, convertEdit, type ConvertTarget } from '../../src/model/convert.js';
import { writeFileAtomic } from '../atomic-write.js';
import { readInput, type CliIo } from '../io.js';

interface ConvertFlags {
  to: ConvertTarget;
  file?: string[];
}

/** Registers the command. */
export function convertCommand(program: Command, io: CliIo): void {
  program
    .command('convert')
    .summary('move SealedSecret files between kseal.dev and bitnami.com')
    .description(
      'Rewrite apiVersion and the scope annotations of SealedSecrets for kseal (kseal.dev/v1alpha1, kseal.dev/scope) or Bitnami (bitnami.com/v1alpha1, sealedsecrets.bitnami.com/*-wide). Ciphertexts, comments and layout are kept; nothing is re-sealed.',
    )
    .addOption(new Option('--to <group>', 'target API group').choices(Object.keys(CONVERT_TARGETS)).makeOptionMandatory())
    .option('-f, --file <file...>', 'files to convert in place (default: stdin to stdout)')
    .addHelpText(
      'after',
      `
Examples:
  kseal convert --to kseal -f $(git grep -l 'apiVersion: bitnami.com/v1alpha1')
  kseal convert --to bitnami < sealed.yaml > bitnami.yaml`,
    )
    .action(async (flags: ConvertFlags) => {
      if (flags.file === undefined) {
        const { bytes, source } = await readInput(io, undefined);
        io.stdout(convertText(bytes.toString('utf8'), source, flags.to).text);
        return;
      }
      const files = flags.file;
      let failures = 0;
      for (const [i, file] of files.entries()) {
        const progress = `[${i + 1}/${files.length}] ${file}`;
        try {
          const { bytes } = await readInput(io, file);
          const { text, converted, current } = convertText(bytes.toString('utf8'), file, flags.to);
          if (converted > 0) await writeFileAtomic(io.cwd, file, text);
          io.stderr(`${progress}: ${converted} converted${current > 0 ? `, ${current} already ${flags.to}` : ''}\n`);
        } catch (e) {
          if (!(e instanceof KsealError)) throw e;
          failures++;
          io.stderr(`${progress}: not changed: ${e.format()}\n`);
        }
      }
      if (failures > 0) throw new KsealError('INVALID_FIELD', `${failures} of ${files.length} file${files.length === 1 ? '' : 's'} could not be converted and were left unchanged`);
    });
}

/** Converts every SealedSecret of one file's text; throws (nothing converted) when one cannot be. */
function convertText(text: string, source: string, to: ConvertTarget): { text: string; converted: number; current: number } {
  const file = openSealedFile(text, source);
  let converted = 0;
  let current = 0;
  for (const doc of file.documents) {
    if (doc.sealed === undefined) continue;
    let edit;
    try {
      edit = convertEdit(doc.sealed, to);
    } catch (e) {
      throw e instanceof KsealError ? e.at(doc.location) : e;
    }
    if (edit === undefined) {
      current++;
      continue;
    }
    doc.setHeader(edit);
    converted++;
  }
  if (converted + current === 0) throw new KsealError('NO_DOCUMENTS', 'no SealedSecret found', { file: source });
  return { text: converted === 0 ? text : file.render(), converted, current };
}
