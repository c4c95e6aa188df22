/** `kseal encrypt`: seal every Secret of a manifest stream into a SealedSecret, or merge keys into one. */
import type { Command } from 'commander';
import { isKsealError, KsealError } from '../../src/errors.js';
import { availableParallelism } from 'node:os';
import { readManifests, streamManifests } from '../../src/manifest/read.js';
import { joinManifests } from '../../src/manifest/write.js';
import { readSecret, type SecretInput } from '../../src/model/secret.js';
import { checkRecipientsAllowed, checkSealable, sealedSecretScope } from '../../src/model/sealed-secret.js';
import { sealForObject } from '../../src/model/object-recipients.js';
import { describeScope, scopeFromAnnotations } from '../../src/model/scope.js';
import { addRecipientOptions, escrowRecipientsOf, hasExtraRecipients, loadRecipients, type RecipientFlags } from '../recipient-source.js';
import { emit, warn } from '../emit.js';
import { readInput, type CliIo } from '../io.js';
import { writeFileAtomic } from '../atomic-write.js';
import { sealToText, type JobOptions, type RecipientSet } from '../seal-jobs.js';
import { MIN_VALUES_FOR_WORKERS, sealStream, sealWorkerCount, sealWorkerScript, type ReadySecret } from '../seal-pool.js';
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
  jobs?: string;
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
    .option('--merge-into <file>', 'seal the input keys into this existing SealedSecret file, in place')
    .option('-j, --jobs <n>', `threads that seal: a number (1: the main thread only) or auto (one worker per core once the input holds ${MIN_VALUES_FOR_WORKERS} values)`, 'auto');
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
    const jobs = jobsFlag(flags.jobs);
    const { bytes, source } = await readInput(io, flags.file, EXPECTING);
    const text = bytes.toString('utf8');
    const format = formatFlag(flags.output);
    // One lookup of each rule's recipients for both paths below: a certificate fetched (or refused)
    // while streaming is not fetched again by the one-thread path.
    const recipientsOf = recipientSets(io);
    // Bulk input: sealed across worker threads while it is parsed (cli/seal-pool.ts). Any failure
    // there (a bad document, a bad certificate) falls through to the one-thread path below, which
    // reads the input again and reports exactly what it always reports.
    if (flags.mergeInto === undefined && flags.name === undefined && (jobs !== 'auto' || text.length >= MIN_BYTES_FOR_STREAM)) {
      const workers = sealWorkerCount(jobs, availableParallelism());
      if (workers > 0) {
        const inputs: SecretInput[] = [];
        const debug = io.env.KSEAL_DEBUG === '1';
        const streamed = await sealStream(readySecrets(io, flags, text, source, inputs, recipientsOf), { format, workers, minValues: jobs === 'auto' ? MIN_VALUES_FOR_WORKERS : 0, script: sealWorkerScript() }).catch((e: unknown) => {
          if (debug) io.stderr(`kseal: debug: sealing while parsing stopped (${isKsealError(e) ? e.code : e instanceof Error ? e.name : 'error'}); sealing again on the main thread\n`);
          return undefined;
        });
        if (streamed !== undefined && streamed.texts.length > 0) {
          if (debug) io.stderr(`kseal: debug: sealed ${streamed.texts.length} Secrets with ${streamed.workers} worker threads\n`);
          warnAll(io, inputs);
          await emit(io, joinManifests(streamed.texts, format), flags.write);
          return;
        }
      }
    }

    const objects = readManifests(text, source);
    if (objects.length === 0) throw noDocuments(source);
    if (flags.name !== undefined && objects.length > 1) {
      throw new KsealError('USAGE', `--name applies to one Secret, but the input holds ${objects.length}`, { file: source });
    }
    const secrets = objects.map(({ value, location }) => withOverrides(readSecret(value, location), flags));
    if (flags.mergeInto !== undefined) return merge(io, flags, secrets, flags.mergeInto);

    const plans = secrets.map(await planner(io, flags, source));
    const texts: string[] = [];
    for (const plan of plans) texts.push(sealToText(plan.secret, plan.options, (await recipientsOf(plan)).set, format));
    warnAll(io, secrets);
    await emit(io, joinManifests(texts, format), flags.write);
  });
}

/** Inputs shorter than this cannot hold MIN_VALUES_FOR_WORKERS values: they skip the streaming path. */
const MIN_BYTES_FOR_STREAM = 2048;

function noDocuments(source: string): KsealError {
  return new KsealError('NO_DOCUMENTS', 'the input holds no documents', { file: source, hint: 'pipe a Secret manifest in, or pass -f FILE' });
}

function jobsFlag(value: string | undefined): number | 'auto' {
  if (value === undefined || value === 'auto') return 'auto';
  const jobs = Number(value);
  if (!(Number.isInteger(jobs) && jobs >= 1)) throw new KsealError('USAGE', '--jobs takes a whole number of threads (1 or more) or auto', { hint: 'pass --jobs 1 to seal on the main thread only' });
  return jobs;
}

function warnAll(io: CliIo, secrets: readonly SecretInput[]): void {
  for (const secret of secrets) for (const w of secret.warnings) warn(io, `${secret.location.file ?? ''}: document ${secret.location.document ?? '?'}: ${w}`);
}

/** A checked Secret with everything its seal needs but the recipients: the options, and the rule whose recipients it takes. */
interface SealPlan {
  readonly secret: SecretInput;
  readonly options: JobOptions;
  readonly ruleFlags: RecipientFlags;
  readonly rule: number;
}

/**
 * The per-Secret planning of encrypt: the .kseal.yaml rule for the output (or input) file fills in
 * what no flag says, the namespace defaults to the kubeconfig context's, and every check sealing
 * makes is made, so a bad Secret is refused before anything is sealed.
 */
async function planner(io: CliIo, flags: EncryptFlags, source: string): Promise<(input: SecretInput) => SealPlan> {
  const flagScope = scopeFlag(flags.scope);
  const flagApiVersion = apiVersionFlag(flags.apiVersion);
  const path = flags.write ?? (flags.file === '-' ? undefined : flags.file);
  const config = await findRepoConfig(io, flags.config, path);
  const absolute = path === undefined ? undefined : resolve(io.cwd, path);
  return (input) => {
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
  };
}

/**
 * The recipients of each plan's rule, loaded once per rule, in the order plans first need them. A
 * failed load is kept too, so a second path asking again gets the same error without a second fetch.
 */
function recipientSets(io: CliIo): (plan: SealPlan) => Promise<{ id: number; set: RecipientSet }> {
  const loaded = new Map<number, Promise<{ id: number; set: RecipientSet }>>();
  return (plan) => {
    let entry = loaded.get(plan.rule);
    if (entry === undefined) {
      entry = loadRecipients(plan.ruleFlags, io).then((set) => ({ id: plan.rule, set }));
      loaded.set(plan.rule, entry);
    }
    return entry;
  };
}

/** The checked Secrets of the input for sealStream, read one document at a time; `inputs` collects them for their warnings. */
async function* readySecrets(
  io: CliIo,
  flags: EncryptFlags,
  text: string,
  source: string,
  inputs: SecretInput[],
  recipientsOf: (plan: SealPlan) => Promise<{ id: number; set: RecipientSet }>,
): AsyncGenerator<ReadySecret, void, undefined> {
  const plan = await planner(io, flags, source);
  for (const { value, location } of streamManifests(text, source)) {
    const input = withOverrides(readSecret(value, location), flags);
    inputs.push(input);
    const p = plan(input);
    const { id, set } = await recipientsOf(p);
    yield { secret: p.secret, options: p.options, recipients: id, set };
  }
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
