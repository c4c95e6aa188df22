/**
 * Runs the in-repo Kubernetes API server (kube-api/) as a process:
 *   node dist/kube-api.mjs [--port N] [--kubeconfig-out FILE] [--load FILE]... [--namespace NS]...
 *                          [--token T] [--require-token] [--history-size N] [--bookmark-interval-ms N]
 * Prints its URL on stdout once it is listening; stops on SIGINT/SIGTERM. Control it over HTTP
 * with /__kube-api/{faults,stats,restart,settle,info} (see docs/TESTING.md).
 */
import { readFileSync } from 'node:fs';
import { readManifests } from '../src/manifest/read.js';
import { isKubeObject, startKubeApi } from '../kube-api/server.js';
import type { JsonObject, KubeApiOptions } from '../kube-api/server.js';

function usage(msg: string): never {
  process.stderr.write(`kube-api: ${msg}\nusage: kube-api [--port N] [--kubeconfig-out FILE] [--load FILE]... [--namespace NS]... [--token T] [--require-token] [--history-size N] [--bookmark-interval-ms N]\n`);
  process.exit(2);
}

function intArg(name: string, v: string | undefined): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < 0) usage(`${name} needs a non-negative integer`);
  return n;
}

function loadManifests(file: string): JsonObject[] {
  const out: JsonObject[] = [];
  // The one parse entry; a List's items are seeded one by one.
  for (const { value: v } of readManifests(readFileSync(file, 'utf8'), file)) {
    if (v === null || v === undefined) continue;
    if (!isKubeObject(v)) usage(`${file}: every document must be a Kubernetes object`);
    out.push(v);
  }
  return out;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const options: KubeApiOptions = {};
  const objects: JsonObject[] = [];
  const namespaces: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = (): string | undefined => args[++i];
    switch (a) {
      case '--port': options.port = intArg(a, next()); break;
      case '--kubeconfig-out': { const f = next(); if (!f) usage('--kubeconfig-out needs a file'); options.kubeconfigPath = f; break; }
      case '--load': { const f = next(); if (!f) usage('--load needs a file'); objects.push(...loadManifests(f)); break; }
      case '--namespace': { const n = next(); if (!n) usage('--namespace needs a name'); namespaces.push(n); break; }
      case '--token': { const t = next(); if (!t) usage('--token needs a value'); options.token = t; break; }
      case '--require-token': options.requireToken = true; break;
      case '--history-size': options.historySize = intArg(a, next()); break;
      case '--bookmark-interval-ms': options.bookmarkIntervalMs = intArg(a, next()); break;
      case '-h':
      case '--help': usage('help');
      // falls through (usage exits)
      default: usage(`unknown argument ${a}`);
    }
  }
  options.namespaces = namespaces;
  // CRDs first, so the custom resources they define can be created.
  options.objects = [...objects.filter((o) => o['kind'] === 'CustomResourceDefinition'), ...objects.filter((o) => o['kind'] !== 'CustomResourceDefinition')];
  const server = await startKubeApi(options);
  process.stdout.write(`${server.url}\n`);
  const stop = (): void => {
    server.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`kube-api: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
