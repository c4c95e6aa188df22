/**
 * `kseal identity new [-o FILE]`: an escrow identity (X25519) for offline recovery and editing, as
 * age-keygen makes one. The identity file is written 0600 (whatever existed before); the public key,
 * `kseal1…`, is printed on stdout to pass to `--recipient`. Without -o the identity goes to stdout
 * and the public key to stderr. `kseal identity public FILE` prints the public keys of an identity file.
 */
import type { Command } from 'commander';
import { formatIdentityFile, generateIdentity } from '../../src/crypto/identity.js';
import { writeFileAtomic } from '../atomic-write.js';
import type { CliIo } from '../io.js';
import { loadIdentities } from '../recipient-source.js';

interface NewFlags {
  output?: string;
  force?: boolean;
}

/** Registers the command. */
export function identityCommand(program: Command, io: CliIo): void {
  const identity = program.command('identity').summary('create escrow identities (offline recovery keys)').description('Create and inspect escrow identities: X25519 keys held offline that can open, audit and edit SealedSecrets sealed for them with --recipient.');
  identity
    .command('new')
    .summary('generate an escrow identity')
    .description('Generate an escrow identity. With -o the identity file is written 0600 and the public key (kseal1…) printed; without it the identity is printed and the public key goes to stderr.')
    .option('-o, --output <file>', 'write the identity to this file (mode 0600)')
    .option('--force', 'replace an existing file')
    .addHelpText(
      'after',
      `
Examples:
  kseal identity new -o ~/.kseal/escrow.txt          # prints kseal1…
  kseal encrypt --cert cert.pem --recipient kseal1… < secret.yaml > sealed.yaml`,
    )
    .action(async (flags: NewFlags) => {
      const created = generateIdentity();
      const text = formatIdentityFile(created, io.now());
      if (flags.output === undefined || flags.output === '-') {
        io.stdout(text);
        io.stderr(`Public key: ${created.recipient}\n`);
        return;
      }
      await writeFileAtomic(io.cwd, flags.output, text, { mode: 0o600, forceMode: true, exclusive: flags.force !== true });
      io.stdout(`${created.recipient}\n`);
      io.stderr(`kseal: wrote the identity to ${flags.output} (mode 0600); keep it offline, it opens everything sealed for ${created.recipient.slice(0, 16)}…\n`);
    });
  identity
    .command('public')
    .summary('print the public keys of an identity file')
    .argument('<file...>', 'identity files')
    .action(async (files: string[]) => {
      for (const id of await loadIdentities(files, io)) io.stdout(`${id.recipient}\n`);
    });
}
