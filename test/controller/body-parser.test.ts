/** controller/body-parser.ts: request bodies parsed off the main thread, with a deadline and cancellation. */
import { afterAll, describe, expect, it } from 'vitest';
import { BodyParser, INLINE_PARSE_BYTES, parseRequestBody } from '../../controller/body-parser.js';
import { isKsealError } from '../../src/errors.js';
import { readManifests } from '../../src/manifest/read.js';
import { duplicateKeyBomb } from '../helpers/bombs.js';

const parser = new BodyParser();
afterAll(() => parser.close());

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const sealed = (keys: number): string => {
  const lines = ['apiVersion: kseal.dev/v1', 'kind: SealedSecret', 'metadata:', '  name: db', '  namespace: app', '  annotations:', '    created: 2024-01-01', 'spec:', '  encryptedData:'];
  for (let i = 0; i < keys; i++) lines.push(`    k${i}: ${'A'.repeat(700)}`);
  return `${lines.join('\n')}\n`;
};

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe('parseRequestBody', () => {
  it('parses a small body on the main thread to what readManifests gives', async () => {
    const text = sealed(1);
    expect(text.length).toBeLessThan(INLINE_PARSE_BYTES);
    expect(await parseRequestBody(bytes(text))).toEqual(readManifests(text, '<request>'));
  });

  it('parses a large body in the worker to what readManifests gives', async () => {
    const text = sealed(200);
    expect(text.length).toBeGreaterThan(INLINE_PARSE_BYTES);
    expect(await parser.parse(bytes(text))).toEqual(readManifests(text, '<request>'));
  });

  it('keeps the event loop running while a 1 MiB duplicate-key bomb is parsed, then refuses it', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const error = await rejection(parser.parse(bytes(duplicateKeyBomb()), { deadlineMs: 60_000 }));
    clearInterval(timer);
    expect(isKsealError(error, 'INPUT_LIMIT')).toBe(true);
    expect(ticks).toBeGreaterThan(0);
  });

  it('gives the parse errors of the worker as KsealErrors with their place and no value', async () => {
    const text = `${sealed(20)}    k3: CANARY-body-parser\n`;
    const error = await rejection(parser.parse(bytes(text)));
    expect(isKsealError(error, 'INVALID_YAML')).toBe(true);
    expect(error).toMatchObject({ file: '<request>', document: 1, key: 'k3' });
    expect((error as Error).message).not.toContain('CANARY');
  });

  it('refuses a body that is not UTF-8, small or large', async () => {
    const bad = (n: number): Uint8Array => Uint8Array.from([...bytes('a: '), 0xff, 0xfe, ...bytes(` ${'x'.repeat(n)}\n`)]);
    expect(isKsealError(await rejection(parser.parse(bad(10))), 'INVALID_YAML')).toBe(true);
    expect(isKsealError(await rejection(parser.parse(bad(INLINE_PARSE_BYTES * 2))), 'INVALID_YAML')).toBe(true);
  });

  it('refuses a parse that overruns its deadline with PARSE_TIMEOUT, and parses the next body', async () => {
    const error = await rejection(parser.parse(bytes(duplicateKeyBomb()), { deadlineMs: 1 }));
    expect(isKsealError(error, 'PARSE_TIMEOUT')).toBe(true);
    expect(await parser.parse(bytes(sealed(20)))).toHaveLength(1);
  });

  it('stops a parse when its signal aborts (the client left), and parses the next body', async () => {
    const gone = new AbortController();
    const pending = parser.parse(bytes(duplicateKeyBomb()), { signal: gone.signal, deadlineMs: 60_000 });
    setTimeout(() => gone.abort(new Error('client left')), 5);
    expect(((await rejection(pending)) as Error).message).toBe('client left');
    expect(await parser.parse(bytes(sealed(20)))).toHaveLength(1);
  });

  it('rejects at once when the signal has already aborted', async () => {
    const gone = new AbortController();
    gone.abort(new Error('already gone'));
    expect(((await rejection(parser.parse(bytes(sealed(20)), { signal: gone.signal }))) as Error).message).toBe('already gone');
  });

  it('parses queued bodies in turn, each to its own result', async () => {
    const texts = [sealed(10), sealed(11), sealed(12)];
    const results = await Promise.all(texts.map((t) => parser.parse(bytes(t))));
    expect(results.map((r) => Object.keys((r[0]?.value as { spec: { encryptedData: object } }).spec.encryptedData).length)).toEqual([10, 11, 12]);
  });
});

describe('BodyParser worker lifetime', () => {
  it('starts no worker until the first large body', async () => {
    const lazy = new BodyParser();
    await lazy.parse(bytes(sealed(1)));
    expect(lazy.workerThreadId).toBeUndefined();
    await lazy.close();
  });

  it('lets an idle worker exit and starts a fresh one for the next large body', async () => {
    const idle = new BodyParser({ idleExitMs: 50 });
    const text = sealed(200);
    await idle.parse(bytes(text));
    const first = idle.workerThreadId;
    expect(first).toBeDefined();
    await expect.poll(() => idle.workerThreadId, { timeout: 10_000 }).toBeUndefined();
    expect(await idle.parse(bytes(text))).toEqual(readManifests(text, '<request>'));
    expect(idle.workerThreadId).toBeDefined();
    expect(idle.workerThreadId).not.toBe(first);
    await idle.close();
  });
});
