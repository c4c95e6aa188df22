/**
 * Leader election on a `coordination.k8s.io/v1` Lease, the way client-go's leaderelection does it, so
 * several replicas can run (Bitnami #62) and exactly one reconciles and generates keys:
 *
 * - a candidate takes the Lease when it does not exist, has no holder, or its record has not changed
 *   for `leaseDurationMs` as observed on the candidate's own clock (no clock-skew trust in renewTime);
 * - the leader renews every `retryPeriodMs`; when no renewal succeeded for `renewDeadlineMs` it stops
 *   leading (before the lease can expire for others, since renewDeadline < leaseDuration);
 * - every write carries the resourceVersion it read (optimistic concurrency): two candidates cannot
 *   both take the Lease;
 * - `stop()` releases a held Lease like client-go's ReleaseOnCancel (empty holder, 1 s duration), so
 *   another replica takes over at once instead of after the lease duration.
 *
 * For sharded reconciling (controller/shard-coordinator.ts) the same loop runs once per shard Lease,
 * with two additions: `mayAcquire` gates taking a free or expired Lease (a replica at its fair share
 * only renews), and `handOver()` gives a held Lease up on purpose once the work under it is drained.
 * Another replica asks for a Lease by writing the `kseal.dev/shard-wanted-by` annotation on it; the
 * holder sees it in `observation()`, and whoever takes the Lease next clears it.
 *
 * Times are written as V1MicroTime (six fractional digits), which the real API server requires.
 * Each API call is bounded by `retryPeriodMs`, so a hung connection cannot stretch a term.
 */
