#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora into tests/fuzz/corpus/<target>/ (docs/fuzzing.md).

Sources: the send-payload corpus (tests/corpus/send), the JSON literals of the webhook tests
(wrapped into whole webhook bodies where they are items or values), config/*.jsonc with
environment variants, and a set of raw HTTP requests written here. Deterministic: rerun it after
the sources change and commit the result. Files are named by content hash, so reruns do not
duplicate; files the script no longer produces are removed.

    python3 tests/fuzz/make_seeds.py
"""
import hashlib
import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fuzz" / "corpus"
MAX_SEED = 48 * 1024  # above every -max_len of scripts/fuzz.sh, so nothing is cut unseen


def write_corpus(target, seeds):
    folder = OUT / target
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {}
    for data in seeds:
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogatepass")  # a lone surrogate stays invalid UTF-8
        if len(data) > MAX_SEED:
            continue
        wanted[hashlib.sha1(data).hexdigest()[:16]] = data
    for old in folder.iterdir():
        if old.name not in wanted:
            old.unlink()
    for name, data in sorted(wanted.items()):
        (folder / name).write_bytes(data)
    print(f"{target}: {len(wanted)} seeds")


# --- send payloads -------------------------------------------------------------------------------

def send_seeds():
    seeds = []
    for path in sorted((ROOT / "tests" / "corpus" / "send").glob("*.json")):
        for case in json.loads(path.read_text())["cases"]:
            body = case["raw"] if "raw" in case else json.dumps(case["body"], ensure_ascii=False,
                                                                  separators=(",", ":"))
            data = body.encode("utf-8")
            # send_payload_fuzz picks settings by length mod 4 (1: Direct Send enabled): pad the
            # Direct Send cases with trailing spaces, which JSON ignores, so they meet that setting.
            if case.get("settings", {}).get("direct_send_enabled"):
                while len(data) % 4 != 1:
                    data += b" "
            seeds.append(data)
    return seeds


# --- webhooks ------------------------------------------------------------------------------------

LITERAL = re.compile(r'R"([^(\s]*)\((.*?)\)\1"|"((?:[^"\\\n]|\\.)*)"', re.S)


def unescape(body):
    """The simple escapes of an ordinary C++ string literal (enough for JSON text)."""
    simple = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", '"': '"', "\\": "\\", "'": "'"}
    return re.sub(r"\\(.)", lambda m: simple.get(m.group(1), "\\" + m.group(1)), body)


def cpp_literals(text):
    """String literals of a C++ source, adjacent ones joined (as the compiler does)."""
    text = re.sub(r"//[^\n]*", "", text)
    out = []
    last_end = None
    for m in LITERAL.finditer(text):
        value = m.group(2) if m.group(2) is not None else unescape(m.group(3))
        if last_end is not None and text[last_end:m.start()].strip() == "":
            out[-1] += value
        else:
            out.append(value)
        last_end = m.end()
    return out


WABA = "102290129340398"
PHONE_ID = "106540352242922"
CONTACT = {"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}


def cloud(value, field="messages"):
    return {"object": "whatsapp_business_account",
            "entry": [{"id": WABA, "time": 1739321024, "changes": [{"value": value, "field": field}]}]}


def messages_value(**members):
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_ID}}
    value.update(members)
    return value


def account_fields(value):
    keys = set(value)
    fields = []
    if "message_template_name" in keys or "message_template_id" in keys:
        fields += ["message_template_status_update", "message_template_quality_update",
                   "template_category_update"]
    if "ban_info" in keys:
        fields.append("account_update")
    if keys & {"max_daily_conversation_per_phone", "max_daily_conversations_per_business"}:
        fields.append("business_capability_update")
    if "display_phone_number" in keys or "current_limit" in keys:
        fields.append("phone_number_quality_update")
    return fields or ["account_update"]


def as_webhook_bodies(obj):
    if not isinstance(obj, dict):
        return []
    if "entry" in obj or "object" in obj or {"statuses", "messages", "errors"} & set(obj):
        return [obj]
    if "id" in obj and "status" in obj:
        return [cloud(messages_value(statuses=[obj]))]
    if "id" in obj and ("from" in obj or "from_user_id" in obj or "type" in obj):
        return [cloud(messages_value(contacts=[CONTACT], messages=[obj]))]
    if "wa_id" in obj or "profile" in obj:
        return []
    return [cloud(obj, field) for field in account_fields(obj)]


def webhook_seeds():
    sources = [ROOT / "tests" / "unit" / "domain" / "webhook_parse_test.cpp",
               ROOT / "tests" / "unit" / "domain" / "webhook_account_test.cpp",
               *sorted((ROOT / "tests" / "e2e" / "api").glob("webhook_*_e2etest.cpp")),
               ROOT / "tests" / "support" / "meta_webhooks.cpp"]
    bodies = []
    for source in sources:
        for literal in cpp_literals(source.read_text()):
            try:
                obj = json.loads(literal)
            except ValueError:
                continue
            bodies += as_webhook_bodies(obj)
    # Shapes the tests build with helpers rather than literals.
    status = {"id": "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA", "status": "delivered",
              "timestamp": "1739321025", "recipient_id": "16505551234",
              "pricing": {"billable": True, "pricing_model": "PMP", "category": "utility"}}
    text = {"from": "16505551234", "id": "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=",
            "timestamp": "1739321024", "type": "text", "text": {"body": "hello"}}
    bodies += [
        cloud(messages_value(statuses=[status, dict(status, status="read"), dict(status, status="failed",
              errors=[{"code": 131026, "title": "Message undeliverable"}])])),
        cloud(messages_value(contacts=[CONTACT], messages=[text])),
        {"statuses": [status]},  # On-Premises
        {"contacts": [CONTACT], "messages": [text]},
        {"errors": [{"code": 131000, "title": "Something went wrong"}]},
        cloud(messages_value(contacts=[CONTACT], messages=[dict(text, type="reaction", reaction={
            "message_id": status["id"], "emoji": "\U0001F44D"})])),
        cloud(messages_value(contacts=[CONTACT], messages=[dict(text, type="revoke", revoke={
            "original_message_id": text["id"]})])),
        cloud(messages_value(contacts=[CONTACT], messages=[dict(text, type="system", system={
            "body": "changed", "wa_id": "16505550000", "type": "user_changed_number"})])),
        cloud(messages_value(contacts=[CONTACT], messages=[dict(text, identity={
            "acknowledged": False, "created_timestamp": 1739321000, "hash": "abc"})])),
        cloud(messages_value(contacts=[dict(CONTACT, user_id="US.13491208655302741918")],
                             messages=[dict(text, **{"from": "", "from_user_id": "US.13491208655302741918"})])),
        cloud(messages_value(statuses=[dict(status, status="deleted")])),
        cloud(messages_value(contacts=[CONTACT], messages=[dict(text, text={"body": "nul \u0000 here"})])),
        cloud({"display_phone_number": "15550783881", "event": "FLAGGED", "current_limit": "TIER_10K"},
              "phone_number_quality_update"),
        cloud({"ban_info": {"waba_ban_state": "DISABLE", "waba_ban_date": "2025-02-01"}}, "account_update"),
    ]
    seeds = [json.dumps(b, ensure_ascii=False, separators=(",", ":")) for b in bodies]
    seeds += ["", "{}", "[]", "null", '{"entry":{}}', '{"entry":[{"changes":{}}]}', "[" * 70, '{"a":"\\ud800"}']
    return seeds


# --- config --------------------------------------------------------------------------------------

def config_seeds():
    seeds = []
    for path in sorted((ROOT / "config").glob("*.json*")):
        text = path.read_text()
        seeds.append(text)                                          # the file alone
        seeds.append("WAGATE_DATABASE_URL=postgresql://wagate@localhost/wagate\n%%\n" + text)
    seeds += [
        "%%\n",  # no file, no environment
        "WAGATE_THREADS=4\nWAGATE_LISTEN=0.0.0.0:8080\nWAGATE_KEY_RATE_LIMIT=12.5\n%%\n",
        "WAGATE_ADMIN_TOKEN=secret\nWAGATE_META_APP_SECRETS=a,b\nWAGATE_META_VERIFY_TOKEN=v\n%%\n",
        "WAGATE_SANDBOX_FAIL_RATE=0.25\nWAGATE_WINDOW_RENEWED_BY=reaction,system\nWAGATE_NOT_A_SETTING=1\n%%\n",
        "WAGATE_UPSTREAM_URL=http://127.0.0.1:8090\nWAGATE_UPSTREAM_ALLOW_HTTP=true\n%%\n",
        "WAGATE_RETRY_BASE_MS=5000\nWAGATE_RETRY_MAX_MS=10\nWAGATE_TLS_CERT=/nonexistent.pem\n%%\n",
        '{"threads": 4, "db_pool": "16", "log_level": "debug", "window_renewed_by": ["reaction"]}',
        '{"admin_token": "from-file"}',
        '{"threads": 2.5, "relay": 1, "key_rate_limit": 1e3}',
        '// comment\n{\n  /* block */ "listen": "[::1]:8080", // trailing\n}\n',
        '{"sandbox_seed": 9000000000000000001, "max_body_bytes": 18446744073709551615}',
        "not json",
        "",
        # Regressions (docs/fuzzing.md, tests/unit/fuzz_regressions_test.cpp): NaN passed the
        # range check; a subnormal passed it and then made std::stod throw.
        "WAGATE_KEY_RATE_LIMIT=nan\n%%\n",
        "WAGATE_SANDBOX_FAIL_RATE=1e-310\n%%\n",
        '{"key_rate_limit": "1e-320"}',
        # Regression: an empty main listen address passed the checks.
        "WAGATE_LISTEN=\n%%\n",
        '{"listen": ""}',
    ]
    return seeds


