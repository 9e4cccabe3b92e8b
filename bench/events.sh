#!/usr/bin/env bash
# Benchmark of event delivery to business backends (docs/events.md): how many events per second
# the gateway delivers to a fast local receiver, and how long a backlog takes to drain after the
# receiver was down. The receiver is bench/event_sink (serve): HTTP/1.1 keep-alive on loopback,
# 200 `{}` to every POST, every signature, Content-Length and ASCII byte checked, every body
# counted by its HMAC so a duplicate shows. Events are made the way production makes them: signed
# Meta webhooks of inbound text messages (POST /webhooks/meta, --per-body messages per POST, from
# users who write --per-user messages each), posted by event_sink's client. A durable (fsync on)
# PostgreSQL of its own; WAGATE_RELAY=false. Baseline measured in the same run:
#   direct - event_sink's client POSTing bodies of exactly the delivered shape (a body the gateway
#            delivered, its wamid varied, signed with the callback secret) straight to a sink,
#            --concurrency connections (the gateway's per-URL concurrency): the receiver's ceiling
#            on this machine, before A and after B.
# A. Live: sink up, --events messages posted; delivered/s at the sink (first to last arrival),
#    the webhook ingest rate, the lag behind it, CPU per 1,000 events; delivered / direct and
#    delivered / ingest.
# B. Outage: the gateway restarted on an emptied wagate.events, a callback URL where nobody
#    listens, --backlog messages posted; once every event is pending and wagate.event_endpoints
#    has the URL failing, the attempts made so far are counted (probes only, expected) and the
#    sink is started on that port; drain time and rate until every event is delivered.
# Audit of each (a difference fails the run, exit 1): the sink got exactly the events, each once
# (distinct bodies = events, no duplicate), every signature valid, no chunked body, no missing
# Content-Length, no non-ASCII byte; every event row `delivered`; every arrival matched to its
# event by wamid, and per ordering key (a user) the arrivals in event id order.
#
#   bash bench/events.sh [--events 50000] [--backlog 100000] [--per-body 100] [--per-user 10]
#                        [--post-connections 16] [--concurrency 16] [--retry-base-ms 200]
#                        [--retry-max-ms 2000] [--outage-hold 0] [--direct-requests 50000]
#                        [--stall-timeout 60] [--drain-timeout 1800] [--build-dir build-bench]
#                        [--wagate PATH] [--pg-set NAME=VALUE]... [--keep-pg-log] [--quick]
#
# --quick (first; later options override it): --events 5000 --backlog 10000 --direct-requests 10000.
# --outage-hold S: keep the receiver down S seconds more once the backlog is in (more probes).
# A scenario fails when the sink gets nothing new for --stall-timeout seconds, or is not done
# after --drain-timeout seconds. --keep-pg-log keeps PostgreSQL's server log next to the results
# (with e.g. --pg-set log_min_duration_statement=20: which statements were slow).
# --build-dir DIR (default build-bench): DIR/wagate is used (built there, Release, when missing)
# and DIR/bench/event_sink is built by bench/build.sh. WAGATE_THREADS, WAGATE_DB_POOL and the
# other WAGATE_* tuning variables in the environment reach the gateway unchanged (except the
# event settings above, which this script sets). Everything it starts (a PostgreSQL cluster in
# /tmp, wagate and the sinks on free loopback ports) is stopped on exit, also on failure or
# Ctrl-C. Results: stdout and bench/results/events-*.txt.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bench_name=events.sh
source bench/lib.sh

events=50000
backlog=100000
per_body=100
per_user=10
post_connections=16
concurrency=16
retry_base_ms=200
retry_max_ms=2000
outage_hold=0
direct_requests=50000
stall_timeout=60
drain_timeout=1800
keep_pg_log=0
build_dir=$root/build-bench
wagate_bin=${WAGATE_BIN:-}
pg_sets=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) events=5000 backlog=10000 direct_requests=10000 ;;
        --events) events=$2; shift ;;
        --backlog) backlog=$2; shift ;;
        --per-body) per_body=$2; shift ;;
        --per-user) per_user=$2; shift ;;
        --post-connections) post_connections=$2; shift ;;
        --concurrency) concurrency=$2; shift ;;
        --retry-base-ms) retry_base_ms=$2; shift ;;
        --retry-max-ms) retry_max_ms=$2; shift ;;
        --outage-hold) outage_hold=$2; shift ;;
        --direct-requests) direct_requests=$2; shift ;;
        --stall-timeout) stall_timeout=$2; shift ;;
        --drain-timeout) drain_timeout=$2; shift ;;
        --build-dir) build_dir=$(cd "$2" 2>/dev/null && pwd || echo "$2"); shift ;;
        --wagate) wagate_bin=$2; shift ;;
        --pg-set) add_pg_set "$2"; shift ;;
        --keep-pg-log) keep_pg_log=1 ;;
        -h|--help) sed -n '2,42p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "events.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
int_in events "$events" 100 2000000
int_in backlog "$backlog" 100 2000000
int_in per-body "$per_body" 1 1000
int_in per-user "$per_user" 1 1000
int_in post-connections "$post_connections" 1 256
int_in concurrency "$concurrency" 1 1024
int_in retry-base-ms "$retry_base_ms" 1 3600000
int_in retry-max-ms "$retry_max_ms" "$retry_base_ms" 86400000
int_in outage-hold "$outage_hold" 0 3600
int_in direct-requests "$direct_requests" 100 10000000
int_in stall-timeout "$stall_timeout" 5 3600
int_in drain-timeout "$drain_timeout" 10 7200
wagate_bin=${wagate_bin:-$build_dir/wagate}

