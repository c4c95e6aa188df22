/**
 * Sealing key life cycle, run by the leader only: generate a key when none exists, renew every
 * `renewPeriodMs` (a new key seals; old ones stay for unsealing, never deleted), and honour
 * `--key-cutoff-time` once at start (a new key when the newest is older).
 *
 * Never an extra key because of a transient error: decisions are taken on the key informer's state
 * (an authoritative list, kept through watch failures), the key is generated off the event loop
 * (node:crypto's async keygen), and right before creating it the key Secrets are listed again and the
 * decision re-taken. The new Secret's name comes from the new key's id (`kseal-key-<key id prefix>`),
 * so no key Secret name is ever reused (a backup restored after a regeneration adds a key, it never
 * replaces one); two replicas that decided on the same state make one key because each must first win
 * the key-generation claim (key-claim.ts). The controller only ever creates key Secrets: it never
 * updates or deletes one.
 */
import { generateSealingKey, type GeneratedKey, type KeygenOptions } from '../src/crypto/keygen.js';
import { keySecretManifest, keySecretName } from '../src/model/key-secret.js';
import { claimKeyGeneration } from './key-claim.js';
import { Backoff, type BackoffOptions } from '../net/backoff.js';
import { keyDue, newestFirst, renewalDueInMs, type KeyDue } from '../src/model/key-choice.js';
import { readKeySecret, type KeyRegistry } from './key-registry.js';
import { statusOf, type KubeApi, type SecretJson } from './kube-client.js';
import type { Logger } from './logger.js';
import type { ControllerMetrics } from './metrics.js';
import { SEALING_KEY_ACTIVE, SEALING_KEY_LABEL } from '../src/wire.js';

/** Label selector of the key Secrets. */
export const KEY_SELECTOR = `${SEALING_KEY_LABEL}=${SEALING_KEY_ACTIVE}`;
/** Longest single timer (setTimeout overflows past 2^31 ms); later renewals are re-checked. */
const MAX_TIMER_MS = 6 * 3600_000;

export interface KeyManagerOptions {
  readonly api: Pick<KubeApi, 'list' | 'createNamespacedSecret' | 'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'>;
  readonly registry: KeyRegistry;
  readonly namespace: string;
  /** This replica's identity (holder of the key-generation claim). */
  readonly identity: string;
  /** How long another replica's key-generation claim is respected (default KEY_CLAIM_TTL_MS). */
  readonly claimTtlMs?: number;
  readonly keySize: number;
  /** Certificate validity (ms). */
  readonly keyTtlMs: number;
  readonly commonName: string;
  /** New key after this long (ms); 0 never renews. */
  readonly renewPeriodMs: number;
  /** At start, a new key when the newest is older than this. */
  readonly cutoffTime?: Date | undefined;
  readonly isLeader: () => boolean;
  /** True once the key informer has listed (its state is authoritative). */
  readonly keysSynced: () => boolean;
  readonly logger: Logger;
  readonly metrics?: ControllerMetrics;
  readonly now?: () => Date;
  /** Retry delays after a failed check (default 1 s to 5 min). */
  readonly retryBackoff?: BackoffOptions;
  /** Key generation (tests may count calls). */
  readonly generate?: (options: KeygenOptions) => Promise<GeneratedKey>;
}

/** Runs key generation and renewal while this replica leads. */
export class KeyManager {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private active = false;
  private cutoffChecked = false;
  private unsubscribe: (() => void) | undefined;
  private readonly backoff: Backoff;
  private readonly now: () => Date;

  constructor(private readonly options: KeyManagerOptions) {
    this.now = options.now ?? (() => new Date());
    this.backoff = new Backoff(options.retryBackoff ?? { initialMs: 1000, maxMs: 300_000 });
  }

  /** Starts (on becoming leader): checks now, on every key change and when the next renewal is due. */
  start(): void {
    if (this.active) return;
    this.active = true;
    this.cutoffChecked = false;
    this.unsubscribe = this.options.registry.onChange(() => this.trigger());
    this.trigger();
  }

  /**
   * Stops (on losing leadership or shutting down). A check in progress is not waited for (a 4096-bit
   * keygen can take seconds): it sees `active` false and the leader check fail, and creates nothing.
   */
  stop(): Promise<void> {
    this.active = false;
    this.unsubscribe?.();
    if (this.timer !== undefined) clearTimeout(this.timer);
    return Promise.resolve();
  }

