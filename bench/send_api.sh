#!/usr/bin/env bash
# End-to-end throughput/latency benchmark of POST /{version}/{phone_number_id}/messages against
# a durable (fsync on) PostgreSQL, with its two ceilings measured in the same run:
#   healthz  - the HTTP stack alone (no database work): how fast can wagate answer at all;
#   pgbench  - one accepted message = one transaction (bench/pgbench_accept.sql): how fast the
#              database commits messages one by one, with no group commit.
#   pgbench template - one business-initiated template = one transaction
#              (bench/pgbench_template.sql): business lock, state read, five writes, commit.
# Then: gateway closed loop (64 and 128 connections) of in-window text messages (a fixed pool of
# --text-users recipients whose customer service windows are opened in bulk beforehand), open
# loop at 1,000 msg/s, a closed loop of business-initiated templates (distinct users, each takes a
# messaging-limit slot), optionally the same text closed loop with info logging, and a row-count
# check against the 200 answers. With --baseline-wagate, the text closed loop at c64 alternates
# between this gateway and an older one (its own database in the same cluster), to measure what
# the newer gateway costs against it.
#
#   bash bench/send_api.sh [--duration 20] [--warmup 2] [--rate 1000] [--connections "64 128"]
#                          [--open-connections 64] [--no-info] [--wagate PATH]
#                          [--text-users 100000] [--baseline-wagate PATH] [--baseline-rounds 2]
#                          [--no-analyze-limit-counts]
#                          [--pg-set NAME=VALUE]...   (reloadable PostgreSQL settings, e.g.
#                                                      wal_init_zero=off; reported as non-default)
#
# Everything it starts (a PostgreSQL cluster in /tmp, wagate on a free loopback port) is
# stopped on exit, also on failure or Ctrl-C. Results: stdout and bench/results/send_api-*.txt.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bench_name=send_api.sh
source bench/lib.sh

duration=20
warmup=2
rate=1000
connections="64 128"
open_connections=64
run_info=1
pg_sets=()
wagate_bin=${WAGATE_BIN:-$root/build/wagate}
text_users=100000
baseline_bin=${BASELINE_WAGATE_BIN:-}
baseline_rounds=2
analyze_counts=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --duration) duration=$2; shift ;;
        --warmup) warmup=$2; shift ;;
        --rate) rate=$2; shift ;;
        --connections) connections=$2; shift ;;
        --open-connections) open_connections=$2; shift ;;
        --no-info) run_info=0 ;;
        --wagate) wagate_bin=$2; shift ;;
        --text-users) text_users=$2; shift ;;
        --baseline-wagate) baseline_bin=$2; shift ;;
        --baseline-rounds) baseline_rounds=$2; shift ;;
        --no-analyze-limit-counts) analyze_counts=0 ;;
        --pg-set) add_pg_set "$2"; shift ;;
        -h|--help) sed -n '2,25p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "send_api.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
[[ $duration =~ ^[0-9]+$ && $duration -ge 1 && $duration -le 600 ]] || { echo "send_api.sh: --duration 1..600" >&2; exit 2; }
[[ $warmup =~ ^[0-9]+$ && $warmup -le 60 ]] || { echo "send_api.sh: --warmup 0..60" >&2; exit 2; }
[[ $text_users =~ ^[0-9]+$ && $text_users -ge 1 && $text_users -le 1000000 ]] \
    || { echo "send_api.sh: --text-users 1..1000000" >&2; exit 2; }
[[ $baseline_rounds =~ ^[0-9]+$ && $baseline_rounds -ge 1 && $baseline_rounds -le 10 ]] \
    || { echo "send_api.sh: --baseline-rounds 1..10" >&2; exit 2; }
if [[ -n $baseline_bin && ! -x $baseline_bin ]]; then
    echo "send_api.sh: --baseline-wagate $baseline_bin is not an executable" >&2
    exit 2
fi

find_bench_tools

if [[ ! -x $wagate_bin ]]; then
    echo "send_api.sh: $wagate_bin missing, building it" >&2
    timeout 3600 cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
    timeout 3600 cmake --build build -j2 --target wagate
fi
bash bench/build.sh >&2
loadgen=$root/build/bench/loadgen

open_results send_api

state=$(mktemp -d /tmp/wagate-bench.XXXXXX)
base_pid=""   # the --baseline-wagate gateway, while it runs

