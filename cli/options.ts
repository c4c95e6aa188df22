/** Option groups several commands share, and their parsing into typed values. */
import { Option, type Command } from 'commander';
import { KsealError } from '../src/errors.js';
import { DEFAULT_CONTROLLER_NAMESPACE } from '../src/model/key-secret.js';
import { API_VERSIONS, type SealedApiVersion } from '../src/model/sealed-secret.js';
import { parseScope, type Scope } from '../src/model/scope.js';
import type { OutputFormat } from '../src/manifest/write.js';
import type { CertSourceOptions } from './cert-source.js';

const DEFAULT_CONTROLLER_NAME = 'kseal-controller';

/** Options naming the certificate or the controller. */
export function addCertSourceOptions(command: Command, withCert = true): Command {
  if (withCert) command.option('--cert <path|url>', 'sealing certificate file or URL, for offline sealing (env KSEAL_CERT)');
  return command
    .option('--controller-url <url>', 'reach the controller directly at this URL (env KSEAL_CONTROLLER_URL)')
    .option('--controller-namespace <ns>', 'namespace of the controller service', DEFAULT_CONTROLLER_NAMESPACE)
    .option('--controller-name <name>', 'name of the controller service', DEFAULT_CONTROLLER_NAME)
    .option('--kubeconfig <path>', 'kubeconfig file (env KUBECONFIG)')
    .option('--context <name>', 'kubeconfig context');
}

/** Output format and file. */
export function addOutputOptions(command: Command): Command {
  return command
    .addOption(new Option('-o, --output <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .option('-w, --write <file>', 'write to this file (atomically, only on success) instead of stdout');
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

/** Parses --api-version. */
export function apiVersionFlag(value: string | undefined): SealedApiVersion | undefined {
  if (value === undefined) return undefined;
  if ((API_VERSIONS as readonly string[]).includes(value)) return value as SealedApiVersion;
  throw new KsealError('UNSUPPORTED_API_VERSION', `--api-version ${JSON.stringify(value)} is not supported`, { hint: `use ${API_VERSIONS.join(' or ')}` });
}

/** Parses -o. */
export function formatFlag(value: string | undefined): OutputFormat {
  return value === 'json' ? 'json' : 'yaml';
}
