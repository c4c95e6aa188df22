// The controller's HTTP API and metrics server, started on ephemeral ports against an in-memory
// KeyView (the fixed test keys) and an in-process Unsealer built on the library.
import { request, Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parse, stringify } from 'yaml';
import { KsealError } from '../../src/errors.js';
import { encodeBase64 } from '../../src/crypto/base64.js';
import { unsealBytes } from '../../src/crypto/hybrid.js';
import type { SealingCertificate } from '../../src/crypto/certificate.js';
import { readSecret } from '../../src/model/secret.js';
import { orderKeysByHint } from '../../src/model/key-choice.js';
import {
  readSealedSecret,
  sealSecret,
  sealedSecretLabel,
  sealedValues,
  unsealSealedSecret,
  type SealedApiVersion,
  type SealedSecret,
} from '../../src/model/sealed-secret.js';
import type { Scope } from '../../src/model/scope.js';
import type { KeyView, SealingKey, Unsealer, UnsealOutcome } from '../../controller/contracts.js';
import { createLogger } from '../../controller/logger.js';
import { ControllerMetrics } from '../../controller/metrics.js';
import { startHttpServer, type HttpServerHandle, type HttpServerOptions } from '../../controller/http-server.js';
import { canaryHits, newCanary } from '../helpers/canary.js';
import { testKey, type TestKey } from '../helpers/keys.js';
import { KEY_ID_ANNOTATION } from '../../src/wire.js';

// The newest key is the fast RSA-2048 one; the older key is RSA-4096.
const NEW = testKey('rsa-2048');
const OLD = testKey('rsa-4096');

function sealingKey(key: TestKey, notBefore: Date): SealingKey {
  return {
    keyId: key.entry.keyId,
    privateKey: key.privateKey,
    privateKeyPem: key.privateKeyPem,
    certificatePem: key.certificatePem,
    notBefore,
    notAfter: key.certificate.notAfter,
    secretName: `kseal-key-${key.name}`,
  };
}

/** An in-memory KeyView whose keys tests can change. */
class MemoryKeys implements KeyView {
  constructor(public keys: SealingKey[]) {}
  list(): readonly SealingKey[] {
    return [...this.keys].sort((a, b) => b.notBefore.getTime() - a.notBefore.getTime());
  }
  newest(): SealingKey | undefined {
    return this.list()[0];
  }
}

/** Unseals in process with the library, all or nothing, as the worker pool does. */
function libraryUnsealer(view: KeyView): Unsealer {
  const unsealNow = (sealed: SealedSecret): UnsealOutcome => {
    const label = sealedSecretLabel(sealed);
    const ordered = orderKeysByHint(sealed, view.list());
    const data = new Map<string, Buffer>();
    const keyIds = new Map<string, string>();
    let privateOps = 0;
    for (const { key, bytes } of sealedValues(sealed)) {
      try {
        const opened = unsealBytes(
          ordered.map((k) => k.privateKey),
          label,
          bytes,
        );
        privateOps += opened.keyIndex + 1;
        data.set(key, opened.plaintext);
        keyIds.set(key, ordered[opened.keyIndex]?.keyId ?? '');
      } catch (e) {
        throw e instanceof KsealError ? e.at({ key }) : e;
      }
    }
    return { data, keyIds, privateOps, recipient: 'encryptedData' };
  };
  return { unseal: (sealed) => new Promise((resolve) => resolve(unsealNow(sealed))) };
}

interface Started {
  readonly server: HttpServerHandle;
  readonly keys: MemoryKeys;
  readonly metrics: ControllerMetrics;
  readonly logLines: string[];
  readonly url: (path: string) => { port: number; path: string };
}

