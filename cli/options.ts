/** Option groups several commands share, and their parsing into typed values. */
import { Option, type Command } from 'commander';
import { DEFAULT_CONTROLLER_NAMESPACE } from '../src/model/key-secret.js';
import { API_VERSIONS, type SealedApiVersion } from '../src/model/sealed-secret.js';
import { SCOPES, parseScope, type Scope } from '../src/model/scope.js';
import type { OutputFormat } from '../src/manifest/write.js';
import type { CertSourceOptions } from './cert-source.js';
import type { Alias } from './kubeseal-compat.js';

const DEFAULT_CONTROLLER_NAME = 'kseal-controller';

/** Output formats -o accepts (`yml` is kubeseal's and kubectl's other spelling of yaml). */
const OUTPUT_FORMATS = ['yaml', 'yml', 'json'] as const;

/** Options naming the certificate or the controller; environment variables bound with Option.env(). */
export function addCertSourceOptions(command: Command, withCert = true): Command {
  if (withCert) command.addOption(new Option('--cert <path|url>', 'sealing certificate: a file, file:// or http(s) URL, for offline sealing').env('KSEAL_CERT'));
  return command
    .addOption(new Option('--controller-url <url>', 'reach the controller directly at this URL').env('KSEAL_CONTROLLER_URL'))
    .addOption(new Option('--controller-namespace <ns>', 'namespace of the controller service').env('SEALED_SECRETS_CONTROLLER_NAMESPACE').default(DEFAULT_CONTROLLER_NAMESPACE))
    .addOption(new Option('--controller-name <name>', 'name of the controller service').env('SEALED_SECRETS_CONTROLLER_NAME').default(DEFAULT_CONTROLLER_NAME))
    .addOption(new Option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)'))
    .addOption(new Option('--context <name>', 'kubeconfig context (default: its current context)'));
}

/** kubeseal's second name for the certificate variable (its flag name is the same as kseal's). */
export const CERT_ALIASES: readonly Alias[] = [{ flags: '--sealed-secrets-cert <path|url>', target: 'cert', targetFlag: '--cert', env: 'SEALED_SECRETS_CERT', convert: (v) => [v] }];

/** kubeseal's `--format` for -o. */
export const FORMAT_ALIAS: Alias = { flags: '--format <format>', target: 'output', targetFlag: '-o', choices: OUTPUT_FORMATS };

/** Output format and file. */
export function addOutputOptions(command: Command): Command {
  return command
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('yaml'))
    .option('-w, --write <file>', 'write to this file (atomically, only on success) instead of stdout');
}

/** --scope with its choices (so a bad value is a usage error, exit 2, like every other flag). */
export function scopeOption(description: string, defaultValue?: string): Option {
  const option = new Option('--scope <scope>', description).choices(SCOPES);
  return defaultValue === undefined ? option : option.default(defaultValue);
}

/** --api-version with its choices. */
export function apiVersionOption(): Option {
  return new Option('--api-version <version>', `apiVersion of the SealedSecrets written (default: .kseal.yaml, else ${API_VERSIONS[0]})`).choices(API_VERSIONS);
}

export interface CertSourceFlags {
  cert?: string;
  controllerUrl?: string;
  controllerNamespace: string;
  controllerName: string;
  kubeconfig?: string;
  context?: string;
}

/** Converts parsed flags into cert-source options. */
export function certSource(flags: CertSourceFlags): CertSourceOptions {
  return {
    cert: flags.cert,
    controllerUrl: flags.controllerUrl,
    controllerNamespace: flags.controllerNamespace,
    controllerName: flags.controllerName,
    kubeconfig: flags.kubeconfig,
    context: flags.context,
  };
}

/** Parses an optional --scope flag. */
export function scopeFlag(value: string | undefined): Scope | undefined {
  return value === undefined ? undefined : parseScope(value);
}

/** Parses --api-version (already checked by its choices). */
export function apiVersionFlag(value: string | undefined): SealedApiVersion | undefined {
  return value === undefined ? undefined : (value as SealedApiVersion);
}

/** Parses -o. */
export function formatFlag(value: string | undefined): OutputFormat {
  return value === 'json' ? 'json' : 'yaml';
}
