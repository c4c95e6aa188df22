// The controller image built for real (scripts/docker-build.sh: docker or podman build, then the
// image's `--help`), when a container engine with a reachable daemon runs here. Without one the
// test is skipped, and its name says so; test/package/docker-context.test.ts still replays the
// build stage without an engine. Base images can be replaced through KSEAL_BUILD_IMAGE and
// KSEAL_RUNTIME_IMAGE (the machines without registry access use locally made ones).
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** The first engine whose daemon answers `info`, or undefined. */
function engine(): string | undefined {
  for (const e of ['docker', 'podman']) if (spawnSync(e, ['info'], { stdio: 'ignore', timeout: 20_000 }).status === 0) return e;
  return undefined;
}

const found = engine();

describe.skipIf(found === undefined)(found === undefined ? 'the controller image (skipped: no docker or podman daemon reachable, so no image can be built here)' : `the controller image, built with ${found}`, () => {
  it("builds from the Dockerfile and runs the controller's --help in the image", () => {
    const out = execFileSync('bash', ['scripts/docker-build.sh', 'kseal-controller:test'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 1_800_000 });
    expect(out).toContain('the controller\'s --help runs in it');
  }, 1_900_000);
});
