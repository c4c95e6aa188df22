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
import { randomFillSync } from 'node:crypto';
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

/** One Event sent about an object, kept to aggregate its repeats (compact: see `signature`). */
interface Entry {
  /** `signature()` of type, reason and message. */
  readonly signature: number;
  readonly namespace: string;
  readonly eventName: string;
  readonly first: number;
  count: number;
  /** Count the API server has. */
  sentCount: number;
  lastPatch: number;
  /** Whether the create succeeded; a promise while it is in flight (patches wait for it). */
  created: boolean | Promise<boolean>;
}

/**
 * A 53-bit digest of an Event's type, reason and message: what makes a repeat, in 8 bytes. Only the
 * Events of one object are compared, and a collision only joins two Events into one count, so a fast
 * non-cryptographic hash (cyrb53: two 32-bit multiply-xorshift lanes) does; a SHA-256 per Event cost
 * the main thread more than the rest of the recorder during a cold sync (issue 15 profile).
 */
export function signature(type: string, reason: string, message: string): number {
  const text = `${type}\0${reason}\0${message}`;
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** Random bytes for Event names, drawn from one buffer refilled every 64 names (one call into OpenSSL each). */
const randomPool = Buffer.alloc(256);
let randomAt = randomPool.length;

/** 8 random hex digits (the part of an Event's name that keeps replicas' names apart). */
function randomHex8(): string {
  if (randomAt + 4 > randomPool.length) {
    randomFillSync(randomPool);
    randomAt = 0;
  }
  const hex = randomPool.toString('hex', randomAt, randomAt + 4);
  randomAt += 4;
  return hex;
}

const COMPONENT = 'kseal-controller';

/** Records Events with aggregation (see the module comment). */
export class EventRecorder {
  /** By object uid (else `namespace/name`), oldest object first. */
  private readonly entries = new Map<string, Entry[]>();
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
    const id = obj.metadata.uid ?? `${namespace}/${obj.metadata.name}`;
    const sig = signature(type, reason, message);
    const now = this.now();
    const list = this.entries.get(id);
    const at = list?.findIndex((e) => e.signature === sig) ?? -1;
    const existing = at < 0 ? undefined : list?.[at];
    if (existing !== undefined && now.getTime() - existing.first < this.windowMs) {
      existing.count++;
      if (now.getTime() - existing.lastPatch >= this.minPatchIntervalMs) this.track(this.patch(existing, now));
      return;
    }
    if (existing !== undefined) list?.splice(at, 1);
    const eventName = `${obj.metadata.name}.${now.getTime().toString(16)}${randomHex8()}`;
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
    const entry: Entry = { signature: sig, namespace, eventName, first: now.getTime(), count: 1, sentCount: 1, lastPatch: now.getTime(), created: true };
    const remove = (): void => {
      const entries = this.entries.get(id);
      const i = entries?.indexOf(entry) ?? -1;
      if (entries === undefined || i < 0) return;
      entries.splice(i, 1);
      if (entries.length === 0) this.entries.delete(id);
    };
    entry.created = this.options.api.createNamespacedEvent(namespace, body).then(
      () => {
        this.options.metrics?.apiWrites.inc({ verb: 'create', resource: 'events' });
        entry.created = true;
        return true;
      },
      (e: unknown) => {
        this.options.logger.debug('event not recorded', { reason, object: `${namespace}/${obj.metadata.name}`, error: (e as Error).message });
        entry.created = false;
        remove();
        return false;
      },
    );
    this.track(entry.created);
    // Most recently recorded object last (the oldest is forgotten first).
    this.entries.delete(id);
    this.entries.set(id, [...(list ?? []), entry]);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  /** Forgets the aggregation state of an object (when it is deleted). */
  forget(uid: string | undefined): void {
    if (uid === undefined) return;
    this.entries.delete(uid);
  }

  /** Resolves when every Event in flight has been sent (or has failed). */
  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async patch(entry: Entry, now: Date): Promise<void> {
    entry.lastPatch = now.getTime();
    if (!(await entry.created)) return;
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
