/**
 * Scale measurement harness (not a test: no timing decides a pass), shared by `npm run bench`
 * (bench/controller.ts and the workload files next to it) and runnable alone:
 *
 *   npx esbuild bench/scale.ts --bundle --platform=node --format=esm --packages=external \
 *     --outfile=dist/kseal-scale.mjs && node dist/kseal-scale.mjs [count] [values] [keySize]   (from the repo root)
 *
 * The pieces: an in-process API server (`startKubeApi`) holding the CRD, the sealing keys and any
 * number of pre-sealed SealedSecrets (`ScaleCluster`); the real controller bundle
 * (dist/kseal-controller.mjs) as a child process (`ControllerRun`: its log lines, metrics, CPU by
 * main thread and the rest, RSS); a latency probe on a worker thread of its own (`LatencyProbe`), so
 * that the API server sharing this process cannot delay the probe's timers.
 *
 * `measureControllerScale()` composes them into the standard run: N SealedSecrets of V values already
 * in the cluster, a controller started fresh with no Secrets (cold sync: time to all Ready, private-key
 * operations, API requests by kind, CPU split, RSS, probe latencies), then a restart with every
 * Secret current (warm restart: time to "initial sync done", private-key operations and writes),
 * optionally Secrets edited by hand (drift repair) and unrelated Secrets added (memory).
 *
 * KSEAL_SCALE_NODE_ARGS passes node flags to the controller (e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`),
 * KSEAL_SCALE_CONTROLLER runs another controller bundle, KSEAL_SCALE_DEBUG=1 logs a cold-sync timeline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { parse } from 'yaml';
import { parseCertificate, type SealingCertificate } from '../src/crypto/certificate.js';
import { generateSealingKey } from '../src/crypto/keygen.js';
import { keySecretManifest } from '../src/model/key-secret.js';
import { sealSecret, type SealedApiVersion } from '../src/model/sealed-secret.js';
import { readSecret } from '../src/model/secret.js';
import { startKubeApi, type JsonObject, type KubeApiServer, type StatsSnapshot } from '../kube-api/server.js';
import { KEY_ID_ANNOTATION } from '../src/wire.js';
import { imageEnv, imageNodeFlags } from './image-runtime.js';
import { machineBusySeconds, otherThreadsCpu, processCpu, rssMiBOf, samplePeak, scrapeMetrics, threadsOf } from './process-stats.js';

/** The repository root: the working directory (run from there; the bundle lives elsewhere). */
const ROOT = `${process.cwd()}/`;
/** The controller bundle; KSEAL_SCALE_CONTROLLER runs another build of it (A/B comparisons). */
const BIN = process.env.KSEAL_SCALE_CONTROLLER || `${ROOT}dist/kseal-controller.mjs`;
const CONTROLLER_NAMESPACE = 'kseal-system';
const SEALED_API = 'kseal.dev/v1alpha1';
/** The stats resource name of the SealedSecret status subresource. */
const STATUS_RESOURCE = 'sealedsecrets.kseal.dev/status';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it returns something truthy. */
async function until<T>(check: () => T | Promise<T>, timeoutMs: number, what: string, everyMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(everyMs);
  }
}

/** Percentile (0..100) of a list of numbers, nearest rank. */
function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN;
}

// ---------------------------------------------------------------------------------------------
// Keys and sealed objects

/** A sealing key pair as the bench uses it. */
export interface ScaleKey {
  /** Name of its key Secret in kseal-system. */
  readonly name: string;
  readonly privateKeyPem: string;
  readonly certificatePem: string;
  readonly certificate: SealingCertificate;
}

/** One of the committed test keys (test/vectors/keys), read from the repository root. */
export function fixedKey(bits: 2048 | 4096, name = `sealing-key-test-${bits}`): ScaleKey {
  const privateKeyPem = readFileSync(`${ROOT}test/vectors/keys/test-rsa-${bits}.key.pem`, 'utf8');
  const certificatePem = readFileSync(`${ROOT}test/vectors/keys/test-rsa-${bits}.crt.pem`, 'utf8');
  return { name, privateKeyPem, certificatePem, certificate: parseCertificate(certificatePem, { skipValidity: true }) };
}

/**
 * Generates `count` keys of `bits` in parallel (libuv's thread pool), with certificate NotBefore dates
 * `stepDays` apart ending `endDaysAgo` days before now (oldest first), as a year of renewals leaves them.
 */
export async function generateKeys(count: number, bits: number, stepDays = 30, endDaysAgo = 0): Promise<ScaleKey[]> {
  const day = 86_400_000;
  const now = Date.now();
  const keys = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const notBefore = new Date(now - (endDaysAgo + (count - 1 - i) * stepDays) * day);
      const k = await generateSealingKey({ bits, now: notBefore, commonName: 'kseal-bench' });
      return { name: `sealing-key-bench-${String(i).padStart(2, '0')}`, privateKeyPem: k.privateKeyPem, certificatePem: k.certificatePem, certificate: parseCertificate(k.certificatePem, { skipValidity: true }) };
    }),
  );
  return keys;
}

/** The key Secret manifest of a key. */
function keySecretObject(key: ScaleKey): JsonObject {
  return keySecretManifest({ name: key.name, namespace: CONTROLLER_NAMESPACE, privateKeyPem: key.privateKeyPem, certificatePem: key.certificatePem }) as JsonObject;
}

