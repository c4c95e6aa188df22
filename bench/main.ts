/**
 * `npm run bench`: every workload of the benchmark issue, each figure a ratio against the limits
 * measured at the start of the same run (these machines are noisy; absolute times alone mean little).
 * Prints one table and writes bench/results/latest.json. Nothing here is a test: no exit code
 * depends on a timing.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { cliFigures } from './cli.js';
import { measureLimits } from './limit.js';
import { fmt, table, type Figure } from './report.js';

const only = process.argv.slice(2);
const wants = (name: string): boolean => only.length === 0 || only.includes(name);
const keyPem = readFileSync('test/vectors/keys/test-rsa-4096.key.pem', 'utf8');
const certPath = 'test/vectors/keys/test-rsa-4096.crt.pem';

const started = Date.now();
const limits = await measureLimits(keyPem);
const figures: Figure[] = [
  {
    workload: '1 limit',
    metric: `RSA-4096 OAEP private ops/s, ${limits.cores} cores (1 core: ${fmt(limits.privateOpsPerSecondOneCore)})`,
    value: limits.privateOpsPerSecond,
    unit: '/s',
    target: '',
    met: undefined,
  },
  { workload: '1 limit', metric: 'hybrid seals/s of a 32-byte value, 1 core', value: limits.sealsPerSecond, unit: '/s', target: '', met: undefined },
];
if (wants('cli')) figures.push(...cliFigures(certPath, limits.sealsPerSecond));
if (wants('lint')) figures.push(...(await import('./lint.js')).lintFigures(certPath));
if (wants('recipients')) figures.push(...(await (await import('./recipients.js')).recipientFigures(keyPem, certPath)));
// `npm run bench -- controller` runs every controller workload; `cold`, `fanout`, `memory`, `startup`, `sharding`, `scale`, `real`, `abuse` one group.
const controllerGroups = only.filter((a) => ['cold', 'fanout', 'memory', 'startup', 'sharding', 'scale', 'real', 'abuse'].includes(a));
if (wants('controller') || controllerGroups.length > 0) {
  const { controllerFigures } = await import('./controller.js');
  figures.push(...(await controllerFigures(limits, controllerGroups)));
}

// Workload order (1 limit ... 20 lint), whatever order they ran in.
figures.sort((a, b) => Number.parseInt(a.workload, 10) - Number.parseInt(b.workload, 10));
const report = table(figures);
console.log(report);
for (const f of figures) if (typeof f.detail?.['warning'] === 'string') console.log(`\nwarning (${f.workload}): ${f.detail['warning']}`);
console.log(`\n${figures.filter((f) => f.met === true).length} met, ${figures.filter((f) => f.met === false).length} missed; ${((Date.now() - started) / 1000).toFixed(0)} s on ${availableParallelism()} cores, Node ${process.version}`);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/latest.json', `${JSON.stringify({ date: new Date().toISOString(), node: process.version, limits, figures }, null, 2)}\n`);