find_bench_tools
command -v openssl >/dev/null || { echo "events.sh: the openssl command is needed (signature cross-check)" >&2; exit 1; }
build_wagate_if_missing Release -DWAGATE_BUILD_TESTS=OFF
BENCH_BUILD_DIR=$build_dir bash bench/build.sh >&2
sink_bin=$build_dir/bench/event_sink

open_results events

state=$(mktemp -d /tmp/wagate-eventsbench.XXXXXX)
sink_pid=""
poll_pid=""
gw_starts=0
cleanup() {
    local rc=$?
    set +e
    stop_poller
    stop_pid "$sink_pid"
    stop_wagate
    local f kept=""
    for f in "$state"/wagate-*.log "$state"/sink-*.out; do
        if [[ -f $f ]] && grep -qv '^{"port"' "$f" 2>/dev/null; then
            { echo "==> $(basename "$f")"; cat "$f"; } >>"${out%.txt}.wagate.log"
            kept=1
        fi
    done
    [[ -n $kept ]] && echo "events.sh: non-empty gateway/sink logs kept in ${out%.txt}.wagate.log" >&2
    if [[ $keep_pg_log -eq 1 && -n ${cluster_dir:-} && -f $cluster_dir/server.log ]]; then
        cp "$cluster_dir/server.log" "${out%.txt}.postgres.log"
        echo "events.sh: PostgreSQL's server log kept in ${out%.txt}.postgres.log" >&2
    fi
    finish_bench "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- helpers -------------------------------------------------------------------------------------
q() { psql "$dsn" -AtX -v ON_ERROR_STOP=1 -c "$1"; }
now_s() { date +%s.%N; }
now_us() { local t; t=$(date +%s%N); echo $(( t / 1000 )); }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }       # secs FROM TO
us_secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e6 }'; }  # us_secs FROM_US TO_US
per_s() { awk -v n="$1" -v t="$2" 'BEGIN { if (t > 0) printf "%.1f", n / t; else print "n/a" }'; }  # per_s N SECONDS
ratio4() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.4f", a / b; else print "n/a" }'; }  # A / B, 4 decimals
mean_of() { printf '%s\n' "$@" | awk '{ s += $1; n++ } END { if (n) printf "%.1f", s / n; else print 0 }'; }

check=PASS
fail() { log "  FAIL: $*"; check=FAIL; }

# One psql session kept open for the polls (a new psql per poll would cost more than the poll),
# without JIT: once wagate.events is large, every count would otherwise be compiled first, and
# ten of those a second take a good part of PostgreSQL's core away from the gateway.
start_poller() {
    coproc POLLER { PGOPTIONS='-c jit=off' exec psql "$dsn" -AtXq 2>&1; }
    poll_pid=$POLLER_PID
}
stop_poller() {
    if [[ -n $poll_pid ]]; then
        [[ -n ${POLLER[1]:-} ]] && eval "exec ${POLLER[1]}>&-" 2>/dev/null
        stop_pid "$poll_pid"
        poll_pid=""
    fi
}
poll_query() {  # poll_query SQL -> sets poll_answer (the first line)
    printf '%s\n' "$1" >&"${POLLER[1]}"
    IFS= read -r -t 30 poll_answer <&"${POLLER[0]}" || { echo "events.sh: the polling psql did not answer" >&2; exit 1; }
}

