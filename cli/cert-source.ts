/**
 * Where the sealing certificate comes from: `--cert` (or `KSEAL_CERT`, or kubeseal's
 * `SEALED_SECRETS_CERT`, both bound by commander) as a file, a `file://` URL or an http(s) URL for offline sealing, else the
 * controller (directly or through the Kubernetes API service proxy).
 */
import { fileURLToPath } from 'node:url';
import { KsealError } from '../src/errors.js';
import { parseCertificate, type SealingCertificate } from '../src/crypto/certificate.js';
import { controllerClient, expectOk, getUrl, type ControllerOptions } from './controller-client.js';
import { readInput, type CliIo } from './io.js';
import { HTTP_PATHS } from '../src/wire.js';

export interface CertSourceOptions extends ControllerOptions {
  readonly cert?: string | undefined;
}

/** Loads and checks the sealing certificate from the configured source. */
export async function loadCertificate(options: CertSourceOptions, io: CliIo): Promise<SealingCertificate> {
  // --cert, KSEAL_CERT and SEALED_SECRETS_CERT are bound to options.cert by commander (Option.env).
  const cert = options.cert;
  if (cert !== undefined && cert !== '') {
    const flag = '--cert';
    if (/^https?:\/\//i.test(cert)) return parseCertificate(await getUrl(cert, flag), { source: cert, now: io.now() });
    const path = /^file:/i.test(cert) ? fileUrlPath(cert, flag) : cert;
    const { bytes } = await readInput(io, path);
    return parseCertificate(bytes, { source: path, now: io.now() });
  }
  const client = await controllerClient(options, io);
  const body = expectOk(await client.request('GET', HTTP_PATHS.cert), `GET ${HTTP_PATHS.cert}`, client);
  return parseCertificate(body, { source: client.description, now: io.now() });
}

function fileUrlPath(text: string, flag: string): string {
  try {
    return fileURLToPath(text);
  } catch {
    throw new KsealError('USAGE', `${flag} ${JSON.stringify(text)} is not a valid file:// URL`, { hint: 'use file:///absolute/path, or give the path itself' });
  }
}
