#!/usr/bin/env bash
# Builds the benchmark tools (no CMake involvement): build/bench/loadgen.
#   bash bench/build.sh
#   BENCH_BUILD_DIR=DIR bash bench/build.sh   # DIR/bench/loadgen instead (e.g. a build-bench tree)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="${BENCH_BUILD_DIR:-$root/build}/bench"
mkdir -p "$out"
src="$root/bench/loadgen.cpp"
bin="$out/loadgen"
if [[ -x "$bin" && "$bin" -nt "$src" && "$bin" -nt "${BASH_SOURCE[0]}" ]]; then
    echo "bench/build.sh: $bin is up to date"
    exit 0
fi
# Header-only Boost.Asio; BOOST_ASIO_NO_DEPRECATED keeps the API surface small. libcrypto
# (OpenSSL) signs the bodies of the Meta webhook mode (--meta-statuses).
g++ -O2 -std=c++20 -Wall -Wextra -DBOOST_ASIO_NO_DEPRECATED -o "$bin.tmp" "$src" -lpthread -lcrypto
mv "$bin.tmp" "$bin"
echo "bench/build.sh: built $bin"
