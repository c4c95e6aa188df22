/**
 * Workload 10, start-up: from spawning the controller bundle to the first 200 answer of
 * `GET /v1/cert.pem`, with a key Secret already in the cluster (a restart or a second replica).
 * The median of five starts; every start polls a port chosen before the spawn, so the figure does
 * not depend on when the controller logs.
 */
import { createServer } from 'node:net';
import { ControllerRun, ScaleCluster, fixedKey } from './scale.js';
import { median, type Figure } from './report.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function firstCert(port: number, run: ControllerRun, timeoutMs: number): Promise<number> {
  const deadline = run.spawnedAt + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v1/cert.pem`);
      await res.arrayBuffer();
      if (res.status === 200) return Date.now() - run.spawnedAt;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`no certificate after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Start to serving the certificate, median of `starts` runs. */
export async function startUpFigures(log: (line: string) => void, starts = 5): Promise<Figure[]> {
  const cluster = await ScaleCluster.start({ namespaces: 1, keys: [fixedKey(2048)] });
  const times: number[] = [];
  try {
    for (let i = 0; i < starts; i++) {
      const port = await freePort();
      const run = new ControllerRun(cluster.kubeconfigPath, { keySize: 2048, args: ['--port', String(port)] });
      try {
        times.push(await firstCert(port, run, 30_000));
      } finally {
        await run.stop();
      }
    }
  } finally {
    await cluster.close();
  }
  const ms = median(times);
  log(`start-up: ${times.map((t) => Math.round(t)).join(' ')} ms`);
  return [
    {
      workload: '10 start-up',
      metric: `controller spawn to first GET /v1/cert.pem 200, median of ${starts}`,
      value: ms / 1000,
      unit: 's',
      target: '<= 0.5 s',
      met: ms <= 500,
      detail: { startsMs: times.map((t) => Math.round(t)).join(' ') },
    },
  ];
}