/** The plaintext the bench seals as value `v` of object `i` (so drift repair can check it). */
export function plainValue(prefix: string, i: number, v: number): string {
  return `value-${prefix}-${i}-${v}-${'x'.repeat(16)}`;
}

export interface SealSpec {
  readonly count: number;
  readonly values: number;
  readonly namespaces: readonly string[];
  /** Object i is sealed to keys[i % keys.length]. */
  readonly keys: readonly ScaleKey[];
  /** Keep the kseal.dev/key-id hint (default true); false makes them look like kubeseal's output. */
  readonly hint?: boolean;
  /** Object names are `${prefix}-${i}` (default `s`). */
  readonly prefix?: string;
  /** apiVersion of the SealedSecrets (default kseal.dev/v1alpha1; bitnami.com/v1alpha1 for the Bitnami peer). */
  readonly apiVersion?: SealedApiVersion;
}

/** An object the bench sealed: where it is and which key sealed it. */
export interface SealedRef {
  readonly namespace: string;
  readonly name: string;
  readonly index: number;
  readonly keyName: string;
}

/** Seals `count` Secrets of `values` values each, spread over the namespaces round robin. */
export function sealObjects(spec: SealSpec): { objects: JsonObject[]; refs: SealedRef[] } {
  const prefix = spec.prefix ?? 's';
  const objects: JsonObject[] = [];
  const refs: SealedRef[] = [];
  for (let i = 0; i < spec.count; i++) {
    const namespace = spec.namespaces[i % spec.namespaces.length] as string;
    const key = spec.keys[i % spec.keys.length] as ScaleKey;
    const name = `${prefix}-${i}`;
    const stringData: Record<string, string> = {};
    for (let v = 0; v < spec.values; v++) stringData[`key-${v}`] = plainValue(prefix, i, v);
    const input = readSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, stringData }, {});
    const obj = JSON.parse(JSON.stringify(sealSecret(input, key.certificate, { scope: 'strict', ...(spec.apiVersion === undefined ? {} : { apiVersion: spec.apiVersion }) }))) as JsonObject & { metadata: { annotations?: Record<string, string> } };
    if (spec.hint === false) delete obj.metadata.annotations?.[KEY_ID_ANNOTATION];
    objects.push(obj);
    refs.push({ namespace, name, index: i, keyName: key.name });
  }
  return { objects, refs };
}

/** `count` plain Secrets that have nothing to do with kseal (for the memory workload). */
function unrelatedSecrets(count: number, namespaces: readonly string[]): JsonObject[] {
  return Array.from({ length: count }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `unrelated-${i}`, namespace: namespaces[i % namespaces.length] as string, labels: { app: `app-${i % 100}` } },
    type: 'Opaque',
    data: { username: Buffer.from(`user-${i}`).toString('base64'), password: Buffer.from(`password-${i}-${'y'.repeat(24)}`).toString('base64') },
  }));
}

// ---------------------------------------------------------------------------------------------
// The cluster

type Condition = { type: string; status: string; reason?: string };

function readyStatus(o: JsonObject | undefined): string | undefined {
  const conditions = (o?.['status'] as { conditions?: Condition[] } | undefined)?.conditions ?? [];
  return conditions.find((c) => c.type === 'Ready')?.status;
}

/** The in-process API server with the CRD, the controller namespace and bench namespaces. */
export class ScaleCluster {
  private constructor(
    readonly server: KubeApiServer,
    readonly namespaces: readonly string[],
  ) {}

  /** `namespaces` bench namespaces (`bench-0`...) plus kseal-system, with `keys` as key Secrets. */
  static async start(options: { readonly namespaces: number; readonly keys?: readonly ScaleKey[] }): Promise<ScaleCluster> {
    const crd = parse(readFileSync(`${ROOT}controller/deploy/crd.yaml`, 'utf8')) as JsonObject;
    const namespaces = Array.from({ length: options.namespaces }, (_, i) => `bench-${i}`);
    const server = await startKubeApi({ namespaces: [CONTROLLER_NAMESPACE, ...namespaces], objects: [crd] });
    const cluster = new ScaleCluster(server, namespaces);
    cluster.addKeys(options.keys ?? []);
    return cluster;
  }

  get kubeconfigPath(): string {
    return this.server.kubeconfigPath;
  }

  addKeys(keys: readonly ScaleKey[]): void {
    for (const key of keys) this.server.store.upsert(keySecretObject(key));
  }

  /** Creates objects in bulk (synchronous: blocks this process's event loop while it runs). */
  load(objects: JsonObject[]): void {
    this.server.store.load(objects);
  }

  /** Status patches the controller has sent since the last stats reset. */
  statusPatches(): number {
    return this.server.stats.count({ resource: STATUS_RESOURCE, verb: 'patch' });
  }

  /** The refs whose SealedSecret is not Ready=True. */
  notReady(refs: readonly SealedRef[]): SealedRef[] {
    return refs.filter((r) => readyStatus(this.server.store.get(SEALED_API, 'SealedSecret', r.name, r.namespace)) !== 'True');
  }

