/** bench/image-runtime.ts: the benchmarks run the controller as the image does. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { controllerEnv, imageEnv, imageNodeFlags } from '../../bench/image-runtime.js';

const ROOT = `${process.cwd()}/`;

describe('image runtime', () => {
  it("gives the node flags between node and the script of the Dockerfile's ENTRYPOINT", () => {
    const argv = JSON.parse(/^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(readFileSync(`${ROOT}Dockerfile`, 'utf8'))?.[1] ?? '[]') as string[];
    expect(imageNodeFlags(ROOT)).toEqual(argv.slice(1, -1));
    expect(imageNodeFlags(ROOT)).toContain('--max-semi-space-size=1');
  });

  it("gives the runtime stage's ENV, not the build stage's", () => {
    const env = imageEnv(ROOT);
    expect(env['MALLOC_ARENA_MAX']).toBe('2');
    expect(env['NODE_ENV']).toBe('production');
    expect(env['npm_config_audit']).toBeUndefined();
  });
});

describe('controller environment', () => {
  it("keeps the caller's variables over the image's and leaves out the host's NODE_EXTRA_CA_CERTS, which the image does not set", () => {
    const env = controllerEnv(ROOT, { NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt', MALLOC_ARENA_MAX: '4', PATH: '/usr/bin' });
    expect(env['NODE_EXTRA_CA_CERTS']).toBeUndefined();
    expect(env['MALLOC_ARENA_MAX']).toBe('4');
    expect(env['PATH']).toBe('/usr/bin');
    expect(env['NODE_ENV']).toBe('production');
  });
});
