#!/usr/bin/env bash
# Quick start: installs what is missing, builds wagate, starts a local PostgreSQL 15 cluster
# (durable: fsync on), the gateway and the sandbox (a local stand-in for Meta's Cloud API), creates
# a business, a phone number and an API key, lets a simulated user write in, sends a reply and
# follows it through accepted → sending → sent → delivered → read. Then keeps both running until
# Ctrl-C.
#   scripts/quickstart.sh           set up, demo, keep running
#   scripts/quickstart.sh --check   set up, demo, verify, stop (used by CI)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-run}
default_port=8080
default_sandbox_port=8090
if [[ "$mode" == "--check" ]]; then  # CI: stay off the ports a developer may use
    default_port=18080
    default_sandbox_port=18090
fi
port=${WAGATE_PORT:-$default_port}
sandbox_port=${WAGATE_SANDBOX_PORT:-$default_sandbox_port}
state=.quickstart
admin_token=${WAGATE_ADMIN_TOKEN:-quickstart-admin-token}
app_secret=quickstart-app-secret  # shared by the sandbox (signs) and the gateway (verifies)
base="http://127.0.0.1:$port"
sandbox="http://127.0.0.1:$sandbox_port"
phone=106540352242922
user=15551234567

bash scripts/install-deps.sh
if [[ ! -x build/wagate ]] || [[ "$mode" == "--check" ]]; then
    BUILD_DIR=build bash scripts/build.sh wagate
fi

mkdir -p "$state"
wagate_pid=""
sandbox_pid=""
cleanup() {
    [[ -n "$wagate_pid" ]] && kill -TERM "$wagate_pid" 2>/dev/null && wait "$wagate_pid" 2>/dev/null || true
    [[ -n "$sandbox_pid" ]] && kill -TERM "$sandbox_pid" 2>/dev/null && wait "$sandbox_pid" 2>/dev/null || true
    bash scripts/pg-cluster.sh stop "$state" >/dev/null || true
}
trap cleanup EXIT

bash scripts/pg-cluster.sh start "$state" --durable
dsn=$(cat "$state/dsn")
psql "$dsn" -qc "CREATE DATABASE wagate" >/dev/null
db_url=${dsn/\/\/\/postgres/\/\/\/wagate}

WAGATE_META_APP_SECRETS="$app_secret" WAGATE_SANDBOX_LISTEN="127.0.0.1:$sandbox_port" \
    WAGATE_SANDBOX_WEBHOOK_URL="$base/webhooks/meta" WAGATE_LOG_FORMAT=text \
    build/wagate sandbox >"$state/sandbox.log" 2>&1 &
sandbox_pid=$!
WAGATE_DATABASE_URL="$db_url" WAGATE_ADMIN_TOKEN="$admin_token" WAGATE_LISTEN="127.0.0.1:$port" \
    WAGATE_META_APP_SECRETS="$app_secret" WAGATE_META_VERIFY_TOKEN=quickstart-verify-token \
    WAGATE_UPSTREAM_URL="$sandbox" WAGATE_UPSTREAM_ALLOW_HTTP=true \
    WAGATE_LOG_FORMAT=text build/wagate serve >"$state/wagate.log" 2>&1 &
wagate_pid=$!
for _ in $(seq 1 100); do
    curl -sf "$base/readyz" >/dev/null 2>&1 && break
    kill -0 "$wagate_pid" 2>/dev/null || { cat "$state/wagate.log"; exit 1; }
    sleep 0.1
done
curl -sf "$base/readyz" >/dev/null || { echo "wagate did not become ready"; cat "$state/wagate.log"; exit 1; }
kill -0 "$sandbox_pid" 2>/dev/null || { echo "the sandbox did not start"; cat "$state/sandbox.log"; exit 1; }

admin() { curl -sS -X "$1" "$base$2" -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' ${3:+-d "$3"}; }
json_field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }

echo "== 1. a business, its phone number, and an API key (admin API)"
admin PUT /admin/v1/businesses/demo-business '{"name":"Demo business","messaging_limit_tier":"TIER_250"}'; echo
admin PUT /admin/v1/phone-numbers/$phone '{"business_id":"demo-business","display_phone_number":"+1 555 0100","access_token":"sandbox-token"}'; echo
key=$(admin POST /admin/v1/api-keys "{\"name\":\"demo\",\"phone_number_ids\":[\"$phone\"]}" | json_field key)
echo "API key (shown once): $key"

