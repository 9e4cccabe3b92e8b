#!/usr/bin/env bash
# End-to-end throughput/latency benchmark of POST /{version}/{phone_number_id}/messages against
# a durable (fsync on) PostgreSQL, with its two ceilings measured in the same run:
#   healthz  - the HTTP stack alone (no database work): how fast can wagate answer at all;
#   pgbench  - one accepted message = one transaction (bench/pgbench_accept.sql): how fast the
#              database commits messages one by one, with no group commit.
# Then: gateway closed loop (64 and 128 connections), open loop at 1,000 msg/s, optionally the
# same closed loop with info logging, and a row-count check against the 200 answers.
#
#   bash bench/send_api.sh [--duration 20] [--warmup 2] [--rate 1000] [--connections "64 128"]
#                          [--open-connections 64] [--no-info] [--wagate PATH]
#                          [--pg-set NAME=VALUE]...   (reloadable PostgreSQL settings, e.g.
#                                                      wal_init_zero=off; reported as non-default)
#
# Everything it starts (a PostgreSQL cluster in /tmp, wagate on a free loopback port) is
# stopped on exit, also on failure or Ctrl-C. Results: stdout and bench/results/send_api-*.txt.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

duration=20
warmup=2
rate=1000
connections="64 128"
open_connections=64
run_info=1
pg_sets=()
wagate_bin=${WAGATE_BIN:-$root/build/wagate}
while [[ $# -gt 0 ]]; do
    case "$1" in
        --duration) duration=$2; shift ;;
        --warmup) warmup=$2; shift ;;
        --rate) rate=$2; shift ;;
        --connections) connections=$2; shift ;;
        --open-connections) open_connections=$2; shift ;;
        --no-info) run_info=0 ;;
        --wagate) wagate_bin=$2; shift ;;
        --pg-set)
            [[ $2 =~ ^[a-z_]+=[A-Za-z0-9_.]+$ ]] || { echo "send_api.sh: --pg-set NAME=VALUE" >&2; exit 2; }
            pg_sets+=("$2"); shift ;;
        -h|--help) sed -n '2,18p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "send_api.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
[[ $duration =~ ^[0-9]+$ && $duration -ge 1 && $duration -le 600 ]] || { echo "send_api.sh: --duration 1..600" >&2; exit 2; }
[[ $warmup =~ ^[0-9]+$ && $warmup -le 60 ]] || { echo "send_api.sh: --warmup 0..60" >&2; exit 2; }

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
pgbench_bin=$PG_BIN/pgbench
[[ -x $pgbench_bin ]] || pgbench_bin=$(command -v pgbench || true)
if [[ -z $pgbench_bin || ! -x $PG_BIN/initdb ]] || ! command -v psql >/dev/null || ! command -v curl >/dev/null \
    || ! command -v g++ >/dev/null; then
    echo "send_api.sh: missing tools, running scripts/install-deps.sh --with-bench" >&2
    bash scripts/install-deps.sh --with-bench
    pgbench_bin=$PG_BIN/pgbench
fi

if [[ ! -x $wagate_bin ]]; then
    echo "send_api.sh: $wagate_bin missing, building it" >&2
    timeout 3600 cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
    timeout 3600 cmake --build build -j2 --target wagate
fi
bash bench/build.sh >&2
loadgen=$root/build/bench/loadgen

mkdir -p bench/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$root/bench/results/send_api-$stamp.txt
: >"$out"
log() { printf '%s\n' "$*" | tee -a "$out"; }

state=$(mktemp -d /tmp/wagate-bench.XXXXXX)
wagate_pid=""
cluster_started=0

stop_wagate() {
    [[ -n $wagate_pid ]] || return 0
    if kill -0 "$wagate_pid" 2>/dev/null; then
        kill -TERM "$wagate_pid" 2>/dev/null || true
        for _ in $(seq 100); do
            kill -0 "$wagate_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$wagate_pid" 2>/dev/null || true
    fi
    wait "$wagate_pid" 2>/dev/null || true
    wagate_pid=""
}