const running: HttpServerHandle[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(overrides: Partial<HttpServerOptions> & { keyList?: SealingKey[] } = {}): Promise<Started> {
  const keys = new MemoryKeys(overrides.keyList ?? [sealingKey(OLD, new Date('2024-01-01T00:00:00Z')), sealingKey(NEW, new Date('2025-01-01T00:00:00Z'))]);
  const metrics = new ControllerMetrics();
  const logLines: string[] = [];
  const logger = createLogger({ stream: { write: (line: string) => logLines.push(line) > 0 } });
  const { keyList: _ignored, ...rest } = overrides;
  const server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    metricsPort: 0,
    keys,
    unsealer: libraryUnsealer(keys),
    metrics,
    logger,
    ready: () => true,
    ...rest,
  });
  running.push(server);
  return { server, keys, metrics, logLines, url: (path) => ({ port: server.port, path }) };
}

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One HTTP request on a fresh connection. */
function call(port: number, method: string, path: string, body?: string | Buffer, headers: Record<string, string | number> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function post(port: number, path: string, body: string, contentType: string | undefined = 'application/yaml', extra: Record<string, string> = {}): Promise<Reply> {
  return call(port, 'POST', path, body, { ...(contentType === undefined ? {} : { 'Content-Type': contentType }), ...extra });
}

function seal(
  cert: SealingCertificate,
  data: Record<string, string>,
  options: { name?: string; namespace?: string; scope?: Scope; apiVersion?: SealedApiVersion; labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): SealedSecret {
  const metadata: Record<string, unknown> = { name: options.name ?? 'db', namespace: options.namespace ?? 'app' };
  if (options.labels !== undefined) metadata.labels = options.labels;
  if (options.annotations !== undefined) metadata.annotations = options.annotations;
  const secret = readSecret({ apiVersion: 'v1', kind: 'Secret', metadata, type: 'Opaque', stringData: data }, {});
  return sealSecret(secret, cert, { scope: options.scope ?? 'strict', apiVersion: options.apiVersion ?? 'kseal.dev/v1alpha1' });
}

function yaml(obj: unknown): string {
  return stringify(obj, { version: '1.1', lineWidth: 0 });
}

/** Raw socket client for requests node:http would not send (partial headers, endless bodies). */
function rawClient(port: number): Promise<{ socket: Socket; received: () => string; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    let data = '';
    const socket = connect(port, '127.0.0.1', () => resolve({ socket, received: () => data, ended }));
    const ended = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
    socket.on('error', () => undefined);
    socket.once('error', reject);
  });
}

describe('GET /v1/cert.pem', () => {
  it('serves the newest certificate as application/x-pem-file', async () => {
    const { server } = await start();
    const reply = await call(server.port, 'GET', '/v1/cert.pem');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/x-pem-file');
    expect(reply.body.trim()).toBe(NEW.certificatePem.trim());
  });

  it('answers 503 while no key exists', async () => {
    const { server } = await start({ keyList: [] });
    const reply = await call(server.port, 'GET', '/v1/cert.pem');
    expect(reply.status).toBe(503);
    expect(JSON.parse(reply.body)).toMatchObject({ code: 'NO_KEY' });
  });
});

describe('health endpoints', () => {
  it('answers /healthz with 200 while the process runs', async () => {
    const { server } = await start({ ready: () => false, keyList: [] });
    expect((await call(server.port, 'GET', '/healthz')).status).toBe(200);
  });

  it('answers /readyz with 200 when ready and a key exists', async () => {
    const { server } = await start();
    expect((await call(server.port, 'GET', '/readyz')).status).toBe(200);
  });

  it('answers /readyz with 503 while the controller is not ready', async () => {
    const { server } = await start({ ready: () => false });
    expect((await call(server.port, 'GET', '/readyz')).status).toBe(503);
  });

  it('answers /readyz with 503 while no key exists', async () => {
    const { server } = await start({ keyList: [] });
    expect((await call(server.port, 'GET', '/readyz')).status).toBe(503);
  });
});