# The sink's counters without a process: HTTP/1.0 over bash's /dev/tcp (the sink closes after
# answering). sink_poll PORT -> sets sink_n (POSTs received; -1 when nobody listens).
sink_poll() {
    local fd resp=""
    sink_n=-1
    { exec {fd}<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 0
    printf 'GET /_sink/stats HTTP/1.0\r\n\r\n' >&"$fd"
    IFS= read -r -d '' -t 5 resp <&"$fd" || true
    exec {fd}>&-
    [[ $resp =~ \"received\":([0-9]+) ]] && sink_n=${BASH_REMATCH[1]}
    return 0
}

# start_sink NAME PORT [--sample FILE]: event_sink serve on PORT, logging arrivals to
# $state/sink-NAME.tsv; its counters go to $state/sink-NAME.json when it stops (stop_sink).
start_sink() {
    local name=$1 p=$2
    shift 2
    "$sink_bin" serve --port "$p" --secret "$callback_secret" --path /events --stats-file "$state/sink-$name.json" \
        --log "$state/sink-$name.tsv" "$@" >"$state/sink-$name.out" 2>&1 &
    sink_pid=$!
    for _ in $(seq 200); do
        sink_poll "$p"
        [[ $sink_n -ge 0 ]] && return 0
        kill -0 "$sink_pid" 2>/dev/null || { cat "$state/sink-$name.out" >&2; echo "events.sh: the sink exited during start" >&2; exit 1; }
        sleep 0.05
    done
    echo "events.sh: the sink did not answer on port $p within 10 s" >&2
    exit 1
}
stop_sink() {  # stop_sink NAME -> sets sink_stats (its counters, one JSON line)
    stop_pid "$sink_pid"
    sink_pid=""
    [[ -s $state/sink-$1.json ]] || { echo "events.sh: the sink $1 wrote no counters" >&2; exit 1; }
    sink_stats=$(cat "$state/sink-$1.json")
}
stat_of() { json_num "$1" "$2"; }  # stat_of JSON KEY

# --- start ---------------------------------------------------------------------------------------
log_run_header "wagate event delivery benchmark"
warn_if_binary_is_stale
users_a=$(( events / per_user > 0 ? events / per_user : 1 ))
users_b=$(( backlog / per_user > 0 ? backlog / per_user : 1 ))
log "settings: A $events events (live), B $backlog events (backlog after an outage); $per_body inbound messages per webhook POST, $per_user per user ($users_a and $users_b users), $post_connections posting connections; direct baseline $direct_requests requests over $concurrency connections; a scenario fails after ${stall_timeout}s without a new arrival or ${drain_timeout}s in all"
log "gateway event settings: WAGATE_EVENT_CONCURRENCY_PER_URL=$concurrency WAGATE_EVENT_RETRY_BASE_MS=$retry_base_ms WAGATE_EVENT_RETRY_MAX_MS=$retry_max_ms WAGATE_EVENT_ALLOW_HTTP=true WAGATE_EVENT_DELIVERY=true (others default: lease ${WAGATE_EVENT_LEASE_MS:-60000} ms, timeout ${WAGATE_EVENT_TIMEOUT_MS:-10000} ms); WAGATE_RELAY=false; threads ${WAGATE_THREADS:-2}, db pool ${WAGATE_DB_POOL:-8}"

probe_disk_sync
log "disk: one 8 kB O_DSYNC write (a commit's flush) takes ${disk_us:-?} us here"
start_bench_cluster

port=$(free_port)
admin_token=bench-admin-$(openssl rand -hex 8)
app_secret=bench-app-secret-$(openssl rand -hex 16)
callback_secret=bench-callback-secret-$(openssl rand -hex 16)
start_wagate() {
    gw_starts=$((gw_starts + 1))
    WAGATE_META_APP_SECRETS=$app_secret WAGATE_EVENT_DELIVERY=true WAGATE_EVENT_ALLOW_HTTP=true \
        WAGATE_EVENT_CONCURRENCY_PER_URL=$concurrency WAGATE_EVENT_RETRY_BASE_MS=$retry_base_ms \
        WAGATE_EVENT_RETRY_MAX_MS=$retry_max_ms \
        start_gateway "$wagate_bin" "$port" "$dsn" "${WAGATE_LOG_LEVEL:-warn}" "$state/wagate-$gw_starts.log" wagate_pid
}
start_wagate
[[ $(q "SELECT to_regclass('wagate.events') IS NOT NULL AND to_regclass('wagate.event_endpoints') IS NOT NULL") == t ]] \
    || { echo "events.sh: $wagate_bin has no event delivery (no wagate.events table)" >&2; exit 1; }
log "wagate: 127.0.0.1:$port (pid $wagate_pid, log level ${WAGATE_LOG_LEVEL:-warn}); restarted with an emptied wagate.events for B"
start_poller

# Tenants: one business, three numbers (the sanity check's, A's, B's), each with its callback URL.
waba=100000000000001
phone_s=15550000003
phone_a=15550000001
phone_b=15550000002
admin PUT /admin/v1/businesses/bench-biz '{"name":"events bench"}' >/dev/null
set_callback() {  # set_callback PHONE URL
    admin PUT "/admin/v1/phone-numbers/$1" "{\"business_id\":\"bench-biz\",\"waba_id\":\"$waba\",\"display_phone_number\":\"+$1\",\"callback_url\":\"$2\",\"callback_secret\":\"$callback_secret\"}" >/dev/null \
        || { echo "events.sh: PUT /admin/v1/phone-numbers/$1 failed" >&2; exit 1; }
}

# post_inbound PHONE MESSAGES USERS TAG OUT: the signed inbound-message webhooks, event_sink's
# client; its JSON line goes to OUT. Checks that every POST was answered 200.
post_inbound() {
    "$sink_bin" post --port "$port" --secret "$app_secret" --path /webhooks/meta --inbound "$per_body" \
        --messages "$2" --users "$3" --tag "$4" --phone-number-id "$1" --display-phone-number "$1" --waba-id "$waba" \
        --connections "$post_connections" --timeout 600 >"$5"
}
check_posted() {  # check_posted OUT REQUESTS
    local line ok
    line=$(cat "$1")
    ok=$(json_num "$line" 200)
    if [[ ${ok:-0} -ne $2 || $(stat_of "$line" errors) -ne 0 ]]; then
        log "$line"
        echo "events.sh: $2 webhook POSTs, ${ok:-0} answered 200" >&2
        tail -20 "$state/wagate-$gw_starts.log" >&2
        exit 1
    fi
}
webhooks_done() {  # true when no webhook body waits to be processed
    poll_query "SELECT count(*) FROM wagate.webhook_deliveries WHERE processed_at IS NULL;"
    [[ $poll_answer -eq 0 ]]
}
events_of() { q "SELECT count(*) || ' ' || count(*) FILTER (WHERE state = 'pending') || ' ' || count(*) FILTER (WHERE state = 'delivered') || ' ' || count(*) FILTER (WHERE state = 'dead') || ' ' || coalesce(sum(attempts), 0) FROM wagate.events WHERE phone_number_id = '$1'"; }

# --- sanity: one user's three messages, delivered in order, signed, escaped to ASCII ------------
log ""
log "## sanity"
s_port=$(free_port)
while [[ $s_port == "$port" ]]; do s_port=$(free_port); done
set_callback "$phone_s" "http://127.0.0.1:$s_port/events"
start_sink sanity "$s_port" --sample "$state/sample.json"
"$sink_bin" post --port "$port" --secret "$app_secret" --path /webhooks/meta --inbound 3 --messages 3 --users 1 \
    --tag EVS --phone-number-id "$phone_s" --display-phone-number "$phone_s" --waba-id "$waba" --connections 1 >"$state/post-sanity.json"
check_posted "$state/post-sanity.json" 1
for _ in $(seq 100); do
    sink_poll "$s_port"
    [[ $sink_n -ge 3 ]] && break
    sleep 0.1
done
sleep 0.3   # anything more (a duplicate) would arrive now
stop_sink sanity
sample_sig=$(cat "$state/sample.json.sig")
openssl_sig="sha256=$(openssl dgst -sha256 -hmac "$callback_secret" -r <"$state/sample.json" | cut -d' ' -f1)"
sanity_order=$(cut -f2 "$state/sink-sanity.tsv" | tr '\n' ' ')
log "sanity: 3 messages of one user posted; the sink got $(stat_of "$sink_stats" received) (valid $(stat_of "$sink_stats" valid), distinct $(stat_of "$sink_stats" distinct), non-ASCII $(stat_of "$sink_stats" non_ascii)), in the order: $sanity_order"
log "sanity: a delivered body ($(wc -c <"$state/sample.json") bytes): $(cat "$state/sample.json")"
[[ $sample_sig == "$openssl_sig" ]] || fail "sanity: the delivered signature $sample_sig is not openssl's $openssl_sig"
[[ $(stat_of "$sink_stats" received) -eq 3 && $(stat_of "$sink_stats" valid) -eq 3 && $(stat_of "$sink_stats" distinct) -eq 3 && $(stat_of "$sink_stats" non_ascii) -eq 0 ]] \
    || fail "sanity: expected 3 valid distinct ASCII deliveries"
[[ $sanity_order == "wamid.EVS000000000000 wamid.EVS000000000001 wamid.EVS000000000002 " ]] \
    || fail "sanity: one user's messages not delivered in order"
grep -q '\\ud83d\\udc4b' "$state/sample.json" || fail "sanity: the emoji is not escaped as \\ud83d\\udc4b in the delivered body"
[[ $check == PASS ]] || exit 1
# The direct baseline's body: the delivered one, its wamid varied (same length: 3 + 12 characters).
template=$state/direct_template.json
sed -E 's/wamid\.EVS[0-9]{12}/wamid.EVD{{N}}/' "$state/sample.json" >"$template"
grep -q '{{N}}' "$template" || { echo "events.sh: no wamid in the delivered body" >&2; exit 1; }

# --- the direct baseline: the receiver's ceiling ----------------------------------------------
d_rates=()
d_sink_cpu=()
d_round=0
run_direct() {  # run_direct LABEL
    local d_port before after sb sa line rate
    d_round=$((d_round + 1))
    log_step "direct: event_sink client -> sink, c$concurrency ($1)" ", $direct_requests requests of the delivered shape"
    d_port=$(free_port)
    start_sink "direct-$d_round" "$d_port"
    before=$(cpu_snapshot)
    sb=$(proc_cpu_ticks "$sink_pid")
    "$sink_bin" post --port "$d_port" --secret "$callback_secret" --path /events --template "$template" \
        --requests "$direct_requests" --seq-start $(( (d_round - 1) * direct_requests )) --connections "$concurrency" --timeout 300 >"$state/direct-$d_round.json"
    after=$(cpu_snapshot)
    sa=$(proc_cpu_ticks "$sink_pid")
    stop_sink "direct-$d_round"
    line=$(cat "$state/direct-$d_round.json")
    rate=$(stat_of "$sink_stats" rate)
    log "$line"
    log "  sink: $sink_stats"
    log "  direct: $direct_requests requests, $rate requests/s at the sink (first to last arrival), $(stat_of "$line" rps) by the client; latency p50 $(json_num "$line" p50) ms, p99 $(json_num "$line" p99) ms"
    log "  $(awk -v b="$before" -v a="$after" -v sb="$sb" -v sa="$sa" -v n="$direct_requests" -v hz="$clk_tck" -v cores="$(nproc)" 'BEGIN {
        split(b, x, " "); split(a, y, " "); s = (sa - sb) / hz; m = (y[3] - x[3]) / hz; t = y[4] - x[4];
        printf "cpu: sink %.2f s (%.3f s per 1,000 requests), machine busy %.2f of %.2f core-s (the rest, the client and anything else: %.2f s)", s, 1000 * s / n, m, t * cores, m - s }')"
    d_sink_cpu+=("$(awk -v sb="$sb" -v sa="$sa" -v n="$direct_requests" -v hz="$clk_tck" 'BEGIN { printf "%.3f", 1000 * (sa - sb) / hz / n }')")
    d_rates+=("$rate")
    if [[ $(json_num "$line" 200) -ne $direct_requests || $(stat_of "$line" errors) -ne 0 || $(stat_of "$sink_stats" received) -ne $direct_requests \
          || $(stat_of "$sink_stats" valid) -ne $direct_requests || $(stat_of "$sink_stats" distinct) -ne $direct_requests ]]; then
        fail "direct ($1): not every request answered 200 and counted once as valid at the sink"
    fi
}

# progress_ok LABEL PHONE N: after a sink_poll in a scenario's loop; false, with a FAIL and the
# state of the events, once $deadline passed or the sink got nothing new for --stall-timeout s.
progress_ok() {
    local why=""
    if [[ $sink_n -ne $last_n ]]; then
        last_n=$sink_n
        last_progress=$EPOCHSECONDS
    fi
    (( EPOCHSECONDS - last_progress < stall_timeout )) || why="nothing new at the sink for ${stall_timeout}s"
    (( EPOCHSECONDS < deadline )) || why="not done within ${drain_timeout}s"
    [[ -n $why ]] || return 0
    fail "$1: $why: the sink has $sink_n of $3"
    log "  events: $(events_of "$2") (rows, pending, delivered, dead, attempts); endpoints: $(q "SELECT coalesce(string_agg(url || ' failures ' || failures || ' retry_at ' || retry_at || ' ' || last_error, '; '), 'none') FROM wagate.event_endpoints")"
    return 1
}

# gaps NAME: the gaps between consecutive arrivals at the sink NAME (its arrival log): how
# evenly the deliveries flow. Idle stretches (a claim loop waiting for its next poll, a back-off)
# show as many long gaps.
gaps() {
    awk -F'\t' 'NR > 1 { printf "%.3f\n", ($3 - p) / 1000 } { p = $3 }' "$state/sink-$1.tsv" | sort -g \
        | awk '{ v[NR] = $1; if ($1 >= 50) { long++; lsum += $1 } }
            function at(q,  i) { i = int(NR * q) + 1; return v[i > NR ? NR : i] }
            END {
                if (NR == 0) { print "gaps between arrivals: none"; exit }
                printf "gaps between consecutive arrivals: median %.3f ms, p90 %.3f ms, p99 %.1f ms, max %.1f ms; %d gaps of 50 ms or more add up to %.1f s",
                       at(0.5), at(0.9), at(0.99), v[NR], long, lsum / 1000 }'
}

# --- the audit of a scenario -----------------------------------------------------------------------
# audit LABEL PHONE EXPECTED SINK_NAME: the sink's counters (in $sink_stats) and its arrival log
# against wagate.events.
audit() {
    local label=$1 phone=$2 n=$3 name=$4 k v row
    for k in received valid distinct; do
        v=$(stat_of "$sink_stats" "$k")
        [[ $v -eq $n ]] || fail "$label: the sink counted $k $v, expected $n"
    done
    for k in duplicates invalid_signature missing_signature no_content_length chunked non_ascii other_content_type other_requests; do
        v=$(stat_of "$sink_stats" "$k")
        [[ $v -eq 0 ]] || fail "$label: the sink counted $k $v, expected 0"
    done
    read -r ev_total ev_pending ev_delivered ev_dead ev_attempts < <(events_of "$phone")
    [[ $ev_total -eq $n && $ev_delivered -eq $n ]] \
        || fail "$label: wagate.events has $ev_total rows for $phone ($ev_delivered delivered, $ev_pending pending, $ev_dead dead), expected $n delivered"
    # Arrivals against events, by wamid: each event arrived once, nothing else arrived, and per
    # ordering key (one user) the arrivals are in event id order.
    q "SET client_min_messages = warning; DROP TABLE IF EXISTS bench_arrivals; CREATE TABLE bench_arrivals (seq bigint, wamid text, at_us bigint, valid int)" >/dev/null
    psql "$dsn" -qAtX -v ON_ERROR_STOP=1 -c "\\copy bench_arrivals FROM '$state/sink-$name.tsv'" >/dev/null
    row=$(q "WITH ev AS (SELECT id, ordering_key, payload #>> '{entry,0,changes,0,value,messages,0,id}' AS wamid
                         FROM wagate.events WHERE phone_number_id = '$phone'),
                  a AS (SELECT wamid, min(seq) AS seq, count(*) AS n FROM bench_arrivals WHERE valid = 1 GROUP BY wamid),
                  j AS (SELECT ev.id, ev.ordering_key, a.seq, a.n FROM ev LEFT JOIN a USING (wamid))
             SELECT (SELECT count(*) FROM j WHERE seq IS NULL) || ' ' || (SELECT count(*) FROM j WHERE n > 1) || ' ' ||
                    (SELECT count(*) FROM a WHERE NOT EXISTS (SELECT 1 FROM ev WHERE ev.wamid = a.wamid)) || ' ' ||
                    (SELECT count(*) FROM (SELECT seq, lag(seq) OVER (PARTITION BY ordering_key ORDER BY id) AS prev
                                           FROM j WHERE seq IS NOT NULL) o WHERE prev > seq) || ' ' ||
                    (SELECT count(DISTINCT ordering_key) FROM ev) || ' ' || (SELECT count(*) FROM ev WHERE ordering_key IS NULL)")
    read -r a_missing a_twice a_unknown a_disorder a_keys a_nokey <<<"$row"
    log "  audit: sink received $(stat_of "$sink_stats" received), valid $(stat_of "$sink_stats" valid), distinct $(stat_of "$sink_stats" distinct), duplicates $(stat_of "$sink_stats" duplicates), invalid $(stat_of "$sink_stats" invalid_signature), missing signature $(stat_of "$sink_stats" missing_signature), no Content-Length $(stat_of "$sink_stats" no_content_length), chunked $(stat_of "$sink_stats" chunked), non-ASCII $(stat_of "$sink_stats" non_ascii); events $ev_total ($ev_delivered delivered, $ev_pending pending, $ev_dead dead, $ev_attempts attempts); by wamid: never arrived $a_missing, arrived twice $a_twice, unknown arrivals $a_unknown; $a_keys ordering keys ($a_nokey events without one), arrivals out of id order within a key: $a_disorder"
    [[ $a_missing -eq 0 && $a_twice -eq 0 && $a_unknown -eq 0 && $a_disorder -eq 0 && $a_nokey -eq 0 ]] \
        || fail "$label: arrivals do not match the events exactly once and in order (see the audit line)"
    [[ $a_keys -eq $(( $5 )) ]] || fail "$label: $a_keys ordering keys, expected $5 (one per user)"
}

# cpu_summary BEFORE AFTER SINK_BEFORE SINK_AFTER N -> sets c_w c_p c_s (s per 1,000 events)
# and logs the CPU line
cpu_summary() {
    read -r c_w c_p c_s < <(awk -v b="$1" -v a="$2" -v sb="$3" -v sa="$4" -v n="$5" -v hz="$clk_tck" 'BEGIN {
        split(b, x, " "); split(a, y, " ");
        printf "%.3f %.3f %.3f\n", 1000 * (y[1] - x[1]) / hz / n, 1000 * (y[2] - x[2]) / hz / n, 1000 * (sa - sb) / hz / n }')
    log "  $(awk -v b="$1" -v a="$2" -v sb="$3" -v sa="$4" -v n="$5" -v hz="$clk_tck" -v cores="$(nproc)" 'BEGIN {
        split(b, x, " "); split(a, y, " "); w = (y[1] - x[1]) / hz; p = (y[2] - x[2]) / hz; s = (sa - sb) / hz; m = (y[3] - x[3]) / hz; t = y[4] - x[4]; c = t * cores;
        printf "cpu: wagate %.2f s, postgres %.2f s, sink %.2f s; per 1,000 events: wagate %.3f s, postgres %.3f s, sink %.3f s; as a share of a core over %.1f s: wagate %.0f%%, postgres %.0f%%, sink %.0f%%; machine busy %.2f of %.2f core-s (the rest, the posting client, the polls and anything else: %.2f s)",
               w, p, s, 1000 * w / n, 1000 * p / n, 1000 * s / n, t, 100 * w / t, 100 * p / t, 100 * s / t, m, c, m - w - p - s }')"
}

run_direct "before A"

# ==================================================================================================
# A. live: the sink up, webhooks posted, events delivered as they are written
# ==================================================================================================
a_port=$(free_port)
set_callback "$phone_a" "http://127.0.0.1:$a_port/events"
start_sink A "$a_port"
q "CHECKPOINT" >/dev/null
log_step "A: live delivery" ", $events inbound messages posted ($(( (events + per_body - 1) / per_body )) webhook POSTs) while the sink is up"
wal_before=$(q "SELECT pg_current_wal_lsn()")
before=$(cpu_snapshot)
sb=$(proc_cpu_ticks "$sink_pid")
t0=$(now_s)
t0_us=$(now_us)
post_inbound "$phone_a" "$events" "$users_a" EVA "$state/post-a.json" &
post_pid=$!
posting=1
t_written=""
t_delivered=""
deadline=$(awk -v t="$t0" -v d="$drain_timeout" 'BEGIN { printf "%d", t + d }')
last_n=-2
while :; do
    if [[ $posting -eq 1 ]] && ! kill -0 "$post_pid" 2>/dev/null; then
        wait "$post_pid" || { echo "events.sh: the posting client failed" >&2; exit 1; }
        posting=0
        check_posted "$state/post-a.json" $(( (events + per_body - 1) / per_body ))
    fi
    if [[ $posting -eq 0 && -z $t_written ]] && webhooks_done; then
        t_written=$(now_s)
    fi
    sink_poll "$a_port"
    if [[ $sink_n -ge $events && -n $t_written ]]; then
        poll_query "SELECT count(*) FROM wagate.events WHERE phone_number_id = '$phone_a' AND state = 'pending';"
        if [[ $poll_answer -eq 0 ]]; then
            t_delivered=$(now_s)
            break
        fi
    fi
    progress_ok A "$phone_a" "$events" || break
    sleep 0.1
done
after=$(cpu_snapshot)
sa=$(proc_cpu_ticks "$sink_pid")
wal_after=$(q "SELECT pg_current_wal_lsn()")
sleep 0.3   # a duplicate would arrive now
stop_sink A
post_line=$(cat "$state/post-a.json")
log "$post_line"
log "  sink: $sink_stats"
read -r a_total _ _ _ a_attempts < <(events_of "$phone_a")
a_first=$(stat_of "$sink_stats" first_us)
a_last=$(stat_of "$sink_stats" last_us)
a_rate=$(stat_of "$sink_stats" rate)
a_post_s=$(us_secs "$(stat_of "$post_line" first_send_us)" "$(stat_of "$post_line" last_answer_us)")
a_post_rate=$(per_s "$events" "$a_post_s")
a_written_s=$(secs "$t0" "${t_written:-$t0}")
a_written_rate=$(per_s "$events" "$a_written_s")
a_e2e_s=$(us_secs "$t0_us" "$a_last")
a_e2e_rate=$(per_s "$events" "$a_e2e_s")
a_db_s=$(secs "$t0" "${t_delivered:-$t0}")
log "  ingest: $events messages accepted (200, raw body committed) in $a_post_s s: $a_post_rate messages/s; every webhook processed (events written) $a_written_s s after the start: $a_written_rate events/s"
log "  delivered at the sink: first arrival $(us_secs "$t0_us" "$a_first") s after the start, last $a_e2e_s s: $a_rate events/s first to last arrival, $a_e2e_rate events/s from the first POST; the database had every event delivered $a_db_s s after the start (polled); the last arrival came $(us_secs "$(stat_of "$post_line" last_answer_us)" "$a_last") s after the last webhook was accepted"
log "  arrivals per second at the sink: $(grep -o '"per_second":\[[0-9,]*\]' <<<"$sink_stats" | sed 's/.*\[//; s/\]//')"
a_gaps="$(gaps A) (of $(us_secs "$a_first" "$a_last") s from the first arrival to the last)"
log "  $a_gaps"
cpu_summary "$before" "$after" "$sb" "$sa" "$events"
a_cpu_w=$c_w a_cpu_p=$c_p a_cpu_s=$c_s
log "  db: WAL $(q "SELECT round(pg_wal_lsn_diff('$wal_after', '$wal_before') / $events)") bytes per event (ingest and delivery); $(q "SELECT count(*) || ' events recorded delivered in ' || count(DISTINCT finished_at) || ' commits (' || round(count(*)::numeric / greatest(count(DISTINCT finished_at), 1), 1) || ' per commit)' FROM wagate.events WHERE phone_number_id = '$phone_a' AND state = 'delivered'"); attempts $a_attempts for $a_total events"
audit A "$phone_a" "$events" A "$users_a"

# ==================================================================================================
# B. outage: a backlog written while the callback URL refuses connections, then the sink starts
# ==================================================================================================
stop_wagate
q "TRUNCATE wagate.events, wagate.event_endpoints" >/dev/null
q "VACUUM ANALYZE wagate.events" >/dev/null
start_wagate
stop_poller
start_poller
b_port=$(free_port)
while [[ $b_port == "$port" || $b_port == "$a_port" ]]; do b_port=$(free_port); done
b_url=http://127.0.0.1:$b_port/events
set_callback "$phone_b" "$b_url"
q "CHECKPOINT" >/dev/null
log_step "B: outage backlog, loading" ", $backlog inbound messages posted ($(( (backlog + per_body - 1) / per_body )) POSTs); nobody listens on $b_url"
before=$(cpu_snapshot)
t_load=$(now_s)
post_inbound "$phone_b" "$backlog" "$users_b" EVB "$state/post-b.json"
check_posted "$state/post-b.json" $(( (backlog + per_body - 1) / per_body ))
post_line=$(cat "$state/post-b.json")
log "$post_line"
deadline=$(( $(date +%s) + drain_timeout ))
until webhooks_done; do
    (( $(date +%s) < deadline )) || { fail "B: webhooks not processed within ${drain_timeout}s"; exit 1; }
    sleep 0.1
done
t_loaded=$(now_s)
after=$(cpu_snapshot)
b_post_s=$(us_secs "$(stat_of "$post_line" first_send_us)" "$(stat_of "$post_line" last_answer_us)")
log "  ingest (the deliverer only probing): $backlog messages accepted in $b_post_s s: $(per_s "$backlog" "$b_post_s") messages/s; every webhook processed $(secs "$t_load" "$t_loaded") s after the start: $(per_s "$backlog" "$(secs "$t_load" "$t_loaded")") events/s"
log "  $(awk -v b="$before" -v a="$after" -v n="$backlog" -v hz="$clk_tck" 'BEGIN { split(b, x, " "); split(a, y, " ");
    printf "cpu of the loading: wagate %.2f s, postgres %.2f s; per 1,000 events: wagate %.3f s, postgres %.3f s", (y[1] - x[1]) / hz, (y[2] - x[2]) / hz, 1000 * (y[1] - x[1]) / hz / n, 1000 * (y[2] - x[2]) / hz / n }')"
