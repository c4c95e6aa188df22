/**
 * The controller assembled: three supervised informers (SealedSecrets in every namespace, or one
 * informer per namespace of `watchNamespaces`; the Secrets this controller manages — selected by its
 * managed-by label, so memory does not grow with the cluster's other Secrets (Bitnami #1289) — in the
 * same namespaces; and the key Secrets in its own namespace), the key
 * registry, the unseal worker pool, the work queue and reconciler, the key manager and leader
 * election.
 *
 * Every replica watches and serves keys; only the leader reconciles and generates keys. On becoming
 * leader it enqueues every SealedSecret and, once the queue first drains, logs per key how many
 * SealedSecrets it unseals. With `shards` > 1 the leader only generates keys, and reconciling is
 * split: each replica reconciles the SealedSecrets of the shards whose Leases it holds
 * (controller/shard-coordinator.ts). `stop()` stops reconciling, waits for reconciles in flight, releases the
 * lease, and closes everything.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { GeneratedKey, KeygenOptions } from '../src/crypto/keygen.js';
import { sleep, type BackoffOptions } from '../net/backoff.js';
import { MANAGED_SELECTOR } from './annotations.js';
import type { Unsealer } from './contracts.js';
import { EventRecorder } from './events.js';
import { SupervisedInformer } from './informer-supervisor.js';
import { watchResource, type WatchedResource } from './namespaced-informers.js';
import { KEY_SELECTOR, KeyManager } from './key-manager.js';
import { KeyRegistry } from './key-registry.js';
import { BitnamiAdoption } from './bitnami-adoption.js';
import { compactSecret, sealedSecretStub } from './compact-objects.js';
import { BitnamiKeys, CombinedKeys, type SealingKeySource } from './bitnami-keys.js';
import { KeyUsage } from './key-usage.js';
import { objectKey, type KubeApi, type KubeObject, type SecretJson } from './kube-client.js';
import { LeaderElector, SHARDS_ANNOTATION } from './leader-election.js';
import type { Logger } from './logger.js';
import type { ControllerMetrics } from './metrics.js';
import { Reconciler } from './reconciler.js';
import { ShardCoordinator } from './shard-coordinator.js';
import { shardOf } from './shards.js';
import { UnsealPool } from './unseal-pool.js';
import { WorkQueue } from './work-queue.js';
import { SEALED_SECRET_GROUP, SEALED_SECRET_PLURAL, SEALED_SECRET_VERSION } from '../src/wire.js';

export interface ControllerOptions {
  readonly api: KubeApi;
  /** The controller's namespace (keys, lease). */
  readonly namespace: string;
  /** This replica's identity (lease holder); default hostname plus a random suffix. */
  readonly identity?: string;
  readonly keySize: number;
  readonly keyTtlMs: number;
  readonly commonName: string;
  readonly renewPeriodMs: number;
  readonly cutoffTime?: Date | undefined;
  /** Re-reconcile everything this often (ms); 0 turns it off. */
  readonly resyncMs: number;
  /** Unseal worker threads (default: the cores). */
  readonly workers?: number | undefined;
  /** Share of the unseal pool verify/rotate may use while reconciles wait (unseal-scheduler.ts; default 0.1). */
  readonly httpUnsealShare?: number | undefined;
  /** Reconciles at a time. */
  readonly concurrency: number;
  readonly leaderElection: {
    readonly enabled: boolean;
    readonly leaseName: string;
    readonly leaseDurationMs: number;
    readonly renewDeadlineMs: number;
    readonly retryPeriodMs: number;
    /** Reconcile shards, one Lease each (1: the leader reconciles everything). */
    readonly shards?: number;
  };
  readonly watch: {
    /** Abort a watch silent for this long (ms). */
    readonly idleTimeoutMs: number;
    readonly minWatchTimeoutSeconds: number;
    readonly backoff: BackoffOptions;
  };
  /** Per-key reconcile retry backoff. */
  readonly queueBackoff: BackoffOptions;
  readonly logger: Logger;
  readonly metrics: ControllerMetrics;
  /** Replaces the worker pool (tests). */
  readonly unsealer?: Unsealer;
  readonly workerUrl?: URL;
  /** Replaces key generation (tests). */
  readonly generateKey?: (options: KeygenOptions) => Promise<GeneratedKey>;
  /** Transient failures in a row before Ready says ApiError. */
  readonly apiErrorThreshold?: number;
  /**
   * Namespaces whose SealedSecrets (and Secrets) are watched and reconciled (--watch-namespaces):
   * one informer per namespace, so Roles in those namespaces suffice. Undefined: every namespace.
   */
  readonly watchNamespaces?: readonly string[] | undefined;
  /** Adoption mode (--adopt-bitnami): Bitnami's objects and keys too (bitnami-adoption.ts). */
  readonly adoptBitnami?: { readonly keyNamespace: string; readonly sealingKeySource: SealingKeySource } | undefined;
}

