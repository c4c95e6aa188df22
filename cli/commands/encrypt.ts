/** `kseal encrypt`: seal every Secret of a manifest stream into a SealedSecret, or merge keys into one. */
import type { Command } from 'commander';
import { KsealError } from '../../src/errors.js';
import { readManifests } from '../../src/manifest/read.js';
import { writeManifests } from '../../src/manifest/write.js';
import { readSecret, type SecretInput } from '../../src/model/secret.js';
import { checkRecipientsAllowed, checkSealable, sealedSecretScope, sealSecret, type SealedSecret } from '../../src/model/sealed-secret.js';
import { sealForObject } from '../../src/model/object-recipients.js';
import { describeScope, scopeFromAnnotations } from '../../src/model/scope.js';
import { addRecipientOptions, escrowRecipientsOf, hasExtraRecipients, loadRecipients, type RecipientFlags } from '../recipient-source.js';
import { emit, warn } from '../emit.js';
import { readInput, type CliIo } from '../io.js';
import { writeFileAtomic } from '../atomic-write.js';
import { openOneSealedSecret } from '../sealed-file-edit.js';
import { addConfigOption, findRepoConfig, recipientFlagsFromRule, ruleFor } from '../repo-config.js';
import { matchRule } from '../../src/config/rule-match.js';
import { resolve } from 'node:path';
import { contextNamespace } from '../../net/kubeconfig.js';
import { addAliases } from '../kubeseal-compat.js';
import { addCertSourceOptions, addOutputOptions, apiVersionFlag, apiVersionOption, CERT_ALIASES, FORMAT_ALIAS, formatFlag, scopeFlag, scopeOption } from '../options.js';
import { KEY_ID_ANNOTATION, KSEAL_API_VERSION } from '../../src/wire.js';

interface EncryptFlags extends RecipientFlags {
  config?: string;
  file?: string;
  output?: string;
  write?: string;
  scope?: string;
  name?: string;
  namespace?: string;
  allowEmptyData?: boolean;
  mergeInto?: string;
  apiVersion?: string;
}

/** What stdin should hold, for the tty notice. */
const EXPECTING = 'a Secret manifest (YAML or JSON)';