cleanup() {
    local rc=$?
    set +e
    stop_wagate
    if [[ $cluster_started -eq 1 ]]; then
        bash scripts/pg-cluster.sh stop "$state" >/dev/null 2>&1
    fi
    rm -rf "$state"
    if [[ $rc -ne 0 ]]; then
        echo "send_api.sh: FAILED (exit $rc); partial results in $out" >&2
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

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
    echo "send_api.sh: no free port found" >&2
    return 1
}

# --- CPU accounting (clock ticks): wagate, the whole PostgreSQL cluster, the whole machine ----
clk_tck=$(getconf CLK_TCK)
postmaster_pid=""
cpu_snapshot() {
    local w=0 p=0 busy
    if [[ -n $wagate_pid && -r /proc/$wagate_pid/stat ]]; then
        w=$(awk '{print $14 + $15}' "/proc/$wagate_pid/stat")
    fi
    if [[ -n $postmaster_pid && -r /proc/$postmaster_pid/stat ]]; then
        # The postmaster's own time, plus what its exited children (reaped backends) used, plus
        # its live children: together, every backend of the cluster.
        p=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$postmaster_pid/stat")
        local c
        for c in $(pgrep -P "$postmaster_pid" || true); do
            [[ -r /proc/$c/stat ]] && p=$((p + $(awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || echo 0)))
        done
    fi
    busy=$(awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat)
    echo "$w $p $busy $(date +%s.%N)"
}
# cpu_report BEFORE AFTER MESSAGES -> a one-line summary (and sets cpu_line)
cpu_report() {
    cpu_line=$(awk -v b="$1" -v a="$2" -v n="$3" -v hz="$clk_tck" -v cores="$(nproc)" 'BEGIN {
        split(b, x, " "); split(a, y, " ");
        w = (y[1] - x[1]) / hz; p = (y[2] - x[2]) / hz; m = (y[3] - x[3]) / hz; t = y[4] - x[4];
        line = sprintf("cpu: wagate %.2f s, postgres %.2f s, machine busy %.2f of %.2f core-s (%.0f%%)",
                       w, p, m, t * cores, 100 * m / (t * cores));
        if (n > 0) line = line sprintf("; per request: wagate %.0f us, postgres %.0f us", 1e6 * w / n, 1e6 * p / n);
        print line }')
    log "  $cpu_line"
}

