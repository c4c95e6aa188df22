/**
 * How many unseal workers to start by default: one per core the pod may use. A container's CPU
 * limit is a cgroup quota, which `os.availableParallelism()` does not see (it counts the node's
 * cores), so a controller with `limits.cpu: 1` on a 16-core node would start 16 worker isolates
 * (each about 6 MiB of RSS idle, measured) that can never run at once. The quota is read from
 * cgroup v2 (`cpu.max`) or v1 (`cpu.cfs_quota_us` / `cpu.cfs_period_us`).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Reads a file as text, or undefined when it cannot be read. */
export type ReadText = (path: string) => string | undefined;

const readText: ReadText = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** The CPU quota in cores (1.5 for `150000 100000`), or undefined when there is none or it cannot be read. */
export function cpuQuotaCores(read: ReadText = readText): number | undefined {
  const v2 = read('/sys/fs/cgroup/cpu.max')?.trim().split(/\s+/);
  if (v2 !== undefined) return quota(v2[0], v2[1]);
  for (const dir of ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct']) {
    const q = read(`${dir}/cpu.cfs_quota_us`)?.trim();
    if (q !== undefined) return quota(q, read(`${dir}/cpu.cfs_period_us`)?.trim());
  }
  return undefined;
}

function quota(q: string | undefined, period: string | undefined): number | undefined {
  const cores = Number(q) / Number(period);
  return Number.isFinite(cores) && cores > 0 ? cores : undefined;
}

/**
 * The default number of unseal workers: the cores, capped by the CPU quota rounded down (the main
 * thread needs its share too), at least 1.
 */
export function defaultUnsealWorkers(cores = availableParallelism(), quotaCores = cpuQuotaCores()): number {
  return Math.max(1, Math.min(cores, Math.floor(quotaCores ?? cores)));
}