stop_base() {
    stop_pid "$base_pid"
    base_pid=""
}

cleanup() {
    local rc=$?
    set +e
    stop_wagate
    stop_base
    finish_bench "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- CPU accounting (cpu_snapshot, bench/lib.sh): wagate, the PostgreSQL cluster, the machine ----
# cpu_report BEFORE AFTER MESSAGES -> a one-line summary (and sets cpu_line)
cpu_report() {
    cpu_line=$(awk -v b="$1" -v a="$2" -v n="$3" -v hz="$clk_tck" -v cores="$(nproc)" 'BEGIN {
        split(b, x, " "); split(a, y, " ");
        w = (y[1] - x[1]) / hz; p = (y[2] - x[2]) / hz; m = (y[3] - x[3]) / hz; t = y[4] - x[4];
        line = sprintf("cpu: wagate %.2f s, postgres %.2f s, machine busy %.2f of %.2f core-s (%.0f%%; the rest, loadgen or pgbench and anything else running: %.2f s)",
                       w, p, m, t * cores, 100 * m / (t * cores), m - w - p);
        if (n > 0) line = line sprintf("; per request: wagate %.0f us, postgres %.0f us", 1e6 * w / n, 1e6 * p / n);
        print line }')
    log "  $cpu_line"
}

# --- database-side accounting: WAL volume (exact), WAL flushes (from pg_stat_wal, which backends
# report about once a second, so approximate), and for the gateway the batches it committed:
# every row of one batch has the same created_at (now() of its transaction).
db_probe() {
    psql "${target_dsn:-$dsn}" -AtX -F ' ' -c "SELECT pg_current_wal_lsn(), (SELECT wal_sync FROM pg_stat_wal),
                                       extract(epoch FROM clock_timestamp())"
}
# db_report BEFORE AFTER MESSAGES PHONE -> logs WAL per message and the commits of PHONE's rows
db_report() {
    local b=($1) a=($2) n=$3 phone_filter=$4
    local r
    r=$(psql "${target_dsn:-$dsn}" -AtX -F ' ' -c "
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

# --- start ---------------------------------------------------------------------------------
log_run_header "wagate send API benchmark"
log "settings: duration ${duration}s, warmup ${warmup}s, closed-loop connections: $connections, open loop ${rate}/s over $open_connections connections, text recipients $text_users$([[ -n $baseline_bin ]] && echo ", baseline $baseline_bin, $baseline_rounds rounds")"

probe_disk_sync
log "disk: one 8 kB O_DSYNC write (a commit's flush) takes ${disk_us:-?} us here (300 in a row: ${disk_sync:-unknown})"
start_bench_cluster

port=$(free_port)
admin_token=bench-admin-$RANDOM$RANDOM
start_wagate() {  # start_wagate LOG_LEVEL LOG_FILE
    start_gateway "$wagate_bin" "$port" "$dsn" "$1" "$2" wagate_pid
}
start_wagate warn "$state/wagate-warn.log"
log "wagate: listening on 127.0.0.1:$port (pid $wagate_pid, log level warn, threads ${WAGATE_THREADS:-2}, db pool ${WAGATE_DB_POOL:-8}, commit writers ${WAGATE_COMMIT_WRITERS:-2}, batch max ${WAGATE_COMMIT_BATCH_MAX:-256})"

# The business rules (docs/adr/0003-policy-in-the-accept-batch.md) decide every message inside
# the accept batch. The gateway's number sends from WABA bench-waba, which has the template the
# template case sends; require_opt_in off, so a template needs no opt-in; TIER_UNLIMITED, so the
# business never runs out of messaging-limit slots (each new user still takes one, and every
# template to a user without a window still runs the lock, the budget read and the count insert).
phone=15550000001
tpl_definition='{"category":"UTILITY","status":"APPROVED","components":[{"type":"BODY","text":"Your code is {{1}}"}]}'
admin PUT /admin/v1/businesses/bench-biz '{"messaging_limit_tier":"TIER_UNLIMITED"}' >/dev/null
admin PUT /admin/v1/phone-numbers/$phone '{"business_id":"bench-biz","waba_id":"bench-waba","require_opt_in":false}' >/dev/null
admin PUT /admin/v1/templates/bench-waba/bench_code/en_US "$tpl_definition" >/dev/null
key=$(admin POST /admin/v1/api-keys "{\"name\":\"bench\",\"phone_number_ids\":[\"$phone\"]}" \
    | sed -nE 's/.*"key":"([^"]+)".*/\1/p')
[[ -n $key ]] || { echo "send_api.sh: could not create an API key" >&2; exit 1; }
# What bench/pgbench_template.sql locks and reads: its own business, number and template.
admin PUT /admin/v1/businesses/pgbench-biz '{"messaging_limit_tier":"TIER_UNLIMITED"}' >/dev/null
admin PUT /admin/v1/phone-numbers/19990000001 '{"business_id":"pgbench-biz","waba_id":"pgbench-waba","require_opt_in":false}' >/dev/null
admin PUT /admin/v1/templates/pgbench-waba/bench_code/en_US "$tpl_definition" >/dev/null

# The text case's recipients: a fixed pool of --text-users users, +1555 0000000 .. N-1 (loadgen
# --to-pool), whose customer service windows are open (last inbound message: now). Loaded in bulk
# and analyzed, as the contacts table of a running deployment would be.
psql "$dsn" -qX -v ON_ERROR_STOP=1 -c "
    INSERT INTO wagate.contacts (phone_number_id, wa_id, last_inbound_at)
    SELECT '$phone', '1555' || lpad(i::text, 7, '0'), now() FROM generate_series(0, $text_users - 1) AS i;
    ANALYZE wagate.contacts;" >/dev/null
log "text case: $text_users recipients (+15550000000..) with an open window; template case: distinct new users +1666xxxxxxx, no window"

body=$state/send_body.json
printf '%s' '{"messaging_product":"whatsapp","to":"+1555{{N}}","type":"text","text":{"body":"hello from the wagate benchmark"}}' >"$body"
tpl_body=$state/template_body.json
printf '%s' '{"messaging_product":"whatsapp","to":"+1666{{N}}","type":"template","template":{"name":"bench_code","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"482913"}]}]}}' >"$tpl_body"
post() {  # post PORT KEY BODY -> the answer's body, a space and its HTTP status
    curl -s -m 10 -w ' %{http_code}' -X POST "http://127.0.0.1:$1/v23.0/$phone/messages" \
        -H "Authorization: Bearer $2" -H 'Content-Type: application/json' -d "$3"
}
# Sanity before measuring anything: a text inside an open window (opened through the admin API)
# and a template to a new user are accepted; a text to a user without a window is refused with
# 131047, so the rules are really on the path being measured.
admin PUT /admin/v1/contacts/$phone/15551234567 "{\"last_inbound_at\":$(date +%s)}" >/dev/null
first=$(post "$port" "$key" '{"messaging_product":"whatsapp","to":"+15551234567","type":"text","text":{"body":"hello"}}')
[[ $first == *' 200' ]] || { echo "send_api.sh: sanity POST (text in window) answered: $first" >&2; exit 1; }
first=$(post "$port" "$key" "$(sed 's/{{N}}/9999999/' "$tpl_body" | sed 's/+1666/+1777/')")
[[ $first == *' 200' ]] || { echo "send_api.sh: sanity POST (template) answered: $first" >&2; exit 1; }
first=$(post "$port" "$key" '{"messaging_product":"whatsapp","to":"+14440000000","type":"text","text":{"body":"hello"}}')
[[ $first == *' 400' && $first == *131047* ]] \
    || { echo "send_api.sh: sanity POST (text without a window) should be refused with 131047, answered: $first" >&2; exit 1; }
total_ok=2   # every 200 answer to a POST, to compare with the rows afterwards
total_tpl_ok=1   # the 200 answers among them to templates to a new user: one limit count each
total_errors=0
total_non200=0   # answers other than 200 in the send steps: none expected

bound=$((warmup + duration + 60))
# run_loadgen LABEL ARGS... -> sets last_line
run_loadgen() {
    local label=$1
    shift
    local before after db_before db_after total
    log_step "$label"
    db_before=$(db_probe)
    before=$(cpu_snapshot)
    last_line=$(timeout "$bound" "$loadgen" --port "${target_port:-$port}" --warmup "$warmup" --duration "$duration" \
        --label "$label" "$@")
    after=$(cpu_snapshot)
    db_after=$(db_probe)
    log "$last_line"
    # CPU was spent on the warmup too: per request means per request answered in the window.
    total=$(( $(json_num "$last_line" requests) + $(json_num "$(warmup_part "$last_line")" requests) ))
    cpu_report "$before" "$after" "$total"
    if [[ $label != healthz* ]]; then
        db_report "$db_before" "$db_after" "$total" "$phone"
    fi
}
post_args=(--method POST --path "/v23.0/$phone/messages" --header "Authorization: Bearer $key"
           --header "Content-Type: application/json" --body-file "$body" --unique-to --to-pool "$text_users")
tpl_args=(--method POST --path "/v23.0/$phone/messages" --header "Authorization: Bearer $key"
          --header "Content-Type: application/json" --body-file "$tpl_body" --unique-to)
count_posts() {  # count_posts LINE [text|template|baseline]: adds the answers to the audit's totals
    local measured_ok non_ok
    measured_ok=$(json_num "$(measured_part "$1")" 200)
    if [[ ${measured_ok:-0} -eq 0 ]]; then
        echo "send_api.sh: the gateway answered no POST with 200 in the measured window (stalled or crashed?); its log:" >&2
        tail -20 "$state/wagate-warn.log" >&2 || true
        [[ -f $state/base-warn.log ]] && tail -20 "$state/base-warn.log" >&2
        exit 1
    fi
    non_ok=$(non_ok_count "$1")
    if [[ $non_ok -gt 0 ]]; then
        log "  WARNING: $non_ok answers other than 200 (a closed window, 131047, or an exhausted budget?)"
    fi
    total_non200=$((total_non200 + non_ok))
    total_errors=$((total_errors + $(json_num "$1" errors) + $(json_num "$(warmup_part "$1")" errors)))
    case "${2:-text}" in
        baseline) base_ok=$((base_ok + $(ok_count "$1"))) ;;
        template) total_ok=$((total_ok + $(ok_count "$1"))); total_tpl_ok=$((total_tpl_ok + $(ok_count "$1"))) ;;
        *) total_ok=$((total_ok + $(ok_count "$1"))) ;;
    esac
}

