/** `kseal validate`: ask the controller whether it can unseal every SealedSecret of the input (all documents, not only the first). */
import type { Command } from 'commander';
import { KsealError } from '../../src/errors.js';
import { readManifests } from '../../src/manifest/read.js';
import { readSealedSecret } from '../../src/model/sealed-secret.js';
import { verifySealed } from '../controller-api.js';
import { controllerClient } from '../controller-client.js';
import { readInput, type CliIo } from '../io.js';
import { addCertSourceOptions, certSource, type CertSourceFlags } from '../options.js';

interface ValidateFlags extends CertSourceFlags {
  file?: string[];
}

/** Registers the command. */
export function validateCommand(program: Command, io: CliIo): void {
  const command = program
    .command('validate')
    .alias('verify')
    .summary('check that the controller can unseal SealedSecrets')
    .description('Send every SealedSecret of the input to the controller, which answers whether it can unseal it (never the values). Documents of other kinds are skipped.')
    .option('-f, --file <file...>', 'files to check (default: stdin)');
  addCertSourceOptions(command, false);
  command.addHelpText(
    'after',
    `
Examples:
  kseal validate -f sealed/*.yaml
  kseal validate --controller-url http://localhost:8080 < sealed.yaml`,
  );
  command.action(async (flags: ValidateFlags) => {
    const client = await controllerClient(certSource(flags), io);
    let checked = 0;
    let failed = 0;
    for (const file of flags.file ?? [undefined]) {
      const { bytes, source } = await readInput(io, file);
      for (const { value, location } of readManifests(bytes.toString('utf8'), source)) {
        const where = `${source}: document ${location.document}${location.item === undefined ? '' : `: item ${location.item}`}`;
        const kind = typeof value === 'object' && value !== null ? (value as { kind?: unknown }).kind : undefined;
        if (kind !== 'SealedSecret') {
          io.stderr(`kseal: skipped ${where} (${typeof kind === 'string' ? kind : 'no kind'})\n`);
          continue;
        }
        checked++;
        try {
          const sealed = readSealedSecret(value, location);
          const name = `${sealed.metadata.namespace ?? ''}/${sealed.metadata.name}`;
          if (await verifySealed(client, sealed)) io.stdout(`ok      ${where}: ${name}\n`);
          else {
            failed++;
            io.stdout(`FAILED  ${where}: ${name}: the controller cannot unseal it\n`);
          }
        } catch (e) {
          if (!(e instanceof KsealError) || e.exitCode === 6) throw e;
          failed++;
          io.stdout(`FAILED  ${where}: ${e.message}\n`);
        }
      }
    }
    if (checked === 0) throw new KsealError('NO_DOCUMENTS', 'the input holds no SealedSecret', { hint: 'pass SealedSecret files with -f, or pipe one in' });
    if (failed > 0) {
      throw new KsealError('DECRYPT_FAILED', `${failed} of ${checked} SealedSecret${checked === 1 ? '' : 's'} cannot be unsealed by the controller (${client.description})`, {
        hint: 'they were sealed with another key or for another name/namespace/scope; seal them again with kseal encrypt',
      });
    }
    io.stderr(`kseal: all ${checked} SealedSecret${checked === 1 ? '' : 's'} can be unsealed\n`);
  });
}