  /**
   * Waits until every ref is Ready and returns the time (Date.now()) it was first seen so.
   * Cheap while it waits: it counts status patches (a counter) and reads the objects only once
   * `expectedPatches` have been sent, then every 250 ms. It gives up after `timeoutMs`, after
   * `stallMs` without a new status patch (a controller that hangs), or when `alive` says the
   * controller is gone; the error says how many objects are Ready and how many status patches were
   * counted, so "not Ready" and "not counted yet" cannot be confused. `progress` is called every
   * `progressEveryMs` with the patches counted so far.
   */
  async waitReady(
    refs: readonly SealedRef[],
    expectedPatches: number,
    timeoutMs: number,
    watch: { readonly stallMs?: number; readonly progressEveryMs?: number; readonly progress?: (patches: number, elapsedMs: number) => void; readonly alive?: () => string | undefined } = {},
  ): Promise<number> {
    const started = Date.now();
    const deadline = started + timeoutMs;
    let pending = [...refs];
    let lastPatches = -1;
    let lastChange = started;
    let nextProgress = started + (watch.progressEveryMs ?? Number.POSITIVE_INFINITY);
    const failure = (why: string): Error => {
      pending = this.notReady(pending);
      const patches = this.statusPatches();
      return new Error(`${why}: ${pending.length} of ${refs.length} SealedSecrets not Ready (${refs.length - pending.length} Ready, ${patches} of ${expectedPatches} status patches counted)`);
    };
    for (;;) {
      const patches = this.statusPatches();
      const now = Date.now();
      if (patches !== lastPatches) {
        lastPatches = patches;
        lastChange = now;
      }
      if (now >= nextProgress) {
        watch.progress?.(patches, now - started);
        nextProgress = now + (watch.progressEveryMs ?? Number.POSITIVE_INFINITY);
      }
      if (patches >= expectedPatches) {
        pending = this.notReady(pending);
        if (pending.length === 0) return now;
        await sleep(250);
      } else {
        await sleep(20);
      }
      const gone = watch.alive?.();
      if (gone !== undefined) throw failure(`the controller stopped (${gone})`);
      if (Date.now() > deadline) throw failure(`timed out after ${timeoutMs} ms`);
      if (watch.stallMs !== undefined && Date.now() - lastChange > watch.stallMs) throw failure(`no status patch for ${watch.stallMs} ms`);
    }
  }

  /** The Secret of a ref, its values decoded. */
  secretValues(ref: SealedRef): Record<string, string> | undefined {
    const s = this.server.store.get('v1', 'Secret', ref.name, ref.namespace) as { data?: Record<string, string> } | undefined;
    if (s === undefined) return undefined;
    return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  }

  /** Changes one value of each ref's Secret, as `kubectl edit` would (a JSON merge patch). */
  tamper(refs: readonly SealedRef[]): void {
    for (const r of refs) this.server.store.patch('v1', 'Secret', r.name, r.namespace, { data: { 'key-0': Buffer.from('edited by hand').toString('base64') } });
  }

  stats(): StatsSnapshot {
    return this.server.stats.snapshot();
  }

  resetStats(): void {
    this.server.stats.reset();
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

/** The write verbs, by resource, in a stats snapshot (lease renewals excluded). */
function writesIn(snapshot: StatsSnapshot): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [resource, verbs] of Object.entries(snapshot.byResource)) {
    if (resource.startsWith('leases')) continue;
    const n = (verbs['create'] ?? 0) + (verbs['update'] ?? 0) + (verbs['patch'] ?? 0) + (verbs['delete'] ?? 0);
    if (n > 0) out[resource] = n;
  }
  return out;
}

/**
 * Requests that scale with the number of objects (reads and writes of Secrets, status patches,
 * Events) and the rest (lists, watches, leases, discovery), from a stats snapshot.
 */
function requestSplit(snapshot: StatsSnapshot): { perObject: number; fixed: number; byResource: Record<string, number> } {
  let perObject = 0;
  const byResource: Record<string, number> = {};
  for (const [resource, verbs] of Object.entries(snapshot.byResource)) {
    for (const [verb, n] of Object.entries(verbs)) {
      byResource[`${verb} ${resource}`] = n;
      const objectResource = resource === 'secrets' || resource === STATUS_RESOURCE || resource === 'events';
      if (objectResource && verb !== 'list' && verb !== 'watch') perObject += n;
    }
  }
  return { perObject, fixed: snapshot.total - perObject, byResource };
}

// ---------------------------------------------------------------------------------------------
// The controller process

export interface ControllerRunOptions {
  readonly workers?: number;
  readonly keySize?: number;
  /** More controller flags. */
  readonly args?: readonly string[];
}

/** Controllers still running, killed if this process exits first (a failed or interrupted run). */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Resolves once every controller this process started has exited (SIGKILLs what is left after `timeoutMs`). */
export async function controllersExited(timeoutMs = 20_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (running.size > 0 && Date.now() < deadline) await sleep(20);
  const left = running.size;
  for (const child of running) child.kill('SIGKILL');
  while (running.size > 0) await sleep(20);
  return left;
}

/** The real controller bundle as a child process (see the module comment). */
export class ControllerRun {
  readonly child: ChildProcess;
  /** Date.now() at spawn. */
  readonly spawnedAt: number;
  private readonly logDir: string;
  private readonly logFd: number;
  private readOffset = 0;
  private out = '';
  /** Time (the line's own `time`, epoch ms) of the first log line with each message. */
  private readonly firstSeen = new Map<string, number>();
  private exited = false;
  private exitedWith: string | undefined;
  private closed = false;

