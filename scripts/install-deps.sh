#!/usr/bin/env bash
# Installs the Debian 12 packages wagate needs to build, test and run. Safe to run repeatedly:
# it asks apt only for what is missing. Needs root (or sudo).
#   scripts/install-deps.sh                build, test and run (PostgreSQL 15 included)
#   scripts/install-deps.sh --with-bench   the same, plus the benchmark tools
#   scripts/install-deps.sh --build-only   only what building needs (docker/Dockerfile's build stage)
#   scripts/install-deps.sh --with-fuzz    also clang 14, its libFuzzer/sanitizer runtimes and
#                                          llvm-symbolizer (scripts/fuzz.sh); combines with the others
set -euo pipefail

build_packages=(
    build-essential cmake ninja-build lld pkg-config
    libboost1.81-dev nlohmann-json3-dev libssl-dev libpq-dev libspdlog-dev libgtest-dev
)
runtime_packages=(postgresql-15 postgresql-client-15 curl ca-certificates procps)
bench_packages=(wrk)
# clang-14 does not pull in compiler-rt (libFuzzer, ASan, UBSan): libclang-rt-14-dev; llvm-14 has
# the llvm-symbolizer that turns sanitizer stacks into file:line.
fuzz_packages=(clang-14 libclang-rt-14-dev llvm-14)

with_runtime=1
with_bench=0
with_fuzz=0
for arg in "$@"; do
    case "$arg" in
        --with-bench) with_bench=1 ;;
        --build-only) with_runtime=0 ;;
        --with-fuzz) with_fuzz=1 ;;
        *) echo "install-deps: unknown option $arg (--with-bench, --with-fuzz, --build-only)" >&2; exit 2 ;;
    esac
done

wanted=("${build_packages[@]}")
if [[ $with_runtime -eq 1 ]]; then
    wanted+=("${runtime_packages[@]}")
fi
if [[ $with_bench -eq 1 ]]; then
    wanted+=("${bench_packages[@]}")
fi
if [[ $with_fuzz -eq 1 ]]; then
    wanted+=("${fuzz_packages[@]}")
fi

missing=()
for p in "${wanted[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-deps: all ${#wanted[@]} packages present"
    exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
