/**
 * Request accounting by verb and resource (for tests and benchmarks, e.g. "API requests per
 * object"), plus the bearer tokens and user agents seen.
 */

/** A point-in-time copy of the counters. */
export interface StatsSnapshot {
  total: number;
  /** get, list, watch, create, update, patch, delete, deletecollection, discovery, other. */
  byVerb: Record<string, number>;
  /** `secrets`, `sealedsecrets.kseal.dev`, `secrets/status`... → verb → count. */
  byResource: Record<string, Record<string, number>>;
  /** HTTP status → count. */
  byCode: Record<string, number>;
  tokens: string[];
  userAgents: string[];
}

/** The request counters. */
export class RequestStats {
  private total = 0;
  private byVerb = new Map<string, number>();
  private byResource = new Map<string, Map<string, number>>();
  private byCode = new Map<string, number>();
  private tokens = new Set<string>();
  private userAgents = new Set<string>();

  /** Counts one request. `resource` is '' for non-resource paths. */
  record(verb: string, resource: string, code: number): void {
    this.total++;
    this.byVerb.set(verb, (this.byVerb.get(verb) ?? 0) + 1);
    if (resource) {
      const m = this.byResource.get(resource) ?? new Map<string, number>();
      m.set(verb, (m.get(verb) ?? 0) + 1);
      this.byResource.set(resource, m);
    }
    const c = String(code);
    this.byCode.set(c, (this.byCode.get(c) ?? 0) + 1);
  }

  /** Records the caller's identity. */
  identity(token: string | undefined, userAgent: string | undefined): void {
    if (token) this.tokens.add(token);
    if (userAgent) this.userAgents.add(userAgent);
  }

  /** Requests counted for a verb and/or resource (both optional). */
  count(filter: { verb?: string; resource?: string } = {}): number {
    if (filter.resource !== undefined) {
      const m = this.byResource.get(filter.resource);
      if (!m) return 0;
      if (filter.verb !== undefined) return m.get(filter.verb) ?? 0;
      let n = 0;
      for (const v of m.values()) n += v;
      return n;
    }
    if (filter.verb !== undefined) return this.byVerb.get(filter.verb) ?? 0;
    return this.total;
  }

  /** A copy of all counters. */
  snapshot(): StatsSnapshot {
    const byResource: Record<string, Record<string, number>> = {};
    for (const [r, m] of this.byResource) byResource[r] = Object.fromEntries(m);
    return {
      total: this.total,
      byVerb: Object.fromEntries(this.byVerb),
      byResource,
      byCode: Object.fromEntries(this.byCode),
      tokens: [...this.tokens],
      userAgents: [...this.userAgents],
    };
  }

  /** Zeroes every counter. */
  reset(): void {
    this.total = 0;
    this.byVerb.clear();
    this.byResource.clear();
    this.byCode.clear();
    this.tokens.clear();
    this.userAgents.clear();
  }
}