# The limit_counts indexes the template path reads, as index tuples read (pg_stat_user_indexes,
# which backends report about once a second: approximate). Healthy: at most one entry of
# limit_counts_by_time per transaction (the business's oldest count; the gateway reads it once
# per batch) and none of the primary key (the "user already counted" test looks up a user who is
# not there). A plan that runs that test on limit_counts_by_time instead (an early build of the
# rules got one while limit_counts had no statistics) reads every count of the business's
# 24-hour window for each template.
lc_probe() {
    psql "$dsn" -AtX -F ' ' -c "SELECT coalesce(sum(idx_tup_read) FILTER (WHERE indexrelname = 'limit_counts_pkey'), 0),
                                       coalesce(sum(idx_tup_read) FILTER (WHERE indexrelname = 'limit_counts_by_time'), 0)
                                FROM pg_stat_user_indexes WHERE schemaname = 'wagate' AND relname = 'limit_counts'"
}
lc_report() {  # lc_report BEFORE AFTER MESSAGES
    local b=($1) a=($2)
    log "  $(awk -v p="$((a[0] - b[0]))" -v t="$((a[1] - b[1]))" -v n="$3" 'BEGIN {
        printf "limit_counts index tuples read per message: ~%.1f primary key, ~%.1f limit_counts_by_time", (n > 0 ? p / n : 0), (n > 0 ? t / n : 0) }')"
    log "  limit_counts: $(psql "$dsn" -AtX -c "SELECT n_live_tup || ' live rows, last analyzed ' ||
        coalesce(to_char(greatest(last_analyze, last_autoanalyze) AT TIME ZONE 'UTC', 'HH24:MI:SS') || ' UTC', 'never')
        FROM pg_stat_user_tables WHERE schemaname = 'wagate' AND relname = 'limit_counts'")"
}

