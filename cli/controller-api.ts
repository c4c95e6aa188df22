/**
 * The controller's verify and rotate calls, as the CLI uses them. Both are rate-limited by the
 * controller (429 with Retry-After); calls wait and retry so a run over many objects completes.
 */
import { KsealError } from '../src/errors.js';
import { readSealedSecret, type SealedSecret } from '../src/model/sealed-secret.js';
import { retry, retryAfterMs } from '../net/backoff.js';
import { expectOk, type ControllerClient, type ControllerResponse } from './controller-client.js';
import { HTTP_PATHS } from '../src/wire.js';

/** Options for tests: how long to wait between retries. */
export interface RetryOptions {
  readonly sleep?: (ms: number) => Promise<void>;
}

/** POSTs one object; a 429 (rate limit) or 503 waits for the Retry-After the controller names (else backs off) and retries. */
async function post(client: ControllerClient, path: string, sealed: SealedSecret, options: RetryOptions): Promise<ControllerResponse> {
  const body = Buffer.from(JSON.stringify(sealed));
  return retry(
    () => client.request('POST', path, body, 'application/json'),
    (response) => (response.status === 429 || response.status === 503 ? (retryAfterMs(response.retryAfter) ?? 'backoff') : undefined),
    { maxAttempts: 120, ...(options.sleep === undefined ? {} : { sleep: options.sleep }) },
  );
}

/** True when the controller can unseal every value (200), false when it cannot (409). */
export async function verifySealed(client: ControllerClient, sealed: SealedSecret, options: RetryOptions = {}): Promise<boolean> {
  const response = await post(client, HTTP_PATHS.verify, sealed, options);
  if (response.status === 409) return false;
  expectOk(response, 'POST /v1/verify', client);
  return true;
}

/** The object re-sealed by the controller with its newest key. Throws DECRYPT_FAILED when it does not unseal. */
export async function rotateSealed(client: ControllerClient, sealed: SealedSecret, options: RetryOptions = {}): Promise<SealedSecret> {
  const response = await post(client, HTTP_PATHS.rotate, sealed, options);
  if (response.status === 409) {
    throw new KsealError('DECRYPT_FAILED', 'the controller cannot unseal it, so it cannot re-seal it', { hint: 'check it with kseal validate; it may have been sealed for another cluster, name or namespace' });
  }
  const body = expectOk(response, 'POST /v1/rotate', client);
  let parsed: unknown;
  try {
    // The controller's own JSON answer (its rotate output, bounded by its body limit), not a user's file.
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new KsealError('CONTROLLER_ERROR', `the controller (${client.description}) answered rotate with something that is not JSON`);
  }
  return readSealedSecret(parsed, {});
}