# --- database-side accounting: WAL volume (exact), WAL flushes (from pg_stat_wal, which backends
# report about once a second, so approximate), and for the gateway the batches it committed:
# every row of one batch has the same created_at (now() of its transaction).
db_probe() {
    psql "$dsn" -AtX -F ' ' -c "SELECT pg_current_wal_lsn(), (SELECT wal_sync FROM pg_stat_wal),
                                       extract(epoch FROM clock_timestamp())"
}
# db_report BEFORE AFTER MESSAGES PHONE -> logs WAL per message and the commits of PHONE's rows
db_report() {
    local b=($1) a=($2) n=$3 phone_filter=$4
    local r
    r=$(psql "$dsn" -AtX -F ' ' -c "
        SELECT pg_wal_lsn_diff('${a[0]}', '${b[0]}'), ${a[1]} - ${b[1]}, count(*), count(DISTINCT created_at)
        FROM wagate.messages WHERE phone_number_id = '$phone_filter'
          AND created_at >= to_timestamp(${b[2]}) AND created_at < to_timestamp(${a[2]})")
    db_line=$(awk -v r="$r" -v n="$n" 'BEGIN {
        split(r, x, " ");
        line = sprintf("db: WAL %.0f bytes per message, ~%d WAL flushes (~%.1f messages per flush)",
                       n > 0 ? x[1] / n : 0, x[2], x[2] > 0 ? n / x[2] : 0);
        if (x[3] != "" && x[4] > 0)
            line = line sprintf("; %d messages in %d commits (%.1f per commit)", x[3], x[4], x[3] / x[4]);
        print line }')
    log "  $db_line"
}

json_num() {  # json_num TEXT KEY -> the first numeric value of "KEY"
    grep -o "\"$2\":[0-9.]*" <<<"$1" | head -1 | cut -d: -f2
}
measured_part() { printf '%s' "${1%%\"warmup\"*}"; }
warmup_part() { printf '%s' "${1##*\"warmup\":}"; }
ok_count() {  # all 200 answers of a loadgen line, warmup included
    local m w
    m=$(json_num "$(measured_part "$1")" 200)
    w=$(json_num "$(warmup_part "$1")" 200)
    echo $(( ${m:-0} + ${w:-0} ))
}

# --- start ---------------------------------------------------------------------------------
log "# wagate send API benchmark $stamp"
log "host: $(nproc) cores, $(free -g | awk '/^Mem:/{print $2}') GB, load average $(cut -d' ' -f1-3 /proc/loadavg)"
log "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src include migrations 2>/dev/null || echo ' (+ uncommitted changes)')"
log "wagate: $wagate_bin ($(date -u -r "$wagate_bin" +%Y-%m-%dT%H:%M:%SZ)) $("$wagate_bin" version 2>/dev/null || true)"
log "settings: duration ${duration}s, warmup ${warmup}s, closed-loop connections: $connections, open loop ${rate}/s over $open_connections connections"

# How expensive a durable commit is on this disk decides how much group commit can win.
disk_sync=$(dd if=/dev/zero of="$state/dsync.probe" bs=8k count=300 oflag=dsync 2>&1 | tail -1 || true)
rm -f "$state/dsync.probe"
disk_us=$(sed -nE 's/.* copied, ([0-9.]+) s.*/\1/p' <<<"$disk_sync" | awk '{printf "%.0f", $1 / 300 * 1e6}')
log "disk: one 8 kB O_DSYNC write (a commit's flush) takes ${disk_us:-?} us here (300 in a row: ${disk_sync:-unknown})"
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

port=$(free_port)
admin_token=bench-admin-$RANDOM$RANDOM
start_wagate() {  # start_wagate LOG_LEVEL LOG_FILE
    WAGATE_DATABASE_URL=$dsn WAGATE_LISTEN=127.0.0.1:$port WAGATE_ADMIN_TOKEN=$admin_token \
        WAGATE_LOG_LEVEL=$1 "$wagate_bin" serve >"$2" 2>&1 &
    wagate_pid=$!
    for _ in $(seq 300); do
        if curl -sf -m 1 "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
            return 0
        fi
        if ! kill -0 "$wagate_pid" 2>/dev/null; then
            echo "send_api.sh: wagate exited during start:" >&2
            [[ -f $2 ]] && tail -20 "$2" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "send_api.sh: wagate did not answer /healthz within 30 s" >&2
    return 1
}
start_wagate warn "$state/wagate-warn.log"
log "wagate: listening on 127.0.0.1:$port (pid $wagate_pid, log level warn, threads ${WAGATE_THREADS:-2}, db pool ${WAGATE_DB_POOL:-8}, commit writers ${WAGATE_COMMIT_WRITERS:-2}, batch max ${WAGATE_COMMIT_BATCH_MAX:-256})"

admin() {  # admin METHOD PATH BODY
    curl -sf -m 10 -X "$1" "http://127.0.0.1:$port$2" -H "Authorization: Bearer $admin_token" \
        -H 'Content-Type: application/json' -d "$3"
}
phone=15550000001
admin PUT /admin/v1/businesses/bench-biz '{}' >/dev/null
admin PUT /admin/v1/phone-numbers/$phone '{"business_id":"bench-biz"}' >/dev/null
key=$(admin POST /admin/v1/api-keys "{\"name\":\"bench\",\"phone_number_ids\":[\"$phone\"]}" \
    | sed -nE 's/.*"key":"([^"]+)".*/\1/p')
[[ -n $key ]] || { echo "send_api.sh: could not create an API key" >&2; exit 1; }

body=$state/send_body.json
printf '%s' '{"messaging_product":"whatsapp","to":"+1555{{N}}","type":"text","text":{"body":"hello from the wagate benchmark"}}' >"$body"
# Sanity: one message through the real path before measuring anything.
first=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/v23.0/$phone/messages" \
    -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d '{"messaging_product":"whatsapp","to":"+15551234567","type":"text","text":{"body":"hello"}}')
[[ $first == 200 ]] || { echo "send_api.sh: sanity POST answered $first" >&2; exit 1; }
total_ok=1   # every 200 answer to a POST, to compare with the rows afterwards
total_errors=0

bound=$((warmup + duration + 60))
# run_loadgen LABEL ARGS... -> sets last_line
run_loadgen() {
    local label=$1
    shift
    local before after db_before db_after total
    log ""
    log "## $label (starts $(date -u +%H:%M:%S) UTC, load average $(cut -d' ' -f1 /proc/loadavg))"
    db_before=$(db_probe)
    before=$(cpu_snapshot)
    last_line=$(timeout "$bound" "$loadgen" --port "$port" --warmup "$warmup" --duration "$duration" \
        --label "$label" "$@")
    after=$(cpu_snapshot)
    db_after=$(db_probe)
    log "$last_line"
    # CPU was spent on the warmup too: per request means per request answered in the window.
    total=$(( $(json_num "$last_line" requests) + $(json_num "$(warmup_part "$last_line")" requests) ))
    cpu_report "$before" "$after" "$total"
    if [[ $label == send* ]]; then
        db_report "$db_before" "$db_after" "$total" "$phone"
    fi
}
post_args=(--method POST --path "/v23.0/$phone/messages" --header "Authorization: Bearer $key"
           --header "Content-Type: application/json" --body-file "$body" --unique-to)
count_posts() {
    local measured_ok
    measured_ok=$(json_num "$(measured_part "$1")" 200)
    if [[ ${measured_ok:-0} -eq 0 ]]; then
        echo "send_api.sh: the gateway answered no POST with 200 in the measured window (stalled or crashed?); its log:" >&2
        tail -20 "$state/wagate-warn.log" >&2 || true
        exit 1
    fi
    total_ok=$((total_ok + $(ok_count "$1")))
    total_errors=$((total_errors + $(json_num "$1" errors) + $(json_num "$(warmup_part "$1")" errors)))
}

run_pgbench() {  # run_pgbench LABEL MODE(simple|prepared) -> sets pgbench_tps
    local before after text db_before db_after
    log ""
    log "## $1 (starts $(date -u +%H:%M:%S) UTC, load average $(cut -d' ' -f1 /proc/loadavg))"
    db_before=$(db_probe)
    before=$(cpu_snapshot)
    text=$(timeout "$bound" "$pgbench_bin" -n -M "$2" -c 16 -j 2 -T "$duration" -f bench/pgbench_accept.sql "$dsn" 2>&1)
    # pgbench's backends exit after it does; their CPU time reaches the postmaster (cutime) only
    # once it has reaped them. Wait for that, or it would be missing from this step.
    for _ in $(seq 50); do
        [[ $(psql "$dsn" -AtX -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbench'") == 0 ]] && break
        sleep 0.1
    done
    sleep 0.5
    after=$(cpu_snapshot)
    db_after=$(db_probe)
    local processed failed lat
    pgbench_tps=$(sed -nE 's/^tps = ([0-9.]+) .*/\1/p' <<<"$text" | head -1)
    [[ -n $pgbench_tps ]] && pgbench_tps=$(awk -v t="$pgbench_tps" 'BEGIN{printf "%.1f", t}')
    processed=$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' <<<"$text")
    failed=$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' <<<"$text")
    lat=$(sed -nE 's/^latency average = ([0-9.]+) ms/\1/p' <<<"$text")
    [[ -n $pgbench_tps ]] || { echo "$text" >&2; echo "send_api.sh: pgbench failed" >&2; exit 1; }
    log "{\"label\":\"$1\",\"protocol\":\"$2\",\"clients\":16,\"transactions\":${processed:-0},\"failed\":${failed:-0},\"tps\":$pgbench_tps,\"latency_avg_ms\":${lat:-0}}"
    cpu_report "$before" "$after" "${processed:-0}"
    db_report "$db_before" "$db_after" "${processed:-0}" 19990000000
}

# a. ceiling 1: the HTTP stack alone.
run_loadgen "healthz closed c64" --path /healthz --connections 64
healthz_line=$last_line
healthz_rps=$(json_num "$healthz_line" rps)

# b. ceiling 2 / baseline: one transaction per message, 16 clients. The simple protocol is
# pgbench's default (the brief's baseline); the prepared one is what the gateway itself uses, so
# it is the stricter baseline.
run_pgbench "pgbench accept (before)" simple
pgbench_before=$pgbench_tps
run_pgbench "pgbench accept -M prepared (before)" prepared
pgbench_prep_before=$pgbench_tps

# c. gateway closed loop.
declare -A closed_rps closed_p50 closed_p99
for c in $connections; do
    run_loadgen "send closed c$c" "${post_args[@]}" --connections "$c"
    count_posts "$last_line"
    closed_rps[$c]=$(json_num "$last_line" rps)
    closed_p50[$c]=$(json_num "$last_line" p50)
    closed_p99[$c]=$(json_num "$last_line" p99)
done

# d. gateway open loop at a fixed rate: latency without coordinated omission.
run_loadgen "send open ${rate}/s c$open_connections" "${post_args[@]}" --connections "$open_connections" --rate "$rate" --timeline
count_posts "$last_line"
open_line=$last_line
# Is the tail spread evenly, or made of a few stalls? Seconds (by intended send time) whose p99
# passed 10 ms.
slow_seconds=$(grep -o '{"t":[0-9]*,"n":[0-9]*,"p50":[0-9.]*,"p99":[0-9.]*,"max":[0-9.]*}' <<<"$open_line" \
    | sed -E 's/[{}"]//g; s/[a-z0-9]+:/ /g' \
    | awk '$4 + 0 > 10 { printf "%st=%ds (n %d, p99 %.1f ms, max %.1f ms)", sep, $1, $2, $4, $5; sep = ", " }' || true)
log "  seconds with p99 > 10 ms: ${slow_seconds:-none}"

# b again: the baseline after the gateway runs brackets them (the machine is noisy).
run_pgbench "pgbench accept (after)" simple
pgbench_after=$pgbench_tps
run_pgbench "pgbench accept -M prepared (after)" prepared
pgbench_prep_after=$pgbench_tps

# Optional: the same closed loop with request logging at info (to /dev/null).
info_rps=""
if [[ $run_info -eq 1 ]]; then
    first_c=${connections%% *}
    stop_wagate
    start_wagate info /dev/null
    run_loadgen "send closed c$first_c, log level info" "${post_args[@]}" --connections "$first_c"
    count_posts "$last_line"
    info_rps=$(json_num "$last_line" rps)
fi
stop_wagate

# Checkpoints and WAL segment creation stall commits; their times help to read latency tails.
log ""
log "## postgres checkpoints during the run (server log, UTC)"
grep -E "checkpoint (starting|complete)" "$cluster_dir/server.log" 2>/dev/null | sed -E 's/^([0-9-]+ [0-9:.]+) [A-Z]+ \[[0-9]+\] LOG: +/\1 /; s/; (write|sync|distance)=.*//' \
    | tee -a "$out" || log "(none)"

# e. every 200 answer must be a committed message, status and queue row - and nothing more.
read -r rows statuses queued < <(psql "$dsn" -AtX -F ' ' -c "
    SELECT (SELECT count(*) FROM wagate.messages WHERE phone_number_id = '$phone'),
           (SELECT count(*) FROM wagate.message_statuses s JOIN wagate.messages m ON m.id = s.message_id
             WHERE m.phone_number_id = '$phone' AND s.status = 'accepted'),
           (SELECT count(*) FROM wagate.relay_queue WHERE phone_number_id = '$phone')")
log ""
log "## row-count check"
log "200 answers to POST (warmups and the sanity request included): $total_ok; errors/abandoned: $total_errors"
log "rows for $phone: messages $rows, accepted statuses $statuses, relay_queue $queued"
check=PASS
if [[ $rows -ne $total_ok || $statuses -ne $total_ok || $queued -ne $total_ok ]]; then
    check=FAIL
fi
log "row-count check: $check"

# --- summary -------------------------------------------------------------------------------
best_c="" best_rps=0
for c in $connections; do
    if awk -v a="${closed_rps[$c]}" -v b="$best_rps" 'BEGIN{exit !(a > b)}'; then
        best_c=$c best_rps=${closed_rps[$c]}
    fi
done
pgbench_mean=$(awk -v a="$pgbench_before" -v b="$pgbench_after" 'BEGIN{printf "%.1f", (a + b) / 2}')
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
r_pg=$(ratio "$best_rps" "$pgbench_mean")
pgbench_prep_mean=$(awk -v a="$pgbench_prep_before" -v b="$pgbench_prep_after" 'BEGIN{printf "%.1f", (a + b) / 2}')
r_prep=$(ratio "$best_rps" "$pgbench_prep_mean")
r_hz=$(ratio "$best_rps" "$healthz_rps")
open_p50=$(json_num "$open_line" p50)
open_p99=$(json_num "$open_line" p99)
open_rps=$(json_num "$open_line" rps)

log ""
log "## summary ($stamp)"
{
    printf '%-40s %12s %10s %10s\n' "measurement" "per second" "p50 ms" "p99 ms"
    printf '%-40s %12s %10s %10s\n' "healthz closed c64" "$healthz_rps" "$(json_num "$healthz_line" p50)" "$(json_num "$healthz_line" p99)"
    printf '%-40s %12s %10s %10s\n' "pgbench 1 msg/txn c16 (before)" "$pgbench_before" "-" "-"
    printf '%-40s %12s %10s %10s\n' "pgbench 1 msg/txn c16 (after)" "$pgbench_after" "-" "-"
    printf '%-40s %12s %10s %10s\n' "pgbench -M prepared (before)" "$pgbench_prep_before" "-" "-"
    printf '%-40s %12s %10s %10s\n' "pgbench -M prepared (after)" "$pgbench_prep_after" "-" "-"
    for c in $connections; do
        printf '%-40s %12s %10s %10s\n' "send closed c$c" "${closed_rps[$c]}" "${closed_p50[$c]}" "${closed_p99[$c]}"
    done
    printf '%-40s %12s %10s %10s\n' "send open ${rate}/s c$open_connections" "$open_rps" "$open_p50" "$open_p99"
    if [[ -n $info_rps ]]; then
        printf '%-40s %12s %10s %10s\n' "send closed c${connections%% *}, info logging" "$info_rps" "$(json_num "$last_line" p50)" "$(json_num "$last_line" p99)"
    fi
    echo
    echo "gateway msg/s (best closed loop, c$best_c) / pgbench TPS (simple protocol, mean $pgbench_mean): $r_pg  (target >= 1.5: $(awk -v r="$r_pg" 'BEGIN{print (r >= 1.5) ? "met" : "NOT met"}'))"
    echo "gateway msg/s / pgbench -M prepared TPS (mean $pgbench_prep_mean): $r_prep"
    echo "gateway msg/s / healthz rps: $r_hz"
    echo "open loop ${rate}/s p99: $open_p99 ms (target < 10 ms: $(awk -v p="$open_p99" 'BEGIN{print (p < 10) ? "met" : "NOT met"}'))"
    echo "row-count check: $check ($rows rows, $total_ok answers 200)"
} | tee -a "$out"
log "results: $out"
[[ $check == PASS ]]
