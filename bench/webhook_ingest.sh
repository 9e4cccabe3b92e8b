#!/usr/bin/env bash
# Throughput/latency benchmark of the Meta webhook ingest (POST /webhooks/meta) against a durable
# (fsync on) PostgreSQL, with a pgbench baseline measured in the same run:
#   pgbench status - one status update = one transaction (bench/pgbench_status.sql): INSERT into
#                    message_statuses ON CONFLICT DO NOTHING, UPDATE messages by wamid, COMMIT;
#                    what a "one webhook item, one transaction" receiver could at best do here.
# Then the gateway, with signed status webhooks (sent/delivered/read) for seeded outbound
# messages: (a) one status per POST and (b) --batch statuses per POST, each closed loop and open
# loop at --rate statuses/s. Each gateway step waits until processing has caught up (no
# webhook_deliveries row with processed_at NULL) and counts the message_statuses rows it added.
#
#   bash bench/webhook_ingest.sh [--duration 10] [--warmup 2] [--messages 500000] [--batch 50]
#                                [--single-connections 64] [--batch-connections 16]
#                                [--rate 3000] [--pgbench-clients "16 64"] [--status-lag 1000]
#                                [--drain-timeout 300] [--build-dir DIR] [--wagate PATH]
#                                [--pg-set NAME=VALUE]...
#
# --build-dir DIR: where wagate is looked for (DIR/wagate, built there when missing) and where
# the load generator is built (DIR/bench/loadgen); default build. WAGATE_THREADS, WAGATE_DB_POOL
# and the other WAGATE_* tuning variables in the environment reach the gateway unchanged.
# Everything it starts (a PostgreSQL cluster in /tmp, wagate on a free loopback port) is stopped
# on exit, also on failure or Ctrl-C. Results: stdout and bench/results/webhook_ingest-*.txt.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bench_name=webhook_ingest.sh
source bench/lib.sh

duration=10
warmup=2
messages=500000
batch=50
single_connections=64
batch_connections=16
rate=3000
pgbench_clients="16 64"
status_lag=1000
drain_timeout=300
build_dir=$root/build
wagate_bin=${WAGATE_BIN:-}
pg_sets=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --duration) duration=$2; shift ;;
        --warmup) warmup=$2; shift ;;
        --messages) messages=$2; shift ;;
        --batch) batch=$2; shift ;;
        --single-connections) single_connections=$2; shift ;;
        --batch-connections) batch_connections=$2; shift ;;
        --rate) rate=$2; shift ;;
        --pgbench-clients) pgbench_clients=$2; shift ;;
        --status-lag) status_lag=$2; shift ;;
        --drain-timeout) drain_timeout=$2; shift ;;
        --build-dir) build_dir=$(cd "$2" 2>/dev/null && pwd || echo "$2"); shift ;;
        --wagate) wagate_bin=$2; shift ;;
        --pg-set) add_pg_set "$2"; shift ;;
        -h|--help) sed -n '2,22p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "webhook_ingest.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
int_in duration "$duration" 1 600
int_in warmup "$warmup" 0 60
int_in messages "$messages" 1000 10000000
int_in batch "$batch" 2 1000
int_in single-connections "$single_connections" 1 1000
int_in batch-connections "$batch_connections" 1 1000
int_in rate "$rate" 1 100000
int_in status-lag "$status_lag" 0 1000000
int_in drain-timeout "$drain_timeout" 10 3600
for c in $pgbench_clients; do int_in pgbench-clients "$c" 1 250; done
first_pgbench_c=${pgbench_clients%% *}
[[ -n $first_pgbench_c ]] || { echo "webhook_ingest.sh: --pgbench-clients needs at least one count" >&2; exit 2; }
wagate_bin=${wagate_bin:-$build_dir/wagate}

find_bench_tools
command -v openssl >/dev/null || { echo "webhook_ingest.sh: the openssl command is needed (signature cross-check)" >&2; exit 1; }

