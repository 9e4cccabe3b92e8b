#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace wagate::app {

/// Every setting of the gateway. Names, defaults and units: docs/configuration.md and
/// config/wagate.example.jsonc. File keys are the environment names without `WAGATE_`, in lower
/// case (WAGATE_DB_POOL ↔ "db_pool").
struct Config {
    std::string listen = "127.0.0.1:8080";
    std::string admin_listen;  // empty: the admin API is served on `listen`
    std::string database_url;
    std::string admin_token;                    // secret: environment only
    std::vector<std::string> meta_app_secrets;  // secret: environment only
    std::string meta_verify_token;              // secret: environment only
    std::string upstream_url = "https://graph.facebook.com";
    std::string upstream_version = "v23.0";
    std::string tls_cert;
    std::string tls_key;
    int threads = 2;
    int db_pool = 8;
    double key_rate_limit = 0;
    std::string log_level = "info";
    std::string log_format = "json";

    std::size_t max_body_bytes = 1024 * 1024;
    std::size_t max_header_bytes = 16 * 1024;
    int header_timeout_ms = 10'000;
    int body_timeout_ms = 30'000;
    int idle_timeout_ms = 30'000;
    int max_connections = 10'000;
    int json_max_depth = 32;
    int max_contacts = 257;
    int auth_cache_ttl_ms = 1'000;
    int idempotency_retention_hours = 48;
    int statement_timeout_ms = 5'000;
    int commit_batch_max = 256;
    int commit_writers = 2;
    int shutdown_grace_ms = 10'000;
    bool auto_migrate = true;

    // Business rules (docs/policy.md).
    std::string unknown_templates = "reject";  // "reject" (132001) or "pass" (to Meta unchecked)
    int pair_queue_cap = 0;                    // messages queued to one user before 131056; 0 = off
    int maintenance_interval_ms = 60'000;      // auto-upgrades and flagged downgrades; 0 = never
    /// Doubtful inbound kinds that also renew the customer service window: any of "reaction",
    /// "system", "unsupported" (the last also covers revoke and unknown types). Default: none.
    std::vector<std::string> window_renewed_by;

    // Webhook ingest (docs/webhooks.md).
    bool webhook_processing = true;        // false: store verified webhooks, let other instances apply them
    int webhook_lease_ms = 30'000;         // how long a delivery is held before another instance may take it
    int webhook_retention_hours = 168;     // processed bodies, parked statuses, quarantine
    std::size_t webhook_max_body_bytes = 8 * 1024 * 1024;

    // Relay to Meta (docs/relay.md).
    bool relay = true;                      // false: this instance accepts but never sends
    bool upstream_allow_http = false;       // an http:// WAGATE_UPSTREAM_URL (tests, the sandbox)
    std::string upstream_ca_file;           // PEM bundle to trust; empty: the system's store
    int upstream_connect_timeout_ms = 5'000;
    int upstream_timeout_ms = 30'000;       // one send: writing it and reading Meta's answer
    int relay_concurrency = 64;             // sends in flight per instance
    int relay_lease_ms = 120'000;           // a claimed message is another instance's to send after this
    bool relay_pacing = true;               // false: no throughput or pair pacing (benchmarks)
    int pair_interval_ms = 6'000;           // Meta's pair rate: one message per interval to one user…
    int pair_burst = 45;                    // …with bursts of up to this many
    int retry_base_ms = 1'000;              // first retry after a transient failure (then doubled, jittered)
    int retry_max_ms = 300'000;             // longest wait between retries
    int ttl_default_s = 30 * 86'400;        // how long a message may wait to be sent (Meta keeps 30 days)
    int ttl_authentication_s = 600;         // authentication templates (Meta's default 10 minutes)
    int ttl_utility_s = 30 * 86'400;
    int ttl_marketing_s = 30 * 86'400;

    // Event delivery to business backends (docs/events.md).
    bool event_delivery = true;             // false: this instance writes events but never delivers them
    bool event_allow_http = false;          // http:// callback URLs (tests, a backend on the same host)
    std::string event_ca_file;              // PEM bundle to trust for callbacks; empty: the system's store
    int event_connect_timeout_ms = 5'000;
    int event_timeout_ms = 10'000;          // one delivery: writing it and reading the backend's answer
    int event_concurrency_per_url = 16;     // deliveries in flight to one callback URL, per instance
    int event_lease_ms = 60'000;            // a claimed event is another instance's to deliver after this
    int event_retry_base_ms = 1'000;        // first retry of an unacknowledged event (then doubled, jittered)
    int event_retry_max_ms = 900'000;       // longest wait between attempts (15 minutes)
    int event_max_age_s = 7 * 86'400;       // give-up age: older undelivered events are dead
    int event_retention_hours = 168;        // delivered and dead events are kept this long after

    // `wagate sandbox` (docs/sandbox.md).
    std::string sandbox_listen = "127.0.0.1:8090";
    std::string sandbox_webhook_url = "http://127.0.0.1:8080/webhooks/meta";
    bool sandbox_webhooks = true;           // post status webhooks for each accepted send
    int sandbox_status_delay_ms = 300;      // between sent, delivered and read
    bool sandbox_read = true;               // end with read (else delivered)
    double sandbox_fail_rate = 0;           // share of sends that fail after sent (131026)
    double sandbox_duplicate_rate = 0;      // share of status webhooks posted twice
    double sandbox_reorder_rate = 0;        // share of messages whose statuses are posted in a shuffled order
    double sandbox_throttle_rate = 0;       // share of sends answered 429 / 130429
    double sandbox_server_error_rate = 0;   // share of sends answered 500 / 131000
    int sandbox_latency_ms = 0;             // added to every send's answer
    std::int64_t sandbox_seed = 0;          // 0: random
};

/// Environment variables as name → value (tests pass their own; `serve` passes environ).
using Environment = std::map<std::string, std::string>;

Environment process_environment();

struct ConfigLoad {
    Config config;
    std::vector<std::string> errors;    // every problem found; empty means usable
    std::vector<std::string> warnings;  // e.g. unknown WAGATE_* variables
};

/// Reads the optional JSON (with comments) file, then the environment, which wins. Checks every
/// value and collects every problem instead of stopping at the first. Secrets in the file are an
/// error. `require_database`: DATABASE_URL must be set (serve, migrate).
ConfigLoad load_config(const std::optional<std::string>& file, const Environment& env,
                       bool require_database);

}  // namespace wagate::app