describe('POST /v1/verify', () => {
  it('answers 200 for a YAML object whose values all unseal', async () => {
    const { server } = await start();
    const sealed = seal(NEW.certificate, { password: 'hunter2', user: 'admin' });
    expect((await post(server.port, '/v1/verify', yaml(sealed))).status).toBe(200);
  });

  it('answers 200 for a JSON bitnami.com object sealed with an older key', async () => {
    const { server } = await start();
    const sealed = seal(OLD.certificate, { token: 't' }, { apiVersion: 'bitnami.com/v1alpha1', scope: 'namespace-wide' });
    expect((await post(server.port, '/v1/verify', JSON.stringify(sealed), 'application/json')).status).toBe(200);
  });

  it('accepts a body without a Content-Type and one sent as text/plain', async () => {
    const { server } = await start({ verifyRate: { perSecond: 100, burst: 100 } });
    const body = yaml(seal(NEW.certificate, { a: 'b' }));
    expect((await post(server.port, '/v1/verify', body, undefined)).status).toBe(200);
    expect((await post(server.port, '/v1/verify', body, 'text/plain; charset=utf-8')).status).toBe(200);
  });

  it('answers 409 with the same body whatever made the unseal fail', async () => {
    const { server } = await start({ verifyRate: { perSecond: 100, burst: 100 }, keyList: [sealingKey(NEW, new Date())] });
    const good = seal(NEW.certificate, { password: 'p', other: 'o' });
    const wrongKey = seal(OLD.certificate, { password: 'p', other: 'o' });
    const wrongNamespace = { ...seal(NEW.certificate, { password: 'p', other: 'o' }, { namespace: 'elsewhere' }), metadata: good.metadata };
    const tampered = structuredClone(good);
    const bytes = Buffer.from(tampered.spec.encryptedData.password!, 'base64');
    bytes[bytes.length - 1]! ^= 1;
    tampered.spec.encryptedData.password = encodeBase64(bytes);
    const malformed = structuredClone(good);
    malformed.spec.encryptedData.password = 'AAAA';
    const bodies = new Set<string>();
    for (const sealed of [wrongKey, wrongNamespace, tampered, malformed]) {
      const reply = await post(server.port, '/v1/verify', yaml(sealed));
      expect(reply.status).toBe(409);
      bodies.add(reply.body);
    }
    expect(bodies.size).toBe(1);
    const [body] = [...bodies];
    expect(body).not.toMatch(/password|other|key|tried|tag|length|namespace/i);
  });

  it('counts unseal requests in kseal_unseal_requests_total', async () => {
    const { server, metrics } = await start();
    await post(server.port, '/v1/verify', yaml(seal(NEW.certificate, { a: 'b' })));
    const failing = seal(NEW.certificate, { a: 'b' }, { namespace: 'elsewhere' });
    failing.metadata.namespace = 'app';
    expect((await post(server.port, '/v1/verify', yaml(failing))).status).toBe(409);
    const value = (await metrics.unsealRequests.get()).values[0]?.value;
    expect(value).toBe(2);
  });
});