build_wagate_if_missing RelWithDebInfo
BENCH_BUILD_DIR=$build_dir bash bench/build.sh >&2
loadgen=$build_dir/bench/loadgen

open_results webhook_ingest

state=$(mktemp -d /tmp/wagate-whbench.XXXXXX)

cleanup() {
    local rc=$?
    set +e
    stop_wagate
    if [[ -s $state/wagate.log ]]; then
        cp "$state/wagate.log" "${out%.txt}.wagate.log"
    fi
    finish_bench "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- CPU accounting (cpu_snapshot, bench/lib.sh): wagate, the PostgreSQL cluster, the machine ----
cpu_report() {  # cpu_report BEFORE AFTER STATUSES
    log "  $(awk -v b="$1" -v a="$2" -v n="$3" -v hz="$clk_tck" -v cores="$(nproc)" 'BEGIN {
        split(b, x, " "); split(a, y, " ");
        w = (y[1] - x[1]) / hz; p = (y[2] - x[2]) / hz; m = (y[3] - x[3]) / hz; t = y[4] - x[4];
        line = sprintf("cpu: wagate %.2f s, postgres %.2f s, machine busy %.2f of %.2f core-s (the rest, load generator or pgbench and anything else: %.2f s)",
                       w, p, m, t * cores, m - w - p);
        if (n > 0) line = line sprintf("; per status: wagate %.0f us, postgres %.0f us", 1e6 * w / n, 1e6 * p / n);
        print line }')"
}

# --- start ---------------------------------------------------------------------------------
log_run_header "wagate webhook ingest benchmark"
warn_if_binary_is_stale
log "settings: duration ${duration}s after ${warmup}s warmup per step; $messages seeded messages per side; (a) 1 status/POST closed c$single_connections, (b) $batch statuses/POST closed c$batch_connections; open loop $rate statuses/s; pgbench clients: $pgbench_clients; status lag $status_lag"

probe_disk_sync
log "disk: one 8 kB O_DSYNC write (a commit's flush) takes ${disk_us:-?} us here"
start_bench_cluster
q() { psql "$dsn" -AtX -v ON_ERROR_STOP=1 -c "$1"; }
db_now() { q "SELECT extract(epoch FROM clock_timestamp())"; }

WAGATE_DATABASE_URL=$dsn "$wagate_bin" migrate >"$state/migrate.log" 2>&1 \
    || { cat "$state/migrate.log" >&2; echo "webhook_ingest.sh: wagate migrate failed" >&2; exit 1; }
log "migrate: $(tail -1 "$state/migrate.log")"

# --- seed: outbound messages the relay has sent (wamid recorded), status accepted ---------------
# The gateway's: phone number 15550000001, wamid GW_PREFIX + 10 digits (what loadgen puts in the
# webhooks); pgbench's: phone number 19990000000, the prefix written in bench/pgbench_status.sql.
# Each has its `accepted` status row, as the send path writes it.
phone=15550000001
gw_prefix=wamid.HBgLMTU1NTAwMDAwMDAVAgARGBJCRU5DSA
pg_prefix=wamid.HBgLMTk5OTAwMDAwMDAVAgARGBJQR0JFTkNI
grep -q "'$pg_prefix'" bench/pgbench_status.sql || { echo "webhook_ingest.sh: bench/pgbench_status.sql does not use $pg_prefix" >&2; exit 1; }
seed_start=$(date +%s)
seed() {  # seed PHONE WAMID_PREFIX RECIPIENT_PREFIX
    q "INSERT INTO wagate.messages (id, phone_number_id, kind, type, to_input, wa_id, payload, status, wamid, created_at, updated_at)
       SELECT gen_random_uuid(), '$1', 'message', 'text', '+$3' || lpad((i % 10000000)::text, 7, '0'), '$3' || lpad((i % 10000000)::text, 7, '0'),
              ('{\"to\": \"+$3' || lpad((i % 10000000)::text, 7, '0') || '\", \"text\": {\"body\": \"hello from the wagate benchmark\"}, \"type\": \"text\", \"recipient_type\": \"individual\", \"messaging_product\": \"whatsapp\"}')::jsonb,
              'accepted', '$2' || lpad(i::text, 10, '0'), now() - interval '1 hour', now() - interval '1 hour'
       FROM generate_series(0, $messages - 1) AS i" >/dev/null
    q "INSERT INTO wagate.message_statuses (message_id, status, occurred_at, recorded_at)
       SELECT id, 'accepted', created_at, created_at FROM wagate.messages WHERE phone_number_id = '$1'" >/dev/null
}
seed "$phone" "$gw_prefix" 1555
seed 19990000000 "$pg_prefix" 1999
q "ANALYZE wagate.messages" >/dev/null
q "ANALYZE wagate.message_statuses" >/dev/null
q "CHECKPOINT" >/dev/null
log "seed: $messages messages with wamids for the gateway ($phone) and $messages for pgbench (19990000000), each with its accepted status, in $(( $(date +%s) - seed_start )) s (then ANALYZE, CHECKPOINT)"

