#!/usr/bin/env bash
# Two wagate instances against one instance, on one PostgreSQL (docs/scale-out.md): do they share
# work correctly (nothing lost, nothing sent twice, a messaging limit exact across instances),
# and what does coordinating through the database cost? On this 2-core machine two instances
# cannot be faster in CPU terms than one; the ratios show the overhead, not a speed-up.
# Every number is a ratio against the one-instance run measured in the same run, in alternating
# rounds (1, 2, then 2, 1, ...), because the machine is shared and noisy. Durable (fsync on)
# PostgreSQL of its own, `wagate sandbox` (status webhooks off) as Meta.
#
# Thread variants (--variants), both run by default:
#   equal   - one instance with WAGATE_THREADS=2 against two with WAGATE_THREADS=1 each: the same
#             number of I/O threads as there are cores (the fair comparison on 2 cores);
#   default - WAGATE_THREADS=2 for every instance (the default setting): two instances run 4
#             threads on 2 cores.
# Every instance has the default WAGATE_DB_POOL (8) and WAGATE_COMMIT_WRITERS (2): two instances
# hold up to twice the connections and commits in flight. The total client load is the same:
#
# 1. Budget (correctness): a business at TIER_1K with two numbers; two instances at once, each
#    sending --budget-requests templates (default 1,500) to distinct new users through its own
#    number. Exactly 1,000 must be answered 200 and every other answer must be 429 900100;
#    limit_counts must hold 1,000 distinct users and businesses.limit_used must be 1,000.
# 2. Relay drain: --messages queued messages (default 30,000, distinct users, loaded through the
#    send API with the relay off), then drained into the sandbox by one instance with
#    WAGATE_RELAY_CONCURRENCY=C (--relay-concurrency, default 64), or by two instances with C/2
#    each, started together and timed until relay_queue is empty. Pacing modes (--pacing-modes):
#    "off" (WAGATE_RELAY_PACING=false: raw claims) and "on" (pacing on, the number's
#    throughput_mps set to 1,000,000: every claim locks the number's relay_pacing row and writes
#    relay_pair_pacing, the rows the instances share, without the rate holding anything back).
#    Audit per drain: the sandbox accepted exactly N sends; at the end: every message of the
#    drain number has a wamid, the sandbox's wamids are distinct and exactly the database's.
#    Each instance's wagate_relay_sends_total{outcome="accepted"} shows how the work was split.
# 3. Event delivery drain: --events pending events (default 10,000: inbound messages, 10 per
#    user, posted as signed Meta webhooks to an instance with event delivery off) for one callback
#    URL (bench/event_sink), delivered by one instance with WAGATE_EVENT_CONCURRENCY_PER_URL=16 or
#    two with 8 each. Audit: each event arrived once with a valid signature, and per user in event
#    id order (the per-message/per-user order across instances); the instances' counters add up.
# 4. Send API: in-window texts, closed loop, --connections C in all (default 64): one instance
#    with one loadgen (C connections, 2 loadgen threads), or two instances each with its own
#    loadgen (C/2 connections, 1 thread each) run at the same time; rps summed. Audit: messages
#    of the number = 200 answers (warmups included), no answer other than 200.
#
#   bash bench/scale_out.sh [--rounds 2] [--duration 10] [--warmup 2] [--connections 64]
#                           [--messages 30000] [--relay-concurrency 64] [--variants "equal default"]
#                           [--pacing-modes "off on"] [--budget-requests 1500] [--events 10000]
#                           [--no-budget] [--no-relay] [--no-events] [--no-send] [--drain-timeout 300]
#                           [--build-dir build-bench] [--wagate PATH] [--pg-set NAME=VALUE]...
#                           [--quick]
#
# --quick (first; later options override it): --rounds 1 --duration 4 --warmup 1 --messages 10000
# --events 2000 --variants equal. --build-dir DIR (default build-bench): DIR/wagate is used (built there,
# Release, when missing) and DIR/bench/loadgen is built by bench/build.sh. WAGATE_DB_POOL and the
# other WAGATE_* tuning variables in the environment reach every instance unchanged (not
# WAGATE_THREADS, WAGATE_RELAY*, which the variants set). Everything it starts (a PostgreSQL
# cluster in /tmp, instances and the sandbox on free loopback ports) is stopped on exit, also on
# failure or Ctrl-C. 7.5-10 minutes with the defaults on the shared 2-core machine. Results: stdout and
# bench/results/scale_out-*.txt.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bench_name=scale_out.sh
source bench/lib.sh

rounds=2
duration=10
warmup=2
connections=64
messages=30000
relay_concurrency=64
variants="equal default"
pacing_modes="off on"
budget_requests=1500
events=10000
do_budget=1
do_events=1
do_relay=1
do_send=1
drain_timeout=300
build_dir=$root/build-bench
wagate_bin=${WAGATE_BIN:-}
pg_sets=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) rounds=1 duration=4 warmup=1 messages=10000 events=2000 variants=equal ;;
        --rounds) rounds=$2; shift ;;
        --duration) duration=$2; shift ;;
        --warmup) warmup=$2; shift ;;
        --connections) connections=$2; shift ;;
        --messages) messages=$2; shift ;;
        --relay-concurrency) relay_concurrency=$2; shift ;;
        --variants) variants=$2; shift ;;
        --pacing-modes) pacing_modes=$2; shift ;;
        --budget-requests) budget_requests=$2; shift ;;
        --no-budget) do_budget=0 ;;
        --no-relay) do_relay=0 ;;
        --events) events=$2; shift ;;
        --no-events) do_events=0 ;;
        --no-send) do_send=0 ;;
        --drain-timeout) drain_timeout=$2; shift ;;
        --build-dir) build_dir=$(cd "$2" 2>/dev/null && pwd || echo "$2"); shift ;;
        --wagate) wagate_bin=$2; shift ;;
        --pg-set) add_pg_set "$2"; shift ;;
        -h|--help) sed -n '2,56p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "scale_out.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
int_in rounds "$rounds" 1 10
int_in duration "$duration" 1 600
int_in warmup "$warmup" 0 60
int_in connections "$connections" 2 1024
int_in messages "$messages" 100 100000
int_in relay-concurrency "$relay_concurrency" 2 4096
int_in budget-requests "$budget_requests" 1001 100000
int_in drain-timeout "$drain_timeout" 10 3600
int_in events "$events" 100 200000
(( events % 100 == 0 )) || { echo "scale_out.sh: --events must be a multiple of 100" >&2; exit 2; }
(( connections % 2 == 0 )) || { echo "scale_out.sh: --connections must be even (split over two instances)" >&2; exit 2; }
(( relay_concurrency % 2 == 0 )) || { echo "scale_out.sh: --relay-concurrency must be even" >&2; exit 2; }
for v in $variants; do
    [[ $v == equal || $v == default ]] || { echo "scale_out.sh: --variants \"equal default\" (one or both)" >&2; exit 2; }
done
for m in $pacing_modes; do
    [[ $m == off || $m == on ]] || { echo "scale_out.sh: --pacing-modes \"off on\" (one or both)" >&2; exit 2; }
done
wagate_bin=${wagate_bin:-$build_dir/wagate}