/** Registers the command. */
export function encryptCommand(program: Command, io: CliIo): void {
  const name = io.programName ?? 'kseal';
  const command = program
    .command('encrypt')
    .alias('seal')
    .summary('seal Secrets into SealedSecrets')
    .description('Seal every Secret in the input (YAML or JSON, multiple documents, Lists) into a SealedSecret that is safe to commit.')
    .option('-f, --file <file>', 'input file (default: stdin)')
    .addOption(scopeOption('binding of the values (default: from annotations, else .kseal.yaml, else strict)'))
    .option('--name <name>', 'override the Secret name')
    .option('-n, --namespace <namespace>', "override (or set) the Secret namespace (default: the input's, else .kseal.yaml, else the kubeconfig context's)")
    .addOption(apiVersionOption())
    .option('--allow-empty-data', 'allow Secrets with no values')
    .option('--merge-into <file>', 'seal the input keys into this existing SealedSecret file, in place');
  addConfigOption(addOutputOptions(addCertSourceOptions(addRecipientOptions(command), false)));
  addAliases(command, [FORMAT_ALIAS, { flags: '--secret-file <file>', target: 'file', targetFlag: '-f' }, { flags: '--sealed-secret-file <file>', target: 'write', targetFlag: '-w' }, ...CERT_ALIASES]);
  command.addHelpText(
    'after',
    `
Examples:
  ${name} encrypt --cert cert.pem < secret.yaml > sealed.yaml
  kubectl create secret generic db -n app --from-file=password=./pw.txt --dry-run=client -o yaml | ${name} encrypt > db.sealed.yaml
  ${name} encrypt --cert cert.pem --merge-into db.sealed.yaml < new-key.yaml
  ${name} encrypt --cert prod.pem --cert dr.pem --recipient kseal1… < secret.yaml > sealed.yaml`,
  );
  command.action(async (flags: EncryptFlags, self: Command) => {
    if (flags.mergeInto !== undefined) checkMergeFlags(self);
    const { bytes, source } = await readInput(io, flags.file, EXPECTING);
    const objects = readManifests(bytes.toString('utf8'), source);
    if (objects.length === 0) throw new KsealError('NO_DOCUMENTS', 'the input holds no documents', { file: source, hint: 'pipe a Secret manifest in, or pass -f FILE' });
    if (flags.name !== undefined && objects.length > 1) {
      throw new KsealError('USAGE', `--name applies to one Secret, but the input holds ${objects.length}`, { file: source });
    }
    const secrets = objects.map(({ value, location }) => withOverrides(readSecret(value, location), flags));
    if (flags.mergeInto !== undefined) return merge(io, flags, secrets, flags.mergeInto);

    const flagScope = scopeFlag(flags.scope);
    const flagApiVersion = apiVersionFlag(flags.apiVersion);
    // The .kseal.yaml rule for the file being written (or read) fills in what no flag says.
    const path = flags.write ?? (flags.file === '-' ? undefined : flags.file);
    const config = await findRepoConfig(io, flags.config, path);
    const absolute = path === undefined ? undefined : resolve(io.cwd, path);
    const plans = secrets.map((input) => {
      const rule = config === undefined ? undefined : matchRule(config, absolute, input.namespace).rule;
      // As kubectl and kubeseal: a Secret with no namespace (here or in .kseal.yaml) goes to the kubeconfig context's.
      const namespace = input.namespace ?? rule?.namespace ?? contextNamespace({ kubeconfig: flags.kubeconfig, context: flags.context }, io.env, { cwd: io.cwd });
      const secret = namespace !== input.namespace ? { ...input, namespace } : input;
      const ruleFlags = recipientFlagsFromRule(flags, io, rule);
      const apiVersion = flagApiVersion ?? rule?.apiVersion;
      checkRecipientsAllowed(apiVersion ?? KSEAL_API_VERSION, hasExtraRecipients(ruleFlags), { file: source });
      const options = { scope: flagScope ?? scopeOf(secret) ?? rule?.scope ?? 'strict', apiVersion, allowEmptyData: flags.allowEmptyData };
      checkSealable(secret, options);
      return { secret, options, ruleFlags, rule: rule?.index ?? 0 };
    });
    const loaded = new Map<number, Awaited<ReturnType<typeof loadRecipients>>>();
    const sealed: SealedSecret[] = [];
    for (const { secret, options, ruleFlags, rule } of plans) {
      if (!loaded.has(rule)) loaded.set(rule, await loadRecipients(ruleFlags, io));
      const { primary, others } = loaded.get(rule) as Awaited<ReturnType<typeof loadRecipients>>;
      sealed.push(sealSecret(secret, primary, { ...options, recipients: others }));
    }
    for (const secret of secrets) for (const w of secret.warnings) warn(io, `${secret.location.file ?? ''}: document ${secret.location.document ?? '?'}: ${w}`);
    await emit(io, writeManifests(sealed, formatFlag(flags.output)), flags.write);
  });
}

/** --merge-into edits a file in place for the file's own name, namespace and scope: flags that say otherwise are a usage error. */
function checkMergeFlags(command: Command): void {
  const given = (key: string): boolean => command.getOptionValueSource(key) === 'cli';
  for (const [key, flag, why] of [
    ['output', '-o', 'the file keeps its own format'],
    ['write', '-w', 'the file named by --merge-into is the output'],
    ['name', '--name', "the values are sealed for the file's name"],
    ['namespace', '-n', "the values are sealed for the file's namespace"],
    ['apiVersion', '--api-version', 'the file keeps its apiVersion'],
  ] as const) {
    if (given(key)) throw new KsealError('USAGE', `${flag} does not go with --merge-into: ${why}`, { hint: `drop ${flag}` });
  }
}

