/** `kseal raw`: seal one value from stdin or a file (never from argv) and print its base64 ciphertext. */
import type { Command } from 'commander';
import { KsealError } from '../../src/errors.js';
import { encodeBase64 } from '../../src/crypto/base64.js';
import { sealBytes } from '../../src/crypto/hybrid.js';
import { checkSecretNames, MAX_SECRET_BYTES } from '../../src/model/secret.js';
import { parseScope, scopeLabel } from '../../src/model/scope.js';
import { loadCertificate } from '../cert-source.js';
import { readInput, type CliIo } from '../io.js';
import { addCertSourceOptions, certSource, type CertSourceFlags } from '../options.js';
import { addConfigOption, certFromRule, ruleFor } from '../repo-config.js';

interface RawFlags extends CertSourceFlags {
  scope?: string;
  config?: string;
  forFile?: string;
  namespace?: string;
  name?: string;
  fromFile?: string;
}

/** Registers the command. */
export function rawCommand(program: Command, io: CliIo): void {
  const command = program
    .command('raw')
    .summary('seal one value')
    .description('Seal one value, read byte for byte from stdin or --from-file (a trailing newline is sealed too), and print the base64 ciphertext without a newline, for pasting into encryptedData.')
    .option('--scope <scope>', 'strict | namespace-wide | cluster-wide (default: from .kseal.yaml, else strict)')
    .option('-n, --namespace <namespace>', 'namespace the value is bound to (strict, namespace-wide)')
    .option('--name <name>', 'Secret name the value is bound to (strict)')
    .option('--from-file <file>', 'read the value from this file (default: stdin)')
    .option('--for-file <file>', 'choose the .kseal.yaml rule as if sealing into this file');
  addConfigOption(addCertSourceOptions(command));
  command.addHelpText(
    'after',
    `
Examples:
  printf '%s' "$PASSWORD" | kseal raw --cert cert.pem -n app --name db
  kseal raw --cert cert.pem --scope namespace-wide -n app --from-file ./token.txt`,
  );
  command.action(async (flags: RawFlags) => {
    const { rule } = await ruleFor(io, flags.config, flags.forFile, flags.namespace);
    const scope = flags.scope === undefined ? (rule?.scope ?? 'strict') : parseScope(flags.scope);
    const namespace = flags.namespace ?? rule?.namespace;
    checkSecretNames(flags.name, namespace, {});
    const label = scopeLabel(scope, namespace, flags.name);
    const { bytes, source } = await readInput(io, flags.fromFile);
    if (bytes.length > MAX_SECRET_BYTES) {
      throw new KsealError('SECRET_TOO_LARGE', `the value is ${bytes.length} bytes; a Secret holds at most ${MAX_SECRET_BYTES}`, { file: source });
    }
    const cert = await loadCertificate({ ...certSource(flags), cert: certFromRule(flags.cert, io, rule) }, io);
    io.stdout(encodeBase64(sealBytes(cert.publicKey, label, bytes)));
  });
}
