import { describe, expect, it } from 'vitest';
import { cpuQuotaCores, defaultUnsealWorkers, type ReadText } from '../../controller/cpu-quota.js';

const files = (entries: Record<string, string>): ReadText => (path) => entries[path];

describe('cpuQuotaCores', () => {
  it('reads a cgroup v2 quota as cores', () => {
    expect(cpuQuotaCores(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' }))).toBe(1.5);
  });

  it('finds no quota in cgroup v2 when cpu.max says max', () => {
    expect(cpuQuotaCores(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' }))).toBeUndefined();
  });

  it('reads a cgroup v1 quota and period', () => {
    expect(cpuQuotaCores(files({ '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '200000\n', '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n' }))).toBe(2);
  });

  it('finds no quota in cgroup v1 when the quota is -1', () => {
    expect(cpuQuotaCores(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' }))).toBeUndefined();
  });

  it('finds no quota when no cgroup file can be read', () => {
    expect(cpuQuotaCores(files({}))).toBeUndefined();
  });
});

describe('defaultUnsealWorkers', () => {
  it('starts one worker per core when there is no quota', () => {
    expect(defaultUnsealWorkers(16, undefined)).toBe(16);
  });

  it('starts one worker on a 16-core node when the pod may use one core', () => {
    expect(defaultUnsealWorkers(16, 1)).toBe(1);
  });

  it('rounds a fractional quota down, to at least one worker', () => {
    expect(defaultUnsealWorkers(16, 2.5)).toBe(2);
    expect(defaultUnsealWorkers(16, 0.5)).toBe(1);
  });

  it('never starts more workers than cores', () => {
    expect(defaultUnsealWorkers(2, 8)).toBe(2);
  });
});