# --- the gateway ------------------------------------------------------------------------------
port=$(free_port)
admin_token=bench-admin-$(openssl rand -hex 8)
app_secret=bench-app-secret-$(openssl rand -hex 16)
# Two secrets, as during a rotation: the webhooks are signed with the second, so every POST is
# checked against both (the header does not say which app signed it).
secrets="bench-retired-secret-$(openssl rand -hex 16),$app_secret"
WAGATE_META_APP_SECRETS=$secrets \
    start_gateway "$wagate_bin" "$port" "$dsn" "${WAGATE_LOG_LEVEL:-warn}" "$state/wagate.log" wagate_pid
log "wagate: listening on 127.0.0.1:$port (pid $wagate_pid, log level ${WAGATE_LOG_LEVEL:-warn}, threads ${WAGATE_THREADS:-2}, db pool ${WAGATE_DB_POOL:-8}, commit writers ${WAGATE_COMMIT_WRITERS:-2}), 2 app secrets"
# The number the statuses are for (statuses match by wamid only).
admin PUT /admin/v1/businesses/bench-biz '{}' >/dev/null
admin PUT /admin/v1/phone-numbers/$phone '{"business_id":"bench-biz","waba_id":"100000000000001","display_phone_number":"15550000001"}' >/dev/null

meta_args=(--app-secret "$app_secret" --wamid-pool "$messages" --status-lag "$status_lag" --wamid-prefix "$gw_prefix"
           --recipient-prefix 1555 --phone-number-id "$phone" --display-phone-number 15550000001 --waba-id 100000000000001)
pending() { q "SELECT count(*) FROM wagate.webhook_deliveries WHERE processed_at IS NULL"; }
statuses_count() { q "SELECT count(*) FROM wagate.message_statuses"; }
wait_processed() {  # wait_processed TIMEOUT_S -> 0 once nothing is pending
    local deadline=$(( $(date +%s) + $1 ))
    while [[ $(pending) -ne 0 ]]; do
        (( $(date +%s) < deadline )) || return 1
        sleep 0.1
    done
}

# --- sanity: the load generator's signature, the gateway's verification, one status applied ---
seq=0
"$loadgen" --meta-statuses 1 "${meta_args[@]}" --seq-start "$seq" --dump-sample "$state/sample.json"
sample_sig=$(cat "$state/sample.json.sig")
openssl_sig="sha256=$(openssl dgst -sha256 -hmac "$app_secret" -r <"$state/sample.json" | cut -d' ' -f1)"
[[ $sample_sig == "$openssl_sig" ]] \
    || { echo "webhook_ingest.sh: loadgen's signature $sample_sig differs from openssl's $openssl_sig" >&2; exit 1; }
