/** `kseal cert`: print the controller's sealing certificate, so it can be committed and used offline. */
import type { Command } from 'commander';
import { loadCertificate } from '../cert-source.js';
import { emit } from '../emit.js';
import { addAliases } from '../kubeseal-compat.js';
import type { CliIo } from '../io.js';
import { addCertSourceOptions, certSource, type CertSourceFlags } from '../options.js';

interface CertFlags extends CertSourceFlags {
  write?: string;
}

/** Registers the command. */
export function certCommand(program: Command, io: CliIo): void {
  const command = program
    .command('cert')
    .summary("print the controller's certificate")
    .description("Fetch the controller's current sealing certificate (directly, or through the Kubernetes API service proxy), check it, and print it as PEM.")
    .option('-w, --write <file>', 'write to this file instead of stdout');
  addCertSourceOptions(command, false);
  addAliases(command, [], '--fetch-cert');
  command.addHelpText(
    'after',
    `
Examples:
  kseal cert > cert.pem            # then: kseal encrypt --cert cert.pem
  kseal cert --controller-url http://localhost:8080`,
  );
  command.action(async (flags: CertFlags) => {
    const cert = await loadCertificate({ ...certSource(flags), cert: undefined }, io);
    await emit(io, cert.pem, flags.write);
  });
}
