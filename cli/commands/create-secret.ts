/**
 * `kseal create secret generic|tls|docker-registry NAME`: kubectl's `create secret` flags, but the
 * output is a SealedSecret, written directly: no plaintext Secret on disk and no `--dry-run -o yaml`
 * detour. Values come from files, env files, stdin or a hidden prompt; kubectl's `--from-literal` and
 * `--docker-password`, which put values on the command line, are refused with what to use instead.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { KsealError } from '../../src/errors.js';
import { encodeBase64 } from '../../src/crypto/base64.js';
import { writeManifests } from '../../src/manifest/write.js';
import { parseEnvFile } from '../../src/model/env-file.js';
import { invalidSecretKey } from '../../src/model/names.js';
import { checkRecipientsAllowed, checkSealable, sealSecret } from '../../src/model/sealed-secret.js';
import { readSecret } from '../../src/model/secret.js';
import { KSEAL_API_VERSION } from '../../src/wire.js';
import { emit } from '../emit.js';
import { contextNamespace } from '../../net/kubeconfig.js';
import { readInput, type CliIo } from '../io.js';
import { addCertSourceOptions, addOutputOptions, apiVersionFlag, formatFlag, scopeFlag } from '../options.js';
import { hasExtraRecipients, loadRecipients, type RecipientFlags } from '../recipient-source.js';
import { addConfigOption, recipientFlagsFromRule, ruleFor } from '../repo-config.js';
import { readSecretValue } from '../secret-value.js';

interface CreateFlags extends Omit<RecipientFlags, 'cert'> {
  namespace?: string;
  scope?: string;
  apiVersion?: string;
  output?: string;
  write?: string;
  config?: string;
  sealingCert?: string[];
  fromFile?: string[];
  fromEnvFile?: string[];
  fromLiteral?: string[];
  type?: string;
  // tls
  cert?: string;
  key?: string;
  // docker-registry
  dockerServer?: string;
  dockerUsername?: string;
  dockerEmail?: string;
  dockerPassword?: string;
  dockerPasswordFile?: string;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Registers `create secret generic|tls|docker-registry`. */
