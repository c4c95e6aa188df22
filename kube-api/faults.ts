/**
 * Fault injection controlled from tests (in-process, or over HTTP through the admin endpoint):
 * fail the next N matching requests with a status, add latency, end or reset open watches,
 * compact history (older watches/continue tokens get 410), and answer a seeded fraction of
 * updates with 409 Conflict.
 */
import { ApiError, reasonForCode } from './errors.js';
import type { JsonObject } from './json.js';

/** What a failure rule matches and answers. */
export interface FailSpec {
  /** HTTP method (case-insensitive); any when omitted. */
  method?: string | undefined;
  /** Regular expression (or its source) tested against the request path and query; any when omitted. */
  path?: RegExp | string | undefined;
  /** HTTP status to answer (a Status body with the matching reason). */
  status: number;
  /** How many matching requests fail (default 1). */
  count?: number | undefined;
  reason?: string | undefined;
  message?: string | undefined;
  /** Sets details.retryAfterSeconds and the Retry-After header (429/503/504). */
  retryAfterSeconds?: number | undefined;
}

/** A latency rule. */
export interface LatencySpec {
  ms: number;
  method?: string | undefined;
  path?: RegExp | string | undefined;
  /** How many matching requests are delayed; unlimited when omitted. */
  count?: number | undefined;
}

interface Rule {
  method: string | undefined;
  path: RegExp | undefined;
  remaining: number;
}

interface FailRule extends Rule {
  status: number;
  reason: string | undefined;
  message: string | undefined;
  retryAfterSeconds: number | undefined;
}

interface LatencyRule extends Rule {
  ms: number;
}

/** What the server does for watches and history; supplied by the server. */
export interface FaultTargets {
  endWatches(): number;
  resetWatches(): number;
  compact(): void;
  sendBookmarks(): number;
}

function toRegExp(p: RegExp | string | undefined): RegExp | undefined {
  if (p === undefined) return undefined;
  return typeof p === 'string' ? new RegExp(p) : p;
}

function matches(rule: Rule, method: string, url: string): boolean {
  if (rule.method && rule.method.toUpperCase() !== method.toUpperCase()) return false;
  if (rule.path && !rule.path.test(url)) return false;
  return true;
}

/** mulberry32: a small seeded PRNG so injected conflicts are reproducible. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The fault-injection controls. */
export class Faults {
  private failRules: FailRule[] = [];
  private latencyRules: LatencyRule[] = [];
  private fixedLatencyMs = 0;
  private conflictFraction = 0;
  private conflictSeed = 1;
  private random: () => number = mulberry32(1);
  /** How many faults were injected (failures + conflicts). */
  injected = 0;

  constructor(private readonly targets: FaultTargets) {}

  /** Fails the next `count` (default 1) requests matching method/path with `status`. */
  failNext(spec: FailSpec): void {
    this.failRules.push({
      method: spec.method,
      path: toRegExp(spec.path),
      remaining: spec.count ?? 1,
      status: spec.status,
      reason: spec.reason,
      message: spec.message,
      retryAfterSeconds: spec.retryAfterSeconds,
    });
  }

  /** Delays matching requests by `ms` (for `count` requests, or until cleared). */
  addLatency(spec: LatencySpec): void {
    this.latencyRules.push({ method: spec.method, path: toRegExp(spec.path), remaining: spec.count ?? Infinity, ms: spec.ms });
  }

  /** Delays every request by `ms` (0 turns it off). */
  setLatency(ms: number): void {
    this.fixedLatencyMs = Math.max(0, ms);
  }

  /** Answers a fraction (0..1) of PUT/PATCH requests with 409 Conflict, drawn from a PRNG seeded with `seed`. */
  setConflictRate(fraction: number, seed = 1): void {
    this.conflictFraction = Math.min(1, Math.max(0, fraction));
    this.conflictSeed = seed;
    this.random = mulberry32(seed);
  }

  /** Ends every open watch cleanly (clients see the stream close and re-watch). */
  endWatches(): number {
    return this.targets.endWatches();
  }

  /** Destroys the socket of every open watch (clients see a connection reset). */
  resetWatches(): number {
    return this.targets.resetWatches();
  }

  /** Drops kept history: watches and continue tokens from older resourceVersions get 410 Expired. */
  compact(): void {
    this.targets.compact();
  }

  /** Sends a BOOKMARK now on every watch that allowed bookmarks. */
  sendBookmarks(): number {
    return this.targets.sendBookmarks();
  }

  /** Removes every rule, latency and conflict rate. */
  clear(): void {
    this.failRules = [];
    this.latencyRules = [];
    this.fixedLatencyMs = 0;
    this.setConflictRate(0, 1);
  }

  /** The current rules, as JSON. */
  describe(): JsonObject {
    return {
      fail: this.failRules.map((r) => ({ method: r.method ?? null, path: r.path?.source ?? null, status: r.status, remaining: r.remaining })),
      latency: this.latencyRules.map((r) => ({ method: r.method ?? null, path: r.path?.source ?? null, ms: r.ms, remaining: Number.isFinite(r.remaining) ? r.remaining : null })),
      fixedLatencyMs: this.fixedLatencyMs,
      conflictRate: this.conflictFraction,
      conflictSeed: this.conflictSeed,
      injected: this.injected,
    };
  }

  /** The delay for a request (consumes matching latency rules). */
  latencyFor(method: string, url: string): number {
    let ms = this.fixedLatencyMs;
    for (const r of this.latencyRules) {
      if (r.remaining <= 0 || !matches(r, method, url)) continue;
      r.remaining--;
      ms += r.ms;
    }
    this.latencyRules = this.latencyRules.filter((r) => r.remaining > 0);
    return ms;
  }

  /** The injected failure for a request, if a rule matches (consumes it). */
  failureFor(method: string, url: string): ApiError | undefined {
    const rule = this.failRules.find((r) => r.remaining > 0 && matches(r, method, url));
    if (!rule) return undefined;
    rule.remaining--;
    this.failRules = this.failRules.filter((r) => r.remaining > 0);
    this.injected++;
    const { reason, message } = reasonForCode(rule.status);
    return new ApiError(
      rule.status,
      rule.reason ?? reason,
      rule.message ?? message,
      rule.retryAfterSeconds !== undefined ? { retryAfterSeconds: rule.retryAfterSeconds } : undefined,
    );
  }

  /** True when this update should be answered with an injected 409. */
  conflictFor(method: string): boolean {
    if (this.conflictFraction <= 0) return false;
    if (method !== 'PUT' && method !== 'PATCH') return false;
    const hit = this.random() < this.conflictFraction;
    if (hit) this.injected++;
    return hit;
  }
}
