/**
 * `kseal ui`: serves the sealing page on this machine (127.0.0.1 by default) with a certificate pinned
 * at start, so the page and the key it seals to come from here, not from a server. Runs until
 * interrupted (Ctrl-C or SIGTERM).
 */
import type { Command } from 'commander';
import { KsealError } from '../../src/errors.js';
import { loadCertificate } from '../cert-source.js';
import { warn } from '../emit.js';
import type { CliIo } from '../io.js';
import { addCertSourceOptions, certSource, type CertSourceFlags } from '../options.js';

interface UiFlags extends CertSourceFlags {
  port: string;
  address: string;
}

/** Registers the command. */
export function uiCommand(program: Command, io: CliIo): void {
  const command = program
    .command('ui')
    .summary('serve the sealing page locally')
    .description('Serve the sealing page on this machine: values are sealed in the browser to the certificate loaded at start, and never leave it.')
    .option('-p, --port <port>', 'port to listen on (0 picks a free one)', '0')
    .option('--address <address>', 'address to listen on', '127.0.0.1');
  addCertSourceOptions(command);
  command.addHelpText(
    'after',
    `
Examples:
  kseal cert > cert.pem && kseal ui --cert cert.pem --port 8090
  kseal ui --cert cert.pem        # prints the address to open`,
  );
  command.action(async (flags: UiFlags) => {
    const port = Number(flags.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new KsealError('USAGE', `--port ${JSON.stringify(flags.port)} is not a port number`, { hint: 'use 0 to 65535 (0 picks a free port)' });
    const cert = await loadCertificate(certSource(flags), io);
    // Loaded here so other commands do not pay for node:http at start-up.
    const { isLoopback, startLocalPageServer } = await import('../../ui/server/local-server.js');
    if (!isLoopback(flags.address)) warn(io, `listening on ${flags.address}: browsers run WebCrypto only on https:// or localhost pages, so open it as http://localhost through an SSH tunnel or port-forward`);
    // Listen for Ctrl-C and SIGTERM before saying where the page is, so a caller that stops us as soon
    // as it reads the address cannot beat the handler.
    const stopped = new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    let server: Awaited<ReturnType<typeof startLocalPageServer>>;
    try {
      server = await startLocalPageServer({ certificatePem: cert.pem, host: flags.address, port });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      throw new KsealError('USAGE', `cannot listen on ${flags.address}:${port}: ${code}`, { hint: code === 'EADDRINUSE' ? 'choose another --port, or 0 for a free one' : 'check --address', cause: e });
    }
    io.stdout(`kseal: serving the sealing page at ${server.url}\nkseal: sealing to key ${cert.keyId} (RSA-${cert.bits}, valid until ${cert.notAfter.toISOString().slice(0, 10)}); press Ctrl-C to stop\n`);
    await stopped;
    await server.close();
  });
}
