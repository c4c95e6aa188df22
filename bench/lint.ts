/**
 * Workload 20: `kseal lint` over a repo of 10,000 generated files (issue 12: target >= 2,000
 * files/s), as a real process on the bundled CLI. The repo holds a `.kseal.yaml` with a creation
 * rule and the certificate, SealedSecrets of three 4096-bit sealed values each (the shape kseal
 * writes: length prefix, 512-byte RSA part, AES-GCM part), and ConfigMaps and Deployments beside
 * them, in nested directories, all clean so every rule runs to the end. The figure is the default
 * run (`--jobs auto`: one worker thread per core); the same lint on the main thread alone
 * (`--jobs 1`) is shown beside it. The floor is the same process reading every file and doing
 * nothing else (the I/O and walk cost), measured in the same run.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseCertificate } from '../src/crypto/certificate.js';
import { median, type Figure } from './report.js';

const BIN = resolve('dist/kseal.cjs');
const FILES = 10_000;

/** One sealed value as kseal writes it for a 4096-bit key (random bytes: lint never opens it). */
function sealedValue(length: number): string {
  const rsa = randomBytes(512);
  const prefix = Buffer.from([rsa.length >> 8, rsa.length & 0xff]);
  return Buffer.concat([prefix, rsa, randomBytes(length + 16)]).toString('base64');
}

function sealedSecret(i: number, keyId: string): string {
  const keys = ['password', 'token', 'username'].map((k) => `    ${k}: ${sealedValue(24)}`).join('\n');
  return `apiVersion: kseal.dev/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: app-${i}\n  namespace: team-${i % 40}\n  annotations:\n    kseal.dev/key-id: "${keyId}"\nspec:\n  encryptedData:\n${keys}\n  template:\n    metadata:\n      name: app-${i}\n      labels:\n        app: app-${i}\n    type: Opaque\n`;
}

function otherManifest(i: number): string {
  if (i % 2 === 0) return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-${i}\n  namespace: team-${i % 40}\ndata:\n  LOG_LEVEL: info\n  FEATURE_X: "true"\n`;
  return `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-${i}\n  namespace: team-${i % 40}\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: app-${i}\n  template:\n    metadata:\n      labels:\n        app: app-${i}\n    spec:\n      containers:\n        - name: app\n          image: registry.example/app:${i}\n          envFrom:\n            - secretRef:\n                name: app-${i}\n`;
}

/** Writes the generated repo under `dir`: 70% SealedSecrets, the rest other manifests, 100 directories. */
function generate(dir: string, certPath: string): void {
  copyFileSync(certPath, join(dir, 'cert.pem'));
  writeFileSync(join(dir, '.kseal.yaml'), 'certificates:\n  - name: prod\n    file: cert.pem\ncreation_rules:\n  - path_regex: ^apps/\n    certificate: cert.pem\n    scope: strict\n');
  const keyId = parseCertificate(readFileSync(certPath), { skipValidity: true }).keyId;
  for (let d = 0; d < 100; d++) mkdirSync(join(dir, 'apps', `team-${d}`), { recursive: true });
  for (let i = 0; i < FILES; i++) {
    const sealed = i % 10 < 7;
    const name = sealed ? `app-${i}.sealed.yaml` : `manifest-${i}.yaml`;
    writeFileSync(join(dir, 'apps', `team-${i % 100}`, name), sealed ? sealedSecret(i, keyId) : otherManifest(i));
  }
}

function timeProcess(args: string[], cwd: string): number {
  const start = performance.now();
  const r = spawnSync(process.execPath, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr.toString().slice(0, 500)}`);
  return ms;
}

// The floor: walk and read every manifest, nothing else (same process start-up cost as the CLI).
const READ_ALL = `
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
let n = 0;
const walk = (d) => { for (const e of readdirSync(d, { withFileTypes: true })) { if (e.isDirectory()) walk(join(d, e.name)); else if (/\\.ya?ml$/.test(e.name)) { readFileSync(join(d, e.name), 'utf8'); n++; } } };
walk('apps');
if (n === 0) process.exit(1);
`;

/** Runs the lint workload (median of `runs` after one warm-up run) with the certificate at `certPath`. */
export function lintFigures(certPath: string, runs = 3): Figure[] {
  const dir = mkdtempSync(join(tmpdir(), 'kseal-bench-lint-'));
  try {
    generate(dir, certPath);
    timeProcess([BIN, 'lint', '.'], dir); // warm-up: file cache, code cache
    const lintMs = median(Array.from({ length: runs }, () => timeProcess([BIN, 'lint', '.'], dir)));
    const oneThreadMs = median(Array.from({ length: runs }, () => timeProcess([BIN, 'lint', '.', '--jobs', '1'], dir)));
    const floorMs = median(Array.from({ length: runs }, () => timeProcess(['-e', READ_ALL], dir)));
    const filesPerSecond = FILES / (lintMs / 1000);
    return [
      {
        workload: '20 lint',
        metric: `kseal lint of ${FILES.toLocaleString('en')} generated files (70% SealedSecrets), one process, --jobs auto (${availableParallelism()} cores), median of ${runs}`,
        value: filesPerSecond,
        unit: 'files/s',
        target: '>= 2000 files/s',
        met: filesPerSecond >= 2000,
        detail: { lintMs, files: FILES, readOnlyFloorMs: floorMs, floorFilesPerSecond: FILES / (floorMs / 1000) },
      },
      {
        workload: '20 lint',
        metric: `the same with --jobs 1 (main thread only), median of ${runs}`,
        value: FILES / (oneThreadMs / 1000),
        unit: 'files/s',
        target: '',
        met: undefined,
        detail: { lintMs: oneThreadMs },
      },
      {
        workload: '20 lint',
        metric: 'lint time (--jobs auto) / read-every-file floor (same files, same run)',
        value: lintMs / floorMs,
        unit: 'x',
        target: '',
        met: undefined,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
