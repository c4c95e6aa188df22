// The offline demo: generate a throw-away key pair, seal examples/secret.yaml with the kseal CLI and
// print the SealedSecret, then open it again with the private key to show the round trip.
// No cluster is needed. Run with `npm run demo:offline` (after npm ci, which builds dist/).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

const root = new URL('..', import.meta.url).pathname;
const kseal = join(root, 'dist', 'kseal.cjs');
const dir = mkdtempSync(join(tmpdir(), 'kseal-demo-'));
const run = (args, input) => execFileSync(process.execPath, [kseal, ...args], { cwd: dir, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'inherit'] });
try {
  run(['keygen', '--key-out', 'demo.key', '--cert-out', 'demo.crt']);
  const sealed = run(['encrypt', '--cert', 'demo.crt', '-f', join(root, 'examples', 'secret.yaml')]);
  console.log('# kseal encrypt --cert demo.crt -f examples/secret.yaml\n');
  console.log(sealed);
  const opened = run(['decrypt', '--key', 'demo.key'], sealed);
  const keys = Object.keys(parse(opened).data);
  console.log(`# kseal decrypt --key demo.key opens it again: keys ${keys.join(', ')} (values not shown)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
