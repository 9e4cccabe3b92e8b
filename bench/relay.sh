#!/usr/bin/env bash
# Benchmark of the relay (docs/relay.md): how fast it empties a queue into the Cloud API, and how
# closely it keeps each phone number to its throughput, against `wagate sandbox` (docs/sandbox.md,
# status webhooks off) as the Cloud API, with a durable (fsync on) PostgreSQL. Baselines measured
# in the same run, because the machine is shared and noisy:
#   direct   - loadgen POSTing the relay's own stored payload straight to the same sandbox, closed
#              loop at the relay's concurrency: what the sandbox takes with nothing in between;
#   pgbench  - bench/pgbench_relay.sql: the relay's SQL for one message (claim with FOR UPDATE
#              SKIP LOCKED + lock update, then the result) with one claim and one result per
#              message, no batching.
# 1. Throughput, pacing off: N messages are queued through the send API with the relay off, then
#    the gateway is restarted with the relay on and timed until relay_queue is empty (polled
#    every 100 ms): messages/s, CPU of wagate, the sandbox and PostgreSQL per 1,000 messages;
#    relay / direct and relay / pgbench. Audit: the sandbox accepted exactly N, each message has
#    its wamid, and the sandbox's wamids are exactly the database's (no loss, no duplicate).
# 2. Pacing: --numbers phone numbers at once, each at RATE messages/s (throughput_mps) with
#    RATE x SECONDS queued messages to distinct users, pacing on; from the sandbox's received_at
#    per number: achieved rate (steady part) / configured, and the busiest sliding 1-second window
#    (limit: RATE x 1.05 + 1).
#
#   bash bench/relay.sh [--messages 20000] [--rounds 2] [--concurrency 64] [--duration 10]
#                       [--warmup 2] [--numbers 10] [--pacing "80:10 1000:5"] [--no-pgbench]
#                       [--drain-timeout 300] [--build-dir build-bench] [--wagate PATH]
#                       [--pg-set NAME=VALUE]... [--keep-sends] [--quick]
#
# --quick (first, later options override it): --messages 5000 --rounds 1 --duration 3 --warmup 1
# --pacing "80:4 1000:2", about a minute. --keep-sends: the sandbox's sends of each drain and
# pacing run ("seq wamid phone_number_id to received_at_ms") are kept next to the results as
# relay-STAMP.sends-*.txt. --build-dir DIR (default build-bench): DIR/wagate is
# used (built there, Release, when missing) and DIR/bench/loadgen is built by bench/build.sh.
# WAGATE_THREADS, WAGATE_DB_POOL and the other WAGATE_* tuning variables in the environment reach
# the gateway (and the sandbox) unchanged; WAGATE_RELAY_CONCURRENCY is --concurrency. Everything
# it starts (a PostgreSQL cluster in /tmp, wagate and the sandbox on free loopback ports) is
# stopped on exit, also on failure or Ctrl-C. Results: stdout and bench/results/relay-*.txt.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bench_name=relay.sh
source bench/lib.sh

messages=20000
rounds=2
concurrency=${WAGATE_RELAY_CONCURRENCY:-64}
duration=10
warmup=2
numbers=10
pacing="80:10 1000:5"
use_pgbench=1
keep_sends=0
drain_timeout=300
build_dir=$root/build-bench
wagate_bin=${WAGATE_BIN:-}
pg_sets=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) messages=5000 rounds=1 duration=3 warmup=1 pacing="80:4 1000:2" ;;
        --messages) messages=$2; shift ;;
        --rounds) rounds=$2; shift ;;
        --concurrency) concurrency=$2; shift ;;
        --duration) duration=$2; shift ;;
        --warmup) warmup=$2; shift ;;
        --numbers) numbers=$2; shift ;;
        --pacing) pacing=$2; shift ;;
        --no-pgbench) use_pgbench=0 ;;
        --keep-sends) keep_sends=1 ;;
        --drain-timeout) drain_timeout=$2; shift ;;
        --build-dir) build_dir=$(cd "$2" 2>/dev/null && pwd || echo "$2"); shift ;;
        --wagate) wagate_bin=$2; shift ;;
        --pg-set) add_pg_set "$2"; shift ;;
        -h|--help) sed -n '2,34p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "relay.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
int_in messages "$messages" 100 1000000
int_in rounds "$rounds" 1 10
int_in concurrency "$concurrency" 1 4096
int_in duration "$duration" 1 600
int_in warmup "$warmup" 0 60
int_in numbers "$numbers" 1 99
int_in drain-timeout "$drain_timeout" 10 3600
pacing_specs=()
for spec in $pacing; do
    [[ $spec =~ ^([0-9]+):([0-9]+)$ ]] || { echo "relay.sh: --pacing \"RATE:SECONDS ...\" (e.g. \"80:10 1000:5\")" >&2; exit 2; }
    spec_rate=${BASH_REMATCH[1]} spec_secs=${BASH_REMATCH[2]}
    int_in "pacing rate" "$spec_rate" 1 100000
    int_in "pacing seconds" "$spec_secs" 2 600
    # Recipients are +1555 and 7 digits 0000000..M-1: below 130429, no sandbox trigger (whose
    # lowest is ...130429) is ever hit.
    (( spec_rate * spec_secs <= 100000 )) \
        || { echo "relay.sh: --pacing $spec: at most 100,000 messages per number" >&2; exit 2; }
    pacing_specs+=("$spec")
done
wagate_bin=${wagate_bin:-$build_dir/wagate}

find_bench_tools
build_wagate_if_missing Release
"$wagate_bin" help 2>&1 | grep -q '^ *sandbox' \
    || { echo "relay.sh: $wagate_bin has no sandbox command (an older build?)" >&2; exit 1; }
BENCH_BUILD_DIR=$build_dir bash bench/build.sh >&2
loadgen=$build_dir/bench/loadgen

open_results relay

