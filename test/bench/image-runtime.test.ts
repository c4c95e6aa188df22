/** bench/image-runtime.ts: the benchmarks run the controller as the image does. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { imageEnv, imageNodeFlags } from '../../bench/image-runtime.js';

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
