/** `kseal encrypt`: seal every Secret of a manifest stream into a SealedSecret, or merge keys into one. */
import type { Command } from 'commander';
import { KsealError } from '../../src/errors.js';
import type { SealingCertificate } from '../../src/crypto/certificate.js';
import { readManifests } from '../../src/manifest/read.js';
import { writeManifests } from '../../src/manifest/write.js';
import { readSecret, type SecretInput } from '../../src/model/secret.js';
import { checkSealable, sealedSecretScope, sealSecret, type SealedSecret } from '../../src/model/sealed-secret.js';
import { describeScope, scopeFromAnnotations } from '../../src/model/scope.js';
import { loadCertificate } from '../cert-source.js';
import { emit, warn } from '../emit.js';
import { readInput, type CliIo } from '../io.js';
import { addConfigOption, certFromRule, findRepoConfig, ruleRecipients } from '../repo-config.js';
import { matchRule } from '../../src/config/rule-match.js';
import { resolve } from 'node:path';
import { openOneSealedSecret, saveSealedFile, sealIntoDocument } from '../sealed-file-edit.js';
import { addCertSourceOptions, addOutputOptions, apiVersionFlag, certSource, formatFlag, scopeFlag, type CertSourceFlags } from '../options.js';

interface EncryptFlags extends CertSourceFlags {
  file?: string;
  output?: string;
  write?: string;
  scope?: string;
  name?: string;
  namespace?: string;
  allowEmptyData?: boolean;
  mergeInto?: string;
  apiVersion?: string;
  config?: string;
}

/** Registers the command. */
export function encryptCommand(program: Command, io: CliIo): void {
  const command = program
    .command('encrypt')
    .alias('seal')
    .summary('seal Secrets into SealedSecrets')
    .description('Seal every Secret in the input (YAML or JSON, multiple documents, Lists) into a SealedSecret that is safe to commit.')
    .option('-f, --file <file>', 'input file (default: stdin)')
    .option('--scope <scope>', 'strict | namespace-wide | cluster-wide (default: from annotations, else strict)')
    .option('--name <name>', 'override the Secret name')
    .option('-n, --namespace <namespace>', 'override (or set) the Secret namespace')
    .option('--api-version <version>', 'kseal.dev/v1alpha1 (default) or bitnami.com/v1alpha1')
    .option('--allow-empty-data', 'allow Secrets with no values')
    .option('--merge-into <file>', 'seal the input keys into this existing SealedSecret file, in place');
  addConfigOption(addOutputOptions(addCertSourceOptions(command)));
  command.addHelpText(
    'after',
    `
Examples:
  kseal encrypt --cert cert.pem < secret.yaml > sealed.yaml
  kubectl create secret generic db -n app --from-file=password=./pw.txt --dry-run=client -o yaml | kseal encrypt > db.sealed.yaml
  kseal encrypt --cert cert.pem --merge-into db.sealed.yaml < new-key.yaml`,
  );
  command.action(async (flags: EncryptFlags) => {
    const { bytes, source } = await readInput(io, flags.file);
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
      const secret = rule?.namespace !== undefined && input.namespace === undefined ? { ...input, namespace: rule.namespace } : input;
      const scope = flagScope ?? scopeOf(secret) ?? rule?.scope ?? 'strict';
      const options = { scope, apiVersion: flagApiVersion ?? rule?.apiVersion, allowEmptyData: flags.allowEmptyData };
      checkSealable(secret, options);
      const cert = certFromRule(flags.cert, io, rule);
      return { secret, options, cert, rule, primaryFromRule: cert !== undefined && cert !== flags.cert };
    });
    const certs = new Map<string | undefined, SealingCertificate>();
    for (const { cert } of plans) if (!certs.has(cert)) certs.set(cert, await loadCertificate({ ...certSource(flags), cert }, io));
    const sealed: SealedSecret[] = [];
    for (const { secret, options, cert, rule, primaryFromRule } of plans) {
      const recipients = await ruleRecipients(io, rule, primaryFromRule);
      sealed.push(sealSecret(secret, certs.get(cert) as SealingCertificate, recipients.length === 0 ? options : { ...options, recipients }));
    }
    for (const secret of secrets) for (const w of secret.warnings) warn(io, `${secret.location.file ?? ''}: document ${secret.location.document ?? '?'}: ${w}`);
    await emit(io, writeManifests(sealed, formatFlag(flags.output)), flags.write);
  });
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
  const opened = await openOneSealedSecret(io, file, '--merge-into');
  const { sealed } = opened;
  const scope = sealedSecretScope(sealed);
  // Scope, name and namespace come from the target: values sealed any other way could not be opened there.
  const flagScope = scopeFlag(flags.scope);
  if (flagScope !== undefined && flagScope !== scope) {
    throw new KsealError('SCOPE_CONFLICT', `--scope ${flagScope} differs from the target's scope ${scope}`, { file, hint: 'drop --scope: merged values always take the target file\'s scope' });
  }
  const { metadata } = sealed;
  if ((secret.name !== undefined && secret.name !== metadata.name) || (secret.namespace !== undefined && secret.namespace !== metadata.namespace)) {
    warn(io, `the input Secret is ${secret.namespace ?? '?'}/${secret.name ?? '?'}; its keys are sealed for the target ${describeScope(scope, metadata.namespace, metadata.name)}`);
  }
  await sealIntoDocument(io, flags, opened, secret.data);
  await saveSealedFile(io, opened);
  io.stderr(`kseal: merged ${secret.data.size} key${secret.data.size === 1 ? '' : 's'} into ${file} (${describeScope(scope, metadata.namespace, metadata.name)})\n`);
}
