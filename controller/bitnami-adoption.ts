/**
 * Adoption mode (`--adopt-bitnami`): the controller also watches Bitnami's `bitnami.com/v1alpha1`
 * SealedSecrets in every namespace and Bitnami's key Secrets in `--bitnami-key-namespace`, and
 * reconciles the objects with Bitnami's semantics (bitnami-reconcile.ts) on their own work queue, so
 * a kseal.dev object and a bitnami.com object never share a queue key. Everything here only reads
 * Bitnami's objects and keys, except the status subresource of the SealedSecrets (Synced plus kseal's
 * conditions) and the Secrets they own: turning adoption off, or uninstalling kseal, leaves every
 * object, key and Secret as Bitnami's controller expects it.
 */
import type { BitnamiKeys } from './bitnami-keys.js';
import { BITNAMI_KEY_SELECTOR } from './bitnami-keys.js';
import type { BackoffOptions } from '../net/backoff.js';
import { SupervisedInformer } from './informer-supervisor.js';
import { objectKey, type KubeObject, type ListWatchTransport, type SecretJson } from './kube-client.js';
import type { Logger } from './logger.js';
import { Reconciler, type CacheView, type ReconcilerDeps } from './reconciler.js';
import { WorkQueue } from './work-queue.js';

/** The collection the adoption informer lists and watches. */
const BITNAMI_SEALED_SECRETS_PATH = '/apis/bitnami.com/v1alpha1/sealedsecrets';

/** Secrets of adopted objects are read with a GET each time (they carry no kseal label to select on). */
const NO_SECRET_CACHE: CacheView<SecretJson> = { get: () => undefined, observeWrite: () => undefined };

export interface BitnamiAdoptionOptions {
  readonly transport: ListWatchTransport;
  readonly keyNamespace: string;
  readonly bitnamiKeys: BitnamiKeys;
  readonly watch: { readonly idleTimeoutMs: number; readonly minWatchTimeoutSeconds: number; readonly backoff: BackoffOptions };
  readonly resyncMs: number;
  readonly concurrency: number;
  readonly queueBackoff: BackoffOptions;
  /** The kseal reconciler's dependencies; the caches and flavour are set here. */
  readonly reconciler: Omit<ReconcilerDeps, 'sealedSecrets' | 'secrets' | 'flavour'>;
  readonly logger: Logger;
  readonly onDepth?: (n: number) => void;
  /** True while this replica leads. */
  readonly leading: () => boolean;
}

/** The adoption half of the controller (see the module comment). */
export class BitnamiAdoption {
  readonly objects: SupervisedInformer<KubeObject>;
  readonly keySecrets: SupervisedInformer<SecretJson>;
  private readonly queue: WorkQueue;
  private readonly reconciler: Reconciler;

  constructor(private readonly options: BitnamiAdoptionOptions) {
    const { logger } = options;
    const base = { transport: options.transport, idleTimeoutMs: options.watch.idleTimeoutMs, minWatchTimeoutSeconds: options.watch.minWatchTimeoutSeconds, backoff: options.watch.backoff };
    const enqueue = (obj: KubeObject): void => {
      if (options.leading()) this.queue.add(objectKey(obj));
    };
    this.objects = new SupervisedInformer<KubeObject>({
      ...base,
      name: 'bitnami-sealedsecrets',
      path: BITNAMI_SEALED_SECRETS_PATH,
      resyncMs: options.resyncMs,
      logger: logger.child({ component: 'informer' }),
      handlers: { add: enqueue, update: (_old, obj) => enqueue(obj), delete: enqueue, resync: enqueue },
    });
    const keys = options.bitnamiKeys;
    this.keySecrets = new SupervisedInformer<SecretJson>({
      ...base,
      name: 'bitnami-key-secrets',
      path: `/api/v1/namespaces/${options.keyNamespace}/secrets`,
      labelSelector: BITNAMI_KEY_SELECTOR,
      resyncMs: 0,
      logger: logger.child({ component: 'informer' }),
      handlers: { add: (s) => keys.upsert(s), update: (_old, s) => keys.upsert(s), delete: (s) => keys.remove(s) },
    });
    this.queue = new WorkQueue({
      concurrency: options.concurrency,
      backoff: options.queueBackoff,
      onError: (key, e) => logger.error('reconcile threw', { object: key, apiVersion: 'bitnami.com/v1alpha1', error: (e as Error).message }),
      ...(options.onDepth === undefined ? {} : { onDepth: options.onDepth }),
    });
    this.reconciler = new Reconciler({ ...options.reconciler, sealedSecrets: this.objects, secrets: NO_SECRET_CACHE, flavour: 'bitnami' });
  }

  start(): void {
    this.keySecrets.start();
    this.objects.start();
  }

  /** Both informers listed. */
  get synced(): boolean {
    return this.objects.synced && this.keySecrets.synced;
  }

  waitForSync(): Promise<void> {
    return Promise.all([this.objects.waitForSync(), this.keySecrets.waitForSync()]).then(() => undefined);
  }

  /** Starts reconciling every adopted object (the caller waited for every cache). */
  startLeading(): void {
    for (const obj of this.objects.list()) this.queue.add(objectKey(obj));
    this.queue.start(async (key) => (this.options.leading() ? (await this.reconciler.reconcile(key, this.queue.retries(key))).requeue : 'no'));
  }

  stopLeading(): Promise<void> {
    return this.queue.stop();
  }

  /** Requeues the objects a new key may open. */
  keysChanged(): void {
    if (this.options.leading()) for (const key of this.reconciler.takeAwaitingKeys()) this.queue.add(key);
  }

  get idle(): boolean {
    return this.synced && this.queue.idle;
  }

  get size(): number {
    return this.objects.size;
  }

  stop(): Promise<void> {
    return Promise.all([this.objects.stop(), this.keySecrets.stop()]).then(() => undefined);
  }
}
