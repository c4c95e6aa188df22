/**
 * `npm run demo`: the whole loop on one machine in a few seconds. Starts the in-repo Kubernetes API
 * (kube-api/) in-process with the SealedSecret CRD, runs the controller in-process (with its HTTP
 * API), waits for its first key, fetches the certificate from `/v1/cert.pem` as `kseal cert` would,
 * seals every Secret in examples/ with the library the CLI uses, applies the SealedSecrets, waits for
 * Ready, and prints each resulting Secret's keys (values masked unless `showValues`), plus how to
 * point kubectl at the cluster. With `keep` it runs until Ctrl-C.
 *
 * Demo only: the API server keeps everything in memory, and the controller's logs go to
 * .kseal-demo/controller.log, next to the kubeconfig.
 */
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseCertificate } from '../src/crypto/certificate.js';
import { readManifests } from '../src/manifest/read.js';
import { readSecret } from '../src/model/secret.js';
import { sealSecret } from '../src/model/sealed-secret.js';
import { scopeFromAnnotations } from '../src/model/scope.js';
import { startKubeApi, type JsonObject, type KubeApiServer } from '../kube-api/server.js';
import { sleep } from '../net/backoff.js';
import { createLogger } from '../controller/logger.js';
import { parseFlags, runController, type RunningController } from '../controller/main.js';

export interface DemoOptions {
  /** Print values instead of masking them. */
  readonly showValues?: boolean;
  /** Directory of example Secrets (default `examples`). */
  readonly examplesDir?: string;
  /** Working directory for the kubeconfig and the controller log (default `.kseal-demo`). */
  readonly workDir?: string;
  /** RSA key size of the controller's key (default 4096, as in production). */
  readonly keySize?: number;
  /** Where the demo writes its report (default stdout). */
  readonly out?: (text: string) => void;
}

/** One Secret the demo produced. */
export interface DemoSecret {
  readonly namespace: string;
  readonly name: string;
  readonly type: string;
  readonly values: Record<string, string>;
}

/** A finished demo, still running (stop() shuts the controller and the API server down). */
export interface DemoRun {
  readonly kubeconfigPath: string;
  readonly secrets: readonly DemoSecret[];
  readonly controller: RunningController;
  readonly server: KubeApiServer;
  stop(): Promise<void>;
}

function findCrd(): string {
  const candidates = [new URL('./deploy/crd.yaml', import.meta.url), new URL('../controller/deploy/crd.yaml', import.meta.url)];
  const found = candidates.find((u) => existsSync(u));
  if (found === undefined) throw new Error('controller/deploy/crd.yaml not found');
  return readFileSync(found, 'utf8');
}

function mask(value: string): string {
  return value.length === 0 ? '(empty)' : `${'*'.repeat(Math.min(8, value.length))} (${value.length} bytes)`;
}

