#!/usr/bin/env bash
# Source rules that the compiler does not enforce (run by CTest as `source_rules`).
#  1. Layering: core and domain are pure; they include no Asio, Beast, libpq, OpenSSL or spdlog.
#  2. GCC 12 coroutine bugs (docs/adr/0002-gcc12-coroutine-rules.md): no co_await inside an
#     if/while condition, and no lambda inside a co_await expression.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0

banned='#include <(boost/(asio|beast)|libpq|openssl/|spdlog/)'
if hits=$(grep -rnE "$banned" src/core src/domain include/wagate/core include/wagate/domain); then
    echo "layering: core/domain must stay free of I/O libraries:"
    echo "$hits"
    status=1
fi

if hits=$(grep -rnE '(if|while) \(.*co_await' src tests); then
    echo "coroutines: put co_await in a statement of its own, not in a condition:"
    echo "$hits"
    status=1
fi

if hits=$(grep -rnE 'co_await[^;]*\[[^]]*\]\s*(\(|\{|mutable)' src tests); then
    echo "coroutines: no lambda inside a co_await expression (GCC 12 destroys its captures twice):"
    echo "$hits"
    status=1
fi

[[ $status -eq 0 ]] && echo "source rules: ok"
exit $status
