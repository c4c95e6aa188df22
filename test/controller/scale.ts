/**
 * Scale measurement (not a test: no timing decides a pass): N SealedSecrets of V values each, sealed
 * to the controller's own RSA-4096 key, applied at once to the in-repo API; measures the time until
 * all are Ready, the controller process's RSS (peak and at the end), private-key operations per value,
 * and the cost of a restart (which should be zero private operations and zero writes).
 *
 *   npx esbuild test/controller/scale.ts --bundle --platform=node --format=esm --packages=external \
 *     --outfile=dist/kseal-scale.mjs && node dist/kseal-scale.mjs [count] [values] [keySize]   (from the repo root)
 *
 * KSEAL_SCALE_NODE_ARGS passes node flags to the controller (e.g. `--cpu-prof`). The bench engineer's
 * bench/ can import `measureControllerScale`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { parseCertificate } from '../../src/crypto/certificate.js';
import { readSecret } from '../../src/model/secret.js';
import { sealSecret } from '../../src/model/sealed-secret.js';
import { startKubeApi, type JsonObject } from '../kube-api/server.js';

export interface ScaleOptions {
  readonly count?: number;
  readonly values?: number;
  readonly keySize?: number;
  readonly workers?: number;
  readonly namespaces?: number;
  readonly log?: (line: string) => void;
}

export interface ScaleResult {
  readonly count: number;
  readonly values: number;
  readonly keySize: number;
  readonly workers: number;
  /** Apply to all Ready. */
  readonly readyMs: number;
  readonly objectsPerSecond: number;
  readonly privateOps: number;
  readonly privateOpsPerValue: number;
  /** Controller CPU during the run: whole process, and its main thread (the rest is the workers). */
  readonly cpuSeconds: number;
  readonly mainThreadCpuSeconds: number;
  /** /healthz latency during the run (median, worst). */
  readonly healthzP50Ms: number;
  readonly healthzMaxMs: number;
  readonly rssPeakMiB: number;
  readonly rssEndMiB: number;
  readonly rssIdleMiB: number;
  /** Restart: start to the "initial sync done" log line. */
  readonly restartSyncMs: number;
  readonly restartPrivateOps: number;
  readonly restartSecretWrites: number;
}

/** The repository root: the working directory (run from there; the bundle lives elsewhere). */
const ROOT = `${process.cwd()}/`;
const BIN = `${ROOT}dist/kseal-controller.mjs`;

/** CPU seconds (user + system) of a process, and of its main thread. */
function cpuSeconds(pid: number): { process: number; main: number } {
  const read = (path: string): number => {
    try {
      const fields = readFileSync(path, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      return 0;
    }
  };
  return { process: read(`/proc/${pid}/stat`), main: read(`/proc/${pid}/task/${pid}/stat`) };
}

function rssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return kb / 1024;
  } catch {
    return 0;
  }
}

async function until<T>(check: () => T | Promise<T>, timeoutMs: number, what: string): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name)) sum += Number(line.split(' ').at(-1));
  return sum;
}