post_sample() {  # post_sample SIGNATURE -> the answer's body, a space and its HTTP status
    curl -s -m 10 -w ' %{http_code}' -X POST "http://127.0.0.1:$port/webhooks/meta" \
        -H 'Content-Type: application/json' -H "X-Hub-Signature-256: $1" --data-binary @"$state/sample.json"
}
bad_sig="sha256=$(openssl dgst -sha256 -hmac not-the-secret -r <"$state/sample.json" | cut -d' ' -f1)"
answer=$(post_sample "$bad_sig")
[[ $answer == *' 401' || $answer == *' 403' ]] \
    || { echo "webhook_ingest.sh: a POST signed with a wrong secret should be refused, answered: $answer" >&2; exit 1; }
bad_code=${answer##* }
answer=$(post_sample "$sample_sig")
[[ $answer == *' 200' ]] || { echo "webhook_ingest.sh: the signed sample POST answered: $answer" >&2; tail -20 "$state/wagate.log" >&2; exit 1; }
answer=$(post_sample "$sample_sig")   # Meta's retry of the same bytes: acknowledged, stored once
[[ $answer == *' 200' ]] || { echo "webhook_ingest.sh: the repeated sample POST answered: $answer" >&2; exit 1; }
wait_processed 30 || { echo "webhook_ingest.sh: the sample webhook was not processed within 30 s" >&2; tail -20 "$state/wagate.log" >&2; exit 1; }
sample_wamid=$(grep -o '"id":"wamid[^"]*"' "$state/sample.json" | cut -d'"' -f4)
read -r s_status s_rows s_deliveries s_quarantined < <(psql "$dsn" -AtX -F ' ' -c "
    SELECT (SELECT status FROM wagate.messages WHERE wamid = '$sample_wamid'),
           (SELECT count(*) FROM wagate.message_statuses s JOIN wagate.messages m ON m.id = s.message_id
             WHERE m.wamid = '$sample_wamid' AND s.status = 'sent'),
           (SELECT count(*) FROM wagate.webhook_deliveries), (SELECT count(*) FROM wagate.webhook_quarantine)")
if [[ $s_status != sent || $s_rows -ne 1 || $s_deliveries -ne 1 || $s_quarantined -ne 1 ]]; then
    echo "webhook_ingest.sh: sanity: message status '$s_status', sent rows $s_rows, deliveries $s_deliveries (want 1), quarantined $s_quarantined (want 1)" >&2
    exit 1
fi
log "sanity: loadgen's X-Hub-Signature-256 equals openssl's; wrong secret refused ($bad_code, quarantined); signed sample 200 and its repeat 200 stored once; the sample's 'sent' applied to $sample_wamid"
seq=1
total_posts_ok=1     # 200 answers that stored a new delivery (the repeat above is not counted)
total_statuses_ok=1  # statuses in them
total_non200=0
total_errors=0
check=PASS

bound=$((warmup + duration + 60))

# run_pgbench LABEL MODE CLIENTS -> sets pgbench_tps; every transaction must insert one status
pg_base=0
run_pgbench() {
    local label=$1 mode=$2 clients=$3 before after text st_before inserted max_no wal_before wal_after
    log_step "$label"
    rm -f "$state"/pgb.*
    st_before=$(statuses_count)
    wal_before=$(q "SELECT pg_current_wal_lsn()")
    before=$(cpu_snapshot)
    text=$(timeout "$bound" "$pgbench_bin" -n -M "$mode" -c "$clients" -j 2 -T "$duration" -D n=0 -D base="$pg_base" \
        -D clients="$clients" -D pool="$messages" -D lag="$status_lag" -l --log-prefix="$state/pgb" \
        -f bench/pgbench_status.sql "$dsn" 2>&1)
    wait_pgbench_reaped
    after=$(cpu_snapshot)
    wal_after=$(q "SELECT pg_current_wal_lsn()")
    parse_pgbench "$text"
    max_no=$(cat "$state"/pgb.* 2>/dev/null | awk '$2 > m { m = $2 } END { print m + 0 }')
    pg_base=$((pg_base + clients * (max_no + 2)))
    inserted=$(( $(statuses_count) - st_before ))
    log "{\"label\":\"$label\",\"protocol\":\"$mode\",\"clients\":$clients,\"transactions\":${pgbench_processed:-0},\"failed\":${pgbench_failed:-0},\"tps\":$pgbench_tps,\"latency_avg_ms\":${pgbench_lat:-0},\"statuses_inserted\":$inserted}"
    cpu_report "$before" "$after" "${pgbench_processed:-0}"
    log "  db: WAL $(q "SELECT round(pg_wal_lsn_diff('$wal_after', '$wal_before') / greatest(${pgbench_processed:-0}, 1))") bytes per status"
    if [[ $inserted -ne ${pgbench_processed:-0} ]]; then
        log "  WARNING: pgbench inserted $inserted statuses in ${pgbench_processed:-0} transactions (a status repeated: too few --messages?)"
        check=FAIL
    fi
}

# run_gateway LABEL STATUSES_PER_POST CONNECTIONS [LOADGEN ARGS...] -> sets the g_* results
declare -A g_posts_s g_acked_s g_p50 g_p99 g_max g_applied_s g_during_s g_backlog g_drain g_line
gateway_steps=()
run_gateway() {
    local label=$1 k=$2 c=$3
    shift 3
    local t0 t_stop t_end st_before applied during line before after posts_ok statuses_ok non_ok errs backlog
    local wal_before wal_after d_before
    log_step "$label" ", first status $seq"
    st_before=$(statuses_count)
    d_before=$(q "SELECT coalesce(max(id), 0) FROM wagate.webhook_deliveries")
    wal_before=$(q "SELECT pg_current_wal_lsn()")
    before=$(cpu_snapshot)
    t0=$(db_now)
    line=$(timeout "$bound" "$loadgen" --port "$port" --meta-statuses "$k" "${meta_args[@]}" --seq-start "$seq" \
        --warmup "$warmup" --duration "$duration" --connections "$c" --label "$label" "$@")
    t_stop=$(db_now)
    backlog=$(pending)
    log "$line"
    seq=$(json_num "$line" seq_end)
    posts_ok=$(ok_count "$line")
    statuses_ok=$((posts_ok * k))
    non_ok=$(non_ok_count "$line")
    errs=$(( $(json_num "$(measured_part "$line")" errors) + $(json_num "$(warmup_part "$line")" errors) ))
    total_posts_ok=$((total_posts_ok + posts_ok))
    total_statuses_ok=$((total_statuses_ok + statuses_ok))
    total_non200=$((total_non200 + non_ok))
    total_errors=$((total_errors + errs))
    if [[ $non_ok -gt 0 || $errs -gt 0 ]]; then
        log "  WARNING: $non_ok answers other than 200, $errs errors/abandoned requests"
    fi
    if [[ $(json_num "$(measured_part "$line")" 200) -eq 0 ]]; then
        echo "webhook_ingest.sh: no POST answered 200 in the measured window (stalled or crashed?); wagate's log:" >&2
        tail -20 "$state/wagate.log" >&2
        exit 1
    fi
    if ! wait_processed "$drain_timeout"; then
        log "  WARNING: processing did not catch up within ${drain_timeout}s: $(pending) deliveries still pending"
        check=FAIL
    fi
    after=$(cpu_snapshot)
    wal_after=$(q "SELECT pg_current_wal_lsn()")
    t_end=$(q "SELECT coalesce(extract(epoch FROM max(processed_at)), extract(epoch FROM clock_timestamp())) FROM wagate.webhook_deliveries WHERE id > $d_before")
    applied=$(( $(statuses_count) - st_before ))
    during=$(q "SELECT count(*) FROM wagate.message_statuses WHERE recorded_at >= to_timestamp($t0) AND recorded_at < to_timestamp($t_stop)")
    g_line[$label]=$line
    g_posts_s[$label]=$(json_num "$line" rps)
    g_acked_s[$label]=$(awk -v r="$(json_num "$line" rps)" -v k="$k" 'BEGIN { printf "%.1f", r * k }')
    g_p50[$label]=$(json_num "$line" p50)
    g_p99[$label]=$(json_num "$line" p99)
    g_max[$label]=$(json_num "$line" max)
    g_applied_s[$label]=$(awk -v n="$applied" -v a="$t0" -v b="$t_end" 'BEGIN { printf "%.1f", (b > a) ? n / (b - a) : 0 }')
    g_during_s[$label]=$(awk -v n="$during" -v a="$t0" -v b="$t_stop" 'BEGIN { printf "%.1f", (b > a) ? n / (b - a) : 0 }')
    g_backlog[$label]=$backlog
    g_drain[$label]=$(awk -v a="$t_stop" -v b="$t_end" 'BEGIN { printf "%.1f", (b > a) ? b - a : 0 }')
    gateway_steps+=("$label")
    log "  applied: $applied statuses for $statuses_ok acknowledged ($posts_ok POSTs answered 200, warmup included) in $(awk -v a="$t0" -v b="$t_end" 'BEGIN { printf "%.1f", b - a }') s from the first request to the last commit of processing: ${g_applied_s[$label]} statuses/s; during the sending ${g_during_s[$label]}/s; $backlog deliveries pending when the sending stopped, caught up ${g_drain[$label]} s later"
    cpu_report "$before" "$after" "$applied"
    log "  memory: wagate $(awk '/^VmRSS/ { r = $2 } /^VmHWM/ { h = $2 } END { printf "%.0f MB resident now, %.0f MB at most so far", r / 1024, h / 1024 }' "/proc/$wagate_pid/status")"
    log "  db: $(q "SELECT format('WAL %s bytes per status; %s deliveries stored in %s inbox commits (%s per commit), applied in %s processing commits (%s deliveries, %s statuses per commit); %s taken over by a sweep after their lease expired (attempts > 0)',
                round(pg_wal_lsn_diff('$wal_after', '$wal_before') / greatest($applied, 1)),
                count(*), count(DISTINCT received_at), round(count(*)::numeric / greatest(count(DISTINCT received_at), 1), 1),
                count(DISTINCT processed_at), round(count(*)::numeric / greatest(count(DISTINCT processed_at), 1), 1),
                round(sum(items)::numeric / greatest(count(DISTINCT processed_at), 1), 1),
                count(*) FILTER (WHERE attempts > 0))
              FROM wagate.webhook_deliveries WHERE id > $d_before")"
    if [[ $applied -ne $statuses_ok ]]; then
        log "  WARNING: $applied statuses applied for $statuses_ok acknowledged"
        check=FAIL
    fi
    if grep -q '"repeats":true' <<<"$line"; then
        log "  WARNING: the status sequence passed 3 x --messages: statuses repeat (raise --messages)"
        check=FAIL
    fi
}

# 1. the baseline: one status update per transaction.
declare -A pgb_tps
pgbench_labels=()
for c in $pgbench_clients; do
    run_pgbench "pgbench status c$c (before)" simple "$c"
    pgb_tps["pgbench status c$c (before)"]=$pgbench_tps
    pgbench_labels+=("pgbench status c$c (before)")
done
run_pgbench "pgbench status c$first_pgbench_c -M prepared (before)" prepared "$first_pgbench_c"
pgb_tps["pgbench status c$first_pgbench_c -M prepared (before)"]=$pgbench_tps
pgbench_labels+=("pgbench status c$first_pgbench_c -M prepared (before)")

# 2. the gateway: closed loops (throughput), then open loops at --rate statuses/s (latency).
label_a="(a) 1 status/POST, closed c$single_connections"
run_gateway "$label_a" 1 "$single_connections"
label_b="(b) $batch statuses/POST, closed c$batch_connections"
run_gateway "$label_b" "$batch" "$batch_connections"
label_ao="(a) 1 status/POST, open $rate/s c$single_connections"
run_gateway "$label_ao" 1 "$single_connections" --rate "$rate" --timeline
log "  seconds with p99 > 250 ms: $(slow_seconds "${g_line[$label_ao]}" 250 | grep . || echo none)"
batch_rate=$(awk -v r="$rate" -v b="$batch" 'BEGIN { printf "%.3f", r / b }')
label_bo="(b) $batch statuses/POST, open $rate statuses/s c$batch_connections"
run_gateway "$label_bo" "$batch" "$batch_connections" --rate "$batch_rate" --timeline
log "  seconds with p99 > 250 ms: $(slow_seconds "${g_line[$label_bo]}" 250 | grep . || echo none)"

# 3. the baseline again: before and after bracket the gateway (the machine is shared and noisy).
run_pgbench "pgbench status c$first_pgbench_c (after)" simple "$first_pgbench_c"
pgb_tps["pgbench status c$first_pgbench_c (after)"]=$pgbench_tps
pgbench_labels+=("pgbench status c$first_pgbench_c (after)")

# --- checks -----------------------------------------------------------------------------------
log_checkpoints

log ""
log "## row-count check"
read -r r_deliveries r_pending r_items r_failed r_failures r_parked r_statuses r_bad_fold r_quarantine < <(psql "$dsn" -AtX -F ' ' -c "
    SELECT (SELECT count(*) FROM wagate.webhook_deliveries),
           (SELECT count(*) FROM wagate.webhook_deliveries WHERE processed_at IS NULL),
           (SELECT coalesce(sum(items), 0) FROM wagate.webhook_deliveries),
           (SELECT coalesce(sum(failed_items), 0) FROM wagate.webhook_deliveries),
           (SELECT count(*) FROM wagate.webhook_item_failures),
           (SELECT count(*) FROM wagate.parked_statuses),
           (SELECT count(*) FROM wagate.message_statuses s JOIN wagate.messages m ON m.id = s.message_id
             WHERE m.phone_number_id = '$phone' AND s.status <> 'accepted'),
           (SELECT count(*) FROM wagate.messages m
             WHERE m.phone_number_id = '$phone'
               AND m.status IS DISTINCT FROM (SELECT s.status FROM wagate.message_statuses s WHERE s.message_id = m.id
                     ORDER BY array_position(ARRAY['accepted','sending','sent','delivered','read','played'], s.status) DESC LIMIT 1)),
           (SELECT count(*) FROM wagate.webhook_quarantine)")
log "200 answers storing a delivery: $total_posts_ok with $total_statuses_ok statuses (warmups and the sanity POST included; its repeat stored nothing); other answers: $total_non200; errors/abandoned: $total_errors"
log "webhook_deliveries: $r_deliveries rows, $r_pending pending, $r_items items found, $r_failed failed items; webhook_item_failures $r_failures; parked_statuses $r_parked; quarantined $r_quarantine (the sanity check's)"
log "message_statuses of $phone other than accepted: $r_statuses; messages whose status is not the highest of their statuses: $r_bad_fold"
log "storage: $(q "SELECT format('webhook_deliveries %s (table, TOAST and indexes; %s bytes per delivery), %s of its %s updates HOT; message_statuses %s, messages %s',
        pg_size_pretty(pg_total_relation_size('wagate.webhook_deliveries')),
        round(pg_total_relation_size('wagate.webhook_deliveries')::numeric / greatest((SELECT count(*) FROM wagate.webhook_deliveries), 1)),
        n_tup_hot_upd, n_tup_upd, pg_size_pretty(pg_total_relation_size('wagate.message_statuses')),
        pg_size_pretty(pg_total_relation_size('wagate.messages')))
    FROM pg_stat_user_tables WHERE schemaname = 'wagate' AND relname = 'webhook_deliveries'")"
log "status sequence used: gateway 0..$((seq - 1)), pgbench 0..$((pg_base - 1)) of $((3 * messages)) each"
if [[ $r_deliveries -ne $total_posts_ok || $r_pending -ne 0 || $r_items -ne $total_statuses_ok || $r_failed -ne 0 \
      || $r_failures -ne 0 || $r_parked -ne 0 || $r_statuses -ne $total_statuses_ok || $r_bad_fold -ne 0 \
      || $r_quarantine -ne 1 || $total_non200 -ne 0 || $total_errors -ne 0 ]]; then
    check=FAIL
fi
if (( seq > 3 * messages || pg_base > 3 * messages )); then
    check=FAIL
fi
log_lines=$(wc -l <"$state/wagate.log")
log "gateway log (level ${WAGATE_LOG_LEVEL:-warn}): $log_lines lines$([[ $log_lines -gt 0 ]] && echo ", kept as ${out%.txt}.wagate.log; the first ones:")"
head -5 "$state/wagate.log" | sed 's/^/  /' | tee -a "$out"
log "row-count check: $check"

# --- summary ----------------------------------------------------------------------------------
pg_ref=$(mean2 "${pgb_tps["pgbench status c$first_pgbench_c (before)"]}" "${pgb_tps["pgbench status c$first_pgbench_c (after)"]}")
pg_best=0 pg_best_label=""
for l in "${pgbench_labels[@]}"; do
    if awk -v a="${pgb_tps[$l]}" -v b="$pg_best" 'BEGIN { exit !(a > b) }'; then
        pg_best=${pgb_tps[$l]} pg_best_label=$l
    fi
done
met() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == ">=") ? (v >= t) : (v < t); print ok ? "met" : "NOT met" }'; }

log ""
log "## summary ($stamp)"
{
    row() { printf '%-46s %9s %10s %9s %9s %10s %9s %7s\n' "$@"; }
    row "measurement" "POSTs/s" "acked st/s" "ack p50" "ack p99" "applied/s" "backlog" "drain s"
    for l in "${gateway_steps[@]}"; do
        row "$l" "${g_posts_s[$l]}" "${g_acked_s[$l]}" "${g_p50[$l]}" "${g_p99[$l]}" "${g_applied_s[$l]}" "${g_backlog[$l]}" "${g_drain[$l]}"
    done
    for l in "${pgbench_labels[@]}"; do
        row "$l" "-" "-" "-" "-" "${pgb_tps[$l]}" "-" "-"
    done
    echo "(ack p50/p99 in ms; applied/s: statuses applied from the first request to the last processing commit, warmup included;"
    echo " backlog: deliveries still unprocessed when the load generator stopped; drain s: until the last of them was applied)"
    echo
    for l in "$label_a" "$label_b"; do
        r=$(ratio "${g_applied_s[$l]}" "$pg_ref")
        echo "$l: applied/s / pgbench c$first_pgbench_c (simple, mean of before and after, $pg_ref tps): $r  (target >= 1.5: $(met "$r" 1.5 ">="));  / best pgbench ($pg_best_label, $pg_best): $(ratio "${g_applied_s[$l]}" "$pg_best")"
    done
    for l in "$label_ao" "$label_bo"; do
        echo "$l: ack p99 ${g_p99[$l]} ms, max ${g_max[$l]} ms (target p99 < 250 ms: $(met "${g_p99[$l]}" 250 "<")); applied ${g_applied_s[$l]}/s, caught up ${g_drain[$l]} s after the sending stopped"
    done
    echo "row-count check: $check ($total_statuses_ok statuses acknowledged = $r_statuses applied; parked $r_parked, item failures $r_failures)"
} | tee -a "$out"
log "results: $out"
[[ $check == PASS ]]