  constructor(kubeconfigPath: string, options: ControllerRunOptions = {}) {
    const nodeArgs = process.env.KSEAL_SCALE_NODE_ARGS === undefined ? imageNodeFlags(ROOT) : process.env.KSEAL_SCALE_NODE_ARGS.split(' ').filter((a) => a !== '');
    const args = [
      ...nodeArgs,
      BIN,
      '--kubeconfig', kubeconfigPath,
      '--namespace', CONTROLLER_NAMESPACE,
      '--key-size', String(options.keySize ?? 4096),
      '--workers', String(options.workers ?? availableParallelism()),
      '--port', '0',
      '--metrics-port', '0',
      '--listen-host', '127.0.0.1',
      '--resync-period', '0',
      // No key generation during a measurement (the bench's keys are older than the renewal period).
      '--key-renew-period', '0',
      ...(options.args ?? []),
    ];
    // The log goes to a file, as a container runtime drains it: a pipe read by this process (busy
    // serving the API) would fill up and block the controller's synchronous stderr writes.
    this.logDir = mkdtempSync(join(tmpdir(), 'kseal-scale-'));
    this.logFd = openSync(join(this.logDir, 'controller.log'), 'w+');
    this.spawnedAt = Date.now();
    // The image's environment (MALLOC_ARENA_MAX...) under this process's own (which wins, for A/B runs).
    this.child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', this.logFd], env: { ...imageEnv(ROOT), ...process.env } });
    running.add(this.child);
    this.child.once('exit', (code, signal) => {
      running.delete(this.child);
      this.exited = true;
      this.exitedWith = signal === null ? `exit code ${code ?? 0}` : `signal ${signal}`;
      this.poll();
    });
  }