/** Longest the other informers, the election and the unseal workers wait for the key list at start. */
const KEYS_FIRST_MS = 1000;

/** A default replica identity: the host name (the pod name in a cluster) and a random suffix. */
function defaultIdentity(): string {
  return `${hostname()}_${randomBytes(4).toString('hex')}`;
}

/** The running controller (see the module comment). */
export class Controller {
  /** Every key that opens (kseal's, and Bitnami's when adopting); newest() seals. */
  readonly keys: CombinedKeys;
  /** kseal's own keys (generated and renewed by the key manager). */
  readonly ownKeys: KeyRegistry;
  private readonly adoption: BitnamiAdoption | undefined;
  readonly unsealer: Unsealer;
  readonly usage: KeyUsage;
  readonly identity: string;
  private readonly pool: UnsealPool | undefined;
  private readonly sealedSecrets: WatchedResource<KubeObject>;
  private readonly secrets: WatchedResource<SecretJson>;
  private readonly keySecrets: SupervisedInformer<SecretJson>;
  private readonly queue: WorkQueue;
  private readonly reconciler: Reconciler;
  private readonly events: EventRecorder;
  private readonly keyManager: KeyManager;
  private readonly elector: LeaderElector | undefined;
  private readonly shardCount: number;
  private readonly coordinator: ShardCoordinator | undefined;
  /** Shards this replica holds (sharded mode). */
  private readonly heldShards = new Set<number>();
  private queueStarted = false;
  private leading = false;
  private transition: Promise<void> = Promise.resolve();
  private stopped = false;
  private term = 0;
  private reporting = false;
  private initialSyncLogged = false;
  private haltedDone: () => void = () => undefined;
  /** Resolves when `stop()` begins: a start-up step waiting for lists that never come (refused, say) ends. */
  private readonly halted = new Promise<void>((resolve) => (this.haltedDone = resolve));
  private keysFirstDone: () => void = () => undefined;
  /** Resolves once the key Secrets were listed (or after KEYS_FIRST_MS): see `start()`. */
  private readonly keysFirst = new Promise<void>((resolve) => (this.keysFirstDone = resolve));

