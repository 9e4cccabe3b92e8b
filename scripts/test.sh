#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every tier (unit, pg, e2e) with
# CTest. The pg and e2e tiers start their own throwaway PostgreSQL 15 cluster (a CTest fixture).
#   scripts/test.sh              all tiers
#   scripts/test.sh -L unit      only one tier (any ctest arguments pass through)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
    -DWAGATE_WARNINGS_AS_ERRORS=ON ${WAGATE_SANITIZE:+-DWAGATE_SANITIZE=$WAGATE_SANITIZE} >/dev/null
cmake --build "$build_dir" -j2
ctest --test-dir "$build_dir" --output-on-failure "$@"