state=$(mktemp -d /tmp/wagate-relaybench.XXXXXX)
sandbox_pid=""
poll_pid=""
cleanup() {
    local rc=$?
    set +e
    stop_poller
    stop_wagate
    stop_pid "$sandbox_pid"
    local f kept=""
    for f in "$state"/wagate-*.log "$state"/sandbox.log; do
        if [[ -s $f ]]; then
            { echo "==> $(basename "$f")"; cat "$f"; } >>"${out%.txt}.wagate.log"
            kept=1
        fi
    done
    [[ -n $kept ]] && echo "relay.sh: non-empty gateway/sandbox logs kept in ${out%.txt}.wagate.log" >&2
    finish_bench "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the queue poller: one psql session kept open (a new psql per poll would cost the machine
# more than the 100 ms it waits) ---------------------------------------------------------------
start_poller() {
    coproc POLLER { exec psql "$dsn" -AtXq 2>&1; }
    poll_pid=$POLLER_PID
}
stop_poller() {
    if [[ -n $poll_pid ]]; then
        [[ -n ${POLLER[1]:-} ]] && eval "exec ${POLLER[1]}>&-" 2>/dev/null
        stop_pid "$poll_pid"
        poll_pid=""
    fi
}
poll_query() {  # poll_query SQL -> the first line of the answer
    local line
    printf '%s\n' "$1" >&"${POLLER[1]}"
    IFS= read -r -t 30 line <&"${POLLER[0]}" || { echo "relay.sh: the polling psql did not answer" >&2; return 1; }
    printf '%s\n' "$line"
}

q() { psql "$dsn" -AtX -v ON_ERROR_STOP=1 -c "$1"; }
now_s() { date +%s.%N; }
median_of() {  # median_of VALUE... (empty: 0)
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
mean_of() { printf '%s\n' "$@" | awk '{ s += $1; n++ } END { if (n) printf "%.1f", s / n; else print 0 }'; }

# --- start ---------------------------------------------------------------------------------
log_run_header "wagate relay benchmark"
warn_if_binary_is_stale
pacing_total() { local s m=0; for s in "${pacing_specs[@]}"; do m=$(( m > ${s%%:*} * ${s##*:} ? m : ${s%%:*} * ${s##*:} )); done; echo "$m"; }
max_per_number=$(pacing_total)
log "settings: $messages messages per drain, $rounds round(s); relay concurrency $concurrency (WAGATE_RELAY_CONCURRENCY, also the direct loadgen's connections); direct baseline ${duration}s after ${warmup}s warmup; pacing: $numbers numbers at once, rate:seconds ${pacing_specs[*]}; pgbench: $([[ $use_pgbench -eq 1 ]] && echo on || echo off); threads ${WAGATE_THREADS:-2} (gateway and sandbox), db pool ${WAGATE_DB_POOL:-8}"

probe_disk_sync
log "disk: one 8 kB O_DSYNC write (a commit's flush) takes ${disk_us:-?} us here"
start_bench_cluster
start_poller

# --- the sandbox (Meta's stand-in): answers sends, keeps every accepted one, no webhooks -------
sandbox_port=$(free_port)
port=$(free_port)
while [[ $port == "$sandbox_port" ]]; do port=$(free_port); done
WAGATE_META_APP_SECRETS=bench-sandbox-secret-$RANDOM$RANDOM WAGATE_SANDBOX_LISTEN=127.0.0.1:$sandbox_port \
    WAGATE_SANDBOX_WEBHOOKS=false WAGATE_SANDBOX_WEBHOOK_URL=http://127.0.0.1:$port/webhooks/meta \
    WAGATE_LOG_LEVEL=${WAGATE_LOG_LEVEL:-warn} "$wagate_bin" sandbox >"$state/sandbox.log" 2>&1 &
sandbox_pid=$!
sandbox_url=http://127.0.0.1:$sandbox_port
for _ in $(seq 300); do
    curl -sf -m 1 "$sandbox_url/sandbox/v1/stats" >/dev/null 2>&1 && break
    kill -0 "$sandbox_pid" 2>/dev/null || { cat "$state/sandbox.log" >&2; echo "relay.sh: the sandbox exited during start" >&2; exit 1; }
    sleep 0.1
done
curl -sf -m 1 "$sandbox_url/sandbox/v1/stats" >/dev/null || { echo "relay.sh: the sandbox did not answer within 30 s" >&2; exit 1; }
sandbox_stats() { curl -sf -m 10 "$sandbox_url/sandbox/v1/stats"; }
stat_of() { json_num "$1" "$2"; }  # stat_of STATS_JSON KEY
log "sandbox: $sandbox_url (pid $sandbox_pid, webhooks off)"

# --- the gateway: relay off while queues are loaded, on while measured ------------------------
admin_token=bench-admin-$RANDOM$RANDOM
gw_starts=0
start_wagate() {  # start_wagate RELAY(true|false) PACING(true|false)
    gw_starts=$((gw_starts + 1))
    WAGATE_RELAY=$1 WAGATE_RELAY_PACING=$2 WAGATE_UPSTREAM_URL=$sandbox_url WAGATE_UPSTREAM_ALLOW_HTTP=true \
        WAGATE_RELAY_CONCURRENCY=$concurrency \
        start_gateway "$wagate_bin" "$port" "$dsn" "${WAGATE_LOG_LEVEL:-warn}" "$state/wagate-$gw_starts.log" wagate_pid
}
start_wagate false false
log "wagate: 127.0.0.1:$port (log level ${WAGATE_LOG_LEVEL:-warn}), upstream $sandbox_url; restarted with WAGATE_RELAY=true for each measurement"

# Tenants: the drain's number, the pacing numbers, pgbench's number; texts inside open windows.
token=bench-token-$RANDOM
drain_phone=15550000001
pacing_phones=()
for ((i = 1; i <= numbers; i++)); do pacing_phones+=("155500001$(printf '%02d' "$i")"); done
pg_phone=19990000002
admin PUT /admin/v1/businesses/bench-biz '{"messaging_limit_tier":"TIER_UNLIMITED"}' >/dev/null
for p in "$drain_phone" "${pacing_phones[@]}"; do
    admin PUT "/admin/v1/phone-numbers/$p" "{\"business_id\":\"bench-biz\",\"waba_id\":\"bench-waba\",\"require_opt_in\":false,\"access_token\":\"$token\"}" >/dev/null
done
admin PUT /admin/v1/businesses/pgbench-biz '{"messaging_limit_tier":"TIER_UNLIMITED"}' >/dev/null
admin PUT "/admin/v1/phone-numbers/$pg_phone" "{\"business_id\":\"pgbench-biz\",\"access_token\":\"$token\"}" >/dev/null
ids_json=$(printf '"%s",' "$drain_phone" "${pacing_phones[@]}")
key=$(admin POST /admin/v1/api-keys "{\"name\":\"bench\",\"phone_number_ids\":[${ids_json%,}]}" | sed -nE 's/.*"key":"([^"]+)".*/\1/p')
[[ -n $key ]] || { echo "relay.sh: could not create an API key" >&2; exit 1; }
# Recipients +1555 and 7 digits from 0000000: the drain's number cycles through a pool of at most
# 100,000 (pacing is off there, so repeats do not matter); each pacing number has distinct users.
drain_pool=$(( messages < 100000 ? messages : 100000 ))
q "INSERT INTO wagate.contacts (phone_number_id, wa_id, last_inbound_at)
   SELECT '$drain_phone', '1555' || lpad(i::text, 7, '0'), now() FROM generate_series(0, $drain_pool - 1) AS i
   UNION ALL
   SELECT p, '1555' || lpad(i::text, 7, '0'), now()
   FROM unnest(ARRAY[$(printf "'%s'," "${pacing_phones[@]}" | sed 's/,$//')]) AS p, generate_series(0, $max_per_number - 1) AS i;
   ANALYZE wagate.contacts" >/dev/null
body=$state/send_body.json
printf '%s' '{"messaging_product":"whatsapp","to":"+1555{{N}}","type":"text","text":{"body":"hello from the wagate relay benchmark"}}' >"$body"
log "tenants: number $drain_phone (drain, $drain_pool recipients with an open window), ${#pacing_phones[@]} pacing numbers ${pacing_phones[0]}..${pacing_phones[-1]} ($max_per_number recipients each), access token set; pgbench's number $pg_phone"

check=PASS
fail() { log "  FAIL: $*"; check=FAIL; }

# --- loading: the send API with the relay off -------------------------------------------------
# load_queue PHONE COUNT POOL CONNECTIONS -> runs loadgen in the background, its line in $state/load-PHONE.json
load_queue() {
    "$loadgen" --port "$port" --method POST --path "/v23.0/$1/messages" --header "Authorization: Bearer $key" \
        --header "Content-Type: application/json" --body-file "$body" --unique-to --to-pool "$3" \
        --requests "$2" --connections "$4" --duration 600 --drain 30 --label "load $1" >"$state/load-$1.json"
}
check_loaded() {  # check_loaded PHONE COUNT: every request answered 200
    local line ok
    line=$(cat "$state/load-$1.json")
    ok=$(ok_count "$line")
    if [[ $ok -ne $2 || $(non_ok_count "$line") -ne 0 ]]; then
        log "$line"
        echo "relay.sh: loading $2 messages for $1 got $ok answers 200" >&2
        tail -20 "$state"/wagate-$gw_starts.log >&2
        exit 1
    fi
}
queue_count() { q "SELECT count(*) FROM wagate.relay_queue"; }

# --- measuring a drain: start the relay, poll the queue every 100 ms until it is empty ----------
# drain LABEL PACING(true|false) EXPECTED PHONES... -> stops the gateway at the end; sets d_wall,
# d_t0_ms, d_cpu_* (seconds), d_seq_from/d_seq_to (the sandbox's ledger), d_sent, d_stuck (rows
# left when it timed out, else 0) and d_db (a line about the database's side).
drain() {
    local label=$1 pacing_on=$2 expected=$3
    shift 3
    local phones before after sb_before sb_after st_before st_after t0 t_empty n
    local wal_before wal_after xact_before xact_after polls=0 deadline results commits
    phones=$(printf "'%s'," "$@")
    phones=${phones%,}
    [[ $(queue_count) -eq $expected ]] || { echo "relay.sh: $(queue_count) rows queued, $expected expected" >&2; exit 1; }
    stop_wagate
    q "CHECKPOINT" >/dev/null   # as before each pgbench run: no step inherits another's dirty pages
    st_before=$(sandbox_stats)
    d_seq_from=$(( $(stat_of "$st_before" accepted) + 1 ))
    wal_before=$(q "SELECT pg_current_wal_lsn()")
    xact_before=$(q "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
    before=$(cpu_snapshot)
    sb_before=$(proc_cpu_ticks "$sandbox_pid")
    t0=$(now_s)
    d_t0_ms=$(awk -v t="$t0" 'BEGIN { printf "%.0f", t * 1000 }')
    start_wagate true "$pacing_on"
    deadline=$(awk -v t="$t0" -v d="$drain_timeout" 'BEGIN { printf "%d", t + d }')
    d_stuck=0
    while :; do
        n=$(poll_query "SELECT count(*) FROM wagate.relay_queue;")
        polls=$((polls + 1))
        [[ $n == 0 ]] && break
        if (( $(date +%s) >= deadline )); then
            d_stuck=$n
            break
        fi
        sleep 0.1
    done
    t_empty=$(now_s)
    after=$(cpu_snapshot)   # wagate: everything since its start (it started in this window)
    sb_after=$(proc_cpu_ticks "$sandbox_pid")
    st_after=$(sandbox_stats)
    wal_after=$(q "SELECT pg_current_wal_lsn()")
    if [[ $d_stuck -ne 0 ]]; then
        fail "$label: the queue did not empty within ${drain_timeout}s: $d_stuck rows left"
        log "  queue: $(q "SELECT format('%s rows: %s claimed (locked_until in the future), %s with attempts > 1, due from %s to %s; last errors: %s',
            count(*), count(*) FILTER (WHERE locked_until > now()), count(*) FILTER (WHERE attempts > 1), min(due_at), max(due_at),
            coalesce(string_agg(DISTINCT last_error::text, ' | '), 'none')) FROM wagate.relay_queue")"
    fi
    stop_wagate
    # Backends report their transaction counts when they exit (or about once a second): the
    # gateway's have exited now; the poller's session is restarted for the same reason.
    stop_poller
    start_poller
    xact_after=$(q "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
    d_seq_to=$(stat_of "$st_after" accepted)
    d_sent=$(( d_seq_to - d_seq_from + 1 ))
    d_wall=$(awk -v a="$t0" -v b="$t_empty" 'BEGIN { printf "%.3f", b - a }')
    read -r d_cpu_w d_cpu_p d_cpu_m d_cores < <(awk -v b="$before" -v a="$after" -v hz="$clk_tck" -v cores="$(nproc)" 'BEGIN {
        split(b, x, " "); split(a, y, " ");
        printf "%.2f %.2f %.2f %.2f\n", (y[1] - x[1]) / hz, (y[2] - x[2]) / hz, (y[3] - x[3]) / hz, (y[4] - x[4]) * cores }')
    d_cpu_s=$(awk -v a="$sb_before" -v b="$sb_after" -v hz="$clk_tck" 'BEGIN { printf "%.2f", (b - a) / hz }')
    read -r results commits < <(q "SELECT count(*), count(DISTINCT updated_at) FROM wagate.messages
        WHERE phone_number_id IN ($phones) AND updated_at >= to_timestamp($d_t0_ms / 1000.0)" | tr '|' ' ')
    # The claims, from the database's commit count: less the polls, the two psql calls in between
    # (xact_before's own, wal_after) and the result batches, each two statements (the results,
    # then the attaching of parked statuses to the new wamids). What is left is the claims plus
    # the gateway's start-up, shutdown and once-a-second webhook sweeps (a handful).
    d_db="WAL $(q "SELECT round(pg_wal_lsn_diff('$wal_after', '$wal_before') / greatest($expected, 1))") bytes per message; $results results recorded in $commits commits ($(awk -v r="$results" -v c="$commits" 'BEGIN { printf "%.1f", (c > 0 ? r / c : 0) }') per commit); about $(( xact_after - xact_before - polls - 2 - 2 * commits )) claim transactions (from the commit count; includes a few of the gateway's start-up and background work)"
    d_polls=$polls
}
# cpu_line N -> the drain's CPU, per 1,000 messages and as a share of a core over the drain
drain_cpu_line() {
    awk -v n="$1" -v w="$d_cpu_w" -v s="$d_cpu_s" -v p="$d_cpu_p" -v m="$d_cpu_m" -v c="$d_cores" -v t="$d_wall" 'BEGIN {
        k = n / 1000;
        printf "cpu: wagate %.2f s (%.3f s per 1,000 messages, %.0f%% of a core), sandbox %.2f s (%.3f per 1,000, %.0f%%), postgres %.2f s (%.3f per 1,000, %.0f%%); machine busy %.2f of %.2f core-s (the rest, the script and anything else: %.2f s)",
               w, w / k, 100 * w / t, s, s / k, 100 * s / t, p, p / k, 100 * p / t, m, c, m - w - s - p }'
}


# audit_sends FILE PHONES... -> compares the sandbox's sends in FILE with the database: every
# message of PHONES has a wamid, the wamids are exactly the sandbox's, none twice. Sets a_*.
audit_sends() {
    local file=$1
    shift
    local phones
    phones=$(printf "'%s'," "$@")
    phones=${phones%,}
    a_sends=$(wc -l <"$file")
    a_distinct=$(cut -d' ' -f2 "$file" | sort -u | wc -l)
    read -r a_rows a_no_wamid a_sending a_missing a_unknown < <(
        { echo "CREATE TEMP TABLE sent (seq bigint, wamid text, phone text, to_input text, ms bigint);"
          echo "COPY sent FROM STDIN WITH (FORMAT text, DELIMITER ' ');"
          cat "$file"
          echo '\.'
          echo "SELECT (SELECT count(*) FROM wagate.messages WHERE phone_number_id IN ($phones)),
                       (SELECT count(*) FROM wagate.messages WHERE phone_number_id IN ($phones) AND wamid IS NULL),
                       (SELECT count(*) FROM wagate.messages WHERE phone_number_id IN ($phones) AND status = 'sending'),
                       (SELECT count(*) FROM wagate.messages m WHERE m.phone_number_id IN ($phones) AND m.wamid IS NOT NULL
                          AND NOT EXISTS (SELECT 1 FROM sent s WHERE s.wamid = m.wamid AND s.phone = m.phone_number_id AND s.to_input = m.to_input)),
                       (SELECT count(*) FROM sent s WHERE NOT EXISTS (SELECT 1 FROM wagate.messages m WHERE m.wamid = s.wamid));"
        } | psql "$dsn" -AtXq -F ' ' -v ON_ERROR_STOP=1)
}

# --- pgbench: the relay's SQL, one message per claim and per result ---------------------------
declare -A pgb_tps
pgbench_labels=()
pgb_seq=0
run_pgbench_relay() {  # run_pgbench_relay LABEL
    local label=$1 per_client total text before after wal_before wal_after left others
    per_client=$(( (messages + 15) / 16 ))
    total=$(( per_client * 16 ))
    others=$(queue_count)
    [[ $others -eq 0 ]] || { echo "relay.sh: pgbench needs an empty queue, $others rows queued" >&2; exit 1; }
    log_step "$label" ", $total messages, 16 clients"
    # pgbench's queue: messages of $pg_phone with the gateway's payload shape, due in order.
    pgb_seq=$((pgb_seq + 1))
    q "WITH ins AS (
         INSERT INTO wagate.messages (id, phone_number_id, kind, type, to_input, wa_id, payload)
         SELECT gen_random_uuid(), '$pg_phone', 'message', 'text', '+1999' || lpad(i::text, 7, '0'), '1999' || lpad(i::text, 7, '0'),
                jsonb_build_object('to', '+1999' || lpad(i::text, 7, '0'), 'text', jsonb_build_object('body', 'hello from the wagate relay benchmark'),
                                   'type', 'text', 'recipient_type', 'individual', 'messaging_product', 'whatsapp')
         FROM generate_series($(( (pgb_seq - 1) * total )), $(( pgb_seq * total - 1 ))) AS i
         RETURNING id, wa_id)
       INSERT INTO wagate.relay_queue (message_id, phone_number_id, wa_id, due_at, expires_at)
       SELECT id, '$pg_phone', wa_id, now() - interval '1 hour' + substr(wa_id, 5)::bigint * interval '1 microsecond', now() + interval '30 days'
       FROM ins" >/dev/null
    q "ANALYZE wagate.relay_queue" >/dev/null
    q "ANALYZE wagate.messages" >/dev/null
    q "CHECKPOINT" >/dev/null
    wal_before=$(q "SELECT pg_current_wal_lsn()")
    before=$(cpu_snapshot)
    text=$(timeout $(( drain_timeout + 60 )) "$pgbench_bin" -n -M prepared -c 16 -j 2 -t "$per_client" -f bench/pgbench_relay.sql "$dsn" 2>&1)
    wait_pgbench_reaped
    after=$(cpu_snapshot)
    wal_after=$(q "SELECT pg_current_wal_lsn()")
    parse_pgbench "$text"
    left=$(queue_count)
    log "{\"label\":\"$label\",\"protocol\":\"prepared\",\"clients\":16,\"transactions\":${pgbench_processed:-0},\"failed\":${pgbench_failed:-0},\"tps\":$pgbench_tps,\"latency_avg_ms\":${pgbench_lat:-0},\"queue_left\":$left}"
    log "  $(awk -v b="$before" -v a="$after" -v n="${pgbench_processed:-0}" -v hz="$clk_tck" -v cores="$(nproc)" 'BEGIN {
        split(b, x, " "); split(a, y, " "); p = (y[2] - x[2]) / hz; m = (y[3] - x[3]) / hz; t = y[4] - x[4];
        printf "cpu: postgres %.2f s (%.3f s per 1,000 messages), machine busy %.2f of %.2f core-s (the rest, pgbench and anything else: %.2f s)", p, (n > 0 ? 1000 * p / n : 0), m, t * cores, m - p }')"
    log "  db: WAL $(q "SELECT round(pg_wal_lsn_diff('$wal_after', '$wal_before') / greatest(${pgbench_processed:-0}, 1))") bytes per message"
    if [[ $left -ne 0 || ${pgbench_processed:-0} -ne $total ]]; then
        fail "$label: pgbench relayed ${pgbench_processed:-0} of $total messages, $left left in the queue"
        q "DELETE FROM wagate.relay_queue WHERE phone_number_id = '$pg_phone'" >/dev/null
    fi
    pgb_tps[$label]=$pgbench_tps
    pgbench_labels+=("$label")
}

# ================================================================================================
# 1. throughput with pacing off: direct baseline, relay drains, pgbench baseline
# ================================================================================================
if [[ $use_pgbench -eq 1 ]]; then
    run_pgbench_relay "pgbench relay -M prepared (before)"
fi

declare -a r_rps=() r_steady=() d_rps=() r_cpu_w=() r_cpu_s=() r_cpu_p=() d_cpu_sb=()
drain_total=0
direct_ok_total=0
relay_sends_file=$state/relay-sends.txt
: >"$relay_sends_file"

load_drain_queue() {  # load_drain_queue ROUND: N messages for the drain's number, relay off
    local t0 t1
    [[ -n $wagate_pid ]] || start_wagate false false
    t0=$(now_s)
    load_queue "$drain_phone" "$messages" "$drain_pool" 64
    t1=$(now_s)
    check_loaded "$drain_phone" "$messages"
    q "ANALYZE wagate.relay_queue" >/dev/null
    q "ANALYZE wagate.messages" >/dev/null
    log ""
    log "loading (round $1): $messages messages through the send API in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s, relay off; relay_queue: $(queue_count) rows"
}

run_direct() {  # run_direct ROUND: loadgen -> sandbox, the relay's payload, c = --concurrency
    local label="direct: loadgen -> sandbox c$concurrency (round $1)" line before after sb_before sb_after st_before st_after
    log_step "$label"
    st_before=$(sandbox_stats)
    before=$(cpu_snapshot)
    sb_before=$(proc_cpu_ticks "$sandbox_pid")
    line=$(timeout $(( warmup + duration + 60 )) "$loadgen" --port "$sandbox_port" --method POST --path "/v23.0/$drain_phone/messages" \
        --header "Authorization: Bearer $token" --header "Content-Type: application/json" --body-file "$direct_body" \
        --unique-to --to-pool 100000 --connections "$concurrency" --warmup "$warmup" --duration "$duration" --label "$label")
    sb_after=$(proc_cpu_ticks "$sandbox_pid")
    after=$(cpu_snapshot)
    st_after=$(sandbox_stats)
    log "$line"
    local total ok non_ok accepted
    total=$(( $(json_num "$line" requests) + $(json_num "$(warmup_part "$line")" requests) ))
    ok=$(ok_count "$line")
    non_ok=$(non_ok_count "$line")
    accepted=$(( $(stat_of "$st_after" accepted) - $(stat_of "$st_before" accepted) ))
    direct_ok_total=$((direct_ok_total + ok))
    log "  $(awk -v b="$before" -v a="$after" -v sb="$sb_before" -v sa="$sb_after" -v n="$total" -v hz="$clk_tck" -v cores="$(nproc)" 'BEGIN {
        split(b, x, " "); split(a, y, " "); s = (sa - sb) / hz; m = (y[3] - x[3]) / hz; t = y[4] - x[4];
        printf "cpu: sandbox %.2f s (%.3f s per 1,000 requests, %.0f%% of a core), machine busy %.2f of %.2f core-s (the rest, loadgen and anything else: %.2f s)", s, 1000 * s / n, 100 * s / t, m, t * cores, m - s }')"
    d_cpu_sb+=("$(awk -v sb="$sb_before" -v sa="$sb_after" -v n="$total" -v hz="$clk_tck" 'BEGIN { printf "%.3f", 1000 * (sa - sb) / hz / n }')")
    if [[ $non_ok -ne 0 || $accepted -ne $ok ]]; then
        fail "direct round $1: $non_ok answers other than 200; the sandbox counted $accepted accepted for $ok answers 200"
    fi
    d_rps+=("$(json_num "$line" rps)")
}

run_relay_drain() {  # run_relay_drain ROUND
    local label="relay drain, pacing off, c$concurrency (round $1)" sends first last span
    log_step "$label" ", $messages messages queued"
    drain "$label" false "$messages" "$drain_phone"
    fetch_sends "$d_seq_from" "$d_seq_to" "$state/sends-$1.txt"
    cat "$state/sends-$1.txt" >>"$relay_sends_file"
    [[ $keep_sends -eq 0 ]] || cp "$state/sends-$1.txt" "${out%.txt}.sends-drain-$1.txt"
    drain_total=$((drain_total + messages))
    read -r first last < <(awk 'NR == 1 || $5 < f { f = $5 } $5 > l { l = $5 } END { printf "%.0f %.0f\n", f, l }' "$state/sends-$1.txt")
    span=$(awk -v a="$first" -v b="$last" 'BEGIN { printf "%.3f", (b - a) / 1000 }')
    r_rps+=("$(awk -v n="$messages" -v t="$d_wall" 'BEGIN { printf "%.1f", n / t }')")
    r_steady+=("$(awk -v n="$messages" -v t="$span" 'BEGIN { printf "%.1f", (t > 0 ? (n - 1) / t : 0) }')")
    log "{\"label\":\"$label\",\"messages\":$messages,\"drain_s\":$d_wall,\"msg_per_s\":${r_rps[-1]},\"sandbox_accepted\":$d_sent,\"first_send_after_s\":$(awk -v a="$first" -v t="$d_t0_ms" 'BEGIN { printf "%.3f", (a - t) / 1000 }'),\"send_span_s\":$span,\"send_span_msg_per_s\":${r_steady[-1]},\"polls\":$d_polls}"
    log "  drain: $messages messages in $d_wall s from the gateway's start to the first poll that found relay_queue empty: ${r_rps[-1]} msg/s; at the sandbox, first to last send $span s: ${r_steady[-1]} msg/s"
    log "  $(drain_cpu_line "$messages")"
    r_cpu_w+=("$(awk -v w="$d_cpu_w" -v n="$messages" 'BEGIN { printf "%.3f", 1000 * w / n }')")
    r_cpu_s+=("$(awk -v w="$d_cpu_s" -v n="$messages" 'BEGIN { printf "%.3f", 1000 * w / n }')")
    r_cpu_p+=("$(awk -v w="$d_cpu_p" -v n="$messages" 'BEGIN { printf "%.3f", 1000 * w / n }')")
    log "  db: $d_db"
    if [[ $d_sent -ne $messages ]]; then
        fail "$label: the sandbox accepted $d_sent sends for $messages queued messages"
    fi
}

for ((round = 1; round <= rounds; round++)); do
    load_drain_queue "$round"
    if [[ $round -eq 1 ]]; then
        # The direct baseline sends exactly what the relay sends: a stored payload (jsonb's text,
        # as the claim reads it), its recipient replaced by loadgen's {{N}}.
        direct_body=$state/direct_body.json
        q "SELECT payload::text FROM wagate.messages WHERE phone_number_id = '$drain_phone' LIMIT 1" \
            | sed -E 's/"\+1555[0-9]{7}"/"+1555{{N}}"/' >"$direct_body"
        grep -q '{{N}}' "$direct_body" || { echo "relay.sh: unexpected stored payload: $(cat "$direct_body")" >&2; exit 1; }
        log "direct baseline body (the stored payload): $(cat "$direct_body")"
    fi
    if (( round % 2 == 1 )); then
        run_direct "$round"
        run_relay_drain "$round"
    else
        run_relay_drain "$round"
        run_direct "$round"
    fi
done

if [[ $use_pgbench -eq 1 ]]; then
    run_pgbench_relay "pgbench relay -M prepared (after)"
fi

# The audit of the drains: every message has its wamid, and the sandbox's sends are exactly them.
log ""
log "## audit of the drains (pacing off)"
audit_sends "$relay_sends_file" "$drain_phone"
log "messages of $drain_phone: $a_rows (expected $drain_total), without a wamid: $a_no_wamid, status sending: $a_sending; sandbox sends in the drains: $a_sends, distinct wamids $a_distinct; database wamids the sandbox has not got (for that number and recipient): $a_missing; sandbox wamids unknown to the database: $a_unknown"
if [[ $a_rows -ne $drain_total || $a_no_wamid -ne 0 || $a_sending -ne $drain_total || $a_sends -ne $drain_total \
      || $a_distinct -ne $drain_total || $a_missing -ne 0 || $a_unknown -ne 0 ]]; then
    fail "drains: not exactly once (see the line above)"
fi

# ================================================================================================
# 2. pacing accuracy
# ================================================================================================
declare -A p_summary p_total p_cpu
pacing_labels=()
pacing_round=0
for spec in "${pacing_specs[@]}"; do
    rate=${spec%%:*}
    secs=${spec##*:}
    per=$(( rate * secs ))
    total=$(( per * numbers ))
    pacing_round=$((pacing_round + 1))
    label="pacing $rate msg/s x $numbers numbers, $per messages each"
    pacing_labels+=("$label")
    [[ -n $wagate_pid ]] || start_wagate false false
    for p in "${pacing_phones[@]}"; do
        admin PUT "/admin/v1/phone-numbers/$p" "{\"throughput_mps\":$rate}" >/dev/null
    done
    log ""
    t_load=$(now_s)
    load_conns=$(( 64 / numbers > 1 ? 64 / numbers : 2 ))
    load_pids=()
    for p in "${pacing_phones[@]}"; do
        load_queue "$p" "$per" "$per" "$load_conns" &
        load_pids+=("$!")
    done
    for pid in "${load_pids[@]}"; do wait "$pid" || true; done
    for p in "${pacing_phones[@]}"; do check_loaded "$p" "$per"; done
    q "ANALYZE wagate.relay_queue" >/dev/null
    q "ANALYZE wagate.messages" >/dev/null
    log "loading: $per messages for each of $numbers numbers (to distinct users, all at once) in $(awk -v a="$t_load" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }') s; relay_queue: $(queue_count) rows"
    log_step "$label" ", throughput_mps $rate, pacing on"
    drain "$label" true "$total" "${pacing_phones[@]}"
    sends=$state/pacing-$pacing_round.txt
    fetch_sends "$d_seq_from" "$d_seq_to" "$sends"
    [[ $keep_sends -eq 0 ]] || cp "$sends" "${out%.txt}.sends-pacing-$rate.txt"
    log "  drain: $total messages in $d_wall s from the gateway's start to the empty queue ($(awk -v n="$total" -v t="$d_wall" 'BEGIN { printf "%.1f", n / t }') msg/s; configured in all: $((rate * numbers)) msg/s)"
    log "  $(drain_cpu_line "$total")"
    log "  db: $d_db"
    p_cpu[$label]=$(awk -v w="$d_cpu_w" -v s="$d_cpu_s" -v p="$d_cpu_p" -v t="$d_wall" 'BEGIN { printf "wagate %.0f%%, sandbox %.0f%%, postgres %.0f%% of a core", 100 * w / t, 100 * s / t, 100 * p / t }')
    # Per number: sends, when the first went (from the gateway's start), the achieved rate over
    # the steady part (from the first send at least 1 s after the number's first, to its last),
    # the busiest 1-second window (any [t, t + 1 s) at the sandbox's millisecond resolution).
    analysis=$(cut -d' ' -f3,5 "$sends" | sort -k1,1 -k2,2n | awk -v rate="$rate" -v t0="$d_t0_ms" '
        { p = $1; if (!(p in n)) order[++np] = p; t[p, ++n[p]] = $2 }
        END {
            for (i = 1; i <= np; i++) {
                p = order[i]; c = n[p]; first = t[p, 1]; last = t[p, c];
                s = 1; while (s < c && t[p, s] < first + 1000) s++;
                if (s < c && t[p, c] > t[p, s]) steady = (c - s) / ((t[p, c] - t[p, s]) / 1000);
                else steady = (c > 1 && last > first) ? (c - 1) / ((last - first) / 1000) : 0;
                j = 1; w = 0; wat = 0;
                for (k = 1; k <= c; k++) {
                    while (t[p, j] <= t[p, k] - 1000) j++;
                    if (k - j + 1 > w) { w = k - j + 1; wat = t[p, j] - first }
                }
                printf "%s %d %.3f %.3f %.2f %.4f %d %.3f %.4f %s\n", p, c, (first - t0) / 1000, (last - first) / 1000, steady,
                       steady / rate, w, wat / 1000, w / rate, (w <= rate * 1.05 + 1) ? "ok" : "OVER"
            }
        }')
    log "  per number: phone, sends, first send (s after the gateway started), first to last (s), steady msg/s, steady / rate, busiest 1-s window (sends), its start (s after the number's first send), window / rate, within rate x 1.05 + 1"
    while read -r line; do log "    $line"; done <<<"$analysis"
    ratios=$(awk '{ print $6 }' <<<"$analysis")
    worst_w=$(awk 'BEGIN { m = 0 } $7 > m { m = $7 } END { print m }' <<<"$analysis")
    read -r g_first g_last < <(awk 'NR == 1 || $5 < f { f = $5 } $5 > l { l = $5 } END { printf "%.0f %.0f\n", f, l }' "$sends")
    p_total[$label]=$(awk -v n="$total" -v a="$g_first" -v b="$g_last" 'BEGIN { printf "%.1f", (b > a ? (n - 1) / ((b - a) / 1000) : 0) }')
    # shellcheck disable=SC2086
    p_summary[$label]="steady / configured: min $(printf '%s\n' $ratios | sort -g | head -1), median $(median_of $ratios), max $(printf '%s\n' $ratios | sort -g | tail -1); busiest 1-s window $worst_w = $(awk -v w="$worst_w" -v r="$rate" 'BEGIN { printf "%.3f", w / r }') x rate (limit $(awk -v r="$rate" 'BEGIN { printf "%d", int(r * 1.05 + 1) }'): $(awk -v w="$worst_w" -v r="$rate" 'BEGIN { print (w <= r * 1.05 + 1) ? "met" : "EXCEEDED" }'))"
    log "  $label: ${p_summary[$label]}; all numbers together ${p_total[$label]} msg/s at the sandbox (first to last send) of $((rate * numbers)) configured"
    if awk -v a="${p_total[$label]}" -v c="$((rate * numbers))" 'BEGIN { exit !(a < 0.95 * c) }'; then
        # Which side ran out: a process near its threads' worth of a core, the whole machine, or
        # neither (then the relay's own pipeline: claims, timers, result commits).
        log "  below the configured total: wagate used $(awk -v w="$d_cpu_w" -v t="$d_wall" 'BEGIN { printf "%.0f", 100 * w / t }')%, the sandbox $(awk -v w="$d_cpu_s" -v t="$d_wall" 'BEGIN { printf "%.0f", 100 * w / t }')%, PostgreSQL $(awk -v w="$d_cpu_p" -v t="$d_wall" 'BEGIN { printf "%.0f", 100 * w / t }')% of a core (wagate and the sandbox have ${WAGATE_THREADS:-2} threads each); the machine was $(awk -v m="$d_cpu_m" -v c="$d_cores" 'BEGIN { printf "%.0f", 100 * m / c }')% busy; the relay without pacing sent $(mean_of "${r_steady[@]}") msg/s (first to last send) earlier in this run"
    fi
    # The audit: exactly once, per number.
    audit_sends "$sends" "${pacing_phones[@]}"
    per_ok=$(awk -v m="$per" '$2 != m { bad++ } END { print bad + 0 }' <<<"$analysis")
    numbers_seen=$(wc -l <<<"$analysis")
    log "  audit: sandbox sends $a_sends (expected $total, $per per number: $((numbers_seen - per_ok)) of $numbers numbers had exactly that), distinct wamids $a_distinct; messages of the pacing numbers so far $a_rows, without a wamid $a_no_wamid; database wamids the sandbox has not got (this run's and earlier runs'): $a_missing; sandbox wamids unknown to the database: $a_unknown"
    expected_rows=$(( ${p_rows_before:-0} + total ))
    p_rows_before=$expected_rows
    if [[ $a_sends -ne $total || $a_distinct -ne $total || $per_ok -ne 0 || $numbers_seen -ne $numbers || $a_no_wamid -ne 0 \
          || $a_rows -ne $expected_rows || $a_unknown -ne 0 || $a_missing -ne $(( expected_rows - total )) || $d_sent -ne $total ]]; then
        fail "$label: not exactly once (see the audit line)"
    fi
    if [[ $(awk '$10 != "ok"' <<<"$analysis" | wc -l) -ne 0 ]]; then
        fail "$label: a number exceeded rate x 1.05 + 1 messages in a 1-second window"
    fi
done

# --- the whole run against the sandbox's counters -----------------------------------------------
final_stats=$(sandbox_stats)
log ""
log "## sandbox counters at the end"
log "$final_stats"
expected_accepted=$(( direct_ok_total + drain_total + ${p_rows_before:-0} ))
for k in unauthorized rejected_validation rejected_trigger throttled server_errors; do
    v=$(stat_of "$final_stats" "$k")
    [[ ${v:-0} -eq 0 ]] || fail "the sandbox counted $v $k"
done
if [[ $(stat_of "$final_stats" accepted) -ne $expected_accepted ]]; then
    fail "the sandbox accepted $(stat_of "$final_stats" accepted) sends in all; expected $expected_accepted (direct 200 answers $direct_ok_total + drains $drain_total + pacing ${p_rows_before:-0})"
else
    log "accepted $expected_accepted = direct 200 answers $direct_ok_total + drains $drain_total + pacing ${p_rows_before:-0}: nothing sent twice after the queues were empty"
fi
log "messages without a wamid in the whole database: $(q "SELECT count(*) FROM wagate.messages WHERE wamid IS NULL"); relay_queue rows: $(queue_count)"
[[ $(q "SELECT count(*) FROM wagate.messages WHERE wamid IS NULL") -eq 0 ]] || fail "messages without a wamid"
log_checkpoints
gw_log_lines=$(cat "$state"/wagate-*.log 2>/dev/null | wc -l)
log "gateway logs (level ${WAGATE_LOG_LEVEL:-warn}, $gw_starts starts): $gw_log_lines lines; sandbox log: $(wc -l <"$state/sandbox.log") lines"
cat "$state"/wagate-*.log "$state/sandbox.log" 2>/dev/null | head -5 | sed 's/^/  /' | tee -a "$out"

# --- summary -----------------------------------------------------------------------------------
relay_mean=$(mean_of "${r_rps[@]}")
direct_mean=$(mean_of "${d_rps[@]}")
log ""
log "## summary ($stamp)"
{
    row() { printf '%-52s %10s %12s %12s %12s\n' "$@"; }
    echo "CPU seconds per 1,000 messages (requests, for the direct runs):"
    row "measurement" "per second" "wagate cpu" "sandbox cpu" "postgres cpu"
    for ((i = 0; i < rounds; i++)); do
        row "direct: loadgen -> sandbox c$concurrency (round $((i + 1)))" "${d_rps[$i]}" "-" "${d_cpu_sb[$i]}" "-"
        row "relay drain, pacing off (round $((i + 1)))" "${r_rps[$i]}" "${r_cpu_w[$i]}" "${r_cpu_s[$i]}" "${r_cpu_p[$i]}"
        row "  the same, first to last send at the sandbox" "${r_steady[$i]}" "" "" ""
    done
    for l in "${pgbench_labels[@]}"; do
        row "$l" "${pgb_tps[$l]}" "-" "-" "-"
    done
    echo
    per_round=$(for ((i = 0; i < rounds; i++)); do printf '%s ' "$(ratio "${r_rps[$i]}" "${d_rps[$i]}")"; done)
    echo "relay msg/s / direct sandbox requests/s (means $relay_mean / $direct_mean): $(ratio "$relay_mean" "$direct_mean"); per round: ${per_round% }"
    echo "  the same with the relay's first to last send at the sandbox (no start-up, mean $(mean_of "${r_steady[@]}")): $(ratio "$(mean_of "${r_steady[@]}")" "$direct_mean")"
    if [[ $use_pgbench -eq 1 ]]; then
        pg_ref=$(mean2 "${pgb_tps["pgbench relay -M prepared (before)"]}" "${pgb_tps["pgbench relay -M prepared (after)"]}")
        echo "relay msg/s / pgbench relay TPS (-M prepared, one message per claim and per result; mean of before and after $pg_ref): $(ratio "$relay_mean" "$pg_ref")"
    fi
    for l in "${pacing_labels[@]}"; do
        echo "$l: ${p_summary[$l]}; together ${p_total[$l]} msg/s; ${p_cpu[$l]}"
    done
    echo "audit (exactly once: sandbox sends = queued messages, wamids = the sandbox's, no other answers): $check"
} | tee -a "$out"
log "results: $out"
[[ $check == PASS ]]