# --- HTTP requests -------------------------------------------------------------------------------

def http_seeds():
    send = json.dumps({"messaging_product": "whatsapp", "to": "+15551234567", "type": "text",
                       "text": {"body": "hi"}}, separators=(",", ":"))
    hook = json.dumps(cloud(messages_value(statuses=[{"id": "wamid.X", "status": "sent",
                                                      "timestamp": "1739321025"}])), separators=(",", ":"))

    def req(method, target, headers=(), body="", version="1.1"):
        head = f"{method} {target} HTTP/{version}\r\nHost: localhost:8080\r\n"
        for h in headers:
            head += h + "\r\n"
        if body and not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in headers):
            head += f"Content-Length: {len(body.encode())}\r\n"
        return head + "\r\n" + body

    chunked = "Transfer-Encoding: chunked"
    chunk_body = f"{len(send):x}\r\n{send}\r\n0\r\n\r\n"
    seeds = [
        req("POST", "/v23.0/1001/messages", ["Authorization: Bearer wagate_test_key",
                                             "Content-Type: application/json"], send),
        req("POST", "/1001/messages", ["Content-Type: application/json; charset=utf-8",
                                       "Idempotency-Key: abc-123"], send),
        req("POST", "/v1/messages", ["Content-Type: application/json", chunked], chunk_body),
        req("POST", "/v1/messages", ["Content-Type: application/json", "Expect: 100-continue"], send),
        req("GET", "/v1/messages/wamid.HBgL%2BMTY1%3D", ["Authorization: Bearer k"]),
        req("GET", "/healthz") + req("GET", "/readyz") + req("GET", "/metrics", ["Connection: close"]),
        req("GET", "/webhooks/meta?hub.mode=subscribe&hub.verify_token=t%20k&hub.challenge=1158201444"),
        req("POST", "/webhooks/meta", ["X-Hub-Signature-256: sha256=" + "0" * 64,
                                       "Content-Type: application/json"], hook),
        req("PUT", "/admin/v1/businesses/b-1", ["Authorization: Bearer admin"], '{"name":"Acme","tier":"TIER_1K"}'),
        req("PUT", "/admin/v1/templates/880001/order_update/en_US", [], '{"category":"UTILITY"}'),
        req("POST", "/admin/v1/contacts/1001/15551234567/identity-ack"),
        req("DELETE", "/admin/v1/api-keys/key_1"),
        req("GET", "/admin/v1/events?after=10&limit=5"),
        req("POST", "/admin/v1/events/ev_1/replay"),
        req("GET", "/healthz", version="1.0"),
        req("PATCH", "/healthz"),
        req("GET", "/nowhere/at/all"),
        req("POST", "/v1/messages", ["Content-Length: 99999999"]),
        req("POST", "/v1/messages", ["Content-Length: 10"], "short"),
        req("GET", "/healthz", ["X-Long: " + "a" * 1100]),
        "GET /healthz HTTP/1.1\r\nHost: x\r\n",  # head never finished
        "GET http://example.com:8080/healthz?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n",
        "\r\n\r\nGET / HTTP/1.1\r\n\r\n",
        "GET /v23.0/1001/messages HTTP/1.1\nHost: a\n\n",
    ]
    # Regression: a head over the header limit (1024 for odd-length inputs) parsed when it was
    # buffered whole (Beast limits the start line and the fields separately).
    pad_head = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: "
    seeds.append(pad_head + "a" * (1025 - len(pad_head) - 4) + "\r\n\r\n")
    long_start = "GET /healthz?" + "q" * 1000 + " HTTP/1.1\r\nX-Pad: " + "a" * 990 + "\r\n\r\n"
    seeds.append(long_start + ("" if len(long_start) % 2 else " "))
    # Not a bug: a head both too large and malformed is 400 in one read and 431 in small ones.
    seeds.append(pad_head + "a" * 600 + "\x01" + "a" * 500 + "\r\n\r\n")
    return seeds


if __name__ == "__main__":
    write_corpus("send_payload", send_seeds())
    write_corpus("webhook", webhook_seeds())
    write_corpus("config", config_seeds())
    write_corpus("http_request", http_seeds())