for _ in $(seq 100); do
    [[ $(q "SELECT count(*) FROM wagate.event_endpoints WHERE url = '$b_url' AND failures > 0") -eq 1 ]] && break
    sleep 0.1
done
if [[ $outage_hold -gt 0 ]]; then
    log "  holding the outage $outage_hold s more"
    sleep "$outage_hold"
fi
read -r b_total b_pending _ _ b_attempts_down < <(events_of "$phone_b")
b_tried=$(q "SELECT count(*) FROM wagate.events WHERE phone_number_id = '$phone_b' AND attempts > 0")
b_endpoint=$(q "SELECT 'failures ' || failures || ', next probe in ' || round(extract(epoch FROM retry_at - clock_timestamp())::numeric, 3) || ' s, last error: ' || last_error FROM wagate.event_endpoints WHERE url = '$b_url'")
b_down_s=$(secs "$t_load" "$(now_s)")
log "  before the sink starts ($b_down_s s after the first POST): $b_total events, $b_pending pending; attempts so far $b_attempts_down, on $b_tried events; event_endpoints: ${b_endpoint:-NO ROW}"
[[ $b_total -eq $backlog && $b_pending -eq $backlog ]] || fail "B: expected $backlog pending events before the sink starts, found $b_total rows, $b_pending pending"
[[ -n $b_endpoint ]] || fail "B: wagate.event_endpoints has no failing row for $b_url"

