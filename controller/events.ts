/**
 * Kubernetes Events about SealedSecrets (core v1, what `kubectl describe` and `kubectl events` show):
 * `Normal Unsealed`, `Warning DecryptFailed`, `Warning SecretConflict`...
 *
 * Never a storm: a repeat of the same reason and message for the same object within `windowMs` is
 * aggregated into the first Event (its `count` and `lastTimestamp`), and that Event is patched at
 * most once per `minPatchIntervalMs`. Sending is fire-and-forget: an Event that cannot be written is
 * logged at debug level and never fails or slows a reconcile. Messages come from the reconciler and
 * name keys and reasons, never values.
 */
import { randomBytes } from 'node:crypto';
import type { CoreV1Event } from '@kubernetes/client-node';
import type { KubeApi, KubeObject } from './kube-client.js';
import type { Logger } from './logger.js';
import type { ControllerMetrics } from './metrics.js';
import { KSEAL_API_VERSION } from '../src/wire.js';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  readonly api: Pick<KubeApi, 'createNamespacedEvent' | 'patchNamespacedEvent'>;
  readonly logger: Logger;
  readonly metrics?: ControllerMetrics;
  /** This replica's identity (reportingInstance). */
  readonly instance: string;
  /** Repeats within this window join the first Event (default 10 min). */
  readonly windowMs?: number;
  /** At most one patch of a repeated Event per this interval (default 30 s). */
  readonly minPatchIntervalMs?: number;
  /** Most objects remembered (default 10,000; the oldest are forgotten first). */
  readonly maxEntries?: number;
  readonly now?: () => Date;
}

interface Entry {
  readonly namespace: string;
  readonly eventName: string;
  readonly first: number;
  count: number;
  /** Count the API server has. */
  sentCount: number;
  lastPatch: number;
  /** The create is still in flight (patches wait for it). */
  creating: Promise<boolean>;
}

const COMPONENT = 'kseal-controller';

/** Records Events with aggregation (see the module comment). */
export class EventRecorder {
  private readonly entries = new Map<string, Entry>();
  private readonly windowMs: number;
  private readonly minPatchIntervalMs: number;
  private readonly maxEntries: number;
  private readonly now: () => Date;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly options: EventRecorderOptions) {
    this.windowMs = options.windowMs ?? 600_000;
    this.minPatchIntervalMs = options.minPatchIntervalMs ?? 30_000;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? (() => new Date());
  }

  /** Records an Event about `obj`. */
  record(obj: KubeObject, type: EventType, reason: string, message: string): void {
    const namespace = obj.metadata.namespace ?? 'default';
    const id = `${obj.metadata.uid ?? `${namespace}/${obj.metadata.name}`}\0${type}\0${reason}\0${message}`;
    const now = this.now();
    const existing = this.entries.get(id);
    if (existing !== undefined && now.getTime() - existing.first < this.windowMs) {
      existing.count++;
      if (now.getTime() - existing.lastPatch >= this.minPatchIntervalMs) this.track(this.patch(existing, now));
      return;
    }
    if (existing !== undefined) this.entries.delete(id);
    const eventName = `${obj.metadata.name}.${now.getTime().toString(16)}${randomBytes(4).toString('hex')}`;
    const time = new Date(Math.floor(now.getTime() / 1000) * 1000);
    const body: CoreV1Event = {
      metadata: { name: eventName, namespace },
      involvedObject: {
        apiVersion: obj.apiVersion ?? KSEAL_API_VERSION,
        kind: obj.kind ?? 'SealedSecret',
        name: obj.metadata.name,
        namespace,
        ...(obj.metadata.uid === undefined ? {} : { uid: obj.metadata.uid }),
        ...(obj.metadata.resourceVersion === undefined ? {} : { resourceVersion: obj.metadata.resourceVersion }),
      },
      type,
      reason,
      message,
      count: 1,
      firstTimestamp: time,
      lastTimestamp: time,
      source: { component: COMPONENT },
      reportingComponent: `kseal.dev/${COMPONENT}`,
      reportingInstance: this.options.instance,
    };
    const creating = this.options.api.createNamespacedEvent(namespace, body).then(
      () => {
        this.options.metrics?.apiWrites.inc({ verb: 'create', resource: 'events' });
        return true;
      },
      (e: unknown) => {
        this.options.logger.debug('event not recorded', { reason, object: `${namespace}/${obj.metadata.name}`, error: (e as Error).message });
        this.entries.delete(id);
        return false;
      },
    );
    const entry: Entry = { namespace, eventName, first: now.getTime(), count: 1, sentCount: 1, lastPatch: now.getTime(), creating };
    this.entries.set(id, entry);
    this.track(creating);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  /** Forgets the aggregation state of an object (when it is deleted). */
  forget(uid: string | undefined): void {
    if (uid === undefined) return;
    for (const id of [...this.entries.keys()]) if (id.startsWith(`${uid}\0`)) this.entries.delete(id);
  }

  /** Resolves when every Event in flight has been sent (or has failed). */
  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async patch(entry: Entry, now: Date): Promise<void> {
    entry.lastPatch = now.getTime();
    if (!(await entry.creating)) return;
    if (entry.count === entry.sentCount) return;
    const count = entry.count;
    try {
      await this.options.api.patchNamespacedEvent(entry.namespace, entry.eventName, { count, lastTimestamp: `${now.toISOString().slice(0, 19)}Z` });
      entry.sentCount = Math.max(entry.sentCount, count);
      this.options.metrics?.apiWrites.inc({ verb: 'patch', resource: 'events' });
    } catch (e) {
      this.options.logger.debug('event count not updated', { event: entry.eventName, error: (e as Error).message });
    }
  }

  private track(p: Promise<unknown>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }
}
