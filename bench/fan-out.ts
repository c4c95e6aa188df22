/**
 * Workload 4, key fan-out: 12 RSA-4096 sealing keys in the registry, as a year of monthly renewals
 * leaves them (the committed test key, NotBefore 2020, plus 11 generated with NotBefore dates 30 days
 * apart), and SealedSecrets sealed with all of them in turn (each key seals 1/12 of the objects).
 *
 * Two groups of 120 objects x 5 values, applied to a running controller one after the other: with the
 * `kseal.dev/key-id` hint kseal writes, and without it (what kubeseal and older kseal output look
 * like). Without a hint nothing says which key sealed a value: the first value of an object is tried
 * with the keys newest first, (12 + 1) / 2 tries on average; the unseal worker then tries the key that
 * opened it first for the object's other values, so 5 values cost (6.5 + 4) / 5 = 2.1 tries each.
 */
import { ControllerRun, ScaleCluster, fixedKey, generateKeys, sealObjects, type ScaleKey } from './scale.js';
import type { Figure } from './report.js';

const KEYS = 12;
const PER_GROUP = 120;
const VALUES = 5;

interface Group {
  readonly privateOps: number;
  readonly ms: number;
}

/**
 * Starts generating the 11 keys (~1-2 s of CPU each, on libuv's thread pool): the caller can let it
 * run during a workload that measures no time.
 */
export function fanOutKeys(): Promise<ScaleKey[]> {
  const keys = generateKeys(KEYS - 1, 4096, 30).then((generated) => [fixedKey(4096), ...generated]);
  keys.catch(() => undefined); // reported when awaited
  return keys;
}

/** Runs the workload; `limit` is the all-cores private-op rate of the run. */
export async function fanOutFigures(limit: number, log: (line: string) => void, keysPromise: Promise<ScaleKey[]> = fanOutKeys()): Promise<Figure[]> {
  const t0 = Date.now();
  const keys = await keysPromise;
  log(`fan-out: waited ${Date.now() - t0} ms for the ${KEYS - 1} generated RSA-4096 keys`);
  // 25 namespaces, coprime with 12 keys: no namespace is sealed with one key only.
  const cluster = await ScaleCluster.start({ namespaces: 25, keys });
  const run = new ControllerRun(cluster.kubeconfigPath, { keySize: 4096 });
  try {
    await run.waitForLog('initial sync done', 60_000);
    const keysHeld = await run.metric('kseal_keys');
    const idleRssMiB = run.rssMiB();
    const group = async (hint: boolean): Promise<Group> => {
      const { objects, refs } = sealObjects({ count: PER_GROUP, values: VALUES, namespaces: cluster.namespaces, keys, hint, prefix: hint ? 'hint' : 'nohint' });
      const opsBefore = await run.metric('kseal_private_key_operations_total');
      cluster.resetStats();
      const started = Date.now();
      cluster.load(objects);
      const readyAt = await cluster.waitReady(refs, PER_GROUP, 300_000);
      const privateOps = (await run.metric('kseal_private_key_operations_total')) - opsBefore;
      log(`fan-out: ${PER_GROUP} objects ${hint ? 'with' : 'without'} the key-id hint: ${privateOps} private ops in ${readyAt - started} ms`);
      return { privateOps, ms: readyAt - started };
    };
    const withHint = await group(true);
    const withoutHint = await group(false);
    const usage = (await run.metricSeries('kseal_key_usage')).map((s) => s.value);
    const values = PER_GROUP * VALUES;
    const row = (hint: boolean, g: Group): Figure => ({
      workload: '4 key fan-out',
      metric: `${KEYS} keys, ${PER_GROUP} x ${VALUES} values ${hint ? 'with the key-id hint' : 'without a hint (kubeseal output)'}: private ops per value`,
      value: g.privateOps / values,
      unit: '',
      target: '<= 1.1',
      met: g.privateOps / values <= 1.1,
      detail: {
        privateOps: g.privateOps,
        values,
        readyMs: g.ms,
        timeOverIdeal: Math.round((g.ms / ((g.privateOps / limit) * 1000)) * 100) / 100,
        ...(hint ? {} : { expectedWithoutHint: ((KEYS + 1) / 2 + (VALUES - 1)) / VALUES, why: 'no hint: the first value of each object tries the keys newest first, the other values the key that opened it' }),
      },
    });
    const context = { keysHeld, minObjectsPerKey: Math.min(...usage), maxObjectsPerKey: Math.max(...usage), idleRssMiB: Math.round(idleRssMiB) };
    const rows = [row(true, withHint), row(false, withoutHint)];
    return rows.map((f) => ({ ...f, detail: { ...f.detail, ...context } }));
  } finally {
    await run.stop();
    await cluster.close();
  }
}
