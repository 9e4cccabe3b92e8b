#!/usr/bin/env bash
# Installs the Debian 12 packages wagate needs to build, test and run. Safe to run repeatedly:
# it asks apt only for what is missing. Needs root (or sudo).
set -euo pipefail

build_packages=(
    build-essential cmake ninja-build lld pkg-config
    libboost1.81-dev nlohmann-json3-dev libssl-dev libpq-dev libspdlog-dev libgtest-dev
)
runtime_packages=(postgresql-15 postgresql-client-15 curl ca-certificates procps)
bench_packages=(wrk)

wanted=("${build_packages[@]}" "${runtime_packages[@]}")
if [[ "${1:-}" == "--with-bench" ]]; then
    wanted+=("${bench_packages[@]}")
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