  constructor(private readonly options: ControllerOptions) {
    const { api, logger, metrics, namespace } = options;
    this.identity = options.identity ?? defaultIdentity();
    this.ownKeys = new KeyRegistry(logger.child({ component: 'keys' }));
    const bitnamiKeys = options.adoptBitnami === undefined ? undefined : new BitnamiKeys(logger.child({ component: 'keys' }));
    this.keys = new CombinedKeys(this.ownKeys, bitnamiKeys, options.adoptBitnami?.sealingKeySource ?? 'kseal');
    this.usage = new KeyUsage(metrics);
    this.pool =
      options.unsealer === undefined
        ? new UnsealPool({
            keys: this.keys,
            workers: options.workers,
            logger,
            spawnWhen: this.keysFirst,
            onPrivateOps: (n) => metrics.privateKeyOperations.inc(n),
            // Verify/rotate get only their share of the pool while reconciles wait here, not only in the pool.
            reconcileBacklog: () => this.queue.busy,
            ...(options.httpUnsealShare === undefined ? {} : { httpShare: options.httpUnsealShare }),
            ...(options.workerUrl === undefined ? {} : { workerUrl: options.workerUrl }),
          })
        : undefined;
    this.unsealer = options.unsealer ?? (this.pool as UnsealPool);
    this.events = new EventRecorder({ api, logger, metrics, instance: this.identity });
    this.queue = new WorkQueue({
      concurrency: options.concurrency,
      backoff: options.queueBackoff,
      onError: (key, e) => logger.error('reconcile threw', { object: key, error: (e as Error).message }),
      onDepth: (n) => metrics.queueDepth.set(n),
    });

    const watch = { transport: api, resyncMs: 0, idleTimeoutMs: options.watch.idleTimeoutMs, minWatchTimeoutSeconds: options.watch.minWatchTimeoutSeconds, backoff: options.watch.backoff };
    this.shardCount = Math.max(1, options.leaderElection.shards ?? 1);
    // Objects another replica reconciles are kept as stubs at once; the ones this replica
    // reconciles stay whole until their reconcile is done (compact-objects.ts).
    const enqueue = (obj: KubeObject): void => {
      const key = objectKey(obj);
      if (this.owns(key)) this.queue.add(key);
      else if (this.reconciling()) this.sealedSecrets.release(key);
    };
    const watched = options.watchNamespaces;
    this.sealedSecrets = watchResource<KubeObject>((ns) => (ns === undefined ? `/apis/${SEALED_SECRET_GROUP}/${SEALED_SECRET_VERSION}/${SEALED_SECRET_PLURAL}` : `/apis/${SEALED_SECRET_GROUP}/${SEALED_SECRET_VERSION}/namespaces/${ns}/${SEALED_SECRET_PLURAL}`), watched, {
      ...watch,
      name: 'sealedsecrets',
      resyncMs: options.resyncMs,
      stub: sealedSecretStub,
      logger: logger.child({ component: 'informer' }),
      handlers: { add: enqueue, update: (_old, obj) => enqueue(obj), delete: enqueue, resync: enqueue, resyncDone: () => void this.reportUsageWhenIdle(this.term) },
    });
    const enqueueOwner = (secret: SecretJson): void => {
      if (this.sealedSecrets.get(objectKey(secret)) !== undefined) enqueue(secret);
    };
    this.secrets = watchResource<SecretJson>((ns) => (ns === undefined ? '/api/v1/secrets' : `/api/v1/namespaces/${ns}/secrets`), watched, {
      ...watch,
      name: 'managed-secrets',
      labelSelector: MANAGED_SELECTOR,
      transform: compactSecret,
      logger: logger.child({ component: 'informer' }),
      handlers: { update: (_old, s) => enqueueOwner(s), delete: enqueueOwner },
    });
    this.keySecrets = new SupervisedInformer<SecretJson>({
      ...watch,
      name: 'key-secrets',
      path: `/api/v1/namespaces/${namespace}/secrets`,
      labelSelector: KEY_SELECTOR,
      logger: logger.child({ component: 'informer' }),
      handlers: { add: (s) => this.ownKeys.upsert(s), update: (_old, s) => this.ownKeys.upsert(s), delete: (s) => this.ownKeys.remove(s) },
    });
    this.keys.onChange((keys) => {
      metrics.keys.set(keys.length);
      if (this.reconciling()) for (const key of this.reconciler.takeAwaitingKeys()) if (this.owns(key)) this.queue.add(key);
      this.adoption?.keysChanged();
    });

    this.reconciler = new Reconciler({
      api,
      sealedSecrets: this.sealedSecrets,
      secrets: this.secrets,
      keys: this.keys,
      unsealer: this.unsealer,
      events: this.events,
      metrics,
      usage: this.usage,
      logger: logger.child({ component: 'reconciler' }),
      ...(options.apiErrorThreshold === undefined ? {} : { apiErrorThreshold: options.apiErrorThreshold }),
    });
    this.adoption =
      options.adoptBitnami === undefined || bitnamiKeys === undefined
        ? undefined
        : new BitnamiAdoption({
            transport: api,
            keyNamespace: options.adoptBitnami.keyNamespace,
            bitnamiKeys,
            watch: options.watch,
            resyncMs: options.resyncMs,
            concurrency: options.concurrency,
            queueBackoff: options.queueBackoff,
            reconciler: {
              api,
              keys: this.keys,
              unsealer: this.unsealer,
              events: this.events,
              metrics,
              usage: this.usage,
              logger: logger.child({ component: 'reconciler', apiVersion: 'bitnami.com/v1alpha1' }),
              ...(options.apiErrorThreshold === undefined ? {} : { apiErrorThreshold: options.apiErrorThreshold }),
            },
            logger,
            leading: () => this.leading,
          });
    this.keyManager = new KeyManager({
      api,
      registry: this.ownKeys,
      namespace,
      identity: this.identity,
      claimTtlMs: 2 * options.leaderElection.leaseDurationMs,
      keySize: options.keySize,
      keyTtlMs: options.keyTtlMs,
      commonName: options.commonName,
      renewPeriodMs: options.renewPeriodMs,
      cutoffTime: options.cutoffTime,
      isLeader: () => this.leading,
      keysSynced: () => this.keySecrets.synced,
      logger: logger.child({ component: 'keys' }),
      metrics,
      ...(options.generateKey === undefined ? {} : { generate: options.generateKey }),
    });
    const le = options.leaderElection;
    this.elector = le.enabled
      ? new LeaderElector({
          api,
          namespace,
          name: le.leaseName,
          identity: this.identity,
          leaseDurationMs: le.leaseDurationMs,
          renewDeadlineMs: le.renewDeadlineMs,
          retryPeriodMs: le.retryPeriodMs,
          logger: logger.child({ component: 'leader-election' }),
          onStartedLeading: () => this.setLeading(true),
          onStoppedLeading: () => this.setLeading(false),
          // Says on the main Lease whether its holder reconciles everything (1) or only generates keys
          // (sharded): sharded replicas stand back from an unsharded leader (shard-conflicts.ts).
          annotations: { [SHARDS_ANNOTATION]: String(this.shardCount) },
        })
      : undefined;
    this.coordinator =
      le.enabled && this.shardCount > 1
        ? new ShardCoordinator({
            api,
            namespace,
            leaseName: le.leaseName,
            shards: this.shardCount,
            identity: this.identity,
            leaseDurationMs: le.leaseDurationMs,
            renewDeadlineMs: le.renewDeadlineMs,
            retryPeriodMs: le.retryPeriodMs,
            logger: logger.child({ component: 'shards' }),
            onAcquired: (shard) => this.shardAcquired(shard),
            onLost: (shard) => this.shardLost(shard),
            onForeign: (count) => metrics.foreignShardLeases.set(count),
          })
        : undefined;
  }