  /** Resolves when no check is running or queued (tests). */
  async settled(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  /** Runs a check now, or right after the one in progress. */
  trigger(): void {
    if (!this.active) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.checkOnce();
      } while (this.again && this.active);
      this.running = undefined;
    })();
  }

  private async checkOnce(): Promise<void> {
    const { options } = this;
    if (!this.active || !options.isLeader()) return;
    if (!options.keysSynced()) return this.schedule(500);
    const cutoff = this.cutoffChecked ? undefined : options.cutoffTime;
    try {
      const due = keyDue(options.registry.list(), this.now(), options.renewPeriodMs, cutoff);
      const deferred = due !== undefined && (await this.rotate(due, cutoff)) === 'deferred';
      if (deferred) {
        // Another replica holds the claim: check again soon. If it creates the key, the registry has
        // it by then and nothing is due; if it died, its claim goes stale and this replica takes over.
        this.schedule(this.backoff.next());
        return;
      }
      this.cutoffChecked = true;
      this.backoff.reset();
      this.scheduleRenewal();
    } catch (e) {
      const delay = this.backoff.next();
      options.logger.warn('key check failed; retrying', { error: (e as Error).message, retryInMs: delay });
      this.schedule(delay);
    }
  }

  /** Generates and creates the key that is due; 'deferred' when another replica holds the claim. */
  private async rotate(due: KeyDue, cutoff: Date | undefined): Promise<'done' | 'deferred'> {
    const { options } = this;
    const now = this.now();
    const generate = options.generate ?? generateSealingKey;
    const started = Date.now();
    const generated = await generate({ bits: options.keySize, commonName: options.commonName, validityDays: options.keyTtlMs / 86_400_000, now });
    if (!this.active || !options.isLeader()) return 'done';
    // Re-list right before creating: the decision must hold on the API server's state, not only on ours.
    const listed = await options.api.list(`/api/v1/namespaces/${options.namespace}/secrets`, { labelSelector: KEY_SELECTOR });
    const fresh = listed.items.flatMap((s) => {
      const r = readKeySecret(s);
      return r.ok ? [r.key] : [];
    });
    fresh.sort(newestFirst);
    const stillDue = keyDue(fresh, this.now(), options.renewPeriodMs, cutoff);
    if (stillDue === undefined || !options.isLeader()) {
      options.logger.info('new key no longer needed', { why: due });
      return 'done';
    }
    const claimed = await claimKeyGeneration({ api: options.api, namespace: options.namespace, identity: options.identity, existingKeyIds: fresh.map((k) => k.keyId), keyId: generated.keyId, now: this.now(), ...(options.claimTtlMs === undefined ? {} : { ttlMs: options.claimTtlMs }) });
    if (!options.isLeader()) return 'done';
    if (!claimed) {
      options.logger.info('another replica is creating the new key', { why: due });
      return 'deferred';
    }
    const name = keySecretName(generated.keyId);
    const body = keySecretManifest({ name, namespace: options.namespace, privateKeyPem: generated.privateKeyPem, certificatePem: generated.certificatePem }) as unknown as SecretJson;
    let created: SecretJson;
    try {
      created = await options.api.createNamespacedSecret(options.namespace, body);
    } catch (e) {
      if (statusOf(e) === 409) {
        // The name is the key's own: a Secret of that name holds this very key. Never overwritten.
        options.logger.info('key Secret already exists', { secret: name });
        return 'done';
      }
      throw e;
    }
    options.metrics?.keysGenerated.inc();
    options.metrics?.apiWrites.inc({ verb: 'create', resource: 'secrets' });
    options.logger.info('sealing key generated', { secret: name, keyId: generated.keyId, why: stillDue, bits: options.keySize, ms: Date.now() - started });
    options.registry.upsert(created);
    return 'done';
  }

  private scheduleRenewal(): void {
    const dueIn = renewalDueInMs(this.options.registry.list(), this.now(), this.options.renewPeriodMs);
    if (dueIn === undefined) return;
    this.schedule(Math.min(MAX_TIMER_MS, Math.max(1000, dueIn)));
  }

  private schedule(ms: number): void {
    if (!this.active) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.trigger(), ms);
    this.timer.unref();
  }
}
