/**
 * Between controller workloads: this process hosts each workload's in-repo API server, so what one
 * workload leaves behind slows the next one's answers. Measured (the memory workload, then
 * start-up): the bench process began start-up with 167 MiB of heap in use against 42 MiB when
 * start-up ran alone, and used about twice the CPU per controller start (its collector working
 * through the memory workload's 20,000 dead objects while the controller fetched its keys). A heap
 * snapshot after the memory workload showed nothing of it still reachable: it was garbage not yet
 * collected. So before each workload the bench waits for every controller it started to exit and
 * collects its own heap once: the next workload starts from the same state as when it runs alone.
 * Nothing here touches a controller: the figures are about the controller, this is the harness.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { controllersExited } from './scale.js';

/** A full collection of this process's heap (`gc` exposed for this one call). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** Waits for the previous workload's controllers to exit and collects this process's garbage; returns what it did. */
export async function settleHarness(): Promise<{ heapBeforeMiB: number; heapAfterMiB: number; controllersKilled: number }> {
  const controllersKilled = await controllersExited();
  const heapBeforeMiB = process.memoryUsage().heapUsed / 2 ** 20;
  collectGarbage();
  return { heapBeforeMiB, heapAfterMiB: process.memoryUsage().heapUsed / 2 ** 20, controllersKilled };
}