  /**
   * Starts the informers and the election (or leads at once when election is off). The key Secrets
   * are listed first and alone: serving the certificate needs only them, and on a small pod the
   * other lists, the election and the unseal workers' start-up would take the cores from them.
   * Nothing else needs to wait: reconciling waits for the keys anyway. Should the key list not
   * answer within KEYS_FIRST_MS, the rest starts regardless.
   */
  start(): void {
    this.keySecrets.start();
    const timer = setTimeout(() => this.keysFirstDone(), KEYS_FIRST_MS);
    void this.keySecrets.waitForSync().then(() => this.keysFirstDone());
    void this.keysFirst.then(() => {
      clearTimeout(timer);
      if (this.stopped) return;
      this.adoption?.start();
      this.sealedSecrets.start();
      this.secrets.start();
      if (this.elector !== undefined) this.elector.start();
      else this.setLeading(true);
      this.coordinator?.start();
    });
  }

  /** True once the key Secrets have been listed (the HTTP API can serve). */
  ready(): boolean {
    return this.keySecrets.synced && (this.adoption?.synced ?? true) && !this.stopped;
  }

  /** True while this replica leads (reconciles). */
  isLeader(): boolean {
    return this.leading;
  }

  /** The shards this replica reconciles (sharded mode; empty otherwise). */
  shards(): number[] {
    return [...this.heldShards].sort((a, b) => a - b);
  }

  /** True when the leader has nothing queued, delayed or in flight (tests, the demo). */
  idle(): boolean {
    return this.sealedSecrets.synced && this.secrets.synced && this.queue.idle && (this.adoption?.idle ?? true);
  }

  /** Stops reconciling, drains, releases the lease, stops watching and closes the worker pool. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.haltedDone();
    this.setLeading(false);
    await this.transition;
    await this.coordinator?.stop(true);
    await this.queue.stop();
    await this.elector?.stop(true);
    await this.events.flush();
    await Promise.all([this.sealedSecrets.stop(), this.secrets.stop(), this.keySecrets.stop(), this.adoption?.stop()]);
    await this.pool?.close();
  }

  /**
   * Resolves when every cache has its first list, or when the controller stops: without the latter a
   * replica whose lists are refused (RBAC, a bad --watch-namespaces) could never be stopped.
   */
  private async untilSynced(caches: Array<{ waitForSync(): Promise<void> } | undefined>): Promise<void> {
    await Promise.race([Promise.all(caches.map((c) => c?.waitForSync() ?? Promise.resolve())), this.halted]);
  }

  private setLeading(leading: boolean): void {
    if (leading && this.stopped) return;
    if (leading === this.leading) return;
    this.leading = leading;
    this.options.metrics.leader.set(leading ? 1 : 0);
    const term = ++this.term;
    this.transition = this.transition.then(async () => {
      if (leading) await this.startLeading(term);
      else await this.stopLeading();
    });
  }

