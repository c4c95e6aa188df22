/**
 * Where the sealing certificate comes from: `--cert` (or `KSEAL_CERT`) as a file or an http(s) URL
 * for offline sealing, else the controller (directly or through the Kubernetes API service proxy).
 */
import { parseCertificate, type SealingCertificate } from '../src/crypto/certificate.js';
import { controllerClient, expectOk, getUrl, type ControllerOptions } from './controller-client.js';
import { readInput, type CliIo } from './io.js';
import { HTTP_PATHS } from '../src/wire.js';

export interface CertSourceOptions extends ControllerOptions {
  readonly cert?: string | undefined;
}

/** Loads and checks the sealing certificate from the configured source. */
export async function loadCertificate(options: CertSourceOptions, io: CliIo): Promise<SealingCertificate> {
  const cert = options.cert ?? io.env.KSEAL_CERT;
  if (cert !== undefined && cert !== '') {
    if (/^https?:\/\//i.test(cert)) return parseCertificate(await getUrl(cert), { source: cert, now: io.now() });
    const { bytes } = await readInput(io, cert);
    return parseCertificate(bytes, { source: cert, now: io.now() });
  }
  const client = await controllerClient(options, io);
  const body = expectOk(await client.request('GET', HTTP_PATHS.cert), `GET ${HTTP_PATHS.cert}`, client.description);
  return parseCertificate(body, { source: client.description, now: io.now() });
}