describe('POST /v1/rotate', () => {
  it('re-seals every value to the newest key, opening with it alone', async () => {
    const { server } = await start();
    const sealed = seal(OLD.certificate, { password: 'hunter2', user: 'admin' });
    const reply = await post(server.port, '/v1/rotate', yaml(sealed));
    expect(reply.status).toBe(200);
    const rotated = readSealedSecret(parse(reply.body), {});
    const { secret } = unsealSealedSecret(rotated, [NEW.entry]);
    expect(Buffer.from(secret.data.password!, 'base64').toString()).toBe('hunter2');
    expect(Buffer.from(secret.data.user!, 'base64').toString()).toBe('admin');
    expect(() => unsealSealedSecret(rotated, [OLD.entry])).toThrow(KsealError);
  });

  it('updates kseal.dev/key-id to the newest key', async () => {
    const { server } = await start();
    const reply = await post(server.port, '/v1/rotate', yaml(seal(OLD.certificate, { a: 'b' })));
    expect(parse(reply.body).metadata.annotations[KEY_ID_ANNOTATION]).toBe(NEW.entry.keyId);
  });

  it('keeps scope, name, namespace, labels, annotations and template, with keys sorted', async () => {
    const { server } = await start();
    const sealed = seal(OLD.certificate, { zeta: 'z', alpha: 'a', mid: 'm' }, {
      apiVersion: 'bitnami.com/v1alpha1',
      scope: 'namespace-wide',
      labels: { team: 'payments' },
      annotations: { 'example.com/owner': 'ops' },
    });
    sealed.spec.template = { ...sealed.spec.template, type: 'Opaque', immutable: true, data: { plain: 'not secret' } };
    const reply = await post(server.port, '/v1/rotate', JSON.stringify(sealed), 'application/json');
    const rotated = JSON.parse(reply.body) as SealedSecret;
    expect(rotated.apiVersion).toBe('bitnami.com/v1alpha1');
    expect(rotated.metadata.name).toBe('db');
    expect(rotated.metadata.namespace).toBe('app');
    expect(rotated.metadata.labels).toEqual({ team: 'payments' });
    expect(rotated.metadata.annotations).toEqual({ ...sealed.metadata.annotations, [KEY_ID_ANNOTATION]: NEW.entry.keyId });
    expect(rotated.spec.template).toEqual(sealed.spec.template);
    expect(Object.keys(rotated.spec.encryptedData)).toEqual(['alpha', 'mid', 'zeta']);
    // Namespace-wide: opens under another name in the same namespace.
    const renamed = readSealedSecret({ ...rotated, metadata: { ...rotated.metadata, name: 'other' } }, {});
    expect(() => unsealSealedSecret(renamed, [NEW.entry])).not.toThrow();
  });

  it('answers JSON to JSON and YAML to YAML', async () => {
    const { server } = await start();
    const sealed = seal(OLD.certificate, { a: 'b' });
    const asJson = await post(server.port, '/v1/rotate', JSON.stringify(sealed), 'application/json');
    const asYaml = await post(server.port, '/v1/rotate', yaml(sealed), 'application/yaml');
    expect(asJson.headers['content-type']).toBe('application/json');
    expect(asJson.body.trimStart().startsWith('{')).toBe(true);
    expect(asYaml.headers['content-type']).toBe('application/yaml');
    expect(asYaml.body.startsWith('apiVersion: kseal.dev/v1alpha1')).toBe(true);
  });

  it('honours an Accept header naming the other format', async () => {
    const { server } = await start();
    const reply = await post(server.port, '/v1/rotate', yaml(seal(OLD.certificate, { a: 'b' })), 'application/yaml', { Accept: 'application/json' });
    expect(reply.headers['content-type']).toBe('application/json');
    expect(() => JSON.parse(reply.body) as unknown).not.toThrow();
  });

  it('answers 409 without a reason when the object does not unseal', async () => {
    const { server } = await start();
    const sealed = seal(NEW.certificate, { a: 'b' }, { namespace: 'elsewhere' });
    sealed.metadata.namespace = 'app';
    const reply = await post(server.port, '/v1/rotate', yaml(sealed));
    expect(reply.status).toBe(409);
    expect(JSON.parse(reply.body)).toEqual({ code: 'DECRYPT_FAILED', message: 'the SealedSecret cannot be unsealed by this controller' });
  });
});

