# syntax=docker/dockerfile:1
# kseal controller image: `docker build -t ghcr.io/kseal/kseal-controller:0.1.0 .`
# Build on node:22, run on distroless Node 22 as the `nonroot` user (65532): no shell, no package
# manager, only dist/ and the production node_modules.
# Both base images can be replaced (a registry mirror, an air-gapped build):
#   docker build --build-arg BUILD_IMAGE=mirror/node:22 --build-arg RUNTIME_IMAGE=mirror/nodejs22:nonroot .
# A runtime image must have node at /nodejs/bin/node (the distroless layout).
ARG BUILD_IMAGE=node:22-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs22-debian12:nonroot

FROM ${BUILD_IMAGE} AS build
WORKDIR /app
ENV npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
# Dependencies first, for layer caching. `npm ci` runs the `prepare` build, which skips entry points
# that are not copied yet, so only the build script is needed here.
COPY package.json package-lock.json ./
COPY scripts/build.mjs scripts/build.mjs
RUN npm ci
COPY . .
RUN npm run build \
 && npm prune --omit=dev \
 && test -f dist/kseal-controller.mjs

FROM ${RUNTIME_IMAGE}
LABEL org.opencontainers.image.title="kseal-controller" \
      org.opencontainers.image.description="kseal controller: unseals SealedSecrets (Bitnami-compatible) into Secrets" \
      org.opencontainers.image.source="https://github.com/kseal/kseal" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
# MALLOC_ARENA_MAX=2: glibc gives every thread that mallocs (the unseal workers, libuv's pool, V8's
# helpers) an arena of its own, and freed memory in those arenas stays resident; two arenas measured
# 122 against 128-131 MiB of RSS with 10,000 SealedSecrets, the sync time the same. The benchmarks
# run the controller with this stage's ENV and the ENTRYPOINT's node flags (bench/image-runtime.ts).
ENV NODE_ENV=production MALLOC_ARENA_MAX=2
# Files stay owned by root and read-only to the process (the Deployment also mounts / read-only).
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The controller's V8 code cache (bin/code-cache.cjs) is made here, by this image's own node with the
# ENTRYPOINT's node flags: V8 rejects a cache from another binary or other flags (the build stage's
# node is another binary). It saves most of the bundle's compile time at every start; if it did not
# fit, the controller would only compile as usual (it logs `codeCache` at start). Exec form: no shell.
USER 0:0
RUN ["/nodejs/bin/node", "--max-semi-space-size=1", "--optimize-for-size", "dist/code-cache.cjs", "dist/kseal-controller.cjs", "dist/kseal-controller.cache", "--version"]
USER 65532:65532
EXPOSE 8080 8081
# The entrypoint runs the controller, so the Deployment's `args` are controller flags (an image CMD
# would be replaced by them). A 1 MiB young-generation semi-space keeps RSS near the live heap: the
# default (16 MiB) measured about 55 MiB more RSS with 10,000 SealedSecrets for no gain in sync time.
# --optimize-for-size makes V8 grow the old generation in smaller steps and collect sooner: with
# 10,000 SealedSecrets RSS after the cold sync was 141 instead of 181 MiB, the sync time the same.
# The benchmarks start the controller with the same node flags (read from this line), and the code
# cache RUN above must name the same ones (test/package/code-cache.test.ts checks); the other V8
# options measured did not help (--single-threaded-gc: 139 MiB; --lite-mode: no idle saving and a
# cold sync several times slower).
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=1", "--optimize-for-size", "dist/kseal-controller.mjs"]
