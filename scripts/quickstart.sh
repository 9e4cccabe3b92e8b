#!/usr/bin/env bash
# Quick start: installs what is missing, builds wagate, starts a local PostgreSQL 15 cluster
# (durable: fsync on) and the gateway, creates a business, a phone number and an API key, sends a
# message and shows it stored. Then keeps the gateway running until Ctrl-C.
#   scripts/quickstart.sh           set up, demo, keep running
#   scripts/quickstart.sh --check   set up, demo, verify, stop (used by CI)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-run}
default_port=8080
[[ "$mode" == "--check" ]] && default_port=18080  # CI: stay off the port a developer may use
port=${WAGATE_PORT:-$default_port}
state=.quickstart
admin_token=${WAGATE_ADMIN_TOKEN:-quickstart-admin-token}
base="http://127.0.0.1:$port"

bash scripts/install-deps.sh
if [[ ! -x build/wagate ]] || [[ "$mode" == "--check" ]]; then
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build build -j2 --target wagate
fi

mkdir -p "$state"
wagate_pid=""
cleanup() {
    [[ -n "$wagate_pid" ]] && kill -TERM "$wagate_pid" 2>/dev/null && wait "$wagate_pid" 2>/dev/null || true
    bash scripts/pg-cluster.sh stop "$state" >/dev/null || true
}
trap cleanup EXIT

bash scripts/pg-cluster.sh start "$state" --durable
dsn=$(cat "$state/dsn")
psql "$dsn" -qc "CREATE DATABASE wagate" >/dev/null
db_url=${dsn/\/\/\/postgres/\/\/\/wagate}

WAGATE_DATABASE_URL="$db_url" WAGATE_ADMIN_TOKEN="$admin_token" WAGATE_LISTEN="127.0.0.1:$port" \
    WAGATE_LOG_FORMAT=text build/wagate serve >"$state/wagate.log" 2>&1 &
wagate_pid=$!
for _ in $(seq 1 100); do
    curl -sf "$base/readyz" >/dev/null 2>&1 && break
    kill -0 "$wagate_pid" 2>/dev/null || { cat "$state/wagate.log"; exit 1; }
    sleep 0.1
done
curl -sf "$base/readyz" >/dev/null || { echo "wagate did not become ready"; cat "$state/wagate.log"; exit 1; }

admin() { curl -sS -X "$1" "$base$2" -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' ${3:+-d "$3"}; }
json_field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }

echo "== 1. a business, its phone number, and an API key (admin API)"
admin PUT /admin/v1/businesses/demo-business '{"name":"Demo business","messaging_limit_tier":"TIER_250"}'; echo
admin PUT /admin/v1/phone-numbers/106540352242922 '{"business_id":"demo-business","display_phone_number":"+1 555 0100","access_token":"sandbox-token"}'; echo
key=$(admin POST /admin/v1/api-keys '{"name":"demo","phone_number_ids":["106540352242922"]}' | json_field key)
echo "API key (shown once): $key"

echo
echo "== 2. the user writes to the business, which opens the 24-hour customer service window"
echo "      (Meta's inbound webhook will do this; until webhook ingest lands, the admin API stands in)"
admin PUT /admin/v1/contacts/106540352242922/15551234567 "{\"last_inbound_at\":$(date +%s)}"; echo

echo
echo "== 3. send a message exactly as to Meta's Cloud API"
send_body='{"messaging_product":"whatsapp","to":"+15551234567","type":"text","text":{"body":"Hello from wagate"}}'
echo "POST $base/v23.0/106540352242922/messages $send_body"
answer=$(curl -sS "$base/v23.0/106540352242922/messages" -H "Authorization: Bearer $key" \
    -H 'Content-Type: application/json' -d "$send_body")
echo "$answer"
id=$(echo "$answer" | json_field id)

echo
echo "== 4. an invalid message, and a free-form message to a user whose window is closed, get precise Graph errors"
curl -sS "$base/v23.0/106540352242922/messages" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d '{"messaging_product":"whatsapp","to":"+15551234567","type":"text","text":{"body":""}}'; echo
closed=$(curl -sS "$base/v23.0/106540352242922/messages" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d '{"messaging_product":"whatsapp","to":"+15557654321","type":"text","text":{"body":"Hello?"}}')
echo "$closed"

echo
echo "== 5. the message as stored (committed before the 200 above), and the business's messaging limit"
stored=$(curl -sS "$base/v1/messages/$id" -H "Authorization: Bearer $key")
echo "$stored"
admin GET /admin/v1/businesses/demo-business/limits; echo

if [[ "$mode" == "--check" ]]; then
    [[ "$id" == wagate.* ]] || { echo "quickstart check: no message id"; exit 1; }
    echo "$stored" | grep -q '"status":"accepted"' || { echo "quickstart check: message not stored"; exit 1; }
    echo "$closed" | grep -q '"code":131047' || { echo "quickstart check: the closed window was not enforced"; exit 1; }
    echo "quickstart check: ok"
    exit 0
fi

cat <<MSG

wagate is running on $base (log: $state/wagate.log). Try:
  curl -sS $base/v23.0/106540352242922/messages -H 'Authorization: Bearer $key' \\
       -H 'Content-Type: application/json' -d '$send_body'
Relaying to Meta and the sandbox that stands in for Meta come with the relay; until then messages
stay "accepted". Press Ctrl-C to stop wagate and the database.
MSG
wait "$wagate_pid"