echo
echo "== 2. a user writes to the business (the sandbox posts Meta's signed webhook to the gateway),"
echo "      which opens the 24-hour customer service window"
curl -sS "$sandbox/sandbox/v1/inbound" -H 'Content-Type: application/json' \
    -d "{\"phone_number_id\":\"$phone\",\"from\":\"$user\",\"name\":\"Ana\",\"type\":\"text\",\"text\":{\"body\":\"Hi! Is my order ready?\"}}"; echo
for _ in $(seq 1 50); do
    admin GET /admin/v1/contacts/$phone/$user | grep -q '"open":true' && break
    sleep 0.1
done

echo
echo "== 3. reply exactly as to Meta's Cloud API"
send_body="{\"messaging_product\":\"whatsapp\",\"to\":\"+$user\",\"type\":\"text\",\"text\":{\"body\":\"Hello Ana, your order ships today\"}}"
echo "POST $base/v23.0/$phone/messages $send_body"
answer=$(curl -sS "$base/v23.0/$phone/messages" -H "Authorization: Bearer $key" \
    -H 'Content-Type: application/json' -d "$send_body")
echo "$answer"
id=$(echo "$answer" | json_field id)

echo
echo "== 4. the relay sends it to the sandbox, whose status webhooks come back: accepted → sending → sent → delivered → read"
last=""
stored=""
for _ in $(seq 1 100); do
    stored=$(curl -sS "$base/v1/messages/$id" -H "Authorization: Bearer $key")
    # The message's own status comes first: keys are sorted, and "status" sorts before "statuses".
    status=$(echo "$stored" | grep -o '"status":"[a-z]*"' | head -n 1 | cut -d'"' -f4)
    [[ "$status" != "$last" ]] && echo "   status: $status" && last=$status
    [[ "$status" == "read" ]] && break
    sleep 0.1
done
echo "$stored"

echo
echo "== 5. an invalid message, and a free-form message to a user whose window is closed, get precise Graph errors"
curl -sS "$base/v23.0/$phone/messages" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d "{\"messaging_product\":\"whatsapp\",\"to\":\"+$user\",\"type\":\"text\",\"text\":{\"body\":\"\"}}"; echo
closed=$(curl -sS "$base/v23.0/$phone/messages" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d '{"messaging_product":"whatsapp","to":"+15557654321","type":"text","text":{"body":"Hello?"}}')
echo "$closed"
echo
admin GET /admin/v1/businesses/demo-business/limits; echo

echo
echo "== 6. the events a business backend receives: the user's message and the reply's statuses, each a"
echo "      Cloud API webhook body (no callback URL is set here, so they wait; the catch-up cursor reads them)"
events=$(admin GET "/admin/v1/events?phone_number_id=$phone")
echo "$events" | grep -o '"kind":"[a-z_]*"\|"state":"[a-z]*"\|"status":"[a-z]*"' | tr -d '"' | paste -sd' ' -

if [[ "$mode" == "--check" ]]; then
    echo "$events" | grep -q '"kind":"message"' || { echo "quickstart check: no event for the user's message"; exit 1; }
    for s in sent delivered read; do
        echo "$events" | grep -q "\"status\":\"$s\"" || { echo "quickstart check: no $s event"; exit 1; }
    done
    [[ "$id" == wagate.* ]] || { echo "quickstart check: no message id"; exit 1; }
    [[ "$last" == "read" ]] || { echo "quickstart check: the message did not reach read"; cat "$state/wagate.log" "$state/sandbox.log"; exit 1; }
    for s in accepted sending sent delivered read; do
        echo "$stored" | grep -q "\"status\":\"$s\"" || { echo "quickstart check: no $s status"; exit 1; }
    done
    echo "$closed" | grep -q '"code":131047' || { echo "quickstart check: the closed window was not enforced"; exit 1; }
    echo "quickstart check: ok"
    exit 0
fi

cat <<MSG

wagate is running on $base (log: $state/wagate.log), relaying to the sandbox on $sandbox
(log: $state/sandbox.log). Try:
  curl -sS $base/v23.0/$phone/messages -H 'Authorization: Bearer $key' \\
       -H 'Content-Type: application/json' -d '$send_body'
  curl -sS $base/v1/messages/<id> -H 'Authorization: Bearer $key'
  curl -sS $sandbox/sandbox/v1/inbound -d '{"phone_number_id":"$phone","from":"15550001111","type":"text","text":{"body":"hi"}}'
Press Ctrl-C to stop wagate, the sandbox and the database.
MSG
wait "$wagate_pid"