describe('request checks', () => {
  it('answers 400 with a code and message for an object that is not a SealedSecret', async () => {
    const { server } = await start();
    const reply = await post(server.port, '/v1/verify', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).toEqual({ code: 'NOT_A_SEALED_SECRET', message: 'expected a SealedSecret but found kind ConfigMap' });
  });

  it('answers 400 for a body that is not YAML', async () => {
    const { server } = await start();
    const reply = await post(server.port, '/v1/verify', 'a: [unclosed\n');
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body).code).toBe('INVALID_YAML');
  });

  it('answers 400 for a SealedSecret with an unusable scope', async () => {
    const { server } = await start();
    const sealed = seal(NEW.certificate, { a: 'b' });
    delete sealed.metadata.namespace;
    const reply = await post(server.port, '/v1/verify', yaml(sealed));
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body).code).toBe('MISSING_NAMESPACE');
  });

  it('answers 400 for a body with several documents', async () => {
    const { server } = await start();
    const one = yaml(seal(NEW.certificate, { a: 'b' }));
    const reply = await post(server.port, '/v1/verify', `${one}---\n${one}`);
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body).code).toBe('USAGE');
  });

  it('answers 400 for an empty body', async () => {
    const { server } = await start();
    const reply = await post(server.port, '/v1/verify', '');
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body).code).toBe('NO_DOCUMENTS');
  });

  it('answers 415 for a content type that is not JSON or YAML', async () => {
    const { server } = await start();
    const reply = await post(server.port, '/v1/verify', 'x', 'application/x-www-form-urlencoded');
    expect(reply.status).toBe(415);
  });

  it('answers 404 for an unknown path', async () => {
    const { server } = await start();
    expect((await call(server.port, 'GET', '/v1/secrets')).status).toBe(404);
  });

  it('answers 405 with Allow for a wrong method', async () => {
    const { server } = await start();
    const onVerify = await call(server.port, 'GET', '/v1/verify');
    const onCert = await call(server.port, 'DELETE', '/v1/cert.pem');
    expect([onVerify.status, onVerify.headers.allow]).toEqual([405, 'POST']);
    expect([onCert.status, onCert.headers.allow]).toEqual([405, 'GET, HEAD']);
  });
});

describe('body limit', () => {
  it('answers 413 from Content-Length alone, before the body is sent', async () => {
    const { server } = await start();
    const client = await rawClient(server.port);
    client.socket.write('POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/yaml\r\nContent-Length: 52428800\r\n\r\n');
    client.socket.write('a'.repeat(1024));
    await client.ended;
    expect(client.received()).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('answers 413 once a chunked body passes 1 MiB and closes without reading the rest', async () => {
    const { server } = await start();
    const client = await rawClient(server.port);
    client.socket.write('POST /v1/rotate HTTP/1.1\r\nHost: x\r\nContent-Type: application/yaml\r\nTransfer-Encoding: chunked\r\n\r\n');
    const chunk = Buffer.alloc(64 * 1024, 'a');
    // 1.25 MiB is sent and the body never ends: the answer cannot depend on reading it all.
    for (let i = 0; i < 20; i++) client.socket.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]));
    await client.ended;
    expect(client.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(client.received()).toContain('INPUT_TOO_LARGE');
  });
});

