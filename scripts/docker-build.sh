#!/usr/bin/env bash
# Builds the controller image for real and runs its `--help`, when a container engine (docker or
# podman) with a reachable daemon exists; otherwise says so and exits 0. Optional: the suite's
# test/package/docker-context.test.ts replays the Dockerfile's build stage without an engine, and
# test/package/docker-image.test.ts runs this script when an engine is there.
#   bash scripts/docker-build.sh [TAG]
# KSEAL_BUILD_IMAGE / KSEAL_RUNTIME_IMAGE replace the Dockerfile's base images (a mirror, an
# air-gapped build); KSEAL_DOCKER_NETWORK sets `--network` for the build (e.g. host).
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-kseal-controller:dev}"
engine=""
for e in docker podman; do
  if command -v "$e" >/dev/null && "$e" info >/dev/null 2>&1; then engine="$e"; break; fi
done
if [ -z "$engine" ]; then
  echo "docker-build: no container engine with a reachable daemon (docker/podman); image not built" >&2
  exit 0
fi
args=()
if [ -n "${KSEAL_BUILD_IMAGE:-}" ]; then args+=(--build-arg "BUILD_IMAGE=$KSEAL_BUILD_IMAGE"); fi
if [ -n "${KSEAL_RUNTIME_IMAGE:-}" ]; then args+=(--build-arg "RUNTIME_IMAGE=$KSEAL_RUNTIME_IMAGE"); fi
if [ -n "${KSEAL_DOCKER_NETWORK:-}" ]; then args+=(--network "$KSEAL_DOCKER_NETWORK"); fi
"$engine" build "${args[@]}" -t "$tag" .
# The entrypoint is the controller, so arguments are controller flags.
"$engine" run --rm --network none "$tag" --help | grep -q -- '--watch-namespaces'
echo "docker-build: built $tag; the controller's --help runs in it"
