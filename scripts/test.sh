#!/usr/bin/env bash
# The test command: installs what is missing, builds (scripts/build.sh), and runs every tier
# (unit, pg, e2e) with CTest. The pg and e2e tiers start their own throwaway PostgreSQL 15
# cluster (a CTest fixture).
#   scripts/test.sh              all tiers
#   scripts/test.sh -L unit      only one tier (any ctest arguments pass through)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build.sh   # honours BUILD_DIR, BUILD_TYPE, WAGATE_SANITIZE and JOBS; docker/Dockerfile runs it too
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure "$@"
