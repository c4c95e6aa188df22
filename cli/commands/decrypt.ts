/**
 * `kseal decrypt`: recovery unseal for disaster recovery. Opens SealedSecrets with private keys from
 * files (PEM, a key Secret, or a List of them as backed up with kubectl) and prints the Secrets the
 * controller would produce. This prints plaintext (base64 in `data`): it is meant for recovery.
 */
import type { Command } from 'commander';
import { KsealError } from '../../src/errors.js';
import type { PrivateKeyEntry } from '../../src/crypto/private-key.js';
import { readManifests } from '../../src/manifest/read.js';
import { writeManifests } from '../../src/manifest/write.js';
import { readPrivateKeys } from '../../src/model/key-secret.js';
import { readSealedSecret, secretFromTemplate } from '../../src/model/sealed-secret.js';
import { openObject } from '../../src/model/object-recipients.js';
import { loadIdentities } from '../recipient-source.js';
import { emit } from '../emit.js';
import { readInput, type CliIo } from '../io.js';
import { addAliases } from '../kubeseal-compat.js';
import { addOutputOptions, FORMAT_ALIAS, formatFlag } from '../options.js';

interface DecryptFlags {
  key?: string[];
  identity?: string[];
  file?: string;
  output?: string;
  write?: string;
}

/** Registers the command. */
export function decryptCommand(program: Command, io: CliIo): void {
  const command = program
    .command('decrypt')
    .alias('recovery-unseal')
    .summary('unseal with private keys or escrow identities (disaster recovery)')
    .description('Unseal SealedSecrets offline with backed-up cluster private keys or escrow identities and print the Secrets the controller would create. Says on stderr which recipient opened each.')
    .option('-k, --key <file...>', 'private keys: PEM (PKCS#1/PKCS#8), a kubernetes.io/tls Secret, or a List of them')
    .option('-i, --identity <file...>', 'escrow identity files (KSEAL-SECRET-KEY-1…, from kseal identity new)')
    .option('-f, --file <file>', 'SealedSecrets to open (default: stdin)');
  addOutputOptions(command);
  addAliases(
    command,
    [
      { flags: '--recovery-private-key <files>', target: 'key', targetFlag: '-k (comma-separated)', convert: (v) => v.split(',').filter((f) => f !== '') },
      { flags: '--secret-file <file>', target: 'file', targetFlag: '-f' },
      FORMAT_ALIAS,
      { flags: '--sealed-secret-file <file>', target: 'write', targetFlag: '-w' },
    ],
    '--recovery-unseal',
  );
  command.addHelpText(
    'after',
    `
Examples:
  kubectl get secret -n kseal-system -l kseal.dev/sealing-key -o yaml > keys-backup.yaml
  kseal decrypt --key keys-backup.yaml < sealed.yaml
  kseal decrypt --identity ~/.kseal/escrow.txt -f sealed.yaml`,
  );
  command.action(async (flags: DecryptFlags) => {
    if ((flags.key ?? []).length === 0 && (flags.identity ?? []).length === 0) {
      throw new KsealError('USAGE', 'pass the keys to open with: --key FILE (cluster private keys) or --identity FILE (escrow identities)');
    }
    const identities = await loadIdentities(flags.identity, io);
    const keys: PrivateKeyEntry[] = [];
    for (const file of flags.key ?? []) {
      const { bytes, source } = await readInput(io, file, 'private keys');
      keys.push(...readPrivateKeys(bytes.toString('utf8'), source));
    }
    const { bytes, source } = await readInput(io, flags.file, 'SealedSecret manifests (YAML or JSON)');
    const objects = readManifests(bytes.toString('utf8'), source);
    if (objects.length === 0) throw new KsealError('NO_DOCUMENTS', 'the input holds no documents', { file: source });
    const secrets = objects.map(({ value, location }) => {
      const sealed = readSealedSecret(value, location);
      try {
        const opened = openObject(sealed, { identities, keys }, location);
        const by = opened.kind === 'escrow' ? `escrow identity ${identities.find((i) => i.keyId === opened.keyId)?.recipient ?? opened.keyId}` : `cluster key ${opened.keyId.slice(0, 16)}`;
        const from = opened.recipient === 'encryptedData' ? 'spec.encryptedData' : `spec.recipients ${opened.recipient.slice(0, 16)}`;
        io.stderr(`kseal: ${source}: document ${location.document}: ${sealed.metadata.namespace ?? ''}/${sealed.metadata.name} opened with ${by} (${opened.source}) from ${from}\n`);
        return secretFromTemplate(sealed, opened.data, location);
      } catch (e) {
        if (e instanceof KsealError && e.code === 'DECRYPT_FAILED' && identities.length === 0) {
          const tried = keys.map((k) => `${k.keyId.slice(0, 12)} (${k.source})`).join(', ');
          throw new KsealError('DECRYPT_FAILED', `no key could decrypt it; tried ${keys.length}: ${tried}`, {
            ...location,
            ...(e.key === undefined ? {} : { key: e.key }),
            hint: 'pass the key it was sealed with (--key), or check that it was sealed for this name, namespace and scope',
          });
        }
        throw e;
      }
    });
    await emit(io, writeManifests(secrets, formatFlag(flags.output)), flags.write, 0o600);
  });
}
