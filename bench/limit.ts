/**
 * Workload 1, the limit every other figure is a ratio of: raw RSA-4096 OAEP-SHA256 private-key
 * operations per second on all cores (one worker thread per core, node:crypto, nothing else), and the
 * raw hybrid seal rate on one core (the library's sealBytes, no parsing or I/O).
 */
import { constants, createPrivateKey, privateDecrypt, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { sealBytes } from '../src/crypto/hybrid.js';

export interface Limits {
  /** RSA-4096 OAEP private-key operations per second, all cores. */
  readonly privateOpsPerSecond: number;
  /** The same on one core. */
  readonly privateOpsPerSecondOneCore: number;
  /** Hybrid seals of a 32-byte value per second on one core. */
  readonly sealsPerSecond: number;
  readonly cores: number;
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { constants, createPrivateKey, privateDecrypt } = require('node:crypto');
const key = createPrivateKey(workerData.pem);
const input = Buffer.from(workerData.wrapped, 'base64');
const label = Buffer.from('ns/name');
const end = Date.now() + workerData.ms;
let n = 0;
while (Date.now() < end) { privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: label }, input); n++; }
parentPort.postMessage(n);
`;

async function decryptRate(pem: string, wrapped: Buffer, threads: number, ms: number): Promise<number> {
  const counts = await Promise.all(
    Array.from({ length: threads }, () => new Promise<number>((resolve, reject) => {
      const w = new Worker(WORKER, { eval: true, workerData: { pem, wrapped: wrapped.toString('base64'), ms } });
      w.once('message', (n: number) => resolve(n));
      w.once('error', reject);
    })),
  );
  return counts.reduce((a, b) => a + b, 0) / (ms / 1000);
}

function sealRate(publicKey: KeyObject, ms: number): number {
  const value = randomBytes(32);
  const label = Buffer.from('ns/name');
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) {
    sealBytes(publicKey, label, value);
    n++;
  }
  return n / (ms / 1000);
}

/**
 * RSA-4096 OAEP private-key operations per second on all cores (or `threads`), alone: for workloads
 * that want the limit measured right next to them on a machine whose load changes.
 */
export async function privateOpsRate(privateKeyPem: string, ms = 2000, threads = availableParallelism()): Promise<number> {
  const privateKey = createPrivateKey(privateKeyPem);
  const wrapped = publicEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from('ns/name') }, randomBytes(32));
  return decryptRate(privateKeyPem, wrapped, threads, ms);
}

/**
 * CPU milliseconds one RSA-OAEP private-key operation takes, measured as CPU time (process.cpuUsage
 * around a loop on this thread, nothing else running in it), not as a rate: unlike ops per second it
 * barely moves when other processes take the cores, so a CPU budget can be compared with it on a
 * loaded machine.
 */
export function privateOpCpuMs(privateKeyPem: string, ms = 1000): number {
  const key = createPrivateKey(privateKeyPem);
  const label = Buffer.from('ns/name');
  const wrapped = publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: label }, randomBytes(32));
  const before = process.cpuUsage();
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) {
    privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: label }, wrapped);
    n++;
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / n;
}

/** Measures the limits with the given RSA-4096 private key PEM. */
export async function measureLimits(privateKeyPem: string, ms = 3000): Promise<Limits> {
  const privateKey = createPrivateKey(privateKeyPem);
  const wrapped = publicEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from('ns/name') }, randomBytes(32));
  const cores = availableParallelism();
  const privateOpsPerSecondOneCore = await decryptRate(privateKeyPem, wrapped, 1, ms);
  const privateOpsPerSecond = await decryptRate(privateKeyPem, wrapped, cores, ms);
  const { createPublicKey } = await import('node:crypto');
  const sealsPerSecond = sealRate(createPublicKey(privateKey), ms);
  return { privateOpsPerSecond, privateOpsPerSecondOneCore, sealsPerSecond, cores };
}