  /** Reads what the controller logged since the last call. */
  private poll(): void {
    if (this.closed) return;
    const chunk = Buffer.alloc(1 << 20);
    let text = '';
    for (;;) {
      let n = 0;
      try {
        n = readSync(this.logFd, chunk, 0, chunk.length, this.readOffset);
      } catch {
        break;
      }
      if (n === 0) break;
      this.readOffset += n;
      text += chunk.toString('utf8', 0, n);
    }
    if (text === '') return;
    const end = text.lastIndexOf('\n');
    if (end < 0) {
      this.readOffset -= Buffer.byteLength(text);
      return;
    }
    this.readOffset -= Buffer.byteLength(text.slice(end + 1));
    for (const line of text.slice(0, end).split('\n')) {
      this.out += `${line}\n`;
      const msg = /"msg":"([^"]*)"/.exec(line)?.[1];
      if (msg === undefined || this.firstSeen.has(msg)) continue;
      const time = Date.parse(/"time":"([^"]*)"/.exec(line)?.[1] ?? '');
      this.firstSeen.set(msg, Number.isNaN(time) ? Date.now() : time);
    }
  }

  /** How the controller ended (exit code or signal), with its last log lines; undefined while it runs. */
  exitStatus(): string | undefined {
    if (this.exitedWith === undefined) return undefined;
    return `${this.exitedWith}; last log lines:\n${this.output().slice(-2000)}`;
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Every log line so far. */
  output(): string {
    this.poll();
    return this.out;
  }

  /** Log lines with this message. */
  lines(msg: string): Array<Record<string, unknown>> {
    return this.output()
      .split('\n')
      .filter((l) => l.includes(`"msg":"${msg}"`))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** Time (epoch ms, from the line) of the first log line with this message, if it came. */
  firstSeenAt(msg: string): number | undefined {
    this.poll();
    return this.firstSeen.get(msg);
  }

  /** Waits for the first log line with this message; returns its time (epoch ms, from the line). */
  async waitForLog(msg: string, timeoutMs: number): Promise<number> {
    return until(() => {
      const at = this.firstSeenAt(msg);
      if (at === undefined && this.exited) throw new Error(`the controller exited before logging "${msg}":\n${this.out.slice(-2000)}`);
      return at;
    }, timeoutMs, `controller log "${msg}"`, 10);
  }

  /** The bound ports, from the "started" line. */
  async ports(timeoutMs = 30_000): Promise<{ port: number; metricsPort: number }> {
    await this.waitForLog('started', timeoutMs);
    const [line] = this.lines('started');
    return { port: Number(line?.['port']), metricsPort: Number(line?.['metricsPort']) };
  }

  /** Every metric on the metrics port, summed over labels. */
  async metrics(): Promise<Map<string, number>> {
    const { metricsPort } = await this.ports();
    return scrapeMetrics(`http://127.0.0.1:${metricsPort}/metrics`);
  }

  /** The series of one metric: label text (`{key_id="..."}`) and value. */
  async metricSeries(name: string): Promise<Array<{ labels: string; value: number }>> {
    const { metricsPort } = await this.ports();
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
      .map((l) => ({ labels: l.slice(name.length, l.lastIndexOf(' ')), value: Number(l.split(' ').at(-1)) }));
  }

  async metric(name: string): Promise<number> {
    return (await this.metrics()).get(name) ?? 0;
  }

  /** CPU seconds so far: whole process, and its main thread (the rest: unseal workers, V8 and libuv helpers). */
  cpu(): { process: number; main: number } {
    return processCpu(this.pid);
  }

  /** CPU seconds of each thread other than the main one, largest first (the unseal workers lead). */
  threadCpu(): number[] {
    return otherThreadsCpu(this.pid);
  }

  rssMiB(): number {
    return rssMiBOf(this.pid);
  }

  /** Threads of the process (an unseal worker is one). */
  threads(): number {
    return threadsOf(this.pid);
  }

  /** Samples RSS every `everyMs`; stop() returns the peak. */
  sampleRss(everyMs = 100): { stop(): number } {
    return samplePeak(() => this.rssMiB(), everyMs);
  }

  /** SIGTERM and wait for the exit (SIGKILL after `graceMs`). */
  async stop(graceMs = 20_000): Promise<void> {
    if (!this.exited) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    this.kill();
  }

  /** SIGKILL if still running, and removes the log file. */
  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
    if (this.closed) return;
    this.closed = true;
    closeSync(this.logFd);
    rmSync(this.logDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Latency probe

const PROBE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { urls, intervalMs } = workerData;
const samples = urls.map(() => []);
const times = urls.map(() => []);
const failures = urls.map(() => 0);
let running = true;
parentPort.on('message', () => { running = false; });
function get(url) {
  return new Promise((resolve) => {
    // A new connection per probe, as the kubelet's HTTP probes do.
    const req = http.get(url, { agent: false, timeout: 5000 }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode === 200)); });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}
(async () => {
  for (let i = 0; running; i++) {
    const u = i % urls.length;
    const t = performance.now();
    const ok = await get(urls[u]);
    const ms = performance.now() - t;
    if (ok) { samples[u].push(ms); times[u].push(Date.now()); } else failures[u]++;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  parentPort.postMessage({ samples, times, failures });
})();
`;

/** Latencies of GET requests, measured from a worker thread (see the module comment). */
class LatencyProbe {
  private readonly worker: Worker;
  private readonly result: Promise<{ samples: number[][]; times: number[][]; failures: number[] }>;

  /** Requests each URL in turn, waiting `intervalMs` between requests. */
  constructor(private readonly urls: readonly string[], intervalMs = 20) {
    this.worker = new Worker(PROBE_WORKER, { eval: true, workerData: { urls, intervalMs } });
    this.result = new Promise((resolve, reject) => {
      this.worker.once('message', resolve);
      this.worker.once('error', reject);
    });
  }

  /** Stops probing; latencies (ms), when each answer came (Date.now()) and failed requests, per URL. */
  async stop(): Promise<Array<{ url: string; samples: number[]; times: number[]; failures: number }>> {
    this.worker.postMessage('stop');
    const { samples, times, failures } = await this.result;
    await this.worker.terminate();
    return this.urls.map((url, i) => ({ url, samples: samples[i] ?? [], times: times[i] ?? [], failures: failures[i] ?? 0 }));
  }
}

// ---------------------------------------------------------------------------------------------
// The standard run

export interface ScaleOptions {
  readonly count?: number;
  readonly values?: number;
  /** 2048 or 4096: the committed test key of that size seals everything. */
  readonly keySize?: 2048 | 4096;
  readonly workers?: number;
  readonly namespaces?: number;
  /** Probe GET /healthz and GET /v1/cert.pem during the cold sync (default true), one request every this many ms (default 40). */
  readonly probe?: boolean;
  readonly probeIntervalMs?: number;
  /** Secrets to edit by hand after the warm restart (default 0: no drift phase). */
  readonly drift?: number;
  /**
   * Unrelated Secrets to add after the warm restart, followed by another restart measuring RSS
   * (default 0: no such phase).
   */
  readonly unrelated?: number;
  /** After a sync, wait this long before reading the steady RSS (default 2000 ms). */
  readonly settleMs?: number;
  /**
   * After the cold sync, read the steady RSS and heap this long after the last object is Ready and
   * the private-op count was scraped (default `settleMs`). The controller gets there by itself:
   * nothing forces a collection in it.
   */
  readonly steadyMs?: number;
  /**
   * Warm restarts per phase (default 1). An RSS peak depends on when V8 collects during the initial
   * lists and varies by up to ~8% between identical restarts: with several, the median is reported.
   */
  readonly rssRepeats?: number;
  /** More controller flags (e.g. `--concurrency 16`). */
  readonly args?: readonly string[];
  /**
   * Started once the controller serves HTTP (its base URL), stopped when every object is Ready: load
   * to put on the controller during the cold sync (the abuse workload's flood).
   */
  readonly duringCold?: (baseUrl: string) => { stop(): Promise<void> };
  /** Called once the cold sync is measured, before the restart (e.g. to measure a limit next to it). */
  readonly afterCold?: () => Promise<void>;
  /**
   * Longest wait for the cold sync to reach all Ready (default 600 s). Workloads that scale the count
   * derive it from the private-key limit measured in the same run (bench/scale-curve.ts).
   */
  readonly coldTimeoutMs?: number;
  /** The cold sync also fails after this long without a new status patch (default: no such check). */
  readonly coldStallMs?: number;
  /** Longest wait for "initial sync done" after a warm restart (default 120 s). */
  readonly warmTimeoutMs?: number;
  /** Log a progress line (status patches, RSS) every this many ms of the cold sync (default: none). */
  readonly progressEveryMs?: number;
  readonly log?: (line: string) => void;
}

export interface ProbeResult {
  readonly samples: number;
  readonly failures: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface ScaleResult {
  readonly count: number;
  readonly values: number;
  readonly keySize: number;
  readonly workers: number;
  readonly namespaces: number;
  readonly cold: {
    /** Spawn to all Ready. */
    readonly readyMs: number;
    /** Spawn to the "started" log line (process start, module loading, HTTP servers). */
    readonly startMs: number;
    readonly privateOps: number;
    readonly privateOpsPerValue: number;
    /** Requests on Secrets, status and Events, per object; and the rest (lists, watches, leases), in total. */
    readonly requestsPerObject: number;
    readonly fixedRequests: number;
    readonly requests: Readonly<Record<string, number>>;
    /** Controller CPU seconds from spawn to all Ready: whole process, main thread, busiest other threads. */
    readonly cpuSeconds: number;
    readonly mainThreadCpuSeconds: number;
    readonly otherThreadsCpuSeconds: readonly number[];
    /** CPU seconds of this process (the API server, the probe) over the same time. */
    readonly apiServerCpuSeconds: number;
    /**
     * Cores busy with other processes (neither the controller nor this one) on average over the cold
     * sync: another workload on the machine, which inflates every time measured here.
     */
    readonly foreignCpuCores: number;
    readonly healthz?: ProbeResult;
    readonly certPem?: ProbeResult;
    readonly rssPeakMiB: number;
    /** RSS `steadyMs` after all Ready. */
    readonly rssSteadyMiB: number;
    /** The main thread's V8 heap in use at the same moment (kseal_nodejs_heap_size_used_bytes). */
    readonly heapUsedSteadyMiB: number;
    /** RSS every second from all Ready to the steady reading: [ms after Ready, MiB]. */
    readonly rssAfterReady: ReadonlyArray<readonly [number, number]>;
    /** Every 250 ms of the cold sync: [ms since spawn, status patches so far (objects Ready), RSS MiB]. */
    readonly curve: ReadonlyArray<readonly [number, number, number]>;
  };
  readonly warm: WarmRestart & { readonly allReady: boolean };
  readonly drift?: {
    readonly edited: number;
    /** First edit to all restored. */
    readonly restoreMs: number;
    readonly privateOps: number;
    readonly writes: Readonly<Record<string, number>>;
  };
  readonly unrelated?: WarmRestart & { readonly secrets: number };
}

/** A restart with every Secret current. */
export interface WarmRestart {
  /** Spawn to the "initial sync done" log line. */
  readonly syncMs: number;
  /** Controller CPU seconds from spawn to "initial sync done": whole process and main thread. */
  readonly cpuSeconds: number;
  readonly mainThreadCpuSeconds: number;
  /** CPU seconds of this process (the API server serving the lists and watches) over the same time. */
  readonly apiServerCpuSeconds: number;
  readonly privateOps: number;
  /** Writes by resource (lease renewals left out). */
  readonly writes: Readonly<Record<string, number>>;
  /** Highest RSS from spawn to `settleMs` after the initial sync (median over the repeats), and RSS then. */
  readonly rssPeakMiB: number;
  readonly rssSteadyMiB: number;
  /** The peak of each repeat. */
  readonly rssPeaksMiB: readonly number[];
}

function probeResult(samples: number[], failures: number): ProbeResult {
  return { samples: samples.length, failures, p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99), maxMs: percentile(samples, 100) };
}

const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Runs the measurement (see the module comment). */
export async function measureControllerScale(options: ScaleOptions = {}): Promise<ScaleResult> {
  const count = options.count ?? 1000;
  const values = options.values ?? 5;
  const keySize = options.keySize ?? 4096;
  const workers = options.workers ?? availableParallelism();
  const settleMs = options.settleMs ?? 2000;
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const key = fixedKey(keySize);
  const cluster = await ScaleCluster.start({ namespaces: options.namespaces ?? 50, keys: [key] });
  let run: ControllerRun | undefined;
  try {
    const { objects, refs } = sealObjects({ count, values, namespaces: cluster.namespaces, keys: [key] });
    cluster.load(objects);
    log(`cold sync: ${count} SealedSecrets x ${values} values (RSA-${keySize}) in ${cluster.namespaces.length} namespaces`);

    // Cold sync: the controller starts with every SealedSecret present and no Secret.
    cluster.resetStats();
    const apiCpuBefore = process.cpuUsage();
    const machineBefore = machineBusySeconds();
    run = new ControllerRun(cluster.kubeconfigPath, { workers, keySize, ...(options.args === undefined ? {} : { args: options.args }) });
    const rss = run.sampleRss();
    const ports = await run.ports();
    const startMs = (run.firstSeenAt('started') ?? run.spawnedAt) - run.spawnedAt;
    const probe = options.probe === false ? undefined : new LatencyProbe([`http://127.0.0.1:${ports.port}/healthz`, `http://127.0.0.1:${ports.port}/v1/cert.pem`], options.probeIntervalMs ?? 40);
    // KSEAL_SCALE_DEBUG=1: a timeline every 500 ms (objects Ready, CPU of the controller's main thread
    // and other threads, and of this process) to see where a cold sync waits.
    let timeline: NodeJS.Timeout | undefined;
    if (process.env.KSEAL_SCALE_DEBUG) {
      let last = { t: Date.now(), cpu: run.cpu(), api: process.cpuUsage() };
      timeline = setInterval(() => {
        const now = { t: Date.now(), cpu: (run as ControllerRun).cpu(), api: process.cpuUsage() };
        const dt = (now.t - last.t) / 1000;
        const main = (now.cpu.main - last.cpu.main) / dt;
        const other = (now.cpu.process - now.cpu.main - (last.cpu.process - last.cpu.main)) / dt;
        const api = (now.api.user + now.api.system - last.api.user - last.api.system) / 1e6 / dt;
        log(`  t=${((now.t - (run as ControllerRun).spawnedAt) / 1000).toFixed(1)}s patched=${cluster.statusPatches()} main=${main.toFixed(2)} other=${other.toFixed(2)} api=${api.toFixed(2)} cores`);
        last = now;
      }, 500);
    }
    const curve: Array<[number, number, number]> = [];
    const sampler = setInterval(() => curve.push([Date.now() - (run as ControllerRun).spawnedAt, cluster.statusPatches(), (run as ControllerRun).rssMiB()]), 250);
    const load = options.duringCold?.(`http://127.0.0.1:${ports.port}`);
    const coldRun = run;
    let readyAt: number;
    // With a load, the private operations are read at all Ready, before the load's last requests finish.
    let privateOpsAtReady: number | undefined;
    try {
      readyAt = await cluster.waitReady(refs, count, options.coldTimeoutMs ?? 600_000, {
        ...(options.coldStallMs === undefined ? {} : { stallMs: options.coldStallMs }),
        ...(options.progressEveryMs === undefined ? {} : { progressEveryMs: options.progressEveryMs }),
        progress: (patches, ms) => {
          const cpu = coldRun.cpu();
          log(`  cold sync ${count}: ${Math.round(ms / 1000)} s, ${patches} status patches counted, RSS ${Math.round(coldRun.rssMiB())} MiB, controller CPU ${cpu.process.toFixed(0)} s (main thread ${cpu.main.toFixed(0)} s)`);
        },
        alive: () => coldRun.exitStatus(),
      });
      if (load !== undefined) privateOpsAtReady = await run.metric('kseal_private_key_operations_total');
    } finally {
      await load?.stop();
    }
    clearInterval(sampler);
    curve.push([readyAt - run.spawnedAt, count, run.rssMiB()]);
    clearInterval(timeline);
    const readyMs = readyAt - run.spawnedAt;
    const cpu = run.cpu();
    const others = run.threadCpu();
    const apiCpu = process.cpuUsage(apiCpuBefore);
    const machineBusy = machineBusySeconds() - machineBefore;
    const probes = probe === undefined ? undefined : await probe.stop();
    if (process.env.KSEAL_SCALE_DEBUG && probes !== undefined) {
      for (const p of probes) {
        const slow = p.samples.map((ms, i) => ({ ms, t: ((p.times[i] ?? 0) - (run as ControllerRun).spawnedAt) / 1000 })).filter((x) => x.ms > 20);
        log(`  ${p.url}: ${slow.length} of ${p.samples.length} over 20 ms: ${slow.map((x) => `${x.ms.toFixed(0)}ms@${x.t.toFixed(1)}s`).join(' ')}`);
      }
    }
    const coldStats = cluster.stats();
    const privateOps = privateOpsAtReady ?? (await run.metric('kseal_private_key_operations_total'));
    await options.afterCold?.();
    // Counted from now, not from Ready: the scrape above (every series of every object) leaves
    // garbage in the controller, and under load it can take seconds.
    const steadyAt = Date.now() + (options.steadyMs ?? settleMs);
    const rssAfterReady: Array<[number, number]> = [];
    for (let at = Date.now(); at < steadyAt; at = Date.now()) {
      rssAfterReady.push([at - readyAt, Math.round(run.rssMiB())]);
      await sleep(Math.min(1000, steadyAt - at));
    }
    const rssPeakMiB = rss.stop();
    const rssSteadyMiB = run.rssMiB();
    const heapUsedSteadyMiB = (await run.metric('kseal_nodejs_heap_size_used_bytes')) / 2 ** 20;
    rssAfterReady.push([Date.now() - readyAt, Math.round(rssSteadyMiB)]);
    const split = requestSplit(coldStats);
    log(`cold sync: all Ready in ${Math.round(readyMs)} ms, ${privateOps} private ops, RSS peak ${Math.round(rssPeakMiB)} MiB`);
    const cold: ScaleResult['cold'] = {
      readyMs: Math.round(readyMs),
      curve,
      startMs: Math.round(startMs),
      privateOps,
      privateOpsPerValue: privateOps / (count * values),
      requestsPerObject: split.perObject / count,
      fixedRequests: split.fixed,
      requests: split.byResource,
      cpuSeconds: round(cpu.process),
      mainThreadCpuSeconds: round(cpu.main),
      otherThreadsCpuSeconds: others.slice(0, workers + 1).map((s) => round(s)),
      apiServerCpuSeconds: round((apiCpu.user + apiCpu.system) / 1e6),
      foreignCpuCores: round(Math.max(0, machineBusy - cpu.process - (apiCpu.user + apiCpu.system) / 1e6) / (readyMs / 1000), 2),
      ...(probes === undefined
        ? {}
        : { healthz: probeResult(probes[0]?.samples ?? [], probes[0]?.failures ?? 0), certPem: probeResult(probes[1]?.samples ?? [], probes[1]?.failures ?? 0) }),
      rssPeakMiB: Math.round(rssPeakMiB),
      rssSteadyMiB: Math.round(rssSteadyMiB),
      heapUsedSteadyMiB: round(heapUsedSteadyMiB),
      rssAfterReady,
    };

    // Warm restart: every Secret is current.
    const restartOnce = async (): Promise<Omit<WarmRestart, 'rssPeaksMiB'>> => {
      await run?.stop();
      cluster.resetStats();
      const apiCpuBefore = process.cpuUsage();
      run = new ControllerRun(cluster.kubeconfigPath, { workers, keySize, ...(options.args === undefined ? {} : { args: options.args }) });
      const sampler = run.sampleRss(50);
      const doneAt = await run.waitForLog('initial sync done', options.warmTimeoutMs ?? 120_000);
      const syncMs = doneAt - run.spawnedAt;
      // CPU read when the log line is seen (up to one 10 ms poll after it): the controller's own
      // share of the restart, apart from the API server's (this process) on the same cores.
      const cpu = run.cpu();
      const apiCpu = process.cpuUsage(apiCpuBefore);
      // Anything the controller does after the sync (a late write, an unseal) counts too.
      await sleep(settleMs);
      const ops = await run.metric('kseal_private_key_operations_total');
      const rssPeakMiB = sampler.stop();
      return { syncMs: Math.round(syncMs), cpuSeconds: round(cpu.process, 2), mainThreadCpuSeconds: round(cpu.main, 2), apiServerCpuSeconds: round((apiCpu.user + apiCpu.system) / 1e6, 2), privateOps: ops, writes: writesIn(cluster.stats()), rssPeakMiB: Math.round(rssPeakMiB), rssSteadyMiB: Math.round(run.rssMiB()) };
    };
    const warmRestart = async (): Promise<WarmRestart> => {
      const first = await restartOnce();
      const peaks = [first.rssPeakMiB];
      for (let i = 1; i < (options.rssRepeats ?? 1); i++) peaks.push((await restartOnce()).rssPeakMiB);
      const sorted = [...peaks].sort((a, b) => a - b);
      const median = sorted.length % 2 === 1 ? (sorted[sorted.length >> 1] ?? 0) : ((sorted[sorted.length / 2 - 1] ?? 0) + (sorted[sorted.length / 2] ?? 0)) / 2;
      return { ...first, rssPeakMiB: median, rssPeaksMiB: peaks };
    };
    const restarted = await warmRestart();
    const warm: ScaleResult['warm'] = { ...restarted, allReady: cluster.notReady(refs).length === 0 };
    log(`warm restart: initial sync done in ${warm.syncMs} ms (controller CPU ${warm.cpuSeconds} s, main thread ${warm.mainThreadCpuSeconds} s; API server ${warm.apiServerCpuSeconds} s), ${warm.privateOps} private ops, writes ${JSON.stringify(warm.writes)}`);

    let drift: ScaleResult['drift'];
    if ((options.drift ?? 0) > 0) {
      const n = Math.min(count, options.drift ?? 0);
      const stride = count / n;
      const edited = Array.from({ length: n }, (_, i) => refs[Math.floor(i * stride)] as SealedRef);
      const opsBefore = await run.metric('kseal_private_key_operations_total');
      cluster.resetStats();
      const t0 = performance.now();
      cluster.tamper(edited);
      const expected = (r: SealedRef): boolean => cluster.secretValues(r)?.['key-0'] === plainValue('s', r.index, 0);
      let pending = edited;
      await until(() => (pending = pending.filter((r) => !expected(r))).length === 0, 120_000, 'drift repaired', 10);
      const restoreMs = performance.now() - t0;
      await sleep(200);
      drift = { edited: n, restoreMs: Math.round(restoreMs), privateOps: (await run.metric('kseal_private_key_operations_total')) - opsBefore, writes: writesIn(cluster.stats()) };
      log(`drift: ${n} Secrets restored in ${drift.restoreMs} ms, ${drift.privateOps} private ops`);
    }

    let unrelated: ScaleResult['unrelated'];
    if ((options.unrelated ?? 0) > 0) {
      await run.stop();
      cluster.load(unrelatedSecrets(options.unrelated ?? 0, cluster.namespaces));
      unrelated = { ...(await warmRestart()), secrets: options.unrelated ?? 0 };
      log(`with ${unrelated.secrets} unrelated Secrets: initial sync done in ${unrelated.syncMs} ms, RSS peak ${unrelated.rssPeakMiB} MiB (before: ${warm.rssPeakMiB})`);
    }

    return {
      count,
      values,
      keySize,
      workers,
      namespaces: cluster.namespaces.length,
      cold,
      warm,
      ...(drift === undefined ? {} : { drift }),
      ...(unrelated === undefined ? {} : { unrelated }),
    };
  } finally {
    // A controller run under --cpu-prof writes its profile only on a clean exit: stop it with SIGTERM.
    if (process.env.KSEAL_SCALE_NODE_ARGS?.includes('--cpu-prof') === true) await run?.stop();
    run?.kill();
    await cluster.close();
  }
}

// Run directly (not when bundled into the bench, where import.meta.url is the bench bundle's).
const entry = process.argv[1];
if (entry !== undefined && /scale[^/]*\.m?[jt]s$/.test(entry) && import.meta.url === pathToFileURL(entry).href) {
  const [count, values, keySize] = process.argv.slice(2).map(Number);
  const result = await measureControllerScale({
    ...(count ? { count } : {}),
    ...(values ? { values } : {}),
    ...(keySize === 2048 || keySize === 4096 ? { keySize } : {}),
    drift: 100,
    args: (process.env.KSEAL_SCALE_ARGS ?? '').split(' ').filter((a) => a !== ''),
  });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
