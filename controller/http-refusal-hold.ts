/**
 * Refused verify/rotate requests (503 BUSY, 429 before the body) are answered after a short hold
 * instead of at once, with the connection's reading stopped meanwhile, so the body is never read.
 *
 * Why: a client that ignores Retry-After comes back the moment it is refused. Under the abuse bench
 * (workload 22) 16 such clients made the controller refuse about 200 requests a second; each new
 * connection costs the main thread an accept, a header parse, the first 64 KiB read of its body and a
 * response, and the garbage of those reads brought full GCs that held /healthz for 50-150 ms. Holding
 * each refusal for `holdMs` bounds what a client with N connections can make the controller do to
 * N refusals per hold. At most `max` refusals are held at once (each holds a socket and at most its
 * kernel receive buffer); beyond that they are answered at once, as before. A client that leaves
 * during the hold frees its place; answers still carry Retry-After.
 */
import type { ServerResponse } from 'node:http';
import type { Gauge } from 'prom-client';

/** Default hold of a refusal (ms) and most refusals held at once. */
export const DEFAULT_REFUSAL_HOLD_MS = 1_000;
export const DEFAULT_MAX_HELD_REFUSALS = 64;

/** Holds refusals (module comment). */
export class RefusalHold {
  private held = 0;

  constructor(
    private readonly holdMs: number,
    private readonly max: number,
    private readonly gauge?: Gauge,
  ) {}

  /** Refusals held now. */
  get count(): number {
    return this.held;
  }

  /** Calls `answer` after the hold (not at all if the client left meanwhile), or at once when `max` are held or the hold is 0. */
  refuse(res: ServerResponse, answer: () => void): void {
    if (this.holdMs <= 0 || this.held >= this.max) return answer();
    this.held++;
    this.gauge?.inc();
    // Stop reading: the body waits in the kernel, and is dropped with the connection after the answer.
    res.req.socket.pause();
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      clearTimeout(timer);
      this.held--;
      this.gauge?.dec();
    };
    const timer = setTimeout(() => {
      release();
      if (!res.destroyed && !res.writableEnded) answer();
    }, this.holdMs);
    res.once('close', release);
  }
}
