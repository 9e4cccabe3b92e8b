#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang 14, ASan + UBSan) in build-fuzz and runs them
# one after another, each for a fixed time (docs/fuzzing.md).
#   scripts/fuzz.sh                        every target, 60 s each
#   scripts/fuzz.sh --seconds 600          every target, 10 minutes each
#   scripts/fuzz.sh --seconds 30 webhook   only the named targets
#   scripts/fuzz.sh --build-only           configure and build, run nothing
# Options:
#   --seconds N       fuzzing time per target (default 60)
#   --results DIR     logs and artifacts (default build-fuzz/fuzz-results/<UTC time>)
#   --jobs N          build parallelism (default 2)
#   --fresh-corpus    start from the seeds only, dropping what earlier runs added
# Targets: send_payload webhook config http_request. Each runs on a working copy of its seed
# corpus (build-fuzz/fuzz-corpus/<target>, kept between runs; the committed seeds in
# tests/fuzz/corpus are never written). Exits 1 if any target crashed, leaked, timed out or ran
# out of memory, printing the reproducer; 2 on a usage or build error. Installs clang and
# libFuzzer (scripts/install-deps.sh --build-only --with-fuzz) when they are missing. At the
# end it prints "fuzz: N passed, M failed" (targets without / with a finding).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build_dir=$root/build-fuzz

all_targets=(send_payload webhook config http_request)
# Inputs longer than any real one would only slow the search; the send corpus holds 33 KB bodies.
declare -A max_len=([send_payload]=40960 [webhook]=16384 [config]=8192 [http_request]=8192)

seconds=60
results=""
jobs=2
fresh=0
build_only=0
targets=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seconds) seconds=${2:?--seconds needs a value}; shift 2 ;;
        --results) results=${2:?--results needs a directory}; shift 2 ;;
        --jobs) jobs=${2:?--jobs needs a value}; shift 2 ;;
        --fresh-corpus) fresh=1; shift ;;
        --build-only) build_only=1; shift ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
        *)
            if [[ -z ${max_len[$1]+x} ]]; then
                echo "fuzz.sh: unknown target $1 (${all_targets[*]})" >&2
                exit 2
            fi
            targets+=("$1"); shift ;;
    esac
done
[[ ${#targets[@]} -eq 0 ]] && targets=("${all_targets[@]}")
if ! [[ $seconds =~ ^[0-9]+$ ]] || [[ $seconds -lt 1 ]]; then
    echo "fuzz.sh: --seconds must be a positive whole number" >&2
    exit 2
fi

# --- toolchain ---------------------------------------------------------------------------------
toolchain_ok() {
    command -v clang++-14 >/dev/null && command -v cmake >/dev/null && command -v ninja >/dev/null || return 1
    # libFuzzer and the sanitizer runtimes come from libclang-rt-14-dev: try a link.
    local probe
    probe=$(mktemp -d)
    printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' \
        > "$probe/probe.cpp"
    if clang++-14 -fsanitize=fuzzer,address,undefined "$probe/probe.cpp" -o "$probe/probe" >/dev/null 2>&1; then
        rm -rf "$probe"
        return 0
    fi
    rm -rf "$probe"
    return 1
}
if ! toolchain_ok; then
    echo "fuzz.sh: clang 14 or libFuzzer missing; installing"
    bash "$root/scripts/install-deps.sh" --build-only --with-fuzz
    toolchain_ok || { echo "fuzz.sh: clang++-14 still cannot link a libFuzzer target" >&2; exit 2; }
fi

# --- build -------------------------------------------------------------------------------------
if [[ ! -f $build_dir/build.ninja ]] || ! grep -q '^WAGATE_FUZZ:BOOL=ON' "$build_dir/CMakeCache.txt"; then
    cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DWAGATE_FUZZ=ON -DWAGATE_BUILD_TESTS=OFF || exit 2
fi
cmake --build "$build_dir" --target wagate_fuzz -j "$jobs" || exit 2
[[ $build_only -eq 1 ]] && exit 0

# --- runs --------------------------------------------------------------------------------------
results=${results:-$build_dir/fuzz-results/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$results"
results=$(cd "$results" && pwd)
symbolizer=$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)
export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$symbolizer}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

summary=$results/summary.tsv
printf 'target\tseconds\truns\texec_per_s\tcov\tft\tcorpus_files\tresult\n' > "$summary"
failed=()
for t in "${targets[@]}"; do
    bin=$build_dir/tests/fuzz/${t}_fuzz
    corpus=$build_dir/fuzz-corpus/$t
    out=$results/$t
    [[ $fresh -eq 1 ]] && rm -rf "$corpus"
    mkdir -p "$corpus" "$out"
    cp -n "$root/tests/fuzz/corpus/$t/"* "$corpus/" 2>/dev/null || true
    echo "== $t: ${seconds}s, -max_len=${max_len[$t]}, corpus $corpus ($(find "$corpus" -type f | wc -l) files)"
    set +e
    (cd "$out" && "$bin" -max_total_time="$seconds" -max_len="${max_len[$t]}" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$out/" "$corpus" > "$out/fuzz.log" 2>&1)
    rc=$?
    set -e
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz.log" | tail -1)
    execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/fuzz.log" | tail -1)
    last=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$out/fuzz.log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$last")
    files=$(find "$corpus" -type f | wc -l)
    artifacts=$(find "$out" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
        -o -name 'oom-*' \) | sort)
    result=ok
    if [[ $rc -ne 0 || -n $artifacts ]]; then
        result=FAILED
        failed+=("$t")
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$seconds" "${runs:-?}" "${execs:-?}" "${cov:-?}" "${ft:-?}" \
        "$files" "$result" >> "$summary"
    echo "   runs ${runs:-?}, exec/s ${execs:-?}, cov ${cov:-?}, ft ${ft:-?}, corpus $files files: $result"
    echo "   final line: ${last:-none}"
    if [[ $result == FAILED ]]; then
        echo "   libFuzzer exit $rc; log: $out/fuzz.log"
        grep -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|FUZZ_CHECK failed' \
            "$out/fuzz.log" | head -5 | sed 's/^/   /'
        for a in $artifacts; do
            echo "   reproducer: $a"
            echo "   reproduce:  $bin $a"
        done
    fi
done

echo
column -t -s $'\t' "$summary" 2>/dev/null || cat "$summary"
echo "results: $results"
# The plain closing line CI summaries read: targets that ran clean / found something.
echo "fuzz: $((${#targets[@]} - ${#failed[@]})) passed, ${#failed[@]} failed"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz.sh: FAILED: ${failed[*]}" >&2
    exit 1
fi
