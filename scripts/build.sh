#!/usr/bin/env bash
# Configures and builds wagate: the build step shared by scripts/test.sh (CI) and docker/Dockerfile.
#   scripts/build.sh              every target (the gateway and the test executables)
#   scripts/build.sh wagate       only the named targets
# Environment: BUILD_DIR (default build), BUILD_TYPE (default RelWithDebInfo), WAGATE_SANITIZE
# (e.g. address,undefined), JOBS (parallel compile jobs, default 2). Warnings are errors.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
    -DWAGATE_WARNINGS_AS_ERRORS=ON ${WAGATE_SANITIZE:+-DWAGATE_SANITIZE=$WAGATE_SANITIZE} >/dev/null
targets=()
for target in "$@"; do
    targets+=(--target "$target")
done
cmake --build "$build_dir" -j"${JOBS:-2}" "${targets[@]}"
