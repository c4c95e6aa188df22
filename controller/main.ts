/**
 * `kseal-controller`: flags (commander), Kubernetes access, the controller and its HTTP API.
 *
 * `runController(argv)` starts everything and returns a handle (used by the bin entry, the demo and
 * tests); `main(argv)` adds the signal handling: on SIGTERM or SIGINT it stops reconciling, waits for
 * reconciles in flight, releases the leader lease, closes the HTTP servers and exits 0.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { isKsealError } from '../src/errors.js';
import { DEFAULT_CONTROLLER_NAMESPACE } from '../src/model/key-secret.js';
import { invalidNamespace } from '../src/model/names.js';
import { SEALING_KEY_SOURCES, type SealingKeySource } from './bitnami-keys.js';
import { Controller } from './controller.js';
import { defaultUnsealWorkers } from './cpu-quota.js';
import { parseDuration } from './durations.js';
import { DEFAULT_HTTP_LIMITS } from './http-limits.js';
import { DEFAULT_HTTP_UNSEAL_SHARE } from './unseal-scheduler.js';
import { startHttpServer } from './http-server.js';
import { loadKubeConfig } from '../net/kube-config-client.js';
import { ClientNodeApi, type KubeApi } from './kube-client.js';
import { createLogger, type Logger, type LogLevel } from './logger.js';
import { ControllerMetrics } from './metrics.js';

/** Everything the flags say. */
export interface ControllerFlags {
  kubeconfig?: string;
  context?: string;
  namespace: string;
  keySize: number;
  keyTtl: number;
  myCn: string;
  keyRenewPeriod: number;
  keyCutoffTime?: Date;
  resyncPeriod: number;
  workers: number;
  concurrency: number;
  listenHost?: string;
  port: number;
  metricsPort: number;
  leaderElect: boolean;
  leaseName: string;
  shards: number;
  leaseDuration: number;
  renewDeadline: number;
  retryPeriod: number;
  watchIdleTimeout: number;
  watchTimeout: number;
  retryMax: number;
  identity?: string;
  logLevel: LogLevel;
  logFormat: 'json' | 'text';
  adoptBitnami: boolean;
  bitnamiKeyNamespace: string;
  sealingKeySource: SealingKeySource;
  httpMaxBody: number;
  httpMaxValues: number;
  httpMaxInFlight: number;
  httpValuesPerSecond: number;
  httpValuesBurst: number;
  httpParseTimeout: number;
  httpUnsealShare: number;
  /** Namespaces to watch (--watch-namespaces); undefined: every namespace. */
  watchNamespaces?: string[];
}

