#!/usr/bin/env bash
# Builds the controller image for real and runs its `--help`, when a container engine (docker or
# podman) with a reachable daemon exists; otherwise says so and exits 0. Optional: the suite's
# test/package/docker-context.test.ts replays the Dockerfile's build stage without an engine.
#   bash scripts/docker-build.sh [TAG]
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
"$engine" build -t "$tag" .
"$engine" run --rm "$tag" dist/kseal-controller.mjs --help >/dev/null
echo "docker-build: built $tag; the controller's --help runs in it"