# run_pgbench LABEL MODE(simple|prepared) SCRIPT PHONE -> sets pgbench_tps
run_pgbench() {
    local before after text db_before db_after lc_before lc_after
    log_step "$1"
    db_before=$(db_probe)
    lc_before=$(lc_probe)
    before=$(cpu_snapshot)
    text=$(timeout "$bound" "$pgbench_bin" -n -M "$2" -c 16 -j 2 -T "$duration" -f "$3" "$dsn" 2>&1)
    wait_pgbench_reaped   # or the CPU time of its backends would be missing from this step
    after=$(cpu_snapshot)
    db_after=$(db_probe)
    parse_pgbench "$text"
    log "{\"label\":\"$1\",\"protocol\":\"$2\",\"script\":\"$3\",\"clients\":16,\"transactions\":${pgbench_processed:-0},\"failed\":${pgbench_failed:-0},\"tps\":$pgbench_tps,\"latency_avg_ms\":${pgbench_lat:-0}}"
    cpu_report "$before" "$after" "${pgbench_processed:-0}"
    db_report "$db_before" "$db_after" "${pgbench_processed:-0}" "$4"
    if [[ $3 == *template* ]]; then
        lc_after=$(lc_probe)
        lc_report "$lc_before" "$lc_after" "${pgbench_processed:-0}"
    fi
}
pgbench_accept() { run_pgbench "$1" "$2" bench/pgbench_accept.sql 19990000000; }
pgbench_template() { run_pgbench "$1" "$2" bench/pgbench_template.sql 19990000001; }