function startProcess(kubeconfig: string, keySize: number, workers: number): { child: ChildProcess; output: () => string } {
  const nodeArgs = (process.env.KSEAL_SCALE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, [...nodeArgs, BIN, '--kubeconfig', kubeconfig, '--namespace', 'kseal-system', '--key-size', String(keySize), '--workers', String(workers), '--port', '0', '--metrics-port', '0', '--listen-host', '127.0.0.1', '--resync-period', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let out = '';
  child.stderr?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  return { child, output: () => out };
}

function portsOf(output: string): { port: number; metricsPort: number } | undefined {
  const line = output.split('\n').find((l) => l.includes('"msg":"started"'));
  return line === undefined ? undefined : (JSON.parse(line) as { port: number; metricsPort: number });
}

/** Runs the measurement (see the module comment). */
export async function measureControllerScale(options: ScaleOptions = {}): Promise<ScaleResult> {
  const count = options.count ?? 1000;
  const values = options.values ?? 5;
  const keySize = options.keySize ?? 4096;
  const workers = options.workers ?? availableParallelism();
  const nsCount = options.namespaces ?? 10;
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const crd = parse(readFileSync(`${ROOT}controller/deploy/crd.yaml`, 'utf8')) as JsonObject;
  const namespaces = Array.from({ length: nsCount }, (_, i) => `scale-${i}`);
  const server = await startKubeApi({ namespaces: ['kseal-system', ...namespaces], objects: [crd] });
  let proc = startProcess(server.kubeconfigPath, keySize, workers);
  try {
    const ports = await until(() => portsOf(proc.output()), 30_000, 'controller start');
    const pem = await until(async () => {
      const r = await fetch(`http://127.0.0.1:${ports.port}/v1/cert.pem`).catch(() => undefined);
      return r?.status === 200 ? r.text() : undefined;
    }, 120_000, 'the sealing key');
    const cert = parseCertificate(pem);
    await until(() => proc.output().includes('"msg":"initial sync done"'), 30_000, 'initial sync');
    const rssIdleMiB = rssMiB(proc.child.pid ?? 0);
    log(`key ready (${cert.bits} bits); sealing ${count} x ${values} values`);
    const objects: JsonObject[] = [];
    for (let i = 0; i < count; i++) {
      const namespace = namespaces[i % nsCount] as string;
      const stringData: Record<string, string> = {};
      for (let v = 0; v < values; v++) stringData[`key-${v}`] = `value-${i}-${v}-${'x'.repeat(16)}`;
      const input = readSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `s-${i}`, namespace }, stringData }, {});
      objects.push(JSON.parse(JSON.stringify(sealSecret(input, cert, { scope: 'strict' }))) as JsonObject);
    }
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(proc.child.pid ?? 0))), 100);
    // Probe latency while it works: /healthz is served by the main thread, next to the reconciles.
    const probes: number[] = [];
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const t = performance.now();
        await fetch(`http://127.0.0.1:${ports.port}/healthz`).then((r) => r.text()).catch(() => undefined);
        probes.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const cpuBefore = cpuSeconds(proc.child.pid ?? 0);
    const started = Date.now();
    server.store.load(objects);
    const isReady = (o: JsonObject): boolean =>
      ((o['status'] as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
    await until(() => namespaces.every((ns) => server.store.list('kseal.dev/v1alpha1', 'SealedSecret', ns).every(isReady)), 600_000, 'all Ready');
    const readyMs = Date.now() - started;
    const cpuAfter = cpuSeconds(proc.child.pid ?? 0);
    clearInterval(sampler);
    probing = false;
    await probe;
    probes.sort((a, b) => a - b);
    const rssEndMiB = rssMiB(proc.child.pid ?? 0);
    const privateOps = await metric(ports.metricsPort, 'kseal_private_key_operations_total');
    log(`all ${count} Ready in ${readyMs} ms; RSS peak ${peak.toFixed(0)} MiB`);

    // Restart: a new process must find every Secret current (no private-key operation, no write).
    proc.child.kill('SIGTERM');
    await new Promise((r) => proc.child.once('exit', r));
    server.stats.reset();
    const restarted = Date.now();
    proc = startProcess(server.kubeconfigPath, keySize, workers);
    const ports2 = await until(() => portsOf(proc.output()), 30_000, 'controller restart');
    await until(() => proc.output().includes('"msg":"initial sync done"'), 120_000, 'initial sync after restart');
    const restartSyncMs = Date.now() - restarted;
    if (process.env.KSEAL_SCALE_DEBUG) for (const l of proc.output().split('\n')) if (l.includes('Secret written') || l.includes('"level":"warn"') || l.includes('"level":"error"')) log(l);
    const restartPrivateOps = await metric(ports2.metricsPort, 'kseal_private_key_operations_total');
    const snap = server.stats.snapshot().byResource['secrets'] ?? {};
    const restartSecretWrites = (snap['create'] ?? 0) + (snap['update'] ?? 0);
    return {
      count,
      values,
      keySize,
      workers,
      readyMs,
      objectsPerSecond: Math.round((count * 1000) / readyMs),
      privateOps,
      privateOpsPerValue: privateOps / (count * values),
      cpuSeconds: Math.round((cpuAfter.process - cpuBefore.process) * 10) / 10,
      mainThreadCpuSeconds: Math.round((cpuAfter.main - cpuBefore.main) * 10) / 10,
      healthzP50Ms: Math.round(probes[Math.floor(probes.length / 2)] ?? 0),
      healthzMaxMs: Math.round(probes.at(-1) ?? 0),
      rssPeakMiB: Math.round(peak),
      rssEndMiB: Math.round(rssEndMiB),
      rssIdleMiB: Math.round(rssIdleMiB),
      restartSyncMs,
      restartPrivateOps,
      restartSecretWrites,
    };
  } finally {
    proc.child.kill('SIGKILL');
    await server.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [count, values, keySize] = process.argv.slice(2).map(Number);
  const result = await measureControllerScale({
    ...(count ? { count } : {}),
    ...(values ? { values } : {}),
    ...(keySize ? { keySize } : {}),
  });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
