/**
 * Workload 22 (abuse): the controller's public endpoints under a flood while it does its real job.
 * A cold sync of 300 SealedSecrets x 5 RSA-4096 values runs twice against a fresh controller: once
 * quiet, once while 16 clients (twice the default --http-max-in-flight) post maximal bodies to
 * /v1/verify and /v1/rotate (500 sealed values each, the default --http-max-values) in a loop, and one
 * duplicate-key bomb (70,000 keys, just under 1 MiB) is sent at the start. Reported: the controller's
 * peak RSS against the Deployment's memory limit, GET /healthz p99 during the flood, and the flooded
 * cold sync against the quiet one (issue 9's targets: under the limit, < 50 ms, within 1.2x).
 *
 * The time figure is a ratio of two runs on the same machine one after the other; the flood's clients
 * and the in-repo API server share the cores with the controller, which inflates it.
 */
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { fixedKey, measureControllerScale, sealObjects, type ScaleResult } from './scale.js';
import { fmt, type Figure } from './report.js';

const COUNT = 300;
const VALUES = 5;
const CLIENTS = 16;
const FLOOD_VALUES = 500;
const BOMB_KEYS = 70_000;

/** The Deployment's container memory limit in MiB (controller/deploy/deployment.yaml). */
function deploymentMemoryLimitMiB(): number {
  const text = readFileSync(new URL('../controller/deploy/deployment.yaml', import.meta.url), 'utf8');
  const limits = /limits:\s*\n(?:\s+\w+:.*\n)*?\s+memory:\s*(\d+)Mi/.exec(text);
  return Number(limits?.[1] ?? Number.NaN);
}

/** One POST; resolves with the status (0 when the connection failed). */
function post(url: string, body: Buffer, contentType: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', headers: { 'Content-Type': contentType, 'Content-Length': body.length, Connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** A SealedSecret whose encryptedData holds BOMB_KEYS distinct keys and then a repeat. */
function duplicateKeyBomb(): Buffer {
  const lines = ['apiVersion: kseal.dev/v1alpha1', 'kind: SealedSecret', 'metadata: {name: bomb, namespace: bench-0}', 'spec:', '  encryptedData:'];
  for (let i = 0; i < BOMB_KEYS; i++) lines.push(`    k${i}: x`);
  lines.push('    k0: x');
  return Buffer.from(`${lines.join('\n')}\n`);
}

interface FloodStats {
  readonly statuses: Map<number, number>;
  bombStatus: number;
}

/** Starts the flood against `baseUrl`; stop() ends every client's loop and waits for them. */
function startFlood(baseUrl: string, body: Buffer, bomb: Buffer, stats: FloodStats): { stop(): Promise<void> } {
  let stopped = false;
  const client = async (i: number): Promise<void> => {
    const path = i % 2 === 0 ? '/v1/verify' : '/v1/rotate';
    while (!stopped) {
      const status = await post(`${baseUrl}${path}`, body, 'application/json');
      stats.statuses.set(status, (stats.statuses.get(status) ?? 0) + 1);
      // A refused client retries at once, as an attacker would (no Retry-After honoured).
      if (status === 0) await new Promise((r) => setTimeout(r, 10));
    }
  };
  const bombDone = post(`${baseUrl}/v1/verify`, bomb, 'application/yaml').then((s) => {
    stats.bombStatus = s;
  });
  const clients = Array.from({ length: CLIENTS }, (_, i) => client(i));
  return {
    async stop() {
      stopped = true;
      await Promise.all([...clients, bombDone]);
    },
  };
}

/** Runs the quiet and the flooded cold sync and reports the three figures. */
export async function abuseFigures(log: (line: string) => void): Promise<Figure[]> {
  const key = fixedKey(4096);
  const flood = sealObjects({ count: 1, values: FLOOD_VALUES, namespaces: ['bench-0'], keys: [key], prefix: 'flood' }).objects[0];
  const body = Buffer.from(JSON.stringify(flood));
  const bomb = duplicateKeyBomb();
  const scale = { count: COUNT, values: VALUES, keySize: 4096 as const, namespaces: 10, log };
  log(`abuse: quiet cold sync (${COUNT} x ${VALUES} RSA-4096)`);
  const quiet: ScaleResult = await measureControllerScale(scale);
  const stats: FloodStats = { statuses: new Map(), bombStatus: 0 };
  log(`abuse: cold sync under a flood (${CLIENTS} clients, ${FLOOD_VALUES}-value bodies of ${Math.round(body.length / 1024)} KiB, one ${Math.round(bomb.length / 1024)} KiB duplicate-key bomb)`);
  const flooded: ScaleResult = await measureControllerScale({ ...scale, duringCold: (baseUrl) => startFlood(baseUrl, body, bomb, stats) });
  const limitMiB = deploymentMemoryLimitMiB();
  const ratio = flooded.cold.readyMs / quiet.cold.readyMs;
  const healthz = flooded.cold.healthz;
  const answered = Object.fromEntries([...stats.statuses].sort(([a], [b]) => a - b).map(([s, n]) => [String(s), n]));
  const detail = { statuses: JSON.stringify(answered), bombStatus: stats.bombStatus, quietReadyMs: quiet.cold.readyMs, floodedReadyMs: flooded.cold.readyMs, quietRssPeakMiB: quiet.cold.rssPeakMiB, privateOpsFlooded: flooded.cold.privateOps };
  log(`abuse: answers ${JSON.stringify(answered)}, bomb ${stats.bombStatus}; cold sync ${quiet.cold.readyMs} ms quiet, ${flooded.cold.readyMs} ms flooded`);
  return [
    { workload: '22 abuse', metric: `controller peak RSS during the flood (Deployment limit ${limitMiB} MiB)`, value: flooded.cold.rssPeakMiB, unit: 'MiB', target: `< ${limitMiB} MiB`, met: flooded.cold.rssPeakMiB < limitMiB, detail },
    {
      workload: '22 abuse',
      metric: 'GET /healthz p99 during the flood',
      value: healthz?.p99Ms ?? Number.NaN,
      unit: 'ms',
      target: '< 50 ms',
      met: healthz !== undefined && healthz.failures === 0 && healthz.p99Ms < 50,
      detail: { samples: healthz?.samples ?? 0, failures: healthz?.failures ?? 0, maxMs: healthz?.maxMs ?? Number.NaN },
    },
    { workload: '22 abuse', metric: `cold sync under the flood / quiet cold sync (${fmt(flooded.cold.readyMs / 1000)} s / ${fmt(quiet.cold.readyMs / 1000)} s)`, value: ratio, unit: 'x', target: '<= 1.2x', met: ratio <= 1.2, detail },
  ];
}
