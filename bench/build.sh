#!/usr/bin/env bash
# Builds the benchmark tools (no CMake involvement): build/bench/loadgen and build/bench/event_sink.
#   bash bench/build.sh
#   BENCH_BUILD_DIR=DIR bash bench/build.sh   # DIR/bench/... instead (e.g. a build-bench tree)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="${BENCH_BUILD_DIR:-$root/build}/bench"
mkdir -p "$out"
# Header-only Boost.Asio; BOOST_ASIO_NO_DEPRECATED keeps the API surface small. libcrypto
# (OpenSSL) signs the bodies of loadgen's Meta webhook mode (--meta-statuses) and event_sink's,
# and checks the signatures event_sink receives (bench/events.sh).
for tool in loadgen event_sink; do
    src="$root/bench/$tool.cpp"
    bin="$out/$tool"
    if [[ -x "$bin" && "$bin" -nt "$src" && "$bin" -nt "${BASH_SOURCE[0]}" ]]; then
        echo "bench/build.sh: $bin is up to date"
        continue
    fi
    g++ -O2 -std=c++20 -Wall -Wextra -DBOOST_ASIO_NO_DEPRECATED -o "$bin.tmp" "$src" -lpthread -lcrypto
    mv "$bin.tmp" "$bin"
    echo "bench/build.sh: built $bin"
done