describe('early answers', () => {
  it('closes the connection when it answers before reading the body', async () => {
    const { server } = await start();
    const client = await rawClient(server.port);
    client.socket.write('POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n<html>');
    await client.ended;
    expect(client.received()).toMatch(/^HTTP\/1\.1 415 /);
    expect(client.received()).toMatch(/\r\nConnection: close\r\n/i);
  });

  it('keeps the connection open after a GET', async () => {
    const { server } = await start();
    const reply = await call(server.port, 'GET', '/healthz', undefined, { Connection: 'keep-alive' });
    expect(reply.headers.connection).toBe('keep-alive');
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After once the burst is spent', async () => {
    const { server } = await start({ verifyRate: { perSecond: 0.5, burst: 2 } });
    const body = yaml(seal(NEW.certificate, { a: 'b' }));
    const statuses: number[] = [];
    let retryAfter: string | string[] | undefined;
    for (let i = 0; i < 3; i++) {
      const reply = await post(server.port, '/v1/verify', body);
      statuses.push(reply.status);
      if (reply.status === 429) retryAfter = reply.headers['retry-after'];
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });

  it('stays healthy during a flood of verify requests', async () => {
    // 4 values a second, burst 4, with objects of 2 values: 2 requests a second, burst 2 (Bitnami's
    // rate); no in-flight bound here (tested in http-limits.test.ts).
    const { server } = await start({ verifyRate: { perSecond: 4, burst: 4 }, limits: { maxInFlight: 1000 } });
    const body = yaml(seal(OLD.certificate, { a: 'b', c: 'd' }));
    const started = performance.now();
    const flood = Array.from({ length: 60 }, () => post(server.port, '/v1/verify', body));
    const health = await call(server.port, 'GET', '/healthz');
    const statuses = (await Promise.all(flood)).map((r) => r.status);
    // The burst, plus what refilled while the flood lasted.
    const allowed = 2 + Math.floor(((performance.now() - started) / 1000) * 2);
    expect(health.status).toBe(200);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(allowed);
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    expect((await call(server.port, 'GET', '/healthz')).status).toBe(200);
  });
});

describe('slow clients', () => {
  it('cuts a client whose headers never finish', async () => {
    const { server } = await start({ headersTimeoutMs: 200, requestTimeoutMs: 400 });
    const client = await rawClient(server.port);
    const started = Date.now();
    client.socket.write('POST /v1/verify HTTP/1.1\r\nHost: x\r\n');
    await client.ended;
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(client.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('cuts a client whose body trickles past the request timeout', async () => {
    const { server } = await start({ headersTimeoutMs: 200, requestTimeoutMs: 400 });
    const client = await rawClient(server.port);
    const started = Date.now();
    client.socket.write('POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/yaml\r\nContent-Length: 100\r\n\r\nkind: Se');
    await client.ended;
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(client.received()).toMatch(/^HTTP\/1\.1 408 /);
  });
});

describe('metrics server', () => {
  it('exposes the kseal_ metrics with HTTP request counts and latency', async () => {
    const { server } = await start();
    await call(server.port, 'GET', '/healthz');
    await post(server.port, '/v1/verify', yaml(seal(NEW.certificate, { a: 'b' })));
    await vi.waitFor(async () => {
      const reply = await call(server.metricsPort, 'GET', '/metrics');
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toMatch(/^text\/plain/);
      expect(reply.body).toMatch(/kseal_http_requests_total\{[^}]*path="\/healthz"[^}]*\} 1/);
      expect(reply.body).toMatch(/kseal_http_requests_total\{[^}]*path="\/v1\/verify"[^}]*code="200"[^}]*\} 1/);
      expect(reply.body).toMatch(/kseal_http_request_duration_seconds_count\{[^}]*path="\/v1\/verify"[^}]*\} 1/);
      expect(reply.body).toContain('kseal_unseal_requests_total 1');
    });
  });

  it('labels unknown paths as other, so clients cannot create series', async () => {
    const { server } = await start();
    await call(server.port, 'GET', '/random-1');
    await call(server.port, 'GET', '/random-2');
    await vi.waitFor(async () => {
      const reply = await call(server.metricsPort, 'GET', '/metrics');
      expect(reply.body).toMatch(/kseal_http_requests_total\{[^}]*path="other"[^}]*code="404"[^}]*\} 2/);
      expect(reply.body).not.toContain('random');
    });
  });

  it('answers 404 on the metrics port for other paths', async () => {
    const { server } = await start();
    expect((await call(server.metricsPort, 'GET', '/v1/cert.pem')).status).toBe(404);
  });
});

describe('request log', () => {
  it('writes one JSON line per request with method, path, status and ms', async () => {
    const { server, logLines } = await start();
    await call(server.port, 'GET', '/v1/cert.pem?x=1');
    await vi.waitFor(() => {
      const entries = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.msg === 'http request');
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ level: 'info', method: 'GET', path: '/v1/cert.pem', status: 200 });
      expect(typeof entries[0]?.ms).toBe('number');
    });
  });
});