function duration(value: string): number {
  try {
    return parseDuration(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number, got ${JSON.stringify(value)}`);
  return n;
}

function atLeastOne(value: string): number {
  const n = positiveInt(value);
  if (n < 1) throw new InvalidArgumentError(`expected at least 1, got ${JSON.stringify(value)}`);
  return n;
}

/** `--http-unseal-share`: a fraction above 0 and at most 1. */
function shareFraction(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 1) throw new InvalidArgumentError(`expected a fraction above 0 and at most 1, got ${JSON.stringify(value)}`);
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number above 0, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * `--watch-namespaces a,b`: the namespace names, each a DNS-1123 label, without duplicates. An empty
 * list is refused (the default, every namespace, is the flag left out).
 */
function namespaceList(value: string): string[] {
  const names = [...new Set(value.split(',').map((n) => n.trim()).filter((n) => n !== ''))];
  if (names.length === 0) throw new InvalidArgumentError('expected one or more namespace names separated by commas (leave the flag out to watch every namespace)');
  for (const name of names) {
    const why = invalidNamespace(name);
    if (why !== undefined) throw new InvalidArgumentError(`namespace ${JSON.stringify(name)} ${why}`);
  }
  return names;
}

function time(value: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new InvalidArgumentError(`expected an RFC 3339 time, got ${JSON.stringify(value)}`);
  return d;
}

/** The command-line definition. */
function controllerCommand(env: NodeJS.ProcessEnv = process.env): Command {
  return new Command('kseal-controller')
    .description('Unseals kseal.dev SealedSecrets into Secrets (Bitnami scope annotations honoured), holds the sealing keys and serves the certificate')
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, else in-cluster)')
    .option('--context <name>', 'kubeconfig context')
    .addOption(new Option('--namespace <ns>', 'namespace of the keys and the leader lease').default(env.POD_NAMESPACE ?? DEFAULT_CONTROLLER_NAMESPACE, `$POD_NAMESPACE, else ${DEFAULT_CONTROLLER_NAMESPACE}`))
    .option('--key-size <bits>', 'RSA key size of generated keys', positiveInt, 4096)
    .addOption(new Option('--key-ttl <duration>', 'certificate validity of generated keys').argParser(duration).default(parseDuration('87600h'), '87600h'))
    .option('--my-cn <name>', 'certificate common name of generated keys', 'kseal')
    .addOption(new Option('--key-renew-period <duration>', 'generate a new sealing key this often (0: never)').argParser(duration).default(parseDuration('30d'), '30d'))
    .option('--key-cutoff-time <time>', 'at start, generate a new key if the newest is older than this RFC 3339 time', time)
    .addOption(new Option('--resync-period <duration>', 're-reconcile every SealedSecret this often (0: never)').argParser(duration).default(parseDuration('10m'), '10m'))
    .option('--watch-namespaces <ns1,ns2>', 'watch and unseal SealedSecrets only in these namespaces, one informer each, so Roles there suffice (controller/deploy/components/watch-namespaces; default: every namespace)', namespaceList)
    .option('--workers <n>', 'unseal worker threads (default: the cores, capped by the CPU limit)', positiveInt, defaultUnsealWorkers())
    .option('--concurrency <n>', 'SealedSecrets reconciled at a time', positiveInt, 8)
    .option('--listen-host <host>', 'interface of the HTTP API and metrics servers (default: all)')
    .option('--port <port>', 'HTTP API port (0: any free port)', positiveInt, 8080)
    .option('--metrics-port <port>', 'metrics port (0: any free port)', positiveInt, 8081)
    .option('--no-leader-elect', 'run without leader election (one replica only)')
    .option('--lease-name <name>', 'name of the leader election Lease', 'kseal-controller')
    .option('--shards <n>', 'split reconciling into this many shards, one Lease each, shared fairly by the replicas (1: the leader reconciles everything)', positiveInt, 1)
    .addOption(new Option('--lease-duration <duration>', 'leader lease duration').argParser(duration).default(parseDuration('15s'), '15s'))
    .addOption(new Option('--renew-deadline <duration>', 'leader gives up when it could not renew for this long').argParser(duration).default(parseDuration('10s'), '10s'))
    .addOption(new Option('--retry-period <duration>', 'lease acquire/renew interval').argParser(duration).default(parseDuration('2s'), '2s'))
    .addOption(new Option('--watch-idle-timeout <duration>', 'restart a watch that delivered nothing (not even a bookmark) for this long').argParser(duration).default(parseDuration('3m'), '3m'))
    .addOption(new Option('--watch-timeout <duration>', 'server-side watch timeout (randomised up to twice this)').argParser(duration).default(parseDuration('5m'), '5m'))
    .addOption(new Option('--retry-max <duration>', 'longest per-object retry backoff').argParser(duration).default(parseDuration('5m'), '5m'))
    .option('--identity <id>', 'leader election identity (default: host name and a random suffix)')
    .addOption(new Option('--log-level <level>', 'log level (probe requests log at debug)').choices(['debug', 'info', 'warn', 'error']).default('info'))
    .addOption(new Option('--log-format <format>', 'json lines, or text for a terminal').choices(['json', 'text']).default('json'))
    .version(typeof KSEAL_VERSION === 'string' ? KSEAL_VERSION : 'dev', '--version')
    .option('--adopt-bitnami', "also reconcile Bitnami's bitnami.com/v1alpha1 SealedSecrets in every namespace, with Bitnami's semantics, and open them with Bitnami's keys (read-only)", false)
    .option('--bitnami-key-namespace <ns>', "namespace of Bitnami's key Secrets (sealedsecrets.bitnami.com/sealed-secrets-key), read with --adopt-bitnami", 'kube-system')
    .addOption(new Option('--sealing-key-source <source>', "which key seals and is served: kseal's own (renewed by kseal) or Bitnami's newest active one (needs --adopt-bitnami)").choices([...SEALING_KEY_SOURCES]).default('kseal'))
    .option('--http-max-body <bytes>', 'largest verify/rotate request body; larger ones get 413 unread', atLeastOne, DEFAULT_HTTP_LIMITS.maxBodyBytes)
    .option('--http-max-values <n>', 'most sealed values in one verify/rotate request; more get 413 TOO_MANY_VALUES', atLeastOne, DEFAULT_HTTP_LIMITS.maxValues)
    .option('--http-max-in-flight <n>', 'verify/rotate requests handled at once; more get 503 with Retry-After', atLeastOne, DEFAULT_HTTP_LIMITS.maxInFlight)
    .option('--http-values-per-second <n>', 'sealed values (RSA private-key operations) verify/rotate may spend per second; beyond it 429 with Retry-After', positiveNumber, DEFAULT_HTTP_LIMITS.valuesPerSecond)
    .addOption(new Option('--http-parse-timeout <duration>', 'longest parse of one large verify/rotate body (in a worker thread); beyond it 400 PARSE_TIMEOUT').argParser(duration).default(DEFAULT_HTTP_LIMITS.parseTimeoutMs, '2s'))
    .option('--http-values-burst <n>', 'sealed values verify/rotate may spend at once before --http-values-per-second applies', atLeastOne, DEFAULT_HTTP_LIMITS.valuesBurst)
    .option('--http-unseal-share <fraction>', 'share of the unseal workers verify/rotate may use while SealedSecrets wait to be reconciled (0 < share <= 1; 1: no bound)', shareFraction, DEFAULT_HTTP_UNSEAL_SHARE)
    .exitOverride()
    .allowExcessArguments(false);
}

/** Parses argv (without node and script). Throws commander errors on bad usage. */
export function parseFlags(args: readonly string[], env: NodeJS.ProcessEnv = process.env): ControllerFlags {
  const command = controllerCommand(env);
  command.parse([...args], { from: 'user' });
  const flags = command.opts<ControllerFlags>();
  if (flags.renewDeadline >= flags.leaseDuration) throw new InvalidArgumentError('--renew-deadline must be shorter than --lease-duration');
  if (flags.sealingKeySource === 'bitnami' && !flags.adoptBitnami) throw new InvalidArgumentError('--sealing-key-source bitnami needs --adopt-bitnami (the controller reads Bitnami\'s keys only in adoption mode)');
  if (flags.shards < 1) throw new InvalidArgumentError('--shards must be at least 1');
  if (flags.shards > 1 && !flags.leaderElect) throw new InvalidArgumentError('--shards needs leader election (drop --no-leader-elect)');
  if (flags.watchNamespaces !== undefined && flags.adoptBitnami) throw new InvalidArgumentError('--adopt-bitnami watches bitnami.com SealedSecrets in every namespace; it cannot be combined with --watch-namespaces');
  if (flags.shards > 1 && flags.adoptBitnami) throw new InvalidArgumentError('--adopt-bitnami runs with one leader; it cannot be combined with --shards');
  return flags;
}

/** A running controller with its HTTP servers. */
export interface RunningController {
  readonly controller: Controller;
  readonly metrics: ControllerMetrics;
  /** Bound API and metrics ports. */
  readonly port: number;
  readonly metricsPort: number;
  /** Stops everything (see the module comment); idempotent. */
  stop(): Promise<void>;
}

/** Builds and starts the controller and its HTTP API from flags. `api` replaces the kubeconfig (tests). */
export async function runController(flags: ControllerFlags, options: { readonly logger?: Logger; readonly api?: KubeApi } = {}): Promise<RunningController> {
  const logger = options.logger ?? createLogger({ level: flags.logLevel, format: flags.logFormat, base: { component: 'kseal-controller' } });
  const api = options.api ?? new ClientNodeApi(loadKubeConfig({ kubeconfig: flags.kubeconfig, context: flags.context }, process.env));
  const metrics = new ControllerMetrics({ defaultMetrics: true });
  const controller = new Controller({
    api,
    namespace: flags.namespace,
    ...(flags.identity === undefined ? {} : { identity: flags.identity }),
    keySize: flags.keySize,
    keyTtlMs: flags.keyTtl,
    commonName: flags.myCn,
    renewPeriodMs: flags.keyRenewPeriod,
    cutoffTime: flags.keyCutoffTime,
    resyncMs: flags.resyncPeriod,
    workers: Math.max(1, flags.workers),
    httpUnsealShare: flags.httpUnsealShare,
    concurrency: Math.max(1, flags.concurrency),
    leaderElection: {
      enabled: flags.leaderElect,
      leaseName: flags.leaseName,
      shards: flags.shards,
      leaseDurationMs: flags.leaseDuration,
      renewDeadlineMs: flags.renewDeadline,
      retryPeriodMs: flags.retryPeriod,
    },
    watch: {
      idleTimeoutMs: flags.watchIdleTimeout,
      minWatchTimeoutSeconds: Math.max(1, Math.round(flags.watchTimeout / 1000)),
      backoff: { initialMs: 200, maxMs: 30_000 },
    },
    queueBackoff: { initialMs: 5, maxMs: Math.max(5, flags.retryMax) },
    watchNamespaces: flags.watchNamespaces,
    adoptBitnami: flags.adoptBitnami ? { keyNamespace: flags.bitnamiKeyNamespace, sealingKeySource: flags.sealingKeySource } : undefined,
    logger,
    metrics,
  });
  controller.start();
  let http: Awaited<ReturnType<typeof startHttpServer>>;
  try {
    http = await startHttpServer({
      ...(flags.listenHost === undefined ? {} : { host: flags.listenHost }),
      port: flags.port,
      metricsPort: flags.metricsPort,
      keys: controller.keys,
      unsealer: controller.unsealer,
      metrics,
      logger: logger.child({ component: 'http' }),
      ready: () => controller.ready(),
      limits: {
        maxBodyBytes: flags.httpMaxBody,
        maxValues: flags.httpMaxValues,
        maxInFlight: flags.httpMaxInFlight,
        valuesPerSecond: flags.httpValuesPerSecond,
        valuesBurst: flags.httpValuesBurst,
        parseTimeoutMs: flags.httpParseTimeout,
      },
    });
  } catch (e) {
    await controller.stop();
    throw e;
  }
  logger.info('started', { codeCache: codeCacheState(), namespace: flags.namespace, identity: controller.identity, port: http.port, metricsPort: http.metricsPort, leaderElection: flags.leaderElect, shards: flags.shards, workers: flags.workers, adoptBitnami: flags.adoptBitnami, sealingKeySource: flags.sealingKeySource, watchNamespaces: flags.watchNamespaces?.join(',') ?? '*' });
  let stopping: Promise<void> | undefined;
  return {
    controller,
    metrics,
    port: http.port,
    metricsPort: http.metricsPort,
    stop: () =>
      (stopping ??= (async () => {
        logger.info('stopping');
        await controller.stop();
        await http.close();
        logger.info('stopped');
      })()),
  };
}

/**
 * What bin/code-cache.cjs did with the bundle's V8 code cache (used, missing, stale, rejected...),
 * logged at start so that an image whose cache does not fit its node is visible; `none` when the
 * controller was not started through it (tests, the demo).
 */
function codeCacheState(): string {
  const state = (globalThis as Record<symbol, unknown>)[Symbol.for('kseal.codeCache')];
  return typeof state === 'string' ? state : 'none';
}

/** The process entry: runs until SIGTERM/SIGINT, then shuts down cleanly and exits 0. */
export async function main(args: readonly string[]): Promise<void> {
  let flags: ControllerFlags;
  try {
    flags = parseFlags(args);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') process.exit(0);
    if (typeof code !== 'string' || !code.startsWith('commander.')) process.stderr.write(`kseal-controller: ${(e as Error).message}\n`);
    process.exit(2);
  }
  let running: RunningController;
  try {
    running = await runController(flags);
  } catch (e) {
    // A kubeconfig that cannot be used is a configuration error: say so once and exit 2, as for a bad flag.
    if (isKsealError(e, 'NO_KUBECONFIG') || isKsealError(e, 'KUBECONFIG_INVALID')) {
      const hint = e.code === 'NO_KUBECONFIG' ? '\n  hint: run it in a pod (in-cluster service account), or pass --kubeconfig FILE' : e.hint === undefined ? '' : `\n  hint: ${e.hint}`;
      process.stderr.write(`kseal-controller: cannot start: ${e.file === undefined || e.code === 'NO_KUBECONFIG' ? '' : `${e.file}: `}${e.message}${e.code === 'NO_KUBECONFIG' ? ', and this is not a pod' : ''}${hint}\n`);
      process.exit(2);
    }
    process.stderr.write(`kseal-controller: cannot start: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const shutdown = (signal: string): void => {
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: 'signal received', signal })}\n`);
    const force = setTimeout(() => process.exit(1), 20_000);
    force.unref();
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