log_step "B: drain after the outage" ", sink started on $b_url"
wal_before=$(q "SELECT pg_current_wal_lsn()")
xact_before=$(q "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
before=$(cpu_snapshot)
ts=$(now_s)
ts_us=$(now_us)
start_sink B "$b_port"
sb=$(proc_cpu_ticks "$sink_pid")
t_delivered=""
polls=0
deadline=$(awk -v t="$ts" -v d="$drain_timeout" 'BEGIN { printf "%d", t + d }')
last_n=-2
while :; do
    sink_poll "$b_port"
    if [[ $sink_n -ge $backlog ]]; then
        poll_query "SELECT count(*) FROM wagate.events WHERE phone_number_id = '$phone_b' AND state = 'pending';"
        polls=$((polls + 1))
        if [[ $poll_answer -eq 0 ]]; then
            t_delivered=$(now_s)
            break
        fi
    fi
    progress_ok B "$phone_b" "$backlog" || break
    sleep 0.1
done
after=$(cpu_snapshot)
sa=$(proc_cpu_ticks "$sink_pid")
wal_after=$(q "SELECT pg_current_wal_lsn()")
sleep 0.3
stop_sink B
# Backends report their commit counts when they exit (or about once a second): stop the gateway
# and restart the poller's session before reading them.
stop_wagate
stop_poller
start_poller
xact_after=$(q "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
log "  sink: $sink_stats"
b_first=$(stat_of "$sink_stats" first_us)
b_last=$(stat_of "$sink_stats" last_us)
b_rate=$(stat_of "$sink_stats" rate)
b_probe_wait=$(us_secs "$ts_us" "$b_first")
b_drain_s=$(us_secs "$ts_us" "$b_last")
b_drain_rate=$(per_s "$backlog" "$b_drain_s")
b_db_s=$(secs "$ts" "${t_delivered:-$ts}")
read -r _ _ _ _ b_attempts_end < <(events_of "$phone_b")
log "  drain: first arrival $b_probe_wait s after the sink started (the wait for the next probe), last $b_drain_s s: $backlog events in $b_drain_s s = $b_drain_rate events/s from the sink's start; $b_rate events/s first to last arrival; the database had every event delivered $b_db_s s after the sink started (polled)"
log "  arrivals per second at the sink: $(grep -o '"per_second":\[[0-9,]*\]' <<<"$sink_stats" | sed 's/.*\[//; s/\]//')"
b_gaps="$(gaps B) (of $(us_secs "$b_first" "$b_last") s from the first arrival to the last)"
log "  $b_gaps"
cpu_summary "$before" "$after" "$sb" "$sa" "$backlog"
b_cpu_w=$c_w b_cpu_p=$c_p b_cpu_s=$c_s
read -r b_results b_commits < <(q "SELECT count(*), count(DISTINCT finished_at) FROM wagate.events WHERE phone_number_id = '$phone_b' AND state = 'delivered'" | tr '|' ' ')
log "  db: WAL $(q "SELECT round(pg_wal_lsn_diff('$wal_after', '$wal_before') / $backlog)") bytes per event; $b_results events recorded delivered in $b_commits commits ($(awk -v r="$b_results" -v c="$b_commits" 'BEGIN { printf "%.1f", (c > 0 ? r / c : 0) }') per commit); about $(( xact_after - xact_before - polls - 4 - b_commits )) other transactions, mostly claims ($(awk -v r="$backlog" -v c="$(( xact_after - xact_before - polls - 4 - b_commits ))" 'BEGIN { printf "%.1f", (c > 0 ? r / c : 0) }') events per claim; includes the gateway's background work and shutdown); attempts in all $b_attempts_end for $backlog events ($(( b_attempts_end - backlog )) not acknowledged)"
audit B "$phone_b" "$backlog" B "$users_b"

run_direct "after B"

# --- end ---------------------------------------------------------------------------------------------
log_checkpoints
gw_log_lines=$(cat "$state"/wagate-*.log 2>/dev/null | wc -l)
log "gateway logs (level ${WAGATE_LOG_LEVEL:-warn}, $gw_starts starts): $gw_log_lines lines"
cat "$state"/wagate-*.log 2>/dev/null | head -5 | sed 's/^/  /' | tee -a "$out"

direct_mean=$(mean_of "${d_rates[@]}")
log ""
log "## summary ($stamp)"
{
    row() { printf '%-62s %10s %12s %12s %12s\n' "$@"; }
    echo "CPU seconds per 1,000 events (requests, for the direct runs); rates first to last arrival at the sink:"
    row "measurement" "per second" "wagate cpu" "postgres cpu" "sink cpu"
    row "direct: client -> sink c$concurrency (before A)" "${d_rates[0]}" "-" "-" "${d_sink_cpu[0]}"
    row "A live: delivered ($events events, ingest running)" "$a_rate" "$a_cpu_w" "$a_cpu_p" "$a_cpu_s"
    row "  A: webhook ingest, messages accepted" "$a_post_rate" "" "" ""
    row "  A: events written (every webhook processed)" "$a_written_rate" "" "" ""
    row "  A: delivered, from the first POST to the last arrival" "$a_e2e_rate" "" "" ""
    row "B drain: delivered after the outage ($backlog events)" "$b_rate" "$b_cpu_w" "$b_cpu_p" "$b_cpu_s"
    row "  B: from the sink's start to the last arrival" "$b_drain_rate" "" "" ""
    row "direct: client -> sink c$concurrency (after B)" "${d_rates[1]}" "-" "-" "${d_sink_cpu[1]}"
    echo
    echo "A delivered/s / direct/s (mean $direct_mean): $(ratio4 "$a_rate" "$direct_mean"); B drain/s / direct/s: $(ratio4 "$b_rate" "$direct_mean")"
    echo "A delivered/s / events written/s: $(ratio4 "$a_rate" "$a_written_rate") (A's last arrival $(us_secs "$(stat_of "$(cat "$state/post-a.json")" last_answer_us)" "$a_last") s after the last webhook was accepted)"
    echo "B outage: $backlog events pending after $b_down_s s down; attempts while down: $b_attempts_down (on $b_tried events); drain time $b_drain_s s from the sink's start (first arrival after $b_probe_wait s), $b_rate events/s first to last arrival"
    echo "A $a_gaps"
    echo "B $b_gaps"
    echo "audit (each event delivered once, signed, ASCII, Content-Length, in order per user; every row delivered): $check"
} | tee -a "$out"
log "results: $out"
[[ $check == PASS ]]