export function createSecretCommand(program: Command, io: CliIo): void {
  const create = program.command('create').summary('create a SealedSecret (kubectl create secret, sealed)').description('Create objects directly in sealed form.');
  const secret = create.command('secret').summary('create a SealedSecret from files').description('Create a SealedSecret the way kubectl create secret creates a Secret, without the plaintext Secret.');
  const generic = common(secret.command('generic').summary('from files, directories and env files').argument('<name>', 'Secret name'))
    .option('--from-file <[key=]source>', 'a file (key: its name, or the key given), or every file of a directory (repeatable)', collect)
    .option('--from-env-file <file>', 'KEY=VALUE lines, kubectl format (repeatable)', collect)
    .option('--type <type>', 'the Secret type', 'Opaque');
  generic.action(async (name: string, flags: CreateFlags) => {
    const data = await fileData(io, flags);
    await sealAndWrite(io, name, flags.type ?? 'Opaque', data, flags);
  });
  const tls = common(secret.command('tls').summary('from a certificate and key pair').argument('<name>', 'Secret name'))
    .requiredOption('--cert <file>', 'PEM certificate (chain) for tls.crt')
    .requiredOption('--key <file>', 'PEM private key for tls.key');
  tls.action(async (name: string, flags: CreateFlags) => {
    const cert = (await readInput(io, flags.cert)).bytes;
    const key = (await readInput(io, flags.key)).bytes;
    checkKeyPair(cert, key, flags);
    await sealAndWrite(io, name, 'kubernetes.io/tls', new Map([['tls.crt', cert], ['tls.key', key]]), flags);
  });
  const registry = common(secret.command('docker-registry').summary('registry credentials (.dockerconfigjson)').argument('<name>', 'Secret name'))
    .option('--docker-server <server>', 'registry server', 'https://index.docker.io/v1/')
    .option('--docker-username <name>', 'registry user name')
    .option('--docker-email <email>', 'registry email')
    .option('--docker-password-file <file>', 'read the password from this file (default: stdin, or a hidden prompt on a terminal)')
    .addOption(new Option('--docker-password <password>').hideHelp())
    .option('--from-file <[key=]source>', 'use an existing docker config file: --from-file=.dockerconfigjson=PATH', collect);
  registry.action(async (name: string, flags: CreateFlags) => {
    if (flags.dockerPassword !== undefined) {
      throw new KsealError('USAGE', '--docker-password would put the password on the command line (shell history, ps, CI logs)', { hint: 'pipe it on stdin, pass --docker-password-file FILE, or type it at the prompt' });
    }
    if (flags.fromFile !== undefined) {
      const data = await fileData(io, flags);
      if (!data.has('.dockerconfigjson')) throw new KsealError('MISSING_REQUIRED_KEY', 'docker-registry --from-file needs the key .dockerconfigjson', { hint: '--from-file=.dockerconfigjson=PATH' });
      return sealAndWrite(io, name, 'kubernetes.io/dockerconfigjson', data, flags);
    }
    if (flags.dockerUsername === undefined) throw new KsealError('USAGE', '--docker-username is required (or --from-file=.dockerconfigjson=PATH)');
    const password = (await readSecretValue(io, flags.dockerPasswordFile, 'the registry password')).toString('utf8').replace(/\r?\n$/, '');
    const server = flags.dockerServer ?? 'https://index.docker.io/v1/';
    const entry: Record<string, string> = { username: flags.dockerUsername, password };
    if (flags.dockerEmail !== undefined) entry.email = flags.dockerEmail;
    entry.auth = Buffer.from(`${flags.dockerUsername}:${password}`, 'utf8').toString('base64');
    const json = Buffer.from(JSON.stringify({ auths: { [server]: entry } }), 'utf8');
    await sealAndWrite(io, name, 'kubernetes.io/dockerconfigjson', new Map([['.dockerconfigjson', json]]), flags);
  });
  for (const command of [create, secret, generic, tls, registry]) command.exitOverride().configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) }).showHelpAfterError('(run with --help for usage)');
}

/** Options every `create secret` subcommand takes. */
function common(command: Command): Command {
  command
    .option('-n, --namespace <namespace>', "namespace (default: from .kseal.yaml, else the kubeconfig context's)")
    .option('--scope <scope>', 'strict | namespace-wide | cluster-wide (default: from .kseal.yaml, else strict)')
    .option('--api-version <version>', 'kseal.dev/v1alpha1 (default) or bitnami.com/v1alpha1')
    .option('--sealing-cert <path|url>', 'sealing certificate (env KSEAL_CERT; default: from .kseal.yaml, else the controller); repeat for more clusters', collect)
    .option('--recipient <kseal1…>', 'also seal for this escrow identity (repeatable)', collect)
    .option('--recipients-file <file>', 'also seal for every kseal1… line of this file (repeatable)', collect)
    .addOption(new Option('--from-literal <key=value>').hideHelp().argParser(collect));
  addConfigOption(addOutputOptions(addCertSourceOptions(command, false)));
  return command;
}

