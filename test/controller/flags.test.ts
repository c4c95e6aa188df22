import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../controller/durations.js';
import { parseFlags } from '../../controller/main.js';

describe('parseDuration', () => {
  it('reads Go-style durations and days', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('15s')).toBe(15_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('30d')).toBe(2_592_000_000);
    expect(parseDuration('0')).toBe(0);
  });

  it('refuses anything else', () => {
    expect(() => parseDuration('10')).toThrow(/invalid duration/);
    expect(() => parseDuration('5 minutes')).toThrow(/invalid duration/);
    expect(() => parseDuration('')).toThrow(/invalid duration/);
  });
});

describe('parseFlags', () => {
  it('defaults to production values: 4096-bit keys, 30-day renewal, 10-minute resync, 15/10/2 s election', () => {
    const f = parseFlags([], {});
    expect(f).toMatchObject({
      namespace: 'kseal-system',
      keySize: 4096,
      keyRenewPeriod: 30 * 86_400_000,
      resyncPeriod: 600_000,
      leaseDuration: 15_000,
      renewDeadline: 10_000,
      retryPeriod: 2_000,
      leaderElect: true,
      port: 8080,
      metricsPort: 8081,
    });
  });

  it('takes the namespace from POD_NAMESPACE unless --namespace is given', () => {
    expect(parseFlags([], { POD_NAMESPACE: 'sealing' }).namespace).toBe('sealing');
    expect(parseFlags(['--namespace', 'x'], { POD_NAMESPACE: 'sealing' }).namespace).toBe('x');
  });

  it('reads every tuning flag', () => {
    const f = parseFlags(
      ['--key-size', '2048', '--key-renew-period', '0', '--key-cutoff-time', '2024-01-01T00:00:00Z', '--resync-period', '30s', '--no-leader-elect', '--lease-duration', '3s', '--renew-deadline', '2s', '--retry-period', '200ms', '--workers', '2', '--port', '0'],
      {},
    );
    expect(f).toMatchObject({ keySize: 2048, keyRenewPeriod: 0, resyncPeriod: 30_000, leaderElect: false, leaseDuration: 3000, renewDeadline: 2000, retryPeriod: 200, workers: 2, port: 0 });
    expect(f.keyCutoffTime?.toISOString()).toBe('2024-01-01T00:00:00.000Z');
  });

  it('reconciles unsharded unless --shards is given', () => {
    expect(parseFlags([], {}).shards).toBe(1);
    expect(parseFlags(['--shards', '12'], {}).shards).toBe(12);
  });

  it('refuses --shards without leader election, and zero shards', () => {
    expect(() => parseFlags(['--shards', '4', '--no-leader-elect'], {})).toThrow(/leader election/);
    expect(() => parseFlags(['--shards', '0'], {})).toThrow(/at least 1/);
  });

  it('rejects bad values and a renew deadline not shorter than the lease', () => {
    expect(() => parseFlags(['--resync-period', 'soon'], {})).toThrow();
    expect(() => parseFlags(['--key-cutoff-time', 'yesterday'], {})).toThrow();
    expect(() => parseFlags(['--lease-duration', '5s', '--renew-deadline', '5s'], {})).toThrow(/renew-deadline/);
  });

  it('bounds verify/rotate by default: 1 MiB bodies, 500 values, 8 in flight, 50 values/s burst 500', () => {
    expect(parseFlags([], {})).toMatchObject({ httpMaxBody: 1024 * 1024, httpMaxValues: 500, httpMaxInFlight: 8, httpValuesPerSecond: 50, httpValuesBurst: 500, httpParseTimeout: 2000 });
  });

  it('reads the HTTP limit flags and refuses zero or negative limits', () => {
    const flags = parseFlags(['--http-max-body', '2048', '--http-max-values', '10', '--http-max-in-flight', '2', '--http-values-per-second', '0.5', '--http-values-burst', '20', '--http-parse-timeout', '500ms'], {});
    expect(flags).toMatchObject({ httpMaxBody: 2048, httpMaxValues: 10, httpMaxInFlight: 2, httpValuesPerSecond: 0.5, httpValuesBurst: 20, httpParseTimeout: 500 });
    for (const bad of [['--http-max-values', '0'], ['--http-max-in-flight', '0'], ['--http-values-per-second', '0'], ['--http-values-burst', '-1'], ['--http-max-body', 'big']]) {
      expect(() => parseFlags(bad, {})).toThrow();
    }
  });

  it('gives verify/rotate a tenth of the unseal workers while reconciles wait, and reads --http-unseal-share as a fraction in (0, 1]', () => {
    expect(parseFlags([], {}).httpUnsealShare).toBe(0.1);
    expect(parseFlags(['--http-unseal-share', '0.25'], {}).httpUnsealShare).toBe(0.25);
    expect(parseFlags(['--http-unseal-share', '1'], {}).httpUnsealShare).toBe(1);
    for (const bad of ['0', '-0.1', '1.5', 'half']) expect(() => parseFlags(['--http-unseal-share', bad], {})).toThrow();
  });
});