/** Runs the demo (see the module comment) and returns it still running. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoRun> {
  const out = options.out ?? ((t: string) => void process.stdout.write(t));
  const workDir = resolve(options.workDir ?? '.kseal-demo');
  const examplesDir = resolve(options.examplesDir ?? 'examples');
  mkdirSync(workDir, { recursive: true });
  const kubeconfigPath = join(workDir, 'kubeconfig');
  const server = await startKubeApi({ kubeconfigPath, namespaces: ['kseal-system'], objects: readManifests(findCrd(), 'crd.yaml').map((o) => o.value as JsonObject) });
  const logFile = join(workDir, 'controller.log');
  const logStream = createWriteStream(logFile, { flags: 'w' });
  let controller: RunningController | undefined;
  const stop = async (): Promise<void> => {
    await controller?.stop();
    await server.close();
    await new Promise<void>((r) => logStream.end(r));
  };
  try {
    out(`In-repo Kubernetes API at ${server.url}\n`);
    const flags = parseFlags(['--kubeconfig', kubeconfigPath, '--namespace', 'kseal-system', '--key-size', String(options.keySize ?? 4096), '--port', '0', '--metrics-port', '0', '--listen-host', '127.0.0.1'], {});
    controller = await runController(flags, { logger: createLogger({ stream: logStream }) });
    out(`kseal-controller running: API http://127.0.0.1:${controller.port}, metrics http://127.0.0.1:${controller.metricsPort}/metrics (log: ${logFile})\n`);
    out(`Waiting for the controller's first sealing key (RSA-${flags.keySize})...\n`);
    const deadline = Date.now() + 120_000;
    let pem: string | undefined;
    while (pem === undefined) {
      const res = await fetch(`http://127.0.0.1:${controller.port}/v1/cert.pem`).catch(() => undefined);
      if (res?.status === 200) pem = await res.text();
      else if (Date.now() > deadline) throw new Error('the controller made no key within 2 minutes');
      else await sleep(100);
    }
    const cert = parseCertificate(pem);
    out(`Certificate fetched from /v1/cert.pem (key id ${cert.keyId.slice(0, 16)}...)\n\n`);

    const applied: Array<{ namespace: string; name: string; file: string }> = [];
    for (const file of readdirSync(examplesDir).filter((f) => /\.ya?ml$/.test(f) && !f.includes('sealed')).sort()) {
      for (const { value, location } of readManifests(readFileSync(join(examplesDir, file), 'utf8'), file)) {
        if ((value as { kind?: unknown }).kind !== 'Secret') continue;
        const secret = readSecret(value, location);
        const sealed = sealSecret(secret, cert, { scope: scopeFromAnnotations(secret.annotations) ?? 'strict' });
        const namespace = sealed.metadata.namespace ?? 'default';
        if (server.store.get('v1', 'Namespace', namespace) === undefined) server.store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
        server.store.create(JSON.parse(JSON.stringify(sealed)) as JsonObject);
        applied.push({ namespace, name: sealed.metadata.name, file });
        out(`Sealed ${file} -> SealedSecret ${namespace}/${sealed.metadata.name} (${Object.keys(sealed.spec.encryptedData).length} values) and applied it\n`);
      }
    }

    const secrets: DemoSecret[] = [];
    for (const { namespace, name } of applied) {
      for (;;) {
        const obj = server.store.get('kseal.dev/v1alpha1', 'SealedSecret', name, namespace) as { status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> } } | undefined;
        const ready = obj?.status?.conditions?.find((c) => c.type === 'Ready');
        if (ready?.status === 'True') break;
        if (ready?.status === 'False') throw new Error(`${namespace}/${name} is not Ready: ${ready.reason}: ${ready.message}`);
        if (Date.now() > deadline) throw new Error(`${namespace}/${name} did not become Ready`);
        await sleep(50);
      }
      const s = server.store.get('v1', 'Secret', name, namespace) as { type?: string; data?: Record<string, string> } | undefined;
      const values = Object.fromEntries(Object.entries(s?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
      secrets.push({ namespace, name, type: s?.type ?? 'Opaque', values });
    }

    out('\nThe controller unsealed them into Secrets:\n');
    for (const s of secrets) {
      out(`  Secret ${s.namespace}/${s.name} (${s.type}), Ready\n`);
      for (const [k, v] of Object.entries(s.values)) out(`    ${k}: ${options.showValues === true ? JSON.stringify(v) : mask(v)}\n`);
    }
    if (options.showValues !== true) out('  (values masked; --show-values prints them)\n');
    // The in-repo API has no service proxy, so kseal reaches the controller directly.
    out(
      `\nPoint kubectl and kseal at it (while it runs: npm run demo -- --keep):\n  export KUBECONFIG=${kubeconfigPath}\n  export KSEAL_CONTROLLER_URL=http://127.0.0.1:${controller.port}\n  kubectl get sealedsecrets -A\n  kubectl get secret -n ${secrets[0]?.namespace ?? 'demo'} -o yaml\n  kseal cert > cert.pem\n`,
    );
    return { kubeconfigPath, secrets, controller, server, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
