/**
 * Workload 21 (issue 11): multi-recipient costs. Bulk sealing of 1,000 Secrets x 5 values in one
 * `kseal encrypt` process for one cluster plus one escrow recipient, against the same run for the
 * cluster alone (alternating pairs, median of per-pair ratios; target >= 50% of the one-recipient
 * rate), and the private-key operations the controller's unseal pool spends per value on objects
 * sealed for three recipients (another cluster first, this cluster in spec.recipients, an escrow
 * identity), counted, not timed (target 1.0), with the time per value against one-recipient objects
 * as context.
 */
import { spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseCertificate } from '../src/crypto/certificate.js';
import { generateIdentity, parseRecipient } from '../src/crypto/identity.js';
import { generateSealingKey } from '../src/crypto/keygen.js';
import { readSecret } from '../src/model/secret.js';
import { clusterRecipient, escrowRecipient } from '../src/model/recipients.js';
import { readSealedSecret, sealSecret, type SealedSecret } from '../src/model/sealed-secret.js';
import type { SealingKey } from '../controller/contracts.js';
import { UnsealPool } from '../controller/unseal-pool.js';
import { median, type Figure } from './report.js';

const BIN = resolve('dist/kseal.cjs');
const SECRETS = 1000;
const OBJECTS = 100;

function secret(i: number): string {
  return `apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-${i}\n  namespace: ns-${i % 50}\nstringData:\n${[1, 2, 3, 4, 5].map((k) => `  key${k}: value-${i}-${k}-${'x'.repeat(24)}`).join('\n')}\n`;
}

function time(args: string[], input: string): number {
  const start = performance.now();
  const r = spawnSync(process.execPath, args, { input, stdio: ['pipe', 'ignore', 'pipe'], maxBuffer: 1 << 28 });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr.toString().slice(0, 300)}`);
  return ms;
}

/** Bulk sealing with and without an escrow recipient, as whole processes. */
function bulkFigure(certPath: string, pairs: number): Figure {
  const bulk = Array.from({ length: SECRETS }, (_, i) => secret(i)).join('---\n');
  const recipient = generateIdentity().recipient;
  const one = (): number => time([BIN, 'encrypt', '--cert', certPath], bulk);
  const two = (): number => time([BIN, 'encrypt', '--cert', certPath, '--recipient', recipient], bulk);
  one();
  two();
  const ratios: number[] = [];
  const ones: number[] = [];
  const twos: number[] = [];
  for (let i = 0; i < pairs; i++) {
    // The order within a pair alternates, so neither always runs right after the other.
    let a: number;
    let b: number;
    if (i % 2 === 0) {
      a = one();
      b = two();
    } else {
      b = two();
      a = one();
    }
    ones.push(a);
    twos.push(b);
    ratios.push(a / b);
  }
  const ratio = median(ratios);
  return {
    workload: '21 recipients',
    metric: `${SECRETS.toLocaleString('en')} Secrets x 5 values, cluster + escrow rate / cluster-only rate (one process)`,
    value: ratio * 100,
    unit: '%',
    target: '>= 50%',
    met: ratio >= 0.5,
    detail: { clusterOnlyMedianMs: median(ones), withEscrowMedianMs: median(twos), pairs },
  };
}

function sealedFor(i: number, primary: Parameters<typeof sealSecret>[1], others: Parameters<typeof sealSecret>[2]['recipients']): SealedSecret {
  const input = readSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `app-${i}`, namespace: 'bench' }, stringData: Object.fromEntries([1, 2, 3, 4, 5].map((k) => [`key${k}`, `value-${i}-${k}`])) }, {});
  return readSealedSecret(JSON.parse(JSON.stringify(sealSecret(input, primary, { scope: 'strict', recipients: others }))), {});
}

/** Private ops per value on three-recipient objects, counted by the real pool; time against one-recipient objects. */
async function unsealFigures(keyPem: string, certPem: string): Promise<Figure[]> {
  const cert = parseCertificate(certPem, { skipValidity: true });
  const other = await generateSealingKey({ bits: 2048 });
  const otherCert = parseCertificate(other.certificatePem, { skipValidity: true });
  const escrow = escrowRecipient(parseRecipient(generateIdentity().recipient));
  const key: SealingKey = { keyId: cert.keyId, privateKey: createPrivateKey(keyPem), privateKeyPem: keyPem, certificatePem: certPem, notBefore: cert.notBefore, notAfter: cert.notAfter, secretName: 'bench' };
  const pool = new UnsealPool({ keys: { list: () => [key], newest: () => key } });
  try {
    const three = Array.from({ length: OBJECTS }, (_, i) => sealedFor(i, otherCert, [clusterRecipient(cert), escrow]));
    const single = Array.from({ length: OBJECTS }, (_, i) => sealedFor(i, cert, []));
    await Promise.all(single.slice(0, 4).map((s) => pool.unseal(s)));
    const run = async (objects: SealedSecret[]): Promise<{ ms: number; ops: number }> => {
      const before = pool.privateOps;
      const start = performance.now();
      for (let i = 0; i < objects.length; i += 8) await Promise.all(objects.slice(i, i + 8).map((s) => pool.unseal(s)));
      return { ms: performance.now() - start, ops: pool.privateOps - before };
    };
    const a = await run(single);
    const b = await run(three);
    const values = OBJECTS * 5;
    return [
      { workload: '21 recipients', metric: 'RSA private ops per value, objects sealed for 3 recipients (this cluster in spec.recipients), counted', value: b.ops / values, unit: '', target: '1.0', met: b.ops === values, detail: { ops: b.ops, values } },
      { workload: '21 recipients', metric: 'unseal time per value, 3 recipients / 1 recipient', value: b.ms / a.ms, unit: 'x', target: '', met: undefined, detail: { oneRecipientMs: Math.round(a.ms), threeRecipientsMs: Math.round(b.ms), oneRecipientOps: a.ops } },
    ];
  } finally {
    await pool.close();
  }
}

/** Every figure of the workload (RSA-4096 key and certificate of the bench). */
export async function recipientFigures(keyPem: string, certPath: string, pairs = 5): Promise<Figure[]> {
  return [bulkFigure(certPath, pairs), ...(await unsealFigures(keyPem, readFileSync(certPath, 'utf8')))];
}
