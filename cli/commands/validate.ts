/**
 * `kseal validate`: ask the controller whether it can unseal every SealedSecret of the input (all
 * documents, not only the first). A plaintext Secret in the input is a failure (that is what running
 * it in CI is for) unless --allow-plaintext-secrets; other kinds are skipped. Requests go out a few
 * at a time (--concurrency), waiting when the controller answers 429 with Retry-After.
 */
import { Option, type Command } from 'commander';
import { KsealError } from '../../src/errors.js';
import { readManifests } from '../../src/manifest/read.js';
import { readSealedSecret } from '../../src/model/sealed-secret.js';
import { verifySealed } from '../controller-api.js';
import { controllerClient } from '../controller-client.js';
import { readInput, type CliIo } from '../io.js';
import { addAliases } from '../kubeseal-compat.js';
import { count, jsonErrors, mapLimit, ResultLog, where, type ObjectResult } from '../object-results.js';
import { addCertSourceOptions, certSource, type CertSourceFlags } from '../options.js';

interface ValidateFlags extends CertSourceFlags {
  file?: string[];
  allowPlaintextSecrets?: boolean;
  output: 'text' | 'json';
  concurrency: number;
}

/** --concurrency: requests in flight at a time. */
export function concurrencyOption(): Option {
  return new Option('--concurrency <n>', 'requests to the controller in flight at a time')
    .argParser((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 64) throw new KsealError('USAGE', `--concurrency must be a whole number from 1 to 64, not ${JSON.stringify(v)}`);
      return n;
    })
    .default(4);
}

/** Registers the command. */
export function validateCommand(program: Command, io: CliIo): void {
  const name = io.programName ?? 'kseal';
  const command = program
    .command('validate')
    .alias('verify')
    .summary('check that the controller can unseal SealedSecrets')
    .description('Send every SealedSecret of the input to the controller, which answers whether it can unseal it (never the values). A plaintext Secret is a failure; documents of other kinds are skipped.')
    .option('-f, --file <file...>', 'files to check (default: stdin)')
    .option('--allow-plaintext-secrets', 'let plaintext Secrets in the input pass (skipped, not failed)')
    .addOption(new Option('-o, --output <format>', 'results as text lines or one JSON document').choices(['text', 'json']).default('text'))
    .addOption(concurrencyOption());
  addCertSourceOptions(command, false);
  addAliases(command, [{ flags: '--secret-file <file>', target: 'file', targetFlag: '-f', convert: (v) => [v] }], '--validate');
  command.addHelpText(
    'after',
    `
Examples:
  ${name} validate -f sealed/*.yaml
  ${name} validate -o json -f $(git ls-files '*.yaml') | jq '.results[] | select(.outcome == "failed")'`,
  );
  command.action(async (flags: ValidateFlags, self: Command) => {
    const client = await controllerClient(certSource(flags), io);
    const json = flags.output === 'json';
    const log = new ResultLog(io, {
      json: jsonErrors(self),
      quiet: json,
      text: (r) =>
        r.outcome === 'ok'
          ? { stream: 'stdout', line: `ok      ${where(r)}: ${r.namespace ?? ''}/${r.name ?? ''}` }
          : r.outcome === 'failed'
            ? { stream: 'stdout', line: `FAILED  ${where(r)}: ${r.name === undefined ? '' : `${r.namespace ?? ''}/${r.name}: `}${r.message ?? ''}` }
            : { stream: 'stderr', line: `kseal: skipped ${where(r)} (${r.kind ?? 'no kind'})` },
    });
    for (const file of flags.file ?? [undefined]) {
      const { bytes, source } = await readInput(io, file, 'SealedSecret manifests (YAML or JSON)');
      const docs = readManifests(bytes.toString('utf8'), source);
      const put = log.ordered();
      await mapLimit(docs, flags.concurrency, async ({ value, location }, index) => {
        const kind = typeof value === 'object' && value !== null ? (value as { kind?: unknown }).kind : undefined;
        const meta = (typeof value === 'object' && value !== null ? (value as { metadata?: { name?: unknown; namespace?: unknown } }).metadata : undefined) ?? {};
        const base: Omit<ObjectResult, 'outcome'> = {
          file: source,
          document: location.document,
          item: location.item,
          kind: typeof kind === 'string' ? kind : undefined,
          ...(typeof meta.name === 'string' ? { name: meta.name } : {}),
          ...(typeof meta.namespace === 'string' ? { namespace: meta.namespace } : {}),
        };
        if (kind === 'Secret' && flags.allowPlaintextSecrets !== true) {
          return put(index, { ...base, outcome: 'failed', message: 'a plaintext Secret: seal it with kseal encrypt (or pass --allow-plaintext-secrets)' });
        }
        if (kind !== 'SealedSecret') return put(index, { ...base, outcome: 'skipped' });
        try {
          const sealed = readSealedSecret(value, location);
          const ok = await verifySealed(client, sealed);
          put(index, { ...base, outcome: ok ? 'ok' : 'failed', ...(ok ? {} : { message: 'the controller cannot unseal it' }) });
        } catch (e) {
          if (!(e instanceof KsealError) || e.exitCode === 6) throw e;
          put(index, { ...base, outcome: 'failed', message: e.message });
        }
      });
    }
    const ok = log.tally('ok');
    const failed = log.tally('failed');
    const skipped = log.tally('skipped');
    if (json) io.stdout(`${JSON.stringify({ controller: client.description, summary: { ok, failed, skipped }, results: log.results }, null, 2)}\n`);
    if (ok + failed === 0) throw new KsealError('NO_DOCUMENTS', 'the input holds no SealedSecret', { hint: 'pass SealedSecret files with -f, or pipe one in' });
    if (failed > 0) {
      throw new KsealError('DECRYPT_FAILED', `${failed} of ${count(ok + failed, 'object')} failed validation against ${client.description}`, {
        hint: 'a SealedSecret that fails was sealed with another key or for another name/namespace/scope: seal it again with kseal encrypt',
      });
    }
    if (!json) io.stderr(`kseal: ${ok === 1 ? 'the SealedSecret' : `all ${count(ok, 'SealedSecret')}`} can be unsealed${skipped > 0 ? ` (${count(skipped, 'other document')} skipped)` : ''}\n`);
  });
}
