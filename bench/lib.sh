# shellcheck shell=bash disable=SC2034,SC2154
# Shared shell code of the benchmarks bench/send_api.sh, bench/webhook_ingest.sh, bench/relay.sh,
# bench/events.sh and bench/scale_out.sh: sourced by them (from the repository root, after `set -euo pipefail`), never
# run on its own.
#
# The sourcing script sets bench_name (its name, the prefix of its messages) and pg_sets (the
# --pg-set NAME=VALUE settings), and, before the functions that use them: root, state (its
# temporary directory), out (open_results), wagate_bin, build_dir, port and admin_token (so the directive
# above tells shellcheck that those variables are the caller's).

clk_tck=$(getconf CLK_TCK)
wagate_pid=""
postmaster_pid=""
cluster_started=0

# --- options, tools, results file ----------------------------------------------------------------

add_pg_set() {  # add_pg_set NAME=VALUE: appends a --pg-set setting to pg_sets, or exits 2
    [[ $1 =~ ^[a-z_]+=[A-Za-z0-9_.]+$ ]] || { echo "$bench_name: --pg-set NAME=VALUE" >&2; exit 2; }
    pg_sets+=("$1")
}

# find_bench_tools: sets PG_BIN and pgbench_bin; runs scripts/install-deps.sh --with-bench when
# pgbench, initdb, psql, curl or g++ is missing.
find_bench_tools() {
    PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
    pgbench_bin=$PG_BIN/pgbench
    [[ -x $pgbench_bin ]] || pgbench_bin=$(command -v pgbench || true)
    if [[ -z $pgbench_bin || ! -x $PG_BIN/initdb ]] || ! command -v psql >/dev/null || ! command -v curl >/dev/null \
        || ! command -v g++ >/dev/null; then
        echo "$bench_name: missing tools, running scripts/install-deps.sh --with-bench" >&2
        bash scripts/install-deps.sh --with-bench
        pgbench_bin=$PG_BIN/pgbench
    fi
}

int_in() {  # int_in NAME VALUE MIN MAX: exits 2 unless VALUE is a whole number in MIN..MAX
    [[ $2 =~ ^[0-9]+$ ]] && (( $2 >= $3 && $2 <= $4 )) || { echo "$bench_name: --$1 $3..$4" >&2; exit 2; }
}

# build_wagate_if_missing DEFAULT_TYPE [CMAKE_ARG...]: when $wagate_bin is not executable,
# configures $build_dir (CMAKE_BUILD_TYPE from the environment, else DEFAULT_TYPE) and builds
# wagate there, and points wagate_bin at it.
build_wagate_if_missing() {
    local default_type=$1
    shift
    [[ -x $wagate_bin ]] && return 0
    echo "$bench_name: $wagate_bin missing, building it in $build_dir" >&2
    timeout 3600 cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-$default_type}" "$@"
    timeout 3600 cmake --build "$build_dir" -j2 --target wagate
    wagate_bin=$build_dir/wagate
}

open_results() {  # open_results NAME: sets stamp and out (bench/results/NAME-STAMP.txt, emptied)
    mkdir -p bench/results
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    out=$root/bench/results/$1-$stamp.txt
    : >"$out"
}

log() { printf '%s\n' "$*" | tee -a "$out"; }  # log TEXT: to stdout and the results file

warn_if_binary_is_stale() {  # logs a warning when sources are newer than $wagate_bin
    local newer
    newer=$(find src include migrations -type f -newer "$wagate_bin" 2>/dev/null | wc -l)
    if [[ $newer -gt 0 ]]; then
        log "WARNING: $newer files under src/, include/ or migrations/ are newer than $wagate_bin: it may not be the code checked out"
    fi
}

# --- processes, cleanup --------------------------------------------------------------------------

stop_pid() {  # stop_pid PID: SIGTERM, up to 10 s for a graceful stop, then SIGKILL
    [[ -n $1 ]] || return 0
    if kill -0 "$1" 2>/dev/null; then
        kill -TERM "$1" 2>/dev/null || true
        for _ in $(seq 100); do
            kill -0 "$1" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$1" 2>/dev/null || true
    fi
    wait "$1" 2>/dev/null || true
}
stop_wagate() {  # stops the gateway started into wagate_pid, if it runs
    stop_pid "$wagate_pid"
    wagate_pid=""
}