# a. ceiling 1: the HTTP stack alone.
run_loadgen "healthz closed c64" --path /healthz --connections 64
healthz_line=$last_line
healthz_rps=$(json_num "$healthz_line" rps)

# b'. with --baseline-wagate: the in-window text case at c64 against this gateway and an older
# one, alternately, in rounds that swap the order (new old | old new | new old ...) so that a
# steady drift of the machine (tables growing, checkpoints) does not favour either. The older
# gateway gets its own database in the same cluster: `serve` migrates its database first and
# refuses one that has a migration it does not know, which a database migrated by this gateway
# would be. It runs only during this step (started before, stopped after). A baseline that
# enforces the window gets the same open windows; it is sent exactly the same bodies.
declare -a cmp_new_rps=() cmp_old_rps=() cmp_new_p50=() cmp_old_p50=() cmp_new_p99=() cmp_old_p99=()
base_ok=0
if [[ -n $baseline_bin ]]; then
    base_dsn=${admin_dsn/\/postgres\?/\/wagate_base?}
    psql "$admin_dsn" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE wagate_base" >/dev/null
    base_port=$(free_port)
    start_gateway "$baseline_bin" "$base_port" "$base_dsn" warn "$state/base-warn.log" base_pid
    log ""
    log "baseline wagate: $baseline_bin ($(date -u -r "$baseline_bin" +%Y-%m-%dT%H:%M:%SZ), commit $(git -C "$(dirname "$baseline_bin")" rev-parse --short HEAD 2>/dev/null || echo unknown)) on 127.0.0.1:$base_port (pid $base_pid), database wagate_base"
    base_admin() {  # base_admin METHOD PATH BODY
        curl -sf -m 10 -X "$1" "http://127.0.0.1:$base_port$2" -H "Authorization: Bearer $admin_token" \
            -H 'Content-Type: application/json' -d "$3"
    }
    base_admin PUT /admin/v1/businesses/bench-biz '{}' >/dev/null
    base_admin PUT /admin/v1/phone-numbers/$phone '{"business_id":"bench-biz"}' >/dev/null
    base_key=$(base_admin POST /admin/v1/api-keys "{\"name\":\"bench\",\"phone_number_ids\":[\"$phone\"]}" \
        | sed -nE 's/.*"key":"([^"]+)".*/\1/p')
    [[ -n $base_key ]] || { echo "send_api.sh: could not create an API key on the baseline gateway" >&2; exit 1; }
    # A baseline that enforces the window (one with a contacts table) gets the same open windows.
    psql "$base_dsn" -qX -v ON_ERROR_STOP=1 -c "
        DO \$\$ BEGIN
          IF to_regclass('wagate.contacts') IS NOT NULL THEN
            INSERT INTO wagate.contacts (phone_number_id, wa_id, last_inbound_at)
            SELECT '$phone', '1555' || lpad(i::text, 7, '0'), now() FROM generate_series(0, $text_users - 1) AS i
            UNION ALL SELECT '$phone', '15551234567', now() ON CONFLICT DO NOTHING;
            ANALYZE wagate.contacts;
          END IF;
        END \$\$;" >/dev/null
    first=$(post "$base_port" "$base_key" '{"messaging_product":"whatsapp","to":"+15551234567","type":"text","text":{"body":"hello"}}')
    [[ $first == *' 200' ]] || { echo "send_api.sh: sanity POST to the baseline gateway answered: $first" >&2; exit 1; }
    base_ok=1
    base_post_args=(--method POST --path "/v23.0/$phone/messages" --header "Authorization: Bearer $base_key"
                    --header "Content-Type: application/json" --body-file "$body" --unique-to --to-pool "$text_users")
    compare_run() {  # compare_run new|old ROUND
        if [[ $1 == new ]]; then
            run_loadgen "text closed c64, new (round $2)" "${post_args[@]}" --connections 64
            count_posts "$last_line"
            cmp_new_rps+=("$(json_num "$last_line" rps)")
            cmp_new_p50+=("$(json_num "$last_line" p50)")
            cmp_new_p99+=("$(json_num "$last_line" p99)")
        else
            target_port=$base_port target_pid=$base_pid target_dsn=$base_dsn
            run_loadgen "text closed c64, baseline (round $2)" "${base_post_args[@]}" --connections 64
            target_port="" target_pid="" target_dsn=""
            count_posts "$last_line" baseline
            cmp_old_rps+=("$(json_num "$last_line" rps)")
            cmp_old_p50+=("$(json_num "$last_line" p50)")
            cmp_old_p99+=("$(json_num "$last_line" p99)")
        fi
    }
    for round in $(seq "$baseline_rounds"); do
        if (( round % 2 == 1 )); then
            compare_run new "$round"; compare_run old "$round"
        else
            compare_run old "$round"; compare_run new "$round"
        fi
    done
    stop_base
