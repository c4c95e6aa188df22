/** `kseal raw`: seal one value from stdin or a file (never from argv) and print its base64 ciphertext. */
import type { Command } from 'commander';
import { KsealError } from '../../src/errors.js';
import { sealForRecipients } from '../../src/model/recipients.js';
import { checkSecretNames, MAX_SECRET_BYTES } from '../../src/model/secret.js';
import { parseScope, scopeLabel, type Scope } from '../../src/model/scope.js';
import { contextNamespace } from '../../net/kubeconfig.js';
import { warn } from '../emit.js';
import { readInput, type CliIo } from '../io.js';
import { addAliases } from '../kubeseal-compat.js';
import { addCertSourceOptions, CERT_ALIASES, scopeOption } from '../options.js';
import { addRecipientOptions, loadRecipients, type RecipientFlags } from '../recipient-source.js';
import { addConfigOption, recipientFlagsFromRule, ruleFor } from '../repo-config.js';

interface RawFlags extends RecipientFlags {
  scope?: string;
  config?: string;
  forFile?: string;
  namespace?: string;
  name?: string;
  fromFile?: string;
  allowEmptyData?: boolean;
}

/** Registers the command. */
export function rawCommand(program: Command, io: CliIo): void {
  const name = io.programName ?? 'kseal';
  const command = program
    .command('raw')
    .summary('seal one value')
    .description('Seal one value, read byte for byte from stdin or --from-file (a trailing newline is sealed too), and print the base64 ciphertext without a newline, for pasting into encryptedData.')
    .addOption(scopeOption('binding of the value (default: from .kseal.yaml, else strict)'))
    .option('-n, --namespace <namespace>', "namespace the value is bound to (strict, namespace-wide; default: .kseal.yaml, else the kubeconfig context's)")
    .option('--name <name>', 'Secret name the value is bound to (strict)')
    .option('--from-file <file>', 'read the value from this file (default: stdin)')
    .option('--for-file <file>', 'choose the .kseal.yaml rule as if sealing into this file')
    .option('--allow-empty-data', 'seal an empty value without a warning');
  addConfigOption(addCertSourceOptions(addRecipientOptions(command), false));
  addAliases(command, CERT_ALIASES, '--raw');
  command.addHelpText(
    'after',
    `
Examples:
  printf '%s' "$PASSWORD" | ${name} raw --cert cert.pem -n app --name db
  ${name} raw --cert cert.pem --scope namespace-wide -n app --from-file ./token.txt
  ${name} raw --cert prod.pem --cert dr.pem --recipient kseal1… -n app --name db --from-file pw.txt

With several recipients the output is one line per recipient, "encryptedData: VALUE" for the first
certificate, then "ID: VALUE" for each further one (its spec.recipients id).`,
  );
  command.action(async (flags: RawFlags) => {
    const { rule } = await ruleFor(io, flags.config, flags.forFile, flags.namespace);
    const scope = flags.scope === undefined ? (rule?.scope ?? 'strict') : parseScope(flags.scope);
    const namespace = flags.namespace ?? rule?.namespace ?? (scope === 'cluster-wide' ? undefined : contextNamespace({ kubeconfig: flags.kubeconfig, context: flags.context }, io.env, { cwd: io.cwd }));
    checkSecretNames(flags.name, namespace, {});
    const label = labelFor(scope, namespace, flags.name);
    const { bytes, source } = await readInput(io, flags.fromFile, 'the value to seal');
    if (bytes.length > MAX_SECRET_BYTES) {
      throw new KsealError('SECRET_TOO_LARGE', `the value is ${bytes.length} bytes; a Secret holds at most ${MAX_SECRET_BYTES}`, { file: source });
    }
    if (bytes.length === 0 && flags.allowEmptyData !== true) warn(io, `${source} is empty: sealing an empty value (pass --allow-empty-data if that is what you want)`);
    const { primary, others } = await loadRecipients(recipientFlagsFromRule(flags, io, rule), io);
    const sealed = sealForRecipients(primary, others, label, new Map([['value', bytes]]));
    if (others.length === 0) return io.stdout(sealed.primary.value ?? '');
    io.stdout(`encryptedData: ${sealed.primary.value ?? ''}\n${sealed.others.map((o) => `${o.recipient.keyId}: ${o.encryptedData.value ?? ''}\n`).join('')}`);
  });
}

/** The label, with hints that speak of raw's flags rather than of manifest fields. */
function labelFor(scope: Scope, namespace: string | undefined, name: string | undefined): Buffer {
  try {
    return scopeLabel(scope, namespace, name);
  } catch (e) {
    if (e instanceof KsealError && e.code === 'MISSING_NAMESPACE') throw new KsealError(e.code, e.message, { hint: 'pass -n NAMESPACE (or set a namespace on the kubeconfig context), or choose --scope cluster-wide' });
    if (e instanceof KsealError && e.code === 'MISSING_NAME') throw new KsealError(e.code, e.message, { hint: 'pass --name NAME (the Secret the value goes into), or choose --scope namespace-wide' });
    throw e;
  }
}
