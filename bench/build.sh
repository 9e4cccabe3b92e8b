#!/usr/bin/env bash
# Builds the benchmark tools (no CMake involvement): build/bench/loadgen.
#   bash bench/build.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="$root/build/bench"
mkdir -p "$out"
src="$root/bench/loadgen.cpp"
bin="$out/loadgen"
if [[ -x "$bin" && "$bin" -nt "$src" && "$bin" -nt "${BASH_SOURCE[0]}" ]]; then
    echo "bench/build.sh: $bin is up to date"
    exit 0
fi
# Header-only Boost.Asio; BOOST_ASIO_NO_DEPRECATED keeps the API surface small.
g++ -O2 -std=c++20 -Wall -Wextra -DBOOST_ASIO_NO_DEPRECATED -o "$bin.tmp" "$src" -lpthread
mv "$bin.tmp" "$bin"
echo "bench/build.sh: built $bin"