fi

# b. ceiling 2 / baseline: one transaction per message, 16 clients. The simple protocol is
# pgbench's default (the brief's baseline); the prepared one is what the gateway itself uses, so
# it is the stricter baseline. Then the same for one business-initiated template per transaction.
pgbench_accept "pgbench accept (before)" simple
pgbench_before=$pgbench_tps
pgbench_accept "pgbench accept -M prepared (before)" prepared
pgbench_prep_before=$pgbench_tps
pgbench_template "pgbench template (before)" simple
pgtpl_before=$pgbench_tps
pgbench_template "pgbench template -M prepared (before)" prepared
pgtpl_prep_before=$pgbench_tps

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
slow=$(slow_seconds "$open_line" 10)
log "  seconds with p99 > 10 ms: ${slow:-none}"

# d'. business-initiated templates, closed loop c64: every request a template to a user never
# seen before (no window), so every batch runs BEGIN, the business lock, the state read with the
# budget, the insert with the limit counts and the counter update, COMMIT.
# limit_counts was filled by the pgbench template runs; autovacuum may not have visited this new
# database yet. Analyze it, as autovacuum would have in a running deployment, so the state read
# runs with the plan it has there (--no-analyze-limit-counts: measure the unanalyzed plan).
if [[ $analyze_counts -eq 1 ]]; then
    psql "$dsn" -qX -v ON_ERROR_STOP=1 -c "ANALYZE wagate.limit_counts" >/dev/null
fi
lc_before=$(lc_probe)
run_loadgen "template closed c64" "${tpl_args[@]}" --connections 64
count_posts "$last_line" template
tpl_line=$last_line
lc_report "$lc_before" "$(lc_probe)" "$(( $(json_num "$tpl_line" requests) + $(json_num "$(warmup_part "$tpl_line")" requests) ))"

# b again: the baselines after the gateway runs bracket them (the machine is noisy).
pgbench_accept "pgbench accept (after)" simple
pgbench_after=$pgbench_tps
pgbench_accept "pgbench accept -M prepared (after)" prepared
pgbench_prep_after=$pgbench_tps
pgbench_template "pgbench template (after)" simple
pgtpl_after=$pgbench_tps
pgbench_template "pgbench template -M prepared (after)" prepared
pgtpl_prep_after=$pgbench_tps

# Optional: the same closed loop with request logging at info (to /dev/null).
info_rps=""
if [[ $run_info -eq 1 ]]; then
    first_c=${connections%% *}
    stop_wagate
    start_wagate info /dev/null
    run_loadgen "send closed c$first_c, log level info" "${post_args[@]}" --connections "$first_c"
    count_posts "$last_line"
    info_rps=$(json_num "$last_line" rps)
    info_line=$last_line
fi
stop_wagate

