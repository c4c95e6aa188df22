/**
 * `kseal keygen`: a sealing key pair for offline use or to bring your own key to the controller:
 * RSA key (PKCS#1 PEM, mode 0600), self-signed certificate (0644) and optionally a `kubernetes.io/tls`
 * key Secret manifest (0600: it holds the private key) ready to apply in the controller's namespace.
 */
import { Option, type Command } from 'commander';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { KsealError } from '../../src/errors.js';
import { generateSealingKey } from '../../src/crypto/keygen.js';
import { writeManifests } from '../../src/manifest/write.js';
import { DEFAULT_CONTROLLER_NAMESPACE, keySecretManifest, keySecretName } from '../../src/model/key-secret.js';
import { checkSecretNames } from '../../src/model/secret.js';
import { refuseAliases, writeFilesAtomic, type AtomicFile } from '../atomic-write.js';
import type { CliIo } from '../io.js';

interface KeygenFlags {
  keyOut: string;
  certOut: string;
  secretOut?: string;
  secretName?: string;
  secretNamespace: string;
  bits: string;
  cn: string;
  days: string;
  force?: boolean;
}

/** Registers the command. */
export function keygenCommand(program: Command, io: CliIo): void {
  program
    .command('keygen')
    .summary('generate a sealing key pair and certificate')
    .description('Generate an RSA key pair and a self-signed sealing certificate; optionally also a key Secret manifest for the controller (bring your own key).')
    .option('--key-out <file>', 'private key file (PKCS#1 PEM, written 0600)', 'kseal.key')
    .option('--cert-out <file>', 'certificate file (PEM, written 0644)', 'kseal.crt')
    .option('--secret-out <file>', 'also write a kubernetes.io/tls key Secret manifest (0600)')
    .option('--secret-name <name>', 'name of the key Secret (default: kseal-key-<key id prefix>, unique per key)')
    .option('--secret-namespace <ns>', "the controller's namespace", DEFAULT_CONTROLLER_NAMESPACE)
    .addOption(new Option('--bits <n>', 'RSA key size').choices(['2048', '3072', '4096']).default('4096'))
    .option('--cn <name>', 'certificate common name', 'kseal')
    .option('--days <n>', 'certificate validity in days', '3650')
    .option('--force', 'replace existing files')
    .addHelpText(
      'after',
      `
Examples:
  kseal keygen && kseal encrypt --cert kseal.crt < secret.yaml
  kseal keygen --key-out byo.key --cert-out byo.crt --secret-out byo-secret.yaml && kubectl apply -f byo-secret.yaml`,
    )
    .action(async (flags: KeygenFlags) => {
      const bits = Number(flags.bits);
      const days = Number(flags.days);
      if (!Number.isInteger(days) || days < 1 || days > 36500) throw new KsealError('USAGE', `--days must be a whole number from 1 to 36500, not ${JSON.stringify(flags.days)}`);
      const now = io.now();
      if (flags.secretOut !== undefined) checkSecretNames(flags.secretName ?? 'kseal-key', flags.secretNamespace, {});
      const outputs = [flags.keyOut, flags.certOut, ...(flags.secretOut === undefined ? [] : [flags.secretOut])];
      await refuseAliases(io.cwd, outputs);
      // Check every target first, so an existing file stops the run before anything is written.
      if (flags.force !== true) {
        for (const file of outputs) {
          if (await stat(resolve(io.cwd, file)).catch(() => undefined)) throw new KsealError('FILE_EXISTS', 'the file already exists; not replacing a key', { file, hint: 'choose another path, or pass --force' });
        }
      }
      const key = await generateSealingKey({ bits, commonName: flags.cn, validityDays: days, now });
      const exclusive = flags.force !== true;
      // All or nothing, and never two outputs in one file (writeFilesAtomic refuses aliasing paths before writing).
      const files: AtomicFile[] = [
        { path: flags.keyOut, content: key.privateKeyPem, mode: 0o600, forceMode: true, exclusive },
        { path: flags.certOut, content: key.certificatePem, mode: 0o644, forceMode: true, exclusive },
      ];
      if (flags.secretOut !== undefined) {
        const manifest = keySecretManifest({ name: flags.secretName ?? keySecretName(key.keyId), namespace: flags.secretNamespace, privateKeyPem: key.privateKeyPem, certificatePem: key.certificatePem });
        files.push({ path: flags.secretOut, content: writeManifests([manifest], 'yaml'), mode: 0o600, forceMode: true, exclusive });
      }
      await writeFilesAtomic(io.cwd, files);
      io.stderr(`kseal: wrote ${outputs.join(', ')} (RSA-${bits}, key id ${key.keyId.slice(0, 12)}, valid until ${key.notAfter.toISOString().slice(0, 10)})\n`);
    });
}
