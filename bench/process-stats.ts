/**
 * What the benchmarks read about a controller process, whatever it is written in (kseal's Node
 * bundle, Bitnami's Go binary): RSS and CPU from /proc, and Prometheus metrics from its metrics
 * port. One implementation, used by bench/scale.ts (ControllerRun) and bench/peer-bitnami.ts, so
 * kseal and its peer are measured the same way.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** CPU seconds (user + system) of a /proc stat file (a process or one of its threads). */
function statCpu(path: string): number {
  try {
    const fields = readFileSync(path, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds so far of `pid`: whole process, and its main thread. */
export function processCpu(pid: number): { process: number; main: number } {
  return { process: statCpu(`/proc/${pid}/stat`), main: statCpu(`/proc/${pid}/task/${pid}/stat`) };
}

/** CPU seconds of each thread of `pid` other than the main one, largest first. */
export function otherThreadsCpu(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`)
      .filter((t) => t !== String(pid))
      .map((t) => statCpu(`/proc/${pid}/task/${t}/stat`))
      .sort((a, b) => b - a);
  } catch {
    return [];
  }
}

/** Busy CPU seconds of the whole machine so far (every core: user, nice, system, irq, softirq, steal). */
export function machineBusySeconds(): number {
  try {
    const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    return ((f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0)) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Resident set size of `pid` in MiB (VmRSS: every thread, heaps and code), 0 once it is gone. */
export function rssMiBOf(pid: number): number {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    return kb / 1024;
  } catch {
    return 0;
  }
}

/** Threads of `pid` (main, unseal workers, V8 and libuv helpers), 0 once it is gone. */
export function threadsOf(pid: number): number {
  try {
    return Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Samples `read()` every `everyMs`; stop() returns the highest value seen (including one last read). */
export function samplePeak(read: () => number, everyMs = 100): { stop(): number } {
  let peak = read();
  const timer = setInterval(() => (peak = Math.max(peak, read())), everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, read());
    },
  };
}

/** Every metric at a Prometheus text endpoint, summed over its labels. */
export async function scrapeMetrics(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(url)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = line.split(/[{ ]/)[0] as string;
    out.set(name, (out.get(name) ?? 0) + Number(line.split(' ').at(-1)));
  }
  return out;
}