# Checkpoints and WAL segment creation stall commits; their times help to read latency tails.
log_checkpoints

# e. every 200 answer must be a committed message, status and queue row - and nothing more;
# every 200 to a template for a new user exactly one limit count, and the business's counter
# equal to its counts (the same for pgbench's business, which checks the script's own writes).
count_rows() {  # count_rows DSN -> "messages statuses relay_queue" of the bench's phone number
    psql "$1" -AtX -F ' ' -c "
        SELECT (SELECT count(*) FROM wagate.messages WHERE phone_number_id = '$phone'),
               (SELECT count(*) FROM wagate.message_statuses s JOIN wagate.messages m ON m.id = s.message_id
                 WHERE m.phone_number_id = '$phone' AND s.status = 'accepted'),
               (SELECT count(*) FROM wagate.relay_queue WHERE phone_number_id = '$phone')"
}
read -r rows statuses queued < <(count_rows "$dsn")
read -r counts count_users limit_used pg_counts pg_limit_used < <(psql "$dsn" -AtX -F ' ' -c "
    SELECT (SELECT count(*) FROM wagate.limit_counts WHERE business_id = 'bench-biz'),
           (SELECT count(DISTINCT wa_id) FROM wagate.limit_counts WHERE business_id = 'bench-biz'),
           (SELECT limit_used FROM wagate.businesses WHERE id = 'bench-biz'),
           (SELECT count(*) FROM wagate.limit_counts WHERE business_id = 'pgbench-biz'),
           (SELECT limit_used FROM wagate.businesses WHERE id = 'pgbench-biz')")
log ""
log "## row-count check"
log "200 answers to POST (warmups and the sanity requests included): $total_ok, $total_tpl_ok of them templates to new users; other answers: $total_non200; errors/abandoned: $total_errors"
log "rows for $phone: messages $rows, accepted statuses $statuses, relay_queue $queued"
log "limit counts of bench-biz: $counts rows, $count_users distinct users; businesses.limit_used $limit_used"
log "pgbench template's business: $pg_counts limit counts, limit_used $pg_limit_used"
check=PASS
if [[ $rows -ne $total_ok || $statuses -ne $total_ok || $queued -ne $total_ok ]]; then
    check=FAIL
fi
if [[ $counts -ne $total_tpl_ok || $count_users -ne $total_tpl_ok || $limit_used -ne $counts ]]; then
    check=FAIL
fi
if [[ $pg_limit_used -ne $pg_counts || $total_non200 -ne 0 ]]; then
    check=FAIL
fi
if [[ -n $baseline_bin ]]; then
    read -r base_rows base_statuses base_queued < <(count_rows "$base_dsn")
    log "baseline: 200 answers $base_ok; rows for $phone in wagate_base: messages $base_rows, accepted statuses $base_statuses, relay_queue $base_queued"
    if [[ $base_rows -ne $base_ok || $base_statuses -ne $base_ok || $base_queued -ne $base_ok ]]; then
        check=FAIL
    fi
fi
log "row-count check: $check"

# --- summary -------------------------------------------------------------------------------
best_c="" best_rps=0
for c in $connections; do
    if awk -v a="${closed_rps[$c]}" -v b="$best_rps" 'BEGIN{exit !(a > b)}'; then
        best_c=$c best_rps=${closed_rps[$c]}
    fi
done
mean_of() { printf '%s\n' "$@" | awk '{ s += $1; n++ } END { if (n) printf "%.1f", s / n; else print 0 }'; }
pgbench_mean=$(mean2 "$pgbench_before" "$pgbench_after")
r_pg=$(ratio "$best_rps" "$pgbench_mean")
pgbench_prep_mean=$(mean2 "$pgbench_prep_before" "$pgbench_prep_after")
r_prep=$(ratio "$best_rps" "$pgbench_prep_mean")
r_hz=$(ratio "$best_rps" "$healthz_rps")
open_p50=$(json_num "$open_line" p50)
open_p99=$(json_num "$open_line" p99)
open_rps=$(json_num "$open_line" rps)
tpl_rps=$(json_num "$tpl_line" rps)
pgtpl_mean=$(mean2 "$pgtpl_before" "$pgtpl_after")
pgtpl_prep_mean=$(mean2 "$pgtpl_prep_before" "$pgtpl_prep_after")

log ""
log "## summary ($stamp)"
{
    row() { printf '%-44s %12s %10s %10s\n' "$@"; }
    row "measurement" "per second" "p50 ms" "p99 ms"
    row "healthz closed c64" "$healthz_rps" "$(json_num "$healthz_line" p50)" "$(json_num "$healthz_line" p99)"
    row "pgbench 1 msg/txn c16 (before)" "$pgbench_before" "-" "-"
    row "pgbench 1 msg/txn c16 (after)" "$pgbench_after" "-" "-"
    row "pgbench -M prepared (before)" "$pgbench_prep_before" "-" "-"
    row "pgbench -M prepared (after)" "$pgbench_prep_after" "-" "-"
    row "pgbench 1 template/txn c16 (before)" "$pgtpl_before" "-" "-"
    row "pgbench 1 template/txn c16 (after)" "$pgtpl_after" "-" "-"
    row "pgbench template -M prepared (before)" "$pgtpl_prep_before" "-" "-"
    row "pgbench template -M prepared (after)" "$pgtpl_prep_after" "-" "-"
    for c in $connections; do
        row "send closed c$c" "${closed_rps[$c]}" "${closed_p50[$c]}" "${closed_p99[$c]}"
    done
    row "send open ${rate}/s c$open_connections" "$open_rps" "$open_p50" "$open_p99"
    row "template closed c64 (new user each)$([[ $analyze_counts -eq 0 ]] && echo ', unanalyzed')" "$tpl_rps" "$(json_num "$tpl_line" p50)" "$(json_num "$tpl_line" p99)"
    if [[ -n $info_rps ]]; then
        row "send closed c${connections%% *}, info logging" "$info_rps" "$(json_num "$info_line" p50)" "$(json_num "$info_line" p99)"
    fi
    for ((i = 0; i < ${#cmp_new_rps[@]}; i++)); do
        row "text closed c64, new (round $((i + 1)))" "${cmp_new_rps[$i]}" "${cmp_new_p50[$i]}" "${cmp_new_p99[$i]}"
        row "text closed c64, baseline (round $((i + 1)))" "${cmp_old_rps[$i]}" "${cmp_old_p50[$i]}" "${cmp_old_p99[$i]}"
    done
    echo
    echo "gateway msg/s (best closed loop, c$best_c) / pgbench TPS (simple protocol, mean $pgbench_mean): $r_pg  (target >= 1.5: $(awk -v r="$r_pg" 'BEGIN{print (r >= 1.5) ? "met" : "NOT met"}'))"
    echo "gateway msg/s / pgbench -M prepared TPS (mean $pgbench_prep_mean): $r_prep"
    echo "gateway msg/s / healthz rps: $r_hz"
    echo "open loop ${rate}/s p99: $open_p99 ms (target < 10 ms: $(awk -v p="$open_p99" 'BEGIN{print (p < 10) ? "met" : "NOT met"}'))"
    echo "template msg/s / pgbench template TPS (simple protocol, mean $pgtpl_mean): $(ratio "$tpl_rps" "$pgtpl_mean")"
    echo "template msg/s / pgbench template -M prepared TPS (mean $pgtpl_prep_mean): $(ratio "$tpl_rps" "$pgtpl_prep_mean")"
    if [[ ${#cmp_new_rps[@]} -gt 0 ]]; then
        new_mean=$(mean_of "${cmp_new_rps[@]}")
        old_mean=$(mean_of "${cmp_old_rps[@]}")
        r_cmp=$(ratio "$new_mean" "$old_mean")
        per_round=$(for ((i = 0; i < ${#cmp_new_rps[@]}; i++)); do printf '%s ' "$(ratio "${cmp_new_rps[$i]}" "${cmp_old_rps[$i]}")"; done)
        median_round=$(printf '%s\n' $per_round | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
        echo "text c64 new / baseline msg/s (means $new_mean / $old_mean): $r_cmp; per round: ${per_round% } (median $median_round)  (the rules may cost at most 10%, ratio >= 0.90: $(awk -v r="$r_cmp" 'BEGIN{print (r >= 0.90) ? "met" : "NOT met"}'))"
    fi
    echo "row-count check: $check ($rows rows, $total_ok answers 200; $counts limit counts, $total_tpl_ok templates to new users)"
} | tee -a "$out"
log "results: $out"
[[ $check == PASS ]]