# finish_bench RC: the end of the scripts' EXIT trap, after they stopped their gateways: stops the
# cluster, removes $state, says where the partial results are on failure, exits with RC.
finish_bench() {
    local rc=$1
    if [[ $cluster_started -eq 1 ]]; then
        bash scripts/pg-cluster.sh stop "$state" >/dev/null 2>&1
    fi
    rm -rf "$state"
    if [[ $rc -ne 0 ]]; then
        echo "$bench_name: FAILED (exit $rc); partial results in $out" >&2
    fi
    exit "$rc"
}

# A free loopback port: one nobody answers on (a tiny race with other starters is acceptable).
free_port() {
    local p
    for _ in $(seq 200); do
        p=$((20000 + RANDOM % 30000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    echo "$bench_name: no free port found" >&2
    return 1
}

# start_gateway BIN PORT DSN LOG_LEVEL LOG_FILE PID_VAR: starts `BIN serve` (which migrates DSN
# first), stores its pid in PID_VAR and waits for /healthz. Other WAGATE_* settings reach it from
# the environment (also as assignments in front of the call). The relay is off unless the caller
# sets WAGATE_RELAY: a benchmark of the send API or of webhooks measures that path alone, and must
# never send its messages to Meta.
start_gateway() {
    WAGATE_DATABASE_URL=$3 WAGATE_LISTEN=127.0.0.1:$2 WAGATE_ADMIN_TOKEN=$admin_token \
        WAGATE_RELAY=${WAGATE_RELAY:-false} WAGATE_LOG_LEVEL=$4 "$1" serve >"$5" 2>&1 &
    printf -v "$6" '%s' "$!"
    local pid=$!
    for _ in $(seq 300); do
        if curl -sf -m 1 "http://127.0.0.1:$2/healthz" >/dev/null 2>&1; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "$bench_name: $1 exited during start:" >&2
            [[ -f $5 ]] && tail -20 "$5" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "$bench_name: $1 did not answer /healthz within 30 s" >&2
    return 1
}

admin() {  # admin METHOD PATH BODY: a call of the admin API of the gateway on $port
    curl -sf -m 10 -X "$1" "http://127.0.0.1:$port$2" -H "Authorization: Bearer $admin_token" \
        -H 'Content-Type: application/json' -d "$3"
}

# --- the run's header, the disk, the PostgreSQL cluster --------------------------------------------

log_run_header() {  # log_run_header TITLE: the title with the stamp, the host, the commit, the binary
    log "# $1 $stamp"
    log "host: $(nproc) cores, $(free -g | awk '/^Mem:/{print $2}') GB, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    log "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src include migrations 2>/dev/null || echo ' (+ uncommitted changes)')"
    log "wagate: $wagate_bin ($(date -u -r "$wagate_bin" +%Y-%m-%dT%H:%M:%SZ)) $("$wagate_bin" version 2>/dev/null || true)"
}

# probe_disk_sync: 300 8 kB O_DSYNC writes in $state; sets disk_sync (dd's summary) and disk_us
# (microseconds per write). How expensive a durable commit is on this disk decides how much group
# commit can win.
probe_disk_sync() {
    disk_sync=$(dd if=/dev/zero of="$state/dsync.probe" bs=8k count=300 oflag=dsync 2>&1 | tail -1 || true)
    rm -f "$state/dsync.probe"
    disk_us=$(sed -nE 's/.* copied, ([0-9.]+) s.*/\1/p' <<<"$disk_sync" | awk '{printf "%.0f", $1 / 300 * 1e6}')
}

# start_bench_cluster: a durable cluster in $state (scripts/pg-cluster.sh) with the database
# wagate_bench, the --pg-set settings applied; logs the settings that decide durability. Sets
# cluster_started, cluster_dir, postmaster_pid, admin_dsn and dsn (wagate_bench's).
start_bench_cluster() {
    local setting
    bash scripts/pg-cluster.sh start "$state" --durable | tee -a "$out"
    cluster_started=1
    cluster_dir=$(cat "$state/cluster_dir")
    postmaster_pid=$(head -1 "$cluster_dir/data/postmaster.pid")
    admin_dsn=$(cat "$state/dsn")
    psql "$admin_dsn" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE wagate_bench" >/dev/null
    dsn=${admin_dsn/\/postgres\?/\/wagate_bench?}
    for setting in "${pg_sets[@]}"; do
        psql "$admin_dsn" -qX -v ON_ERROR_STOP=1 -c "ALTER SYSTEM SET ${setting%%=*} = '${setting#*=}'" >/dev/null
    done
    if [[ ${#pg_sets[@]} -gt 0 ]]; then
        psql "$admin_dsn" -qAtX -c "SELECT pg_reload_conf()" >/dev/null
        sleep 0.5
        log "postgres: NON-DEFAULT settings (--pg-set): $(for setting in "${pg_sets[@]}"; do
            printf '%s=%s ' "${setting%%=*}" "$(psql "$dsn" -AtX -c "SHOW ${setting%%=*}")"; done)"
    fi
    log "postgres: $(psql "$dsn" -AtX -c "SELECT 'fsync=' || current_setting('fsync') || ' synchronous_commit=' || current_setting('synchronous_commit') || ' full_page_writes=' || current_setting('full_page_writes') || ' shared_buffers=' || current_setting('shared_buffers')")"
}

# The checkpoints PostgreSQL logged (they stall commits; their times help to read latency tails).
log_checkpoints() {
    log ""
    log "## postgres checkpoints during the run (server log, UTC)"
    grep -E "checkpoint (starting|complete)" "$cluster_dir/server.log" 2>/dev/null \
        | sed -E 's/^([0-9-]+ [0-9:.]+) [A-Z]+ \[[0-9]+\] LOG: +/\1 /; s/; (write|sync|distance)=.*//' | tee -a "$out" || log "(none)"
}

# --- measuring ----------------------------------------------------------------------------------

log_step() {  # log_step LABEL [EXTRA]: a blank line, then the step's header: start time, load, EXTRA
    log ""
    log "## $1 (starts $(date -u +%H:%M:%S) UTC, load average $(cut -d' ' -f1 /proc/loadavg)${2:-})"
}

# CPU accounting (clock ticks): cpu_snapshot -> "GATEWAY POSTGRES MACHINE_BUSY TIME": the gateway
# ($target_pid, else $wagate_pid), the whole PostgreSQL cluster, the whole machine.
cpu_snapshot() {
    local w=0 p=0 busy c
    local gw=${target_pid:-$wagate_pid}
    if [[ -n $gw && -r /proc/$gw/stat ]]; then
        w=$(awk '{print $14 + $15}' "/proc/$gw/stat")
    fi
    if [[ -n $postmaster_pid && -r /proc/$postmaster_pid/stat ]]; then
        # The postmaster's own time, plus what its exited children (reaped backends) used, plus
        # its live children: together, every backend of the cluster.
        p=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$postmaster_pid/stat")
        for c in $(pgrep -P "$postmaster_pid" || true); do
            [[ -r /proc/$c/stat ]] && p=$((p + $(awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || echo 0)))
        done
    fi
    busy=$(awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat)
    echo "$w $p $busy $(date +%s.%N)"
}

# proc_cpu_ticks PID: the CPU time (user + system, clock ticks) one process has used so far; 0
# when PID is empty or not running (read it before stopping the process).
proc_cpu_ticks() {
    local t=""
    if [[ -n ${1:-} && -r /proc/$1/stat ]]; then
        t=$(awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || true)
    fi
    echo "${t:-0}"
}

# wait_pgbench_reaped: pgbench's backends exit after it does; their CPU time reaches the
# postmaster (cutime) only once it has reaped them. Waits for that (up to 5 s, then 0.5 s more).
wait_pgbench_reaped() {
    for _ in $(seq 50); do
        [[ $(psql "$dsn" -AtX -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbench'") == 0 ]] && break
        sleep 0.1
    done
    sleep 0.5
}

# parse_pgbench OUTPUT: sets pgbench_tps (one decimal), pgbench_processed, pgbench_failed and
# pgbench_lat (average latency, ms) from pgbench's output; prints it and exits 1 if it has no tps.
parse_pgbench() {
    pgbench_tps=$(sed -nE 's/^tps = ([0-9.]+) .*/\1/p' <<<"$1" | head -1)
    [[ -n $pgbench_tps ]] || { echo "$1" >&2; echo "$bench_name: pgbench failed" >&2; exit 1; }
    pgbench_tps=$(awk -v t="$pgbench_tps" 'BEGIN { printf "%.1f", t }')
    pgbench_processed=$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' <<<"$1")
    pgbench_failed=$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' <<<"$1")
    pgbench_lat=$(sed -nE 's/^latency average = ([0-9.]+) ms/\1/p' <<<"$1")
}

# --- loadgen's JSON lines: {..., "warmup":{...}} --------------------------------------------------

json_num() {  # json_num TEXT KEY -> the first numeric value of "KEY"
    grep -o "\"$2\":[0-9.]*" <<<"$1" | head -1 | cut -d: -f2
}
measured_part() { printf '%s' "${1%%\"warmup\"*}"; }  # a line without its warmup part
warmup_part() { printf '%s' "${1##*\"warmup\":}"; }    # the warmup part of a line
ok_count() {  # all 200 answers of a loadgen line, warmup included
    local m w
    m=$(json_num "$(measured_part "$1")" 200)
    w=$(json_num "$(warmup_part "$1")" 200)
    echo $(( ${m:-0} + ${w:-0} ))
}
non_ok_count() {  # all answers other than 200 of a loadgen line, warmup included
    { grep -o '"status_counts":{[^}]*}' <<<"$(measured_part "$1")" || true
      grep -o '"status_counts":{[^}]*}' <<<"$(warmup_part "$1")" || true; } \
        | grep -o '"[0-9]*":[0-9]*' | awk -F'[":]+' '$2 != 200 { n += $3 } END { print n + 0 }'
}
# slow_seconds LINE MS: the seconds (by intended send time) of an open-loop line's --timeline
# whose p99 passed MS milliseconds, as "t=Ns (n N, p99 X ms, max Y ms), ..."; empty if none.
slow_seconds() {
    grep -o '{"t":[0-9]*,"n":[0-9]*,"p50":[0-9.]*,"p99":[0-9.]*,"max":[0-9.]*}' <<<"$1" \
        | sed -E 's/[{}"]//g; s/[a-z0-9]+:/ /g' \
        | awk -v ms="$2" '$4 + 0 > ms { printf "%st=%ds (n %d, p99 %.1f ms, max %.1f ms)", sep, $1, $2, $4, $5; sep = ", " }' || true
}

# --- summary arithmetic ---------------------------------------------------------------------------

mean2() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (a + b) / 2 }'; }  # mean2 A B, one decimal
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }  # A / B

# --- the sandbox's ledger --------------------------------------------------------------------------

# fetch_sends FROM TO FILE: the sandbox's accepted sends FROM..TO (its seq numbers), one line each:
# "seq wamid phone_number_id to received_at_ms", in pages of 10,000, from the caller's $sandbox_url
# (bench/relay.sh, bench/scale_out.sh).
fetch_sends() {
    local after=$(( $1 - 1 )) to=$2 file=$3 limit got
    : >"$file"
    while (( after < to )); do
        limit=$(( to - after < 10000 ? to - after : 10000 ))
        curl -sf -m 60 "$sandbox_url/sandbox/v1/messages?after=$after&limit=$limit" >"$file.json"
        { grep -o '"seq":[0-9]*,"wamid":"[^"]*","phone_number_id":"[^"]*","to":"[^"]*","type":"[^"]*","received_at":"[^"]*"' "$file.json" || true; } \
            | sed -E 's/"seq":([0-9]+),"wamid":"([^"]*)","phone_number_id":"([^"]*)","to":"([^"]*)","type":"[^"]*","received_at":"([^"]*)"/\1 \2 \3 \4 \5/' \
            | awk '
                # days since 1970-01-01 of a civil date (proleptic Gregorian)
                function days(y, m, d,   era, yoe, doy, doe) {
                    y -= (m <= 2); era = int((y >= 0 ? y : y - 399) / 400); yoe = y - era * 400;
                    doy = int((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
                    doe = yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy;
                    return era * 146097 + doe - 719468 }
                { split($5, a, /[-T:.Z]/);
                  ms = (((days(a[1] + 0, a[2] + 0, a[3] + 0) * 24 + a[4]) * 60 + a[5]) * 60 + a[6]) * 1000 + a[7];
                  printf "%s %s %s %s %.0f\n", $1, $2, $3, $4, ms }' >>"$file.page"
        got=$(wc -l <"$file.page")
        cat "$file.page" >>"$file"
        rm -f "$file.page" "$file.json"
        (( got > 0 )) || break
        after=$(tail -1 "$file" | cut -d' ' -f1)
    done
}