describe('close', () => {
  it('resolves with a keep-alive connection open and stops accepting', async () => {
    const { server } = await start();
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      request({ host: '127.0.0.1', port: server.port, path: '/healthz', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      })
        .on('error', reject)
        .end();
    });
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(call(server.port, 'GET', '/healthz')).rejects.toThrow(/ECONNREFUSED/);
    agent.destroy();
  });
});

describe('leak canary', () => {
  it('never shows sealed plaintexts in responses, logs or metrics, even for failing requests', async () => {
    const { server, logLines } = await start({ verifyRate: { perSecond: 1000, burst: 1000 } });
    const canaries = Array.from({ length: 6 }, (_, i) => newCanary(`http${i}`));
    const [ok, wrongScope, malformed, plain, badYaml, big] = canaries as [string, string, string, string, string, string];
    const good = seal(OLD.certificate, { secret: ok });
    const failing = seal(NEW.certificate, { secret: wrongScope }, { namespace: 'elsewhere' });
    failing.metadata.namespace = 'app';
    const broken = seal(NEW.certificate, { secret: 'x' });
    broken.spec.encryptedData.secret = Buffer.from(malformed).toString('base64');
    const requests: Array<[string, string, string]> = [
      ['/v1/verify', yaml(good), 'application/yaml'],
      ['/v1/rotate', yaml(good), 'application/yaml'],
      ['/v1/rotate', JSON.stringify(good), 'application/json'],
      ['/v1/verify', yaml(failing), 'application/yaml'],
      ['/v1/rotate', JSON.stringify(failing), 'application/json'],
      ['/v1/verify', yaml(broken), 'application/yaml'],
      ['/v1/rotate', yaml(broken), 'application/yaml'],
      // Plaintext sent by mistake: a Secret instead of a SealedSecret.
      ['/v1/verify', yaml({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'a', namespace: 'b' }, stringData: { k: plain } }), 'application/yaml'],
      ['/v1/rotate', JSON.stringify({ apiVersion: 'v1', kind: 'Secret', stringData: { k: plain } }), 'application/json'],
      ['/v1/verify', JSON.stringify({ kind: 'SealedSecret', apiVersion: 'kseal.dev/v1alpha1', spec: { encryptedData: { k: 1 } }, x: plain }), 'application/json'],
      // Parse errors next to a canary.
      ['/v1/verify', `kind: SealedSecret\nspec:\n  encryptedData:\n    k: "${badYaml}\n  x: [\n`, 'application/yaml'],
      ['/v1/rotate', `{"kind":"SealedSecret","spec":{"encryptedData":{"k":"${badYaml}"}} trailing`, 'application/json'],
      ['/v1/verify', `{"k": "${badYaml}", }`, 'application/json'],
      ['/v1/verify', `${badYaml}`, 'application/x-www-form-urlencoded'],
      // Too large, with the canary at the start.
      ['/v1/verify', `${big}\n${'#'.repeat(1024 * 1024)}`, 'application/yaml'],
    ];
    const seen: string[] = [];
    const statuses: number[] = [];
    for (const [path, body, type] of requests) {
      const reply = await post(server.port, path, body, type);
      statuses.push(reply.status);
      seen.push(JSON.stringify(reply.headers), reply.body);
    }
    expect(statuses).toEqual([200, 200, 200, 409, 409, 409, 409, 400, 400, 400, 400, 400, 400, 415, 413]);
    // The rotated objects really hold the canary, sealed.
    const rotated = readSealedSecret(parse(seen[3]!), {});
    expect(Buffer.from(unsealSealedSecret(rotated, [NEW.entry]).secret.data.secret!, 'base64').toString()).toBe(ok);
    await vi.waitFor(() => expect(logLines.filter((l) => l.includes('"http request"'))).toHaveLength(requests.length));
    seen.push(...logLines, (await call(server.metricsPort, 'GET', '/metrics')).body);
    const haystack = seen.join('\n');
    for (const canary of canaries) expect(canaryHits(canary, haystack)).toEqual([]);
  });
});
