/**
 * Workload 10, start-up: from spawning the controller bundle (with the image's node flags, so with
 * the V8 code cache the build made for them) to the first 200 answer of `GET /v1/cert.pem`, with a
 * key Secret already in the cluster (a restart or a second replica). The median of ten starts after
 * one warm-up; every start polls a port chosen before the spawn, so the figure does not depend on
 * when the controller logs. Beside the wall time it reports the controller's CPU time (user +
 * system, all threads) at that moment, which depends less on the machine's load.
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
export async function startUpFigures(log: (line: string) => void, starts = 10): Promise<Figure[]> {
  const cluster = await ScaleCluster.start({ namespaces: 1, keys: [fixedKey(2048)] });
  const times: number[] = [];
  const cpuMs: number[] = [];
  const mainCpuMs: number[] = [];
  const codeCache = new Set<string>();
  try {
    // The first start warms the file cache and is not counted.
    for (let i = 0; i <= starts; i++) {
      const port = await freePort();
      const run = new ControllerRun(cluster.kubeconfigPath, { keySize: 2048, args: ['--port', String(port)] });
      try {
        const ms = await firstCert(port, run, 30_000);
        const cpu = run.cpu();
        if (i === 0) continue;
        times.push(ms);
        cpuMs.push(cpu.process * 1000);
        mainCpuMs.push(cpu.main * 1000);
        await run.waitForLog('started', 30_000);
        codeCache.add(String(run.lines('started')[0]?.['codeCache']));
      } finally {
        await run.stop();
      }
    }
  } finally {
    await cluster.close();
  }
  const ms = median(times);
  log(`start-up: ${times.map((t) => Math.round(t)).join(' ')} ms wall, ${cpuMs.map((t) => Math.round(t)).join(' ')} ms CPU (main thread ${mainCpuMs.map((t) => Math.round(t)).join(' ')}), code cache ${[...codeCache].join('/')}`);
  return [
    {
      workload: '10 start-up',
      metric: `controller spawn to first GET /v1/cert.pem 200, median of ${starts}`,
      value: ms / 1000,
      unit: 's',
      target: '<= 0.5 s',
      met: ms <= 500,
      detail: { startsMs: times.map((t) => Math.round(t)).join(' '), cpuMs: cpuMs.map((t) => Math.round(t)).join(' '), codeCache: [...codeCache].join('/') },
    },
    {
      workload: '10 start-up',
      metric: `controller CPU (user + system, all threads) at the first /v1/cert.pem 200, median of ${starts}`,
      value: median(cpuMs) / 1000,
      unit: 's',
      target: '',
      met: undefined,
      detail: { mainThreadMedianMs: Math.round(median(mainCpuMs)) },
    },
  ];
}