  private async startLeading(term: number): Promise<void> {
    if (!this.leading || term !== this.term) return;
    this.initialSyncLogged = false;
    this.keyManager.start();
    // Sharded: the leader only generates keys; the shard Leases decide who reconciles what.
    if (this.coordinator !== undefined) return;
    // Reconcile only with every cache filled: a reconcile that missed a managed Secret or a key
    // would unseal (and try to write) what a restart should get for free.
    await this.untilSynced([this.sealedSecrets, this.secrets, this.keySecrets, this.adoption]);
    if (!this.leading || term !== this.term) return;
    // Every key is queued before the queue starts: a key the informer queued already is then not
    // also added while it is being processed (which would reconcile it, and unseal it, twice).
    for (const key of this.sealedSecrets.keys()) this.queue.add(key);
    // Objects deleted while this replica did not lead never reached its queue: reconciling their keys
    // forgets what it still reports about them (condition series, key usage).
    for (const key of this.options.metrics.conditionKeys()) if (this.sealedSecrets.get(key) === undefined) this.queue.add(key);
    this.queue.start((key) => this.reconcileKey(key));
    this.adoption?.startLeading();
    void this.reportUsageWhenIdle(term);
  }

  private async stopLeading(): Promise<void> {
    await Promise.all([this.coordinator === undefined ? this.queue.stop() : Promise.resolve(), this.keyManager.stop(), this.adoption?.stopLeading()]);
  }

  /** Whether this replica reconciles the object `key` now. */
  private owns(key: string): boolean {
    if (this.coordinator === undefined) return this.leading;
    return this.heldShards.has(shardOf(key, this.shardCount));
  }

  /** Whether this replica reconciles anything now. */
  private reconciling(): boolean {
    return this.coordinator === undefined ? this.leading : this.heldShards.size > 0;
  }

  /** A shard Lease was taken: reconcile every object of the shard once the caches are filled. */
  private shardAcquired(shard: number): void {
    if (this.stopped) return;
    this.heldShards.add(shard);
    this.options.metrics.shardsHeld.set(this.heldShards.size);
    const term = this.term;
    this.transition = this.transition.then(async () => {
      await this.untilSynced([this.sealedSecrets, this.secrets, this.keySecrets]);
      if (!this.heldShards.has(shard) || this.stopped) return;
      const inShard = (key: string): boolean => shardOf(key, this.shardCount) === shard;
      for (const key of this.sealedSecrets.keys()) if (inShard(key)) this.queue.add(key);
      for (const key of this.options.metrics.conditionKeys()) if (inShard(key) && this.sealedSecrets.get(key) === undefined) this.queue.add(key);
      if (!this.queueStarted) {
        this.queueStarted = true;
        this.queue.start((key) => this.reconcileKey(key));
      }
      this.initialSyncLogged = false;
      void this.reportUsageWhenIdle(term);
    });
  }

  /**
   * A shard Lease was lost or is being handed over: stop taking its objects and resolve once none is
   * in flight, so the next holder never reconciles an object at the same time as this replica.
   * What this replica reported about the shard's objects goes, since the next holder reports it.
   */
  private async shardLost(shard: number): Promise<void> {
    this.heldShards.delete(shard);
    this.options.metrics.shardsHeld.set(this.heldShards.size);
    const inShard = (key: string): boolean => shardOf(key, this.shardCount) === shard;
    await this.queue.drain(inShard);
    for (const key of this.options.metrics.conditionKeys()) {
      if (!inShard(key)) continue;
      const slash = key.indexOf('/');
      this.options.metrics.forgetCondition(key.slice(0, slash), key.slice(slash + 1));
      this.usage.delete(key);
    }
  }

  private async reconcileKey(key: string): Promise<'no' | 'backoff' | { readonly afterMs: number }> {
    if (!this.owns(key)) return 'no';
    const result = await this.reconciler.reconcile(key, this.queue.retries(key));
    // Done with it until it changes: keep a stub, unless another run is already queued.
    if (result.requeue === 'no' && !this.queue.queued(key)) this.sealedSecrets.release(key, result.settledVersion);
    return result.requeue;
  }

  /**
   * Logs, once a full pass (the first after becoming leader, then each resync) is done, how many
   * SealedSecrets each key unseals (Bitnami #638), so a key can be retired when its count is zero.
   */
  private async reportUsageWhenIdle(term: number): Promise<void> {
    if (this.reporting || !this.reconciling()) return;
    this.reporting = true;
    try {
      while (this.reconciling() && term === this.term && !(this.queue.idle && (this.adoption?.idle ?? true))) await sleep(200);
      if (!this.reconciling() || term !== this.term) return;
      // Objects of shards other replicas hold, cached whole before this replica took its shards.
      this.sealedSecrets.releaseWhere((key) => !this.owns(key));
      const report = this.usage.report(this.keys.list());
      for (const entry of report) this.options.logger.info('key usage', { ...entry });
      this.options.logger.info(this.initialSyncLogged ? 'full sync done' : 'initial sync done', { sealedSecrets: this.sealedSecrets.size, keys: report.length });
      this.initialSyncLogged = true;
    } finally {
      this.reporting = false;
    }
  }
}