function scopeOf(secret: SecretInput): ReturnType<typeof scopeFromAnnotations> {
  try {
    return scopeFromAnnotations(secret.annotations);
  } catch (e) {
    throw e instanceof KsealError ? e.at(secret.location) : e;
  }
}

function withOverrides(secret: SecretInput, flags: EncryptFlags): SecretInput {
  return { ...secret, name: flags.name ?? secret.name, namespace: flags.namespace ?? secret.namespace };
}

/** Seals the input's keys for the target file's own name, namespace and scope, and edits the file in place. */
async function merge(io: CliIo, flags: EncryptFlags, secrets: SecretInput[], file: string): Promise<void> {
  if (secrets.length !== 1) throw new KsealError('USAGE', `--merge-into takes one Secret, but the input holds ${secrets.length}`);
  const secret = secrets[0] as SecretInput;
  if (secret.data.size === 0) throw new KsealError('EMPTY_DATA', 'the Secret has no data or stringData to merge', secret.location);
  const { target, document, sealed } = await openOneSealedSecret(io, file, '--merge-into');
  const scope = sealedSecretScope(sealed);
  // Scope, name and namespace come from the target: values sealed any other way could not be opened there.
  const flagScope = scopeFlag(flags.scope);
  if (flagScope !== undefined && flagScope !== scope) {
    throw new KsealError('SCOPE_CONFLICT', `--scope ${flagScope} differs from the target's scope ${scope}`, { file, hint: 'drop --scope: merged values always take the target file\'s scope' });
  }
  // The input's own name and namespace are throwaway (kubectl create secret ... --dry-run): the target's count.
  const { metadata } = sealed;
  // The keys are sealed for every recipient already on the object; --cert after the first and
  // --recipient may only name those (adding a recipient needs the plaintext: kseal recipients add).
  const onObject = new Set((sealed.spec.recipients ?? []).map((r) => r.id));
  const { rule } = await ruleFor(io, flags.config, file, metadata.namespace);
  const fromRule = recipientFlagsFromRule(flags, io, rule);
  // From a rule only its first certificate: the object's other recipients are already on it.
  const certs = flags.cert === undefined ? fromRule.cert?.slice(0, 1) : flags.cert;
  const { primary, others } = await loadRecipients({ ...fromRule, ...(certs === undefined ? {} : { cert: certs }), recipient: [], recipientsFile: [] }, io);
  for (const named of [...others, ...(await escrowRecipientsOf(flags, io))]) {
    if (!onObject.has(named.keyId) && named.keyId !== metadata.annotations?.[KEY_ID_ANNOTATION]) {
      throw new KsealError('RECIPIENT_MISSING', `${named.kind === 'escrow' ? named.text : `the certificate with key id ${named.keyId.slice(0, 16)}`} is not a recipient of this object`, {
        file,
        hint: 'merging seals for the recipients already on the object; add a recipient with kseal recipients add --identity FILE',
      });
    }
  }
  if (onObject.has(primary.keyId)) {
    throw new KsealError('RECIPIENT_MISSING', `the first certificate (key id ${primary.keyId.slice(0, 16)}) belongs to a spec.recipients entry, not to spec.encryptedData`, {
      file,
      hint: "pass the certificate of the object's first cluster (its kseal.dev/key-id) first",
    });
  }
  const values = sealForObject(sealed, primary, secret.data, { file });
  document.setObjectValues(values, primary.keyId);
  await writeFileAtomic(io.cwd, file, target.render());
  const recipients = 1 + (sealed.spec.recipients?.length ?? 0);
  io.stderr(`kseal: merged ${secret.data.size} key${secret.data.size === 1 ? '' : 's'} into ${file} (${describeScope(scope, metadata.namespace, metadata.name)}${recipients > 1 ? `, ${recipients} recipients` : ''})\n`);
}
