/**
 * How the image runs the controller, read from the Dockerfile, so that every measurement runs what
 * ships: the node flags of its ENTRYPOINT and the environment its runtime stage sets (ENV lines after
 * the last FROM, e.g. MALLOC_ARENA_MAX). The Dockerfile is the one place for both; the Deployment
 * adds neither.
 */
import { readFileSync } from 'node:fs';

/** The runtime stage of the Dockerfile at `root` (everything after its last FROM). */
function runtimeStage(root: string): string {
  const text = readFileSync(`${root}Dockerfile`, 'utf8');
  const from = [...text.matchAll(/^FROM\s/gm)].at(-1)?.index ?? 0;
  return text.slice(from);
}

/** The node flags of the ENTRYPOINT (between node and the script). */
export function imageNodeFlags(root: string): string[] {
  const line = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(runtimeStage(root))?.[1];
  if (line === undefined) return [];
  const argv = JSON.parse(line) as string[];
  return argv.slice(1, argv.findIndex((a) => a.endsWith('.mjs')));
}

/** The variables the runtime stage's ENV lines set (`ENV A=1 B=2` form; values without spaces or quotes). */
export function imageEnv(root: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [, rest] of runtimeStage(root).matchAll(/^ENV\s+(.+)$/gm)) {
    for (const pair of (rest ?? '').trim().split(/\s+/)) {
      const eq = pair.indexOf('=');
      if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return env;
}

/**
 * The environment a benchmark starts the controller with: the image's ENV under the caller's own
 * (the caller's wins, for A/B runs), less what only the host sets and the image does not:
 * NODE_EXTRA_CA_CERTS (this machine points it at the system bundle) makes node load ~140 more
 * root certificates at start, which measured 1.4-1.9 MiB of idle RSS the shipped controller does
 * not have. A Dockerfile that sets it still gets it (the image's value).
 */
export function controllerEnv(root: string, host: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...imageEnv(root) };
  for (const [name, value] of Object.entries(host)) if (name !== 'NODE_EXTRA_CA_CERTS') env[name] = value;
  return env;
}