async function fileData(io: CliIo, flags: CreateFlags): Promise<Map<string, Buffer>> {
  if (flags.fromLiteral !== undefined) {
    throw new KsealError('USAGE', '--from-literal would put the value on the command line (shell history, ps, CI logs)', { hint: 'put it in a file (--from-file key=FILE) or an env file (--from-env-file), or use kseal set FILE KEY afterwards' });
  }
  const data = new Map<string, Buffer>();
  const put = (key: string, value: Buffer, source: string): void => {
    const why = invalidSecretKey(key);
    if (why) throw new KsealError('INVALID_KEY_NAME', `the key name is not valid: it ${why}`, { file: source, key, hint: 'name the key: --from-file KEY=PATH' });
    if (data.has(key)) throw new KsealError('USAGE', 'the key is given twice', { file: source, key });
    data.set(key, value);
  };
  for (const spec of flags.fromFile ?? []) {
    const eq = spec.indexOf('=');
    const [key, path] = eq < 0 ? [undefined, spec] : [spec.slice(0, eq), spec.slice(eq + 1)];
    const info = await stat(resolve(io.cwd, path)).catch(() => undefined);
    if (info?.isDirectory() === true) {
      if (key !== undefined) throw new KsealError('USAGE', 'a key cannot be given for a directory', { file: path });
      for (const name of (await readdir(resolve(io.cwd, path))).sort()) {
        const file = resolve(io.cwd, path, name);
        if ((await stat(file)).isFile()) put(name, (await readInput(io, file)).bytes, file);
      }
      continue;
    }
    const { bytes, source } = await readInput(io, path);
    put(key ?? basename(path), bytes, source);
  }
  for (const file of flags.fromEnvFile ?? []) {
    const { bytes, source } = await readInput(io, file);
    for (const [key, value] of parseEnvFile(bytes.toString('utf8'), source, io.env)) put(key, value, source);
  }
  return data;
}

function checkKeyPair(cert: Buffer, key: Buffer, flags: CreateFlags): void {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new KsealError('CERT_INVALID', 'the TLS certificate is not a PEM certificate', { file: flags.cert ?? '' });
  }
  let ok = false;
  try {
    ok = x509.checkPrivateKey(createPrivateKey(key));
  } catch {
    throw new KsealError('KEY_NOT_PEM', 'the TLS key is not a readable PEM private key', { file: flags.key ?? '' });
  }
  if (!ok) throw new KsealError('CERT_INVALID', 'the TLS private key does not match the certificate', { file: flags.key ?? '', hint: 'pass the key the certificate was issued for' });
}

/** Builds the Secret in memory, checks it as kubectl and the API server would, seals it and writes it. */
async function sealAndWrite(io: CliIo, name: string, type: string, data: ReadonlyMap<string, Buffer>, flags: CreateFlags): Promise<void> {
  const { rule } = await ruleFor(io, flags.config, flags.write, flags.namespace);
  // As kubectl create secret: -n, else the rule's, else the kubeconfig context's namespace.
  const namespace = flags.namespace ?? rule?.namespace ?? contextNamespace({ kubeconfig: flags.kubeconfig, context: flags.context }, io.env, { cwd: io.cwd });
  const values: Record<string, string> = {};
  for (const [k, v] of data) values[k] = encodeBase64(v);
  const location = { file: flags.write ?? '<stdout>' };
  const secret = readSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name, ...(namespace === undefined ? {} : { namespace }) }, type, data: values }, location);
  // tls's --cert and --key are the TLS pair (kubectl's flags); the sealing certificate is --sealing-cert.
  const { cert: _tlsCert, key: _tlsKey, sealingCert, ...rest } = flags;
  const recipientFlags = recipientFlagsFromRule<RecipientFlags>({ ...(rest as Omit<RecipientFlags, 'cert'>), ...(sealingCert === undefined ? {} : { cert: sealingCert }) }, io, rule);
  const apiVersion = apiVersionFlag(flags.apiVersion) ?? rule?.apiVersion;
  checkRecipientsAllowed(apiVersion ?? KSEAL_API_VERSION, hasExtraRecipients(recipientFlags), location);
  const options = { scope: scopeFlag(flags.scope) ?? rule?.scope ?? 'strict', apiVersion, allowEmptyData: true };
  checkSealable(secret, options);
  const { primary, others } = await loadRecipients(recipientFlags, io);
  const sealed = sealSecret(secret, primary, { ...options, recipients: others });
  await emit(io, writeManifests([sealed], formatFlag(flags.output)), flags.write);
}