import { V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import { sleep } from '../net/backoff.js';
import { statusOf, type KubeApi } from './kube-client.js';
import type { Logger } from './logger.js';

export interface LeaderElectionOptions {
  readonly api: Pick<KubeApi, 'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'>;
  readonly namespace: string;
  readonly name: string;
  /** This replica's identity (unique per process). */
  readonly identity: string;
  /** Default 15 s. */
  readonly leaseDurationMs: number;
  /** Default 10 s. */
  readonly renewDeadlineMs: number;
  /** Default 2 s. */
  readonly retryPeriodMs: number;
  readonly logger: Logger;
  readonly onStartedLeading: () => void;
  /** Called when leadership ends; `handOver()` waits for the promise it returns before releasing. */
  readonly onStoppedLeading: () => void | Promise<void>;
  /** When set and false, a free or expired Lease is left alone (a held one is still renewed). */
  readonly mayAcquire?: () => boolean;
  /**
   * Annotations written on the Lease whenever this replica creates, takes or renews it (what the
   * holder is: the main Lease carries SHARDS_ANNOTATION, read by controller/shard-conflicts.ts).
   */
  readonly annotations?: Readonly<Record<string, string>>;
}

/** On the main Lease: the holder's --shards value ("1": it reconciles every object itself). */
export const SHARDS_ANNOTATION = 'kseal.dev/shards';

/** Annotation by which a replica asks the holder of a shard Lease to hand it over. */
export const WANTED_BY_ANNOTATION = 'kseal.dev/shard-wanted-by';
/** When the request was made (RFC 3339); requests older than the lease duration are ignored. */
export const WANTED_AT_ANNOTATION = 'kseal.dev/shard-wanted-at';

/** What the last read of the Lease showed. */
export interface LeaseObservation {
  /** The holder, when the Lease is held and not expired (by this replica's clock). */
  readonly holder: string | undefined;
  /** A replica that asked for the Lease within the lease duration. */
  readonly wantedBy: string | undefined;
  /** The Lease as read (for writing a request on it). */
  readonly lease: V1Lease | undefined;
}

/** Runs the election loop (see the module comment). */
export class LeaderElector {
  private leading = false;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly stopController = new AbortController();
  /** The lease as last read or written, and when (local clock) its record last changed. */
  private observed: V1Lease | undefined;
  private observedAt = 0;
  private lastRenew = 0;
  /** The last read showed another holder. */
  private takenByOther = false;
  /** A hand-over is draining or releasing: the loop makes no attempt meanwhile. */
  private handingOver = false;
  /** Hand-overs begun so far: an attempt that was in flight when one began must not lead again. */
  private handOvers = 0;
  /** The attempt in flight, which a hand-over waits for before it releases the Lease. */
  private attempt: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: LeaderElectionOptions) {}

  /** True while this replica holds the lease. */
  isLeader(): boolean {
    return this.leading;
  }

  /** The Lease's holder and hand-over request as last read (see LeaseObservation). */
  observation(): LeaseObservation {
    const lease = this.observed;
    const spec = lease?.spec;
    const holder = spec?.holderIdentity ?? '';
    const durationMs = (spec?.leaseDurationSeconds ?? 0) * 1000;
    const held = holder !== '' && (holder === this.options.identity ? this.leading : this.observedAt + durationMs > Date.now());
    const annotations = lease?.metadata?.annotations ?? {};
    const wantedBy = annotations[WANTED_BY_ANNOTATION];
    const wantedAt = Date.parse(annotations[WANTED_AT_ANNOTATION] ?? '');
    const fresh = wantedBy !== undefined && wantedBy !== '' && Number.isFinite(wantedAt) && Math.abs(Date.now() - wantedAt) < this.options.leaseDurationMs;
    return { holder: held ? holder : undefined, wantedBy: fresh ? wantedBy : undefined, lease };
  }

  /**
   * Gives a held Lease up on purpose: leadership ends (onStoppedLeading, awaited), then the Lease is
   * released so the replica that asked for it can take it at once. Campaigning goes on afterwards,
   * gated by `mayAcquire`.
   */
  async handOver(): Promise<void> {
    if (!this.leading || this.handingOver) return;
    this.handingOver = true;
    this.handOvers++;
    try {
      this.leading = false;
      this.options.logger.info('handing lease over', { lease: `${this.options.namespace}/${this.options.name}`, identity: this.options.identity });
      await this.options.onStoppedLeading();
      // A renewal in flight must land before the release reads the Lease (or the release would
      // conflict), and must not make this replica lead again (the loop checks handOvers).
      await this.bounded(this.attempt).catch(() => undefined);
      await this.release();
    } finally {
      this.handingOver = false;
    }
  }

  /** Starts campaigning in the background. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops campaigning; a held lease is given up (onStoppedLeading runs) and released when `release`. */
  async stop(release = true): Promise<void> {
    this.stopped = true;
    this.stopController.abort();
    await this.loop;
    if (this.leading) {
      this.leading = false;
      // Work under the lease is drained before the lease is released.
      await this.options.onStoppedLeading();
      if (release) await this.release();
    }
  }

  private async run(): Promise<void> {
    const { retryPeriodMs, renewDeadlineMs, logger } = this.options;
    while (!this.stopped) {
      let ok = false;
      if (this.handingOver) {
        await sleep(retryPeriodMs, this.stopController.signal);
        continue;
      }
      const handOvers = this.handOvers;
      try {
        const attempt = this.tryAcquireOrRenew();
        this.attempt = attempt.catch(() => undefined);
        ok = await this.bounded(attempt);
      } catch (e) {
        logger.debug('lease attempt failed', { error: (e as Error).message });
      }
      if (this.stopped) break;
      // A hand-over began while the attempt was in flight: its result is not a term to lead in.
      if (handOvers !== this.handOvers) continue;
      const now = Date.now();
      if (ok) {
        this.lastRenew = now;
        if (!this.leading) {
          this.leading = true;
          logger.info('became leader', { lease: `${this.options.namespace}/${this.options.name}`, identity: this.options.identity });
          this.options.onStartedLeading();
        }
      } else if (this.leading && (this.takenByOther || now - this.lastRenew > renewDeadlineMs)) {
        this.leading = false;
        logger.warn(this.takenByOther ? 'lost leadership (another replica holds the lease)' : 'lost leadership (lease not renewed in time)', { identity: this.options.identity });
        // Not awaited: the lease may already be someone else's, and the loop must keep campaigning.
        void this.options.onStoppedLeading();
      }
      // client-go: JitterUntil(retryPeriod, 1.2) while acquiring; a fixed period while renewing.
      await sleep(this.leading ? retryPeriodMs : retryPeriodMs * (1 + 0.2 * Math.random()), this.stopController.signal);
    }
  }

  /** One attempt; true when this replica holds the lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { api, namespace, name, identity, leaseDurationMs } = this.options;
    const now = new Date();
    const seconds = Math.max(1, Math.round(leaseDurationMs / 1000));
    const current = await api.readNamespacedLease(namespace, name);
    this.takenByOther = false;
    if (current === undefined) {
      if (!(this.options.mayAcquire?.() ?? true)) return false;
      try {
        this.observed = await api.createNamespacedLease(namespace, {
          metadata: { name, namespace, ...(this.options.annotations === undefined ? {} : { annotations: { ...this.options.annotations } }) },
          spec: { holderIdentity: identity, leaseDurationSeconds: seconds, acquireTime: new V1MicroTime(now.getTime()), renewTime: new V1MicroTime(now.getTime()), leaseTransitions: 0 },
        });
        this.observedAt = Date.now();
        return true;
      } catch (e) {
        if (statusOf(e) === 409) return false;
        throw e;
      }
    }
    if (this.recordChanged(current)) this.observedAt = Date.now();
    this.observed = current;
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const duration = (spec.leaseDurationSeconds ?? seconds) * 1000;
    if (holder !== '' && holder !== identity && this.observedAt + duration > Date.now()) {
      this.takenByOther = true;
      return false;
    }
    const ours = holder === identity && this.leading;
    if (!ours && !(this.options.mayAcquire?.() ?? true)) return false;
    const body: V1Lease = {
      ...current,
      // Taking the Lease answers any hand-over request on it.
      metadata: withAnnotations(ours ? (current.metadata ?? {}) : withoutRequest(current.metadata), this.options.annotations),
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: seconds,
        acquireTime: new V1MicroTime((ours ? timeOf(spec.acquireTime) : undefined) ?? now.getTime()),
        renewTime: new V1MicroTime(now.getTime()),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (ours ? 0 : 1),
      },
    };
    try {
      this.observed = await api.replaceNamespacedLease(namespace, name, body);
      this.observedAt = Date.now();
      return true;
    } catch (e) {
      if (statusOf(e) === 409) return false;
      throw e;
    }
  }

  /**
   * Whether the election record changed (client-go compares the record, not the resourceVersion): a
   * hand-over request written on the Lease must not make a dead holder look alive.
   */
  private recordChanged(lease: V1Lease): boolean {
    const before = this.observed?.spec;
    const after = lease.spec;
    return (
      this.observed === undefined ||
      before?.holderIdentity !== after?.holderIdentity ||
      timeOf(before?.renewTime) !== timeOf(after?.renewTime) ||
      before?.leaseTransitions !== after?.leaseTransitions
    );
  }

  /** Gives the lease up (empty holder, 1 s duration), if this replica still holds it. */
  private async release(): Promise<void> {
    const { api, namespace, name, identity, logger } = this.options;
    try {
      const current = await this.bounded(api.readNamespacedLease(namespace, name));
      if (current?.spec?.holderIdentity !== identity) return;
      const now = new V1MicroTime(Date.now());
      await this.bounded(
        api.replaceNamespacedLease(namespace, name, {
          ...current,
          metadata: withoutRequest(current.metadata),
          spec: { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: current.spec.leaseTransitions ?? 0 },
        }),
      );
      logger.info('lease released', { lease: `${namespace}/${name}` });
    } catch (e) {
      logger.warn('lease not released', { error: (e as Error).message });
    }
  }

  /** Races `p` against the retry period, so a hung request cannot stretch a term. */
  private bounded<T>(p: Promise<T>): Promise<T> {
    const limit = Math.max(this.options.retryPeriodMs, 1000);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`lease request took longer than ${limit} ms`)), limit);
      p.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }
}

/** Lease metadata with `annotations` set over its own (unchanged when there are none). */
function withAnnotations(metadata: NonNullable<V1Lease['metadata']>, annotations: Readonly<Record<string, string>> | undefined): NonNullable<V1Lease['metadata']> {
  if (annotations === undefined) return metadata;
  return { ...metadata, annotations: { ...metadata.annotations, ...annotations } };
}

/** Lease metadata without the hand-over request annotations. */
function withoutRequest(metadata: V1Lease['metadata']): NonNullable<V1Lease['metadata']> {
  if (metadata === undefined) return {};
  const annotations = metadata.annotations;
  if (annotations === undefined || (annotations[WANTED_BY_ANNOTATION] === undefined && annotations[WANTED_AT_ANNOTATION] === undefined)) return metadata;
  const rest = Object.fromEntries(Object.entries(annotations).filter(([k]) => k !== WANTED_BY_ANNOTATION && k !== WANTED_AT_ANNOTATION));
  return { ...metadata, annotations: rest };
}

/**
 * A Lease time in ms. client-node 1.4 has no deserializer for V1MicroTime, so times read back arrive
 * as strings despite the Date type.
 */
export function timeOf(value: Date | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