find_bench_tools
build_wagate_if_missing Release
"$wagate_bin" help 2>&1 | grep -q '^ *sandbox' \
    || { echo "scale_out.sh: $wagate_bin has no sandbox command (an older build?)" >&2; exit 1; }
BENCH_BUILD_DIR=$build_dir bash bench/build.sh >&2
loadgen=$build_dir/bench/loadgen
sink_bin=$build_dir/bench/event_sink

open_results scale_out

state=$(mktemp -d /tmp/wagate-scaleout.XXXXXX)
sandbox_pid=""
esink_pid=""
poll_pid=""
declare -A gw_pid=()     # instance name -> pid
declare -A gw_port=()    # instance name -> port
declare -A gw_args=()    # instance name -> its launch arguments
declare -A gw_log=()     # instance name -> its log file
gw_starts=0
cleanup() {
    local rc=$?
    set +e
    stop_poller
    stop_all_gateways
    stop_pid "$esink_pid"
    stop_pid "$sandbox_pid"
    local f kept=""
    for f in "$state"/gw-*.log "$state"/sandbox.log; do
        if [[ -s $f ]]; then
            { echo "==> $(basename "$f")"; cat "$f"; } >>"${out%.txt}.wagate.log"
            kept=1
        fi
    done
    [[ -n $kept ]] && echo "scale_out.sh: non-empty gateway/sandbox logs kept in ${out%.txt}.wagate.log" >&2
    finish_bench "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

q() { psql "$dsn" -AtX -v ON_ERROR_STOP=1 -c "$1"; }
now_s() { date +%s.%N; }
mean_of() { printf '%s\n' "$@" | awk '{ s += $1; n++ } END { if (n) printf "%.1f", s / n; else print 0 }'; }
mean_ratio() { printf '%s\n' "$@" | awk '$1 != "n/a" { s += $1; n++ } END { if (n) printf "%.2f", s / n; else print "n/a" }'; }
cost_ratio() {  # cost_ratio W2 P2 W1 P1 -> (W2 + P2) / (W1 + P1), CPU per message of 2 instances over 1
    awk -v a="$1" -v b="$2" -v c="$3" -v d="$4" 'BEGIN { if (c + d > 0) printf "%.2f", (a + b) / (c + d); else print "n/a" }'
}
secs() { awk -v t="$1" -v hz="$clk_tck" 'BEGIN { printf "%.2f", t / hz }'; }

check=PASS
fail() { log "  FAIL: $*"; check=FAIL; }

# --- the queue poller (one psql session kept open, as in bench/relay.sh) -------------------------
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
poll_query() {
    local line
    printf '%s\n' "$1" >&"${POLLER[1]}"
    IFS= read -r -t 30 line <&"${POLLER[0]}" || { echo "scale_out.sh: the polling psql did not answer" >&2; return 1; }
    printf '%s\n' "$line"
}

# --- instances -----------------------------------------------------------------------------------
# launch NAME THREADS RELAY(true|false) PACING(true|false) RELAY_CONCURRENCY [EVENT_DELIVERY
# (default false) EVENT_CONCURRENCY_PER_URL (default 16)]: starts `wagate serve` on a free port
# without waiting (wait_ready does); every instance migrates at start, under the migrator's
# advisory lock, so two started together also exercise that.
launch() {
    local name=$1 p
    p=$(free_port)
    while [[ $p == "${sandbox_port:-}" || " ${gw_port[*]} " == *" $p "* ]]; do p=$(free_port); done
    gw_starts=$((gw_starts + 1))
    gw_args[$name]="$*"
    gw_log[$name]=$state/gw-$gw_starts-$name.log
    WAGATE_DATABASE_URL=$dsn WAGATE_LISTEN=127.0.0.1:$p WAGATE_ADMIN_TOKEN=$admin_token \
        WAGATE_THREADS=$2 WAGATE_RELAY=$3 WAGATE_RELAY_PACING=$4 WAGATE_RELAY_CONCURRENCY=$5 \
        WAGATE_UPSTREAM_URL=$sandbox_url WAGATE_UPSTREAM_ALLOW_HTTP=true \
        WAGATE_EVENT_DELIVERY=${6:-false} WAGATE_EVENT_CONCURRENCY_PER_URL=${7:-16} WAGATE_EVENT_ALLOW_HTTP=true \
        WAGATE_EVENT_RETRY_BASE_MS=200 WAGATE_EVENT_RETRY_MAX_MS=2000 WAGATE_META_APP_SECRETS=$app_secret \
        WAGATE_LOG_LEVEL=${WAGATE_LOG_LEVEL:-warn} "$wagate_bin" serve >"${gw_log[$name]}" 2>&1 &
    gw_pid[$name]=$!
    gw_port[$name]=$p
}
# relaunch_if_port_taken NAME: an instance that exited because another process took its port
# between free_port and its bind (free_port's race, on a machine shared with others) is started
# again on a new port; true when it was.
relaunch_if_port_taken() {
    local name=$1
    kill -0 "${gw_pid[$name]}" 2>/dev/null && return 1
    grep -q 'Address already in use' "${gw_log[$name]}" 2>/dev/null || return 1
    log "  (instance $name lost its port to another process at start; started again on a new one)"
    wait "${gw_pid[$name]}" 2>/dev/null || true
    unset "gw_port[$name]"
    # shellcheck disable=SC2086
    launch ${gw_args[$name]}
}
wait_ready() {  # wait_ready NAME: /healthz within 30 s, or exit 1
    local name=$1
    for _ in $(seq 300); do
        curl -sf -m 1 "http://127.0.0.1:${gw_port[$name]}/healthz" >/dev/null 2>&1 && return 0
        if ! kill -0 "${gw_pid[$name]}" 2>/dev/null; then
            relaunch_if_port_taken "$name" && continue
            echo "scale_out.sh: instance $name exited during start:" >&2
            tail -20 "${gw_log[$name]}" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "scale_out.sh: instance $name did not answer /healthz within 30 s" >&2
    exit 1
}
# check_alive NAME...: during a drain, an instance that died is started again if it lost its
# port, else the run stops (a drain would otherwise wait for its timeout).
check_alive() {
    local name
    for name in "$@"; do
        kill -0 "${gw_pid[$name]}" 2>/dev/null && continue
        relaunch_if_port_taken "$name" && continue
        echo "scale_out.sh: instance $name died:" >&2
        tail -20 "${gw_log[$name]}" >&2
        exit 1
    done
}
stop_gw() {  # stop_gw NAME
    [[ -n ${gw_pid[$1]:-} ]] || return 0
    stop_pid "${gw_pid[$1]}"
    unset "gw_pid[$1]" "gw_port[$1]"
}
stop_all_gateways() {
    local n
    for n in "${!gw_pid[@]}"; do stop_gw "$n"; done
}
relay_accepted_of() {  # relay_accepted_of NAME: its wagate_relay_sends_total{outcome="accepted"}
    curl -sf -m 5 "http://127.0.0.1:${gw_port[$1]}/metrics" 2>/dev/null \
        | awk '/^wagate_relay_sends_total\{outcome="accepted"\}/ { printf "%.0f", $2 }'
}
event_delivered_of() {  # event_delivered_of NAME: its wagate_event_deliveries_total{result="delivered"}
    curl -sf -m 5 "http://127.0.0.1:${gw_port[$1]}/metrics" 2>/dev/null \
        | awk '/^wagate_event_deliveries_total\{result="delivered"\}/ { printf "%.0f", $2 }'
}
relay_released_of() {
    curl -sf -m 5 "http://127.0.0.1:${gw_port[$1]}/metrics" 2>/dev/null \
        | awk '/^wagate_relay_sends_total\{outcome="released"\}/ { printf "%.0f", $2 }'
}
threads_of() {  # threads_of VARIANT INSTANCES -> WAGATE_THREADS per instance
    if [[ $1 == equal && $2 -eq 2 ]]; then echo 1; else echo 2; fi
}

# --- start ---------------------------------------------------------------------------------------
log_run_header "wagate scale-out benchmark: two instances against one"
start_load=$(cut -d' ' -f1-3 /proc/loadavg)
warn_if_binary_is_stale
log "settings: $rounds round(s), alternating 1-2 / 2-1; variants: $variants (equal: 1 x 2 threads vs 2 x 1 thread; default: 2 threads each); db pool ${WAGATE_DB_POOL:-8} and commit writers ${WAGATE_COMMIT_WRITERS:-2} per instance"
log "  send: closed loop, $connections connections in all ($((connections / 2)) per instance with two), ${duration}s after ${warmup}s warmup; relay: $messages messages per drain, $relay_concurrency sends in flight in all ($((relay_concurrency / 2)) per instance with two), pacing modes: $pacing_modes; budget: $([[ $do_budget -eq 1 ]] && echo "2 x $budget_requests templates against TIER_1K" || echo off)"
probe_disk_sync
log "disk: one 8 kB O_DSYNC write (a commit's flush) takes ${disk_us:-?} us here"
start_bench_cluster
log "postgres: max_connections=$(q "SHOW max_connections")"
start_poller

# The sandbox (Meta's stand-in): answers sends, keeps every accepted one, no webhooks.
sandbox_port=$(free_port)
WAGATE_META_APP_SECRETS=bench-sandbox-secret-$RANDOM$RANDOM WAGATE_SANDBOX_LISTEN=127.0.0.1:$sandbox_port \
    WAGATE_SANDBOX_WEBHOOKS=false WAGATE_LOG_LEVEL=${WAGATE_LOG_LEVEL:-warn} "$wagate_bin" sandbox >"$state/sandbox.log" 2>&1 &
sandbox_pid=$!
sandbox_url=http://127.0.0.1:$sandbox_port
for _ in $(seq 300); do
    curl -sf -m 1 "$sandbox_url/sandbox/v1/stats" >/dev/null 2>&1 && break
    kill -0 "$sandbox_pid" 2>/dev/null || { cat "$state/sandbox.log" >&2; echo "scale_out.sh: the sandbox exited during start" >&2; exit 1; }
    sleep 0.1
done
sandbox_stats() { curl -sf -m 10 "$sandbox_url/sandbox/v1/stats"; }
sandbox_accepted() { json_num "$(sandbox_stats)" accepted; }
log "sandbox: $sandbox_url (pid $sandbox_pid, webhooks off)"

admin_token=bench-admin-$RANDOM$RANDOM
app_secret=bench-app-secret-$RANDOM$RANDOM$RANDOM
callback_secret=bench-callback-secret-$RANDOM$RANDOM$RANDOM
launch setup 2 false false 64
wait_ready setup
port=${gw_port[setup]}   # admin() of bench/lib.sh talks to $port

# Tenants. bench-biz (TIER_UNLIMITED): the relay's and the send step's numbers, whose recipients'
# windows are opened in bulk. lim-biz (TIER_1K): two numbers, one per instance, one budget.
token=bench-token-$RANDOM
relay_phone=15550000001
send_phone=15550000002
lim_phones=(15550000201 15550000202)
tpl_definition='{"category":"UTILITY","status":"APPROVED","components":[{"type":"BODY","text":"Your code is {{1}}"}]}'
admin PUT /admin/v1/businesses/bench-biz '{"messaging_limit_tier":"TIER_UNLIMITED"}' >/dev/null
for p in "$relay_phone" "$send_phone"; do
    admin PUT "/admin/v1/phone-numbers/$p" "{\"business_id\":\"bench-biz\",\"waba_id\":\"bench-waba\",\"require_opt_in\":false,\"access_token\":\"$token\"}" >/dev/null
done
admin PUT /admin/v1/businesses/lim-biz '{"messaging_limit_tier":"TIER_1K"}' >/dev/null
for p in "${lim_phones[@]}"; do
    admin PUT "/admin/v1/phone-numbers/$p" "{\"business_id\":\"lim-biz\",\"waba_id\":\"lim-waba\",\"require_opt_in\":false,\"access_token\":\"$token\"}" >/dev/null
done
admin PUT /admin/v1/templates/lim-waba/bench_code/en_US "$tpl_definition" >/dev/null
key=$(admin POST /admin/v1/api-keys "{\"name\":\"bench\",\"phone_number_ids\":[\"$relay_phone\",\"$send_phone\",\"${lim_phones[0]}\",\"${lim_phones[1]}\"]}" \
    | sed -nE 's/.*"key":"([^"]+)".*/\1/p')
[[ -n $key ]] || { echo "scale_out.sh: could not create an API key" >&2; exit 1; }
text_users=100000
q "INSERT INTO wagate.contacts (phone_number_id, wa_id, last_inbound_at)
   SELECT p, '1555' || lpad(i::text, 7, '0'), now()
   FROM unnest(ARRAY['$relay_phone', '$send_phone']) AS p, generate_series(0, $text_users - 1) AS i;
   ANALYZE wagate.contacts" >/dev/null
body=$state/text_body.json
printf '%s' '{"messaging_product":"whatsapp","to":"+1555{{N}}","type":"text","text":{"body":"hello from the wagate scale-out benchmark"}}' >"$body"
log "tenants: bench-biz (TIER_UNLIMITED) with $relay_phone (relay drains) and $send_phone (send step), $text_users recipients each with an open window; lim-biz (TIER_1K) with ${lim_phones[*]}; one API key for all"
stop_gw setup

# ==================================================================================================
# 1. budget: two instances, one business, TIER_1K
# ==================================================================================================
if [[ $do_budget -eq 1 ]]; then
    log_step "budget: 2 instances x $budget_requests templates to new users, one TIER_1K business" ""
    launch b1 1 false false 64
    launch b2 1 false false 64
    wait_ready b1
    wait_ready b2
    for i in 0 1; do
        # Distinct new users per instance: +1666... through the first, +1667... through the second.
        printf '%s' "{\"messaging_product\":\"whatsapp\",\"to\":\"+166$((6 + i)){{N}}\",\"type\":\"template\",\"template\":{\"name\":\"bench_code\",\"language\":{\"code\":\"en_US\"},\"components\":[{\"type\":\"body\",\"parameters\":[{\"type\":\"text\",\"text\":\"482913\"}]}]}}" \
            >"$state/tpl_body_$i.json"
    done
    lg_pids=()
    for i in 0 1; do
        name=b$((i + 1))
        timeout $((drain_timeout + 60)) "$loadgen" --port "${gw_port[$name]}" --method POST --path "/v23.0/${lim_phones[$i]}/messages" \
            --header "Authorization: Bearer $key" --header "Content-Type: application/json" \
            --body-file "$state/tpl_body_$i.json" --unique-to --requests "$budget_requests" --connections 32 \
            --duration 600 --drain 30 --label "budget via $name" >"$state/budget-$i.json" &
        lg_pids+=("$!")
    done
    for pid in "${lg_pids[@]}"; do wait "$pid" || true; done
    b_ok=0 b_429=0 b_other=0
    for i in 0 1; do
        line=$(cat "$state/budget-$i.json")
        log "$line"
        ok=$(ok_count "$line")
        n429=$(( $(json_num "$(measured_part "$line")" 429 || true) + $(json_num "$(warmup_part "$line")" 429 || true) + 0 ))
        nonok=$(non_ok_count "$line")
        log "  instance b$((i + 1)) via ${lim_phones[$i]}: $ok answered 200, $n429 answered 429, $((nonok - n429)) other"
        b_ok=$((b_ok + ok)) b_429=$((b_429 + n429)) b_other=$((b_other + nonok - n429))
    done
    read -r lc_rows lc_users lim_used lim_msgs < <(q "SELECT (SELECT count(*) FROM wagate.limit_counts WHERE business_id = 'lim-biz'),
        (SELECT count(DISTINCT wa_id) FROM wagate.limit_counts WHERE business_id = 'lim-biz'),
        (SELECT limit_used FROM wagate.businesses WHERE id = 'lim-biz'),
        (SELECT count(*) FROM wagate.messages WHERE phone_number_id IN ('${lim_phones[0]}', '${lim_phones[1]}'))" | tr '|' ' ')
    sample=$(curl -s -m 5 -X POST "http://127.0.0.1:${gw_port[b1]}/v23.0/${lim_phones[0]}/messages" -H "Authorization: Bearer $key" \
        -H 'Content-Type: application/json' -d "$(sed 's/{{N}}/9999999/; s/+1666/+1668/' "$state/tpl_body_0.json")" || true)
    stop_gw b1
    stop_gw b2
    q "DELETE FROM wagate.relay_queue WHERE phone_number_id IN ('${lim_phones[0]}', '${lim_phones[1]}')" >/dev/null
    log "  together: $b_ok answered 200 (expected 1000), $b_429 answered 429 (expected $((2 * budget_requests - 1000))), $b_other other; limit_counts of lim-biz: $lc_rows rows for $lc_users distinct users, businesses.limit_used $lim_used, messages of its numbers $lim_msgs"
    log "  one more template to a new user after the run: $sample"
    if [[ $b_ok -ne 1000 || $b_429 -ne $((2 * budget_requests - 1000)) || $b_other -ne 0 || $lc_rows -ne 1000 \
          || $lc_users -ne 1000 || $lim_used -ne 1000 || $lim_msgs -ne 1000 || $sample != *900100* ]]; then
        fail "budget: not exact across two instances (see above)"
    else
        log "  budget exact across two instances: PASS (the 1001st user is refused with 900100; the rows were dequeued, nothing of lim-biz is relayed)"
    fi
fi

# ==================================================================================================
# 2. relay drains: one instance vs two, same queue size, same sends in flight in all
# ==================================================================================================

queue_count() { q "SELECT count(*) FROM wagate.relay_queue"; }

load_queue() {  # load_queue: $messages messages to distinct users of $relay_phone, relay off
    local t0 line ok
    launch loader 2 false false 64
    wait_ready loader
    t0=$(now_s)
    line=$("$loadgen" --port "${gw_port[loader]}" --method POST --path "/v23.0/$relay_phone/messages" \
        --header "Authorization: Bearer $key" --header "Content-Type: application/json" --body-file "$body" \
        --unique-to --to-pool "$messages" --requests "$messages" --connections 64 --duration 600 --drain 30 --label load)
    ok=$(ok_count "$line")
    stop_gw loader
    if [[ $ok -ne $messages || $(non_ok_count "$line") -ne 0 ]]; then
        log "$line"
        echo "scale_out.sh: loading $messages messages got $ok answers 200" >&2
        exit 1
    fi
    q "ANALYZE wagate.relay_queue; ANALYZE wagate.messages" >/dev/null
    [[ $(queue_count) -eq $messages ]] || { echo "scale_out.sh: $(queue_count) rows queued, $messages expected" >&2; exit 1; }
    load_s=$(awk -v a="$t0" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }')
}

declare -A r_rate=() r_span=() r_cpu_w=() r_cpu_p=() r_split=() r_batch=()
relay_sends_file=$state/relay-sends.txt
: >"$relay_sends_file"
drain_total=0
drain_no=0
# drain VARIANT PACING(off|on) INSTANCES ROUND: load, then drain with 1 or 2 instances
drain() {
    local variant=$1 pacing=$2 n=$3 round=$4 threads per label key_ t0 t_empty n_left deadline seq_from seq_to sent
    local before after w_after pacing_flag names=() i first last span split="" dl_before dl_after stuck=0
    threads=$(threads_of "$variant" "$n")
    per=$(( relay_concurrency / n ))
    pacing_flag=$([[ $pacing == on ]] && echo true || echo false)
    label="relay drain, $n instance(s) x $threads thread(s) x $per in flight, pacing $pacing (variant $variant, round $round)"
    key_="$variant|$pacing|$n|$round"
    load_queue
    q "CHECKPOINT" >/dev/null
    log_step "$label" ", $messages messages queued (loaded in ${load_s}s)"
    seq_from=$(( $(sandbox_accepted) + 1 ))
    dl_before=$(q "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
    before=$(cpu_snapshot)
    t0=$(now_s)
    for ((i = 1; i <= n; i++)); do
        names+=("r$i")
        launch "r$i" "$threads" true "$pacing_flag" "$per"
    done
    deadline=$(awk -v t="$t0" -v d="$drain_timeout" 'BEGIN { printf "%d", t + d }')
    local lock_sum=0 polls=0 pr
    while :; do
        pr=$(poll_query "SELECT count(*) || ' ' || (SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()) FROM wagate.relay_queue;")
        n_left=${pr% *}
        lock_sum=$(( lock_sum + ${pr#* } ))
        polls=$((polls + 1))
        [[ $n_left == 0 ]] && break
        check_alive "${names[@]}"
        if (( $(date +%s) >= deadline )); then stuck=$n_left; break; fi
        sleep 0.05
    done
    t_empty=$(now_s)
    after=$(cpu_snapshot)
    w_after=0
    for nm in "${names[@]}"; do
        w_after=$(( w_after + $(proc_cpu_ticks "${gw_pid[$nm]}") ))
        split+="${split:+ + }$nm $(relay_accepted_of "$nm") (released $(relay_released_of "$nm"))"
    done
    for nm in "${names[@]}"; do stop_gw "$nm"; done
    dl_after=$(q "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
    local results commits
    read -r results commits < <(q "SELECT count(*), count(DISTINCT updated_at) FROM wagate.messages
        WHERE phone_number_id = '$relay_phone' AND updated_at >= to_timestamp($t0)" | tr '|' ' ')
    seq_to=$(sandbox_accepted)
    sent=$(( seq_to - seq_from + 1 ))
    drain_no=$((drain_no + 1))
    fetch_sends "$seq_from" "$seq_to" "$state/sends-$drain_no.txt"
    cat "$state/sends-$drain_no.txt" >>"$relay_sends_file"
    drain_total=$((drain_total + messages))
    read -r first last < <(awk 'NR == 1 || $5 < f { f = $5 } $5 > l { l = $5 } END { printf "%.0f %.0f\n", f, l }' "$state/sends-$drain_no.txt")
    span=$(awk -v a="$first" -v b="$last" 'BEGIN { printf "%.3f", (b - a) / 1000 }')
    local wall
    wall=$(awk -v a="$t0" -v b="$t_empty" 'BEGIN { printf "%.3f", b - a }')
    r_rate[$key_]=$(awk -v n="$messages" -v t="$wall" 'BEGIN { printf "%.1f", n / t }')
    r_span[$key_]=$(awk -v n="$messages" -v t="$span" 'BEGIN { printf "%.1f", (t > 0 ? (n - 1) / t : 0) }')
    read -r _ p_ticks _ _ < <(awk -v b="$before" -v a="$after" 'BEGIN { split(b, x, " "); split(a, y, " "); print 0, y[2] - x[2], 0, 0 }')
    r_cpu_w[$key_]=$(awk -v t="$w_after" -v hz="$clk_tck" -v n="$messages" 'BEGIN { printf "%.3f", 1000 * t / hz / n }')
    r_cpu_p[$key_]=$(awk -v t="$p_ticks" -v hz="$clk_tck" -v n="$messages" 'BEGIN { printf "%.3f", 1000 * t / hz / n }')
    r_split[$key_]=$split
    log "{\"label\":\"$label\",\"instances\":$n,\"threads_each\":$threads,\"in_flight_each\":$per,\"pacing\":\"$pacing\",\"messages\":$messages,\"drain_s\":$wall,\"msg_per_s\":${r_rate[$key_]},\"send_span_s\":$span,\"send_span_msg_per_s\":${r_span[$key_]},\"sandbox_accepted\":$sent}"
    log "  drain: $messages messages in $wall s from launching the instance(s) to an empty relay_queue (${r_rate[$key_]} msg/s); first to last send at the sandbox $span s (${r_span[$key_]} msg/s)"
    log "  cpu: wagate $(secs "$w_after") s in all (${r_cpu_w[$key_]} s per 1,000), postgres $(secs "$p_ticks") s (${r_cpu_p[$key_]} s per 1,000); accepted by instance: $split"
    log "  db: $results results recorded in $commits commits ($(awk -v r="$results" -v c="$commits" 'BEGIN { printf "%.1f", (c > 0 ? r / c : 0) }') per commit); backends waiting for a lock, mean over $polls polls: $(awk -v s="$lock_sum" -v n="$polls" 'BEGIN { printf "%.2f", (n > 0 ? s / n : 0) }'); deadlocks: $((dl_after - dl_before))"
    r_batch[$key_]=$(awk -v r="$results" -v c="$commits" 'BEGIN { printf "%.1f", (c > 0 ? r / c : 0) }')
    if [[ $stuck -ne 0 ]]; then
        fail "$label: the queue did not empty within ${drain_timeout}s ($stuck rows left)"
        q "DELETE FROM wagate.relay_queue" >/dev/null
    fi
    if [[ $sent -ne $messages ]]; then
        fail "$label: the sandbox accepted $sent sends for $messages queued messages (a duplicate or a loss)"
    fi
    local acc_sum
    acc_sum=$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^r[0-9]+$/) s += $(i + 1) } END { print s + 0 }' <<<"$split")
    [[ $acc_sum -eq $messages ]] || fail "$label: the instances report $acc_sum sends accepted by Meta for $messages messages"
}

if [[ $do_relay -eq 1 ]]; then
    for pacing in $pacing_modes; do
        if [[ $pacing == on ]]; then
            launch setup 2 false false 64
            wait_ready setup
            port=${gw_port[setup]}
            admin PUT "/admin/v1/phone-numbers/$relay_phone" '{"throughput_mps":1000000}' >/dev/null
            stop_gw setup
        fi
        for variant in $variants; do
            for ((round = 1; round <= rounds; round++)); do
                if (( round % 2 == 1 )); then order="1 2"; else order="2 1"; fi
                for n in $order; do drain "$variant" "$pacing" "$n" "$round"; done
            done
        done
    done
    log ""
    log "## audit of the drains"
    read -r a_rows a_no_wamid a_missing a_unknown < <(
        { echo "CREATE TEMP TABLE sent (seq bigint, wamid text, phone text, to_input text, ms bigint);"
          echo "COPY sent FROM STDIN WITH (FORMAT text, DELIMITER ' ');"
          cat "$relay_sends_file"
          echo '\.'
          echo "SELECT (SELECT count(*) FROM wagate.messages WHERE phone_number_id = '$relay_phone'),
                       (SELECT count(*) FROM wagate.messages WHERE phone_number_id = '$relay_phone' AND wamid IS NULL),
                       (SELECT count(*) FROM wagate.messages m WHERE m.phone_number_id = '$relay_phone'
                          AND NOT EXISTS (SELECT 1 FROM sent s WHERE s.wamid = m.wamid AND s.to_input = m.to_input)),
                       (SELECT count(*) FROM sent s WHERE NOT EXISTS (SELECT 1 FROM wagate.messages m WHERE m.wamid = s.wamid));"
        } | psql "$dsn" -AtXq -F ' ' -v ON_ERROR_STOP=1)
    a_sends=$(wc -l <"$relay_sends_file")
    a_distinct=$(cut -d' ' -f2 "$relay_sends_file" | sort -u | wc -l)
    log "messages of $relay_phone: $a_rows (expected $drain_total), without a wamid: $a_no_wamid; sandbox sends in the drains: $a_sends, distinct wamids: $a_distinct; messages whose wamid the sandbox did not send (to that recipient): $a_missing; sandbox wamids unknown to the database: $a_unknown"
    if [[ $a_rows -ne $drain_total || $a_no_wamid -ne 0 || $a_sends -ne $drain_total || $a_distinct -ne $drain_total \
          || $a_missing -ne 0 || $a_unknown -ne 0 ]]; then
        fail "drains: not exactly once (see the line above)"
    else
        log "exactly once: PASS ($drain_total messages over $drain_no drains, each sent once)"
    fi
fi

# ==================================================================================================
# 3. event delivery drains: a backlog of events for one callback URL, one instance vs two
# ==================================================================================================
# Each drain: a fresh number whose callback URL is a bench/event_sink; --events inbound messages
# (10 per user, 100 per signed webhook) posted to an instance with event delivery off, applied,
# so the number has that many pending events; then the sink is started and 1 or 2 instances with
# delivery on (per-URL concurrency 16, or 8 each: the same deliveries in flight) are timed until
# every event of the number is delivered. Audit: each event arrived once, signed, and per user in
# event id order (the sink's arrival log against wagate.events), and the instances' delivered
# counters add up.
sink_poll() {  # sink_poll PORT -> sets sink_n (POSTs received; -1 when nobody listens)
    local fd resp=""
    sink_n=-1
    { exec {fd}<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 0
    printf 'GET /_sink/stats HTTP/1.0\r\n\r\n' >&"$fd"
    IFS= read -r -d '' -t 5 resp <&"$fd" || true
    exec {fd}>&-
    [[ $resp =~ \"received\":([0-9]+) ]] && sink_n=${BASH_REMATCH[1]}
    return 0
}
declare -A e_rate=() e_cpu_w=() e_cpu_p=() e_split=()
event_drain_no=0
event_drain() {  # event_drain VARIANT INSTANCES ROUND
    local variant=$1 n=$2 round=$3 threads per label key_ phone tag sink_port line ok t0 t_done left deadline
    local before after w_ticks=0 p_ticks names=() i nm split="" stats k v row
    event_drain_no=$((event_drain_no + 1))
    threads=$(threads_of "$variant" "$n")
    per=$(( 16 / n ))
    key_="$variant|$n|$round"
    phone=$(printf '15550003%03d' "$event_drain_no")
    tag=$(printf 'SO%02d' "$event_drain_no")
    sink_port=$(free_port)
    label="event drain, $n instance(s) x $threads thread(s) x $per per URL, $events events (variant $variant, round $round)"
    # The backlog: posted and applied with delivery off.
    launch ingest 2 false false 64 false
    wait_ready ingest
    port=${gw_port[ingest]}
    admin PUT "/admin/v1/phone-numbers/$phone" "{\"business_id\":\"bench-biz\",\"waba_id\":\"100000000000001\",\"display_phone_number\":\"+$phone\",\"callback_url\":\"http://127.0.0.1:$sink_port/events\",\"callback_secret\":\"$callback_secret\"}" >/dev/null
    "$sink_bin" post --port "${gw_port[ingest]}" --secret "$app_secret" --path /webhooks/meta --inbound 100 \
        --messages "$events" --users "$(( events / 10 ))" --tag "$tag" --phone-number-id "$phone" --display-phone-number "$phone" \
        --waba-id 100000000000001 --connections 8 --timeout 600 >"$state/post-$event_drain_no.json"
    line=$(cat "$state/post-$event_drain_no.json")
    ok=$(json_num "$line" 200)
    [[ ${ok:-0} -eq $(( (events + 99) / 100 )) ]] || { log "$line"; echo "scale_out.sh: posting the inbound webhooks failed" >&2; exit 1; }
    for _ in $(seq 600); do
        [[ $(q "SELECT count(*) FROM wagate.webhook_deliveries WHERE processed_at IS NULL") -eq 0 ]] && break
        sleep 0.1
    done
    stop_gw ingest
    [[ $(q "SELECT count(*) FROM wagate.events WHERE phone_number_id = '$phone' AND state = 'pending'") -eq $events ]] \
        || { echo "scale_out.sh: $(q "SELECT count(*) FROM wagate.events WHERE phone_number_id = '$phone'") events for $phone, $events pending expected" >&2; exit 1; }
    q "ANALYZE wagate.events; CHECKPOINT" >/dev/null
    "$sink_bin" serve --port "$sink_port" --secret "$callback_secret" --path /events --stats-file "$state/esink-$event_drain_no.json" \
        --log "$state/esink-$event_drain_no.tsv" >"$state/esink-$event_drain_no.out" 2>&1 &
    esink_pid=$!
    for _ in $(seq 200); do sink_poll "$sink_port"; [[ $sink_n -ge 0 ]] && break; sleep 0.05; done
    [[ $sink_n -ge 0 ]] || { echo "scale_out.sh: the event sink did not start" >&2; exit 1; }
    log_step "$label" ", number $phone, $(( events / 10 )) users x 10 messages"
    before=$(cpu_snapshot)
    t0=$(now_s)
    for ((i = 1; i <= n; i++)); do
        names+=("e$i")
        launch "e$i" "$threads" false false 64 true "$per"
    done
    deadline=$(( $(date +%s) + drain_timeout ))
    while :; do
        left=$(poll_query "SELECT count(*) FROM wagate.events WHERE phone_number_id = '$phone' AND state = 'pending';")
        [[ ${left%%|*} == 0 ]] && break
        check_alive "${names[@]}"
        (( $(date +%s) < deadline )) || break
        sleep 0.05
    done
    t_done=$(now_s)
    after=$(cpu_snapshot)
    for nm in "${names[@]}"; do
        w_ticks=$(( w_ticks + $(proc_cpu_ticks "${gw_pid[$nm]}") ))
        split+="${split:+ + }$nm $(event_delivered_of "$nm")"
    done
    for nm in "${names[@]}"; do stop_gw "$nm"; done
    sleep 0.3   # a duplicate would arrive now
    stop_pid "$esink_pid"
    esink_pid=""
    stats=$(cat "$state/esink-$event_drain_no.json" 2>/dev/null || echo '{}')
    p_ticks=$(awk -v b="$before" -v a="$after" 'BEGIN { split(b, x, " "); split(a, y, " "); print y[2] - x[2] }')
    local wall
    wall=$(awk -v a="$t0" -v b="$t_done" 'BEGIN { printf "%.3f", b - a }')
    e_rate[$key_]=$(awk -v n="$events" -v t="$wall" 'BEGIN { printf "%.1f", n / t }')
    e_cpu_w[$key_]=$(awk -v t="$w_ticks" -v hz="$clk_tck" -v n="$events" 'BEGIN { printf "%.3f", 1000 * t / hz / n }')
    e_cpu_p[$key_]=$(awk -v t="$p_ticks" -v hz="$clk_tck" -v n="$events" 'BEGIN { printf "%.3f", 1000 * t / hz / n }')
    e_split[$key_]=$split
    log "{\"label\":\"$label\",\"instances\":$n,\"threads_each\":$threads,\"per_url_each\":$per,\"events\":$events,\"drain_s\":$wall,\"events_per_s\":${e_rate[$key_]}}"
    log "  drain: $events events in $wall s from launching the instance(s) to none pending (${e_rate[$key_]} events/s); delivered by instance: $split"
    log "  cpu: wagate $(secs "$w_ticks") s in all (${e_cpu_w[$key_]} s per 1,000), postgres $(secs "$p_ticks") s (${e_cpu_p[$key_]} s per 1,000)"
    log "  sink: $stats"
    for k in received valid distinct; do
        v=$(json_num "$stats" "$k" || true)
        [[ ${v:-0} -eq $events ]] || fail "$label: the sink counted $k ${v:-none}, expected $events"
    done
    for k in duplicates invalid_signature missing_signature; do
        v=$(json_num "$stats" "$k" || true)
        [[ ${v:-1} -eq 0 ]] || fail "$label: the sink counted $k ${v:-none}, expected 0"
    done
    local dsum
    dsum=$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^e[0-9]+$/) s += $(i + 1) } END { print s + 0 }' <<<"$split")
    [[ $dsum -eq $events ]] || fail "$label: the instances report $dsum deliveries for $events events"
    q "SET client_min_messages = warning; DROP TABLE IF EXISTS bench_arrivals; CREATE TABLE bench_arrivals (seq bigint, wamid text, at_us bigint, valid int)" >/dev/null
    psql "$dsn" -qAtX -v ON_ERROR_STOP=1 -c "\\copy bench_arrivals FROM '$state/esink-$event_drain_no.tsv'" >/dev/null
    row=$(q "WITH ev AS (SELECT id, ordering_key, state, payload #>> '{entry,0,changes,0,value,messages,0,id}' AS wamid
                         FROM wagate.events WHERE phone_number_id = '$phone'),
                  a AS (SELECT wamid, min(seq) AS seq, count(*) AS n FROM bench_arrivals WHERE valid = 1 GROUP BY wamid),
                  j AS (SELECT ev.id, ev.ordering_key, a.seq, a.n FROM ev LEFT JOIN a USING (wamid))
             SELECT (SELECT count(*) FROM ev WHERE state <> 'delivered') || ' ' || (SELECT count(*) FROM j WHERE seq IS NULL) || ' ' ||
                    (SELECT count(*) FROM j WHERE n > 1) || ' ' ||
                    (SELECT count(*) FROM a WHERE NOT EXISTS (SELECT 1 FROM ev WHERE ev.wamid = a.wamid)) || ' ' ||
                    (SELECT count(*) FROM (SELECT seq, lag(seq) OVER (PARTITION BY ordering_key ORDER BY id) AS prev
                                           FROM j WHERE seq IS NOT NULL) o WHERE prev > seq) || ' ' ||
                    (SELECT count(DISTINCT ordering_key) FROM ev)")
    read -r a_undelivered a_missing a_twice a_unknown a_disorder a_keys <<<"$row"
    log "  audit: events not delivered $a_undelivered; by wamid: never arrived $a_missing, arrived twice $a_twice, unknown arrivals $a_unknown; $a_keys users, arrivals out of event id order within a user: $a_disorder"
    [[ $a_undelivered -eq 0 && $a_missing -eq 0 && $a_twice -eq 0 && $a_unknown -eq 0 && $a_disorder -eq 0 && $a_keys -eq $(( events / 10 )) ]] \
        || fail "$label: not each event once and in order per user (see the audit line)"
}

if [[ $do_events -eq 1 ]]; then
    for variant in $variants; do
        for ((round = 1; round <= rounds; round++)); do
            if (( round % 2 == 1 )); then order="1 2"; else order="2 1"; fi
            for n in $order; do event_drain "$variant" "$n" "$round"; done
        done
    done
fi

# ==================================================================================================
# 4. send API: one instance with C connections vs two instances with C/2 each
# ==================================================================================================
declare -A s_rps=() s_lat=() s_cpu_w=() s_cpu_p=() s_batch=()
send_ok_total=0
send_bad_total=0
# send VARIANT INSTANCES ROUND
send_step() {
    local variant=$1 n=$2 round=$3 threads conns lg_threads label key_ names=() i nm before after w_ticks=0 total=0 rps=0 lat=""
    threads=$(threads_of "$variant" "$n")
    conns=$(( connections / n ))
    lg_threads=$(( n == 1 ? 2 : 1 ))
    label="send text closed loop, $n instance(s) x $threads thread(s), $conns connections each (variant $variant, round $round)"
    key_="$variant|$n|$round"
    for ((i = 1; i <= n; i++)); do names+=("s$i"); launch "s$i" "$threads" false false 64; done
    for nm in "${names[@]}"; do wait_ready "$nm"; done
    log_step "$label"
    declare -A t0=()
    for nm in "${names[@]}"; do t0[$nm]=$(proc_cpu_ticks "${gw_pid[$nm]}"); done
    before=$(cpu_snapshot)
    local db_t0 db_t1
    db_t0=$(q "SELECT extract(epoch FROM clock_timestamp())")
    local lg_pids=()
    for nm in "${names[@]}"; do
        timeout $((warmup + duration + 60)) "$loadgen" --port "${gw_port[$nm]}" --method POST --path "/v23.0/$send_phone/messages" \
            --header "Authorization: Bearer $key" --header "Content-Type: application/json" --body-file "$body" \
            --unique-to --to-pool "$text_users" --connections "$conns" --threads "$lg_threads" \
            --warmup "$warmup" --duration "$duration" --label "$label via $nm" >"$state/send-$nm.json" &
        lg_pids+=("$!")
    done
    local pid
    for pid in "${lg_pids[@]}"; do wait "$pid" || true; done
    after=$(cpu_snapshot)
    db_t1=$(q "SELECT extract(epoch FROM clock_timestamp())")
    for nm in "${names[@]}"; do
        w_ticks=$(( w_ticks + $(proc_cpu_ticks "${gw_pid[$nm]}") - ${t0[$nm]} ))
    done
    for nm in "${names[@]}"; do
        local line
        line=$(cat "$state/send-$nm.json")
        log "$line"
        rps=$(awk -v a="$rps" -v b="$(json_num "$line" rps)" 'BEGIN { printf "%.1f", a + b }')
        total=$(( total + $(json_num "$line" requests) + $(json_num "$(warmup_part "$line")" requests) ))
        send_ok_total=$(( send_ok_total + $(ok_count "$line") ))
        send_bad_total=$(( send_bad_total + $(non_ok_count "$line") + $(json_num "$(measured_part "$line")" errors || true) + $(json_num "$(warmup_part "$line")" errors || true) + 0 ))
        lat+="${lat:+; }$nm p50 $(json_num "$line" p50) / p99 $(json_num "$line" p99) ms"
    done
    for nm in "${names[@]}"; do stop_gw "$nm"; done
    local p_ticks m_ticks
    read -r p_ticks m_ticks < <(awk -v b="$before" -v a="$after" 'BEGIN { split(b, x, " "); split(a, y, " "); print y[2] - x[2], y[3] - x[3] }')
    s_rps[$key_]=$rps
    s_lat[$key_]=$lat
    s_cpu_w[$key_]=$(awk -v t="$w_ticks" -v hz="$clk_tck" -v n="$total" 'BEGIN { printf "%.1f", 1e6 * t / hz / n }')
    s_cpu_p[$key_]=$(awk -v t="$p_ticks" -v hz="$clk_tck" -v n="$total" 'BEGIN { printf "%.1f", 1e6 * t / hz / n }')
    log "  $rps msg/s in all; $lat"
    local rows commits
    read -r rows commits < <(q "SELECT count(*), count(DISTINCT created_at) FROM wagate.messages
        WHERE phone_number_id = '$send_phone' AND created_at >= to_timestamp($db_t0) AND created_at < to_timestamp($db_t1)" | tr '|' ' ')
    s_batch[$key_]=$(awk -v r="$rows" -v c="$commits" 'BEGIN { printf "%.1f", (c > 0 ? r / c : 0) }')
    log "  db: $rows messages in $commits commits (${s_batch[$key_]} per commit: each instance group-commits its own requests)"
    log "  cpu (warmup and measurement): wagate $(secs "$w_ticks") s in all (${s_cpu_w[$key_]} us per message), postgres $(secs "$p_ticks") s (${s_cpu_p[$key_]} us per message), machine busy $(secs "$m_ticks") core-s"
}

if [[ $do_send -eq 1 ]]; then
    send_rows_before=$(q "SELECT count(*) FROM wagate.messages WHERE phone_number_id = '$send_phone'")
    for variant in $variants; do
        for ((round = 1; round <= rounds; round++)); do
            if (( round % 2 == 1 )); then order="1 2"; else order="2 1"; fi
            for n in $order; do send_step "$variant" "$n" "$round"; done
        done
    done
    log ""
    log "## audit of the send step"
    send_rows=$(( $(q "SELECT count(*) FROM wagate.messages WHERE phone_number_id = '$send_phone'") - send_rows_before ))
    log "messages of $send_phone: $send_rows; 200 answers (warmups included): $send_ok_total; other answers and errors: $send_bad_total"
    if [[ $send_rows -ne $send_ok_total || $send_bad_total -ne 0 ]]; then
        fail "send: rows and 200 answers differ, or answers other than 200"
    else
        log "every 200 is a row and every row a 200: PASS"
    fi
fi

log_checkpoints

# ==================================================================================================
# summary
# ==================================================================================================
log ""
log "## summary ($stamp)"
{
    echo "machine: $(nproc) cores shared with other work; load average at the start ${start_load}, at the end $(cut -d' ' -f1-3 /proc/loadavg). With the machine oversubscribed, more processes get a larger share of it: read the throughput ratios with the CPU-per-message ratios."
    row() { printf '%-56s %10s %10s %13s %9s %7s\n' "$@"; }
    if [[ $do_relay -eq 1 ]]; then
        echo "Relay drains ($messages messages each): msg/s from launch to an empty queue; first to last send at the sandbox; CPU s per 1,000 messages; results per commit:"
        row "measurement" "msg/s" "span msg/s" "wagate/pg cpu" "per commit" "2 / 1"
        for pacing in $pacing_modes; do
            for variant in $variants; do
                ratios=() span_ratios=() costs=() pg_costs=()
                for ((round = 1; round <= rounds; round++)); do
                    for n in 1 2; do
                        k="$variant|$pacing|$n|$round"
                        row "pacing $pacing, $variant, round $round, $n instance(s)" "${r_rate[$k]}" "${r_span[$k]}" "${r_cpu_w[$k]}/${r_cpu_p[$k]}" "${r_batch[$k]}" \
                            "$([[ $n -eq 2 ]] && ratio "${r_rate[$k]}" "${r_rate[$variant|$pacing|1|$round]}" || echo "")"
                        [[ $n -eq 1 ]] || echo "      accepted by instance: ${r_split[$k]}"
                    done
                    ratios+=("$(ratio "${r_rate[$variant|$pacing|2|$round]}" "${r_rate[$variant|$pacing|1|$round]}")")
                    span_ratios+=("$(ratio "${r_span[$variant|$pacing|2|$round]}" "${r_span[$variant|$pacing|1|$round]}")")
                    k2="$variant|$pacing|2|$round" k1="$variant|$pacing|1|$round"
                    costs+=("$(cost_ratio "${r_cpu_w[$k2]}" "${r_cpu_p[$k2]}" "${r_cpu_w[$k1]}" "${r_cpu_p[$k1]}")")
                    pg_costs+=("$(ratio "${r_cpu_p[$k2]}" "${r_cpu_p[$k1]}")")
                done
                echo "  => relay, pacing $pacing, variant $variant: 2 instances / 1 = $(mean_ratio "${ratios[@]}") (rounds: ${ratios[*]}); first-to-last-send basis: $(mean_ratio "${span_ratios[@]}") (rounds: ${span_ratios[*]})"
                echo "     CPU per message (wagate + PostgreSQL), 2 / 1: $(mean_ratio "${costs[@]}") (rounds: ${costs[*]}); PostgreSQL's alone: $(mean_ratio "${pg_costs[@]}") (rounds: ${pg_costs[*]})"
            done
        done
        echo
    fi
    if [[ $do_events -eq 1 ]]; then
        echo "Event drains ($events events each, one callback URL, 16 deliveries in flight in all): events/s from launch to none pending; CPU s per 1,000 events:"
        row "measurement" "events/s" "" "wagate/pg cpu" "" "2 / 1"
        for variant in $variants; do
            ratios=() costs=() pg_costs=()
            for ((round = 1; round <= rounds; round++)); do
                for n in 1 2; do
                    k="$variant|$n|$round"
                    row "$variant, round $round, $n instance(s)" "${e_rate[$k]}" "" "${e_cpu_w[$k]}/${e_cpu_p[$k]}" "" \
                        "$([[ $n -eq 2 ]] && ratio "${e_rate[$k]}" "${e_rate[$variant|1|$round]}" || echo "")"
                    [[ $n -eq 1 ]] || echo "      delivered by instance: ${e_split[$k]}"
                done
                ratios+=("$(ratio "${e_rate[$variant|2|$round]}" "${e_rate[$variant|1|$round]}")")
                k2="$variant|2|$round" k1="$variant|1|$round"
                costs+=("$(cost_ratio "${e_cpu_w[$k2]}" "${e_cpu_p[$k2]}" "${e_cpu_w[$k1]}" "${e_cpu_p[$k1]}")")
                pg_costs+=("$(ratio "${e_cpu_p[$k2]}" "${e_cpu_p[$k1]}")")
            done
            echo "  => events, variant $variant: 2 instances / 1 = $(mean_ratio "${ratios[@]}") (rounds: ${ratios[*]})"
            echo "     CPU per event (wagate + PostgreSQL), 2 / 1: $(mean_ratio "${costs[@]}") (rounds: ${costs[*]}); PostgreSQL's alone: $(mean_ratio "${pg_costs[@]}") (rounds: ${pg_costs[*]})"
        done
        echo
    fi
    if [[ $do_send -eq 1 ]]; then
        echo "Send API, in-window texts, closed loop, $connections connections in all: msg/s summed over the instances; CPU us per message; messages per commit:"
        row "measurement" "msg/s" "" "wagate/pg cpu" "per commit" "2 / 1"
        for variant in $variants; do
            ratios=() costs=() pg_costs=()
            for ((round = 1; round <= rounds; round++)); do
                for n in 1 2; do
                    k="$variant|$n|$round"
                    row "$variant, round $round, $n instance(s)" "${s_rps[$k]}" "" "${s_cpu_w[$k]}/${s_cpu_p[$k]}" "${s_batch[$k]}" \
                        "$([[ $n -eq 2 ]] && ratio "${s_rps[$k]}" "${s_rps[$variant|1|$round]}" || echo "")"
                    echo "      latency: ${s_lat[$k]}"
                done
                ratios+=("$(ratio "${s_rps[$variant|2|$round]}" "${s_rps[$variant|1|$round]}")")
                k2="$variant|2|$round" k1="$variant|1|$round"
                costs+=("$(cost_ratio "${s_cpu_w[$k2]}" "${s_cpu_p[$k2]}" "${s_cpu_w[$k1]}" "${s_cpu_p[$k1]}")")
                pg_costs+=("$(ratio "${s_cpu_p[$k2]}" "${s_cpu_p[$k1]}")")
            done
            echo "  => send, variant $variant: 2 instances / 1 = $(mean_ratio "${ratios[@]}") (rounds: ${ratios[*]})"
            echo "     CPU per message (wagate + PostgreSQL), 2 / 1: $(mean_ratio "${costs[@]}") (rounds: ${costs[*]}); PostgreSQL's alone: $(mean_ratio "${pg_costs[@]}") (rounds: ${pg_costs[*]})"
        done
        echo
    fi
    if [[ $do_budget -eq 1 ]]; then
        echo "budget across two instances (TIER_1K, $((2 * budget_requests)) templates to new users): $b_ok answered 200, $b_429 answered 429; limit_counts $lc_rows, limit_used $lim_used"
    fi
    echo "audit (budget exact; each queued message sent once; each event delivered once, in order per user; every 200 a row): $check"
} | tee -a "$out"
log "results: $out"
[[ $check == PASS ]]
