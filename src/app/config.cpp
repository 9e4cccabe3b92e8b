#include <wagate/app/config.hpp>

#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <sstream>

#include <nlohmann/json.hpp>

extern char** environ;

namespace wagate::app {
namespace {

enum class Kind { kString, kInt, kSize, kNumber, kBool, kList };

struct Setting {
    const char* env;   // WAGATE_...
    Kind kind;
    bool secret;
    long long min = 0;
    long long max = 0;
    std::function<void(Config&, const std::string&)> assign;  // value already checked
};

template <class T>
std::function<void(Config&, const std::string&)> to(T Config::*member) {
    return [member](Config& c, const std::string& text) {
        if constexpr (std::is_same_v<T, std::string>) {
            c.*member = text;
        } else if constexpr (std::is_same_v<T, bool>) {
            c.*member = text == "true" || text == "1";
        } else if constexpr (std::is_same_v<T, double>) {
            // from_chars, as check() read it: std::stod throws out_of_range on a subnormal
            // ("1e-310") that from_chars accepts.
            double value = 0;
            std::from_chars(text.data(), text.data() + text.size(), value);
            c.*member = value;
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
            (c.*member).clear();
            std::stringstream in(text);
            for (std::string item; std::getline(in, item, ',');) {
                if (!item.empty()) {
                    (c.*member).push_back(item);
                }
            }
        } else {
            c.*member = static_cast<T>(std::stoll(text));
        }
    };
}

const std::vector<Setting>& settings() {
    static const std::vector<Setting> table = {
        {"WAGATE_LISTEN", Kind::kString, false, 0, 0, to(&Config::listen)},
        {"WAGATE_ADMIN_LISTEN", Kind::kString, false, 0, 0, to(&Config::admin_listen)},
        {"WAGATE_DATABASE_URL", Kind::kString, false, 0, 0, to(&Config::database_url)},
        {"WAGATE_ADMIN_TOKEN", Kind::kString, true, 0, 0, to(&Config::admin_token)},
        {"WAGATE_META_APP_SECRETS", Kind::kList, true, 0, 0, to(&Config::meta_app_secrets)},
        {"WAGATE_META_VERIFY_TOKEN", Kind::kString, true, 0, 0, to(&Config::meta_verify_token)},
        {"WAGATE_UPSTREAM_URL", Kind::kString, false, 0, 0, to(&Config::upstream_url)},
        {"WAGATE_UPSTREAM_VERSION", Kind::kString, false, 0, 0, to(&Config::upstream_version)},
        {"WAGATE_TLS_CERT", Kind::kString, false, 0, 0, to(&Config::tls_cert)},
        {"WAGATE_TLS_KEY", Kind::kString, false, 0, 0, to(&Config::tls_key)},
        {"WAGATE_THREADS", Kind::kInt, false, 1, 256, to(&Config::threads)},
        {"WAGATE_DB_POOL", Kind::kInt, false, 1, 1000, to(&Config::db_pool)},
        {"WAGATE_KEY_RATE_LIMIT", Kind::kNumber, false, 0, 1'000'000, to(&Config::key_rate_limit)},
        {"WAGATE_LOG_LEVEL", Kind::kString, false, 0, 0, to(&Config::log_level)},
        {"WAGATE_LOG_FORMAT", Kind::kString, false, 0, 0, to(&Config::log_format)},
        {"WAGATE_MAX_BODY_BYTES", Kind::kSize, false, 1024, 64 << 20, to(&Config::max_body_bytes)},
        {"WAGATE_MAX_HEADER_BYTES", Kind::kSize, false, 1024, 1 << 20, to(&Config::max_header_bytes)},
        {"WAGATE_HEADER_TIMEOUT_MS", Kind::kInt, false, 100, 600'000, to(&Config::header_timeout_ms)},
        {"WAGATE_BODY_TIMEOUT_MS", Kind::kInt, false, 100, 600'000, to(&Config::body_timeout_ms)},
        {"WAGATE_IDLE_TIMEOUT_MS", Kind::kInt, false, 100, 3'600'000, to(&Config::idle_timeout_ms)},
        {"WAGATE_MAX_CONNECTIONS", Kind::kInt, false, 1, 1'000'000, to(&Config::max_connections)},
        {"WAGATE_JSON_MAX_DEPTH", Kind::kInt, false, 8, 256, to(&Config::json_max_depth)},
        {"WAGATE_MAX_CONTACTS", Kind::kInt, false, 1, 257, to(&Config::max_contacts)},
        {"WAGATE_AUTH_CACHE_TTL_MS", Kind::kInt, false, 0, 60'000, to(&Config::auth_cache_ttl_ms)},
        {"WAGATE_IDEMPOTENCY_RETENTION_HOURS", Kind::kInt, false, 24, 24 * 365,
         to(&Config::idempotency_retention_hours)},
        {"WAGATE_STATEMENT_TIMEOUT_MS", Kind::kInt, false, 100, 600'000, to(&Config::statement_timeout_ms)},
        {"WAGATE_COMMIT_BATCH_MAX", Kind::kInt, false, 1, 10'000, to(&Config::commit_batch_max)},
        {"WAGATE_COMMIT_WRITERS", Kind::kInt, false, 1, 64, to(&Config::commit_writers)},
        {"WAGATE_SHUTDOWN_GRACE_MS", Kind::kInt, false, 0, 600'000, to(&Config::shutdown_grace_ms)},
        {"WAGATE_AUTO_MIGRATE", Kind::kBool, false, 0, 0, to(&Config::auto_migrate)},
        {"WAGATE_UNKNOWN_TEMPLATES", Kind::kString, false, 0, 0, to(&Config::unknown_templates)},
        {"WAGATE_PAIR_QUEUE_CAP", Kind::kInt, false, 0, 1'000'000, to(&Config::pair_queue_cap)},
        {"WAGATE_MAINTENANCE_INTERVAL_MS", Kind::kInt, false, 0, 86'400'000,
         to(&Config::maintenance_interval_ms)},
        {"WAGATE_WINDOW_RENEWED_BY", Kind::kList, false, 0, 0, to(&Config::window_renewed_by)},
        {"WAGATE_WEBHOOK_PROCESSING", Kind::kBool, false, 0, 0, to(&Config::webhook_processing)},
        {"WAGATE_WEBHOOK_LEASE_MS", Kind::kInt, false, 100, 3'600'000, to(&Config::webhook_lease_ms)},
        {"WAGATE_WEBHOOK_RETENTION_HOURS", Kind::kInt, false, 1, 24 * 365, to(&Config::webhook_retention_hours)},
        {"WAGATE_WEBHOOK_MAX_BODY_BYTES", Kind::kSize, false, 1024, 64 << 20, to(&Config::webhook_max_body_bytes)},
        {"WAGATE_RELAY", Kind::kBool, false, 0, 0, to(&Config::relay)},
        {"WAGATE_UPSTREAM_ALLOW_HTTP", Kind::kBool, false, 0, 0, to(&Config::upstream_allow_http)},
        {"WAGATE_UPSTREAM_CA_FILE", Kind::kString, false, 0, 0, to(&Config::upstream_ca_file)},
        {"WAGATE_UPSTREAM_CONNECT_TIMEOUT_MS", Kind::kInt, false, 100, 600'000,
         to(&Config::upstream_connect_timeout_ms)},
        {"WAGATE_UPSTREAM_TIMEOUT_MS", Kind::kInt, false, 100, 600'000, to(&Config::upstream_timeout_ms)},
        {"WAGATE_RELAY_CONCURRENCY", Kind::kInt, false, 1, 4096, to(&Config::relay_concurrency)},
        {"WAGATE_RELAY_LEASE_MS", Kind::kInt, false, 1'000, 3'600'000, to(&Config::relay_lease_ms)},
        {"WAGATE_RELAY_PACING", Kind::kBool, false, 0, 0, to(&Config::relay_pacing)},
        {"WAGATE_PAIR_INTERVAL_MS", Kind::kInt, false, 1, 3'600'000, to(&Config::pair_interval_ms)},
        {"WAGATE_PAIR_BURST", Kind::kInt, false, 1, 100'000, to(&Config::pair_burst)},
        {"WAGATE_RETRY_BASE_MS", Kind::kInt, false, 1, 3'600'000, to(&Config::retry_base_ms)},
        {"WAGATE_RETRY_MAX_MS", Kind::kInt, false, 1, 86'400'000, to(&Config::retry_max_ms)},
        {"WAGATE_TTL_DEFAULT_S", Kind::kInt, false, 1, 30 * 86'400, to(&Config::ttl_default_s)},
        {"WAGATE_TTL_AUTHENTICATION_S", Kind::kInt, false, 1, 30 * 86'400, to(&Config::ttl_authentication_s)},
        {"WAGATE_TTL_UTILITY_S", Kind::kInt, false, 1, 30 * 86'400, to(&Config::ttl_utility_s)},
        {"WAGATE_TTL_MARKETING_S", Kind::kInt, false, 1, 30 * 86'400, to(&Config::ttl_marketing_s)},
        {"WAGATE_EVENT_DELIVERY", Kind::kBool, false, 0, 0, to(&Config::event_delivery)},
        {"WAGATE_EVENT_ALLOW_HTTP", Kind::kBool, false, 0, 0, to(&Config::event_allow_http)},
        {"WAGATE_EVENT_CA_FILE", Kind::kString, false, 0, 0, to(&Config::event_ca_file)},
        {"WAGATE_EVENT_CONNECT_TIMEOUT_MS", Kind::kInt, false, 100, 600'000, to(&Config::event_connect_timeout_ms)},
        {"WAGATE_EVENT_TIMEOUT_MS", Kind::kInt, false, 100, 600'000, to(&Config::event_timeout_ms)},
        {"WAGATE_EVENT_CONCURRENCY_PER_URL", Kind::kInt, false, 1, 1024, to(&Config::event_concurrency_per_url)},
        {"WAGATE_EVENT_LEASE_MS", Kind::kInt, false, 1'000, 3'600'000, to(&Config::event_lease_ms)},
        {"WAGATE_EVENT_RETRY_BASE_MS", Kind::kInt, false, 1, 3'600'000, to(&Config::event_retry_base_ms)},
        {"WAGATE_EVENT_RETRY_MAX_MS", Kind::kInt, false, 1, 86'400'000, to(&Config::event_retry_max_ms)},
        {"WAGATE_EVENT_MAX_AGE_S", Kind::kInt, false, 1, 365 * 86'400, to(&Config::event_max_age_s)},
        {"WAGATE_EVENT_RETENTION_HOURS", Kind::kInt, false, 1, 24 * 365, to(&Config::event_retention_hours)},
        {"WAGATE_SANDBOX_LISTEN", Kind::kString, false, 0, 0, to(&Config::sandbox_listen)},
        {"WAGATE_SANDBOX_WEBHOOK_URL", Kind::kString, false, 0, 0, to(&Config::sandbox_webhook_url)},
        {"WAGATE_SANDBOX_WEBHOOKS", Kind::kBool, false, 0, 0, to(&Config::sandbox_webhooks)},
        {"WAGATE_SANDBOX_STATUS_DELAY_MS", Kind::kInt, false, 0, 3'600'000, to(&Config::sandbox_status_delay_ms)},
        {"WAGATE_SANDBOX_READ", Kind::kBool, false, 0, 0, to(&Config::sandbox_read)},
        {"WAGATE_SANDBOX_FAIL_RATE", Kind::kNumber, false, 0, 1, to(&Config::sandbox_fail_rate)},
        {"WAGATE_SANDBOX_DUPLICATE_RATE", Kind::kNumber, false, 0, 1, to(&Config::sandbox_duplicate_rate)},
        {"WAGATE_SANDBOX_REORDER_RATE", Kind::kNumber, false, 0, 1, to(&Config::sandbox_reorder_rate)},
        {"WAGATE_SANDBOX_THROTTLE_RATE", Kind::kNumber, false, 0, 1, to(&Config::sandbox_throttle_rate)},
        {"WAGATE_SANDBOX_SERVER_ERROR_RATE", Kind::kNumber, false, 0, 1, to(&Config::sandbox_server_error_rate)},
        {"WAGATE_SANDBOX_LATENCY_MS", Kind::kInt, false, 0, 600'000, to(&Config::sandbox_latency_ms)},
        {"WAGATE_SANDBOX_SEED", Kind::kInt, false, 0, 9'000'000'000'000'000'000LL, to(&Config::sandbox_seed)},
    };
    return table;
}

std::string file_key(const char* env) {
    std::string key(env + 7);  // drop "WAGATE_"
    for (char& c : key) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return key;
}

/// Checks `text` for the setting's kind and range; empty string means valid.
std::string check(const Setting& s, const std::string& text) {
    switch (s.kind) {
        case Kind::kString:
        case Kind::kList:
            return {};
        case Kind::kBool:
            return (text == "true" || text == "false" || text == "1" || text == "0")
                       ? std::string{}
                       : "must be true or false";
        case Kind::kNumber: {
            double v = 0;
            auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
            // NaN fails no comparison, so it needs its own test ("nan" is valid from_chars input).
            if (ec != std::errc{} || p != text.data() + text.size() || !std::isfinite(v) ||
                v < static_cast<double>(s.min) || v > static_cast<double>(s.max)) {
                return "must be a number from " + std::to_string(s.min) + " to " + std::to_string(s.max);
            }
            return {};
        }
        case Kind::kInt:
        case Kind::kSize: {
            long long v = 0;
            auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
            if (ec != std::errc{} || p != text.data() + text.size() || v < s.min || v > s.max) {
                return "must be a whole number from " + std::to_string(s.min) + " to " + std::to_string(s.max);
            }
            return {};
        }
    }
    return {};
}

/// File values may be JSON strings, numbers or booleans; they are checked as their text form.
std::optional<std::string> file_value_text(const nlohmann::json& v) {
    if (v.is_string()) {
        return v.get<std::string>();
    }
    if (v.is_boolean()) {
        return v.get<bool>() ? "true" : "false";
    }
    if (v.is_number_integer() || v.is_number_unsigned()) {
        return v.dump();
    }
    if (v.is_number_float()) {
        return v.dump();
    }
    if (v.is_array()) {
        std::string joined;
        for (const auto& item : v) {
            if (!item.is_string()) {
                return std::nullopt;
            }
            joined += (joined.empty() ? "" : ",") + item.get<std::string>();
        }
        return joined;
    }
    return std::nullopt;
}

/// "host:port" with a host and a port of 0-65535 (0: any free port), as the listeners bind it;
/// the host is resolved at bind time ("[::1]:8080" keeps its brackets until then).
bool is_host_port(const std::string& text) {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size() || text.size() - colon - 1 > 5) {
        return false;
    }
    unsigned port = 0;
    const char* first = text.data() + colon + 1;
    const char* last = text.data() + text.size();
    auto [end, ec] = std::from_chars(first, last, port);
    return ec == std::errc{} && end == last && port <= 65535;
}

void check_semantics(ConfigLoad& load, bool require_database) {
    const Config& c = load.config;
    auto& errors = load.errors;
    if (require_database && c.database_url.empty()) {
        errors.push_back("WAGATE_DATABASE_URL: required (a libpq URI such as postgresql://user@host/db)");
    }
    if (c.log_level != "trace" && c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" &&
        c.log_level != "error" && c.log_level != "off") {
        errors.push_back("WAGATE_LOG_LEVEL: must be one of trace, debug, info, warn, error, off");
    }
    if (c.log_format != "json" && c.log_format != "text") {
        errors.push_back("WAGATE_LOG_FORMAT: must be json or text");
    }
    if (c.unknown_templates != "reject" && c.unknown_templates != "pass") {
        errors.push_back("WAGATE_UNKNOWN_TEMPLATES: must be reject or pass");
    }
    for (const auto& kind : c.window_renewed_by) {
        if (kind != "reaction" && kind != "system" && kind != "unsupported") {
            errors.push_back("WAGATE_WINDOW_RENEWED_BY: \"" + kind + "\" is not one of reaction, system, unsupported");
        }
    }
    if (c.upstream_url.starts_with("http://")) {
        if (!c.upstream_allow_http) {
            errors.push_back("WAGATE_UPSTREAM_URL: http:// sends access tokens in clear text; set "
                             "WAGATE_UPSTREAM_ALLOW_HTTP=true to allow it (tests, the sandbox)");
        }
    } else if (!c.upstream_url.starts_with("https://")) {
        errors.push_back("WAGATE_UPSTREAM_URL: must start with https:// (or http:// with WAGATE_UPSTREAM_ALLOW_HTTP)");
    }
    if (c.upstream_url.size() > 1 && c.upstream_url.back() == '/') {
        errors.push_back("WAGATE_UPSTREAM_URL: no trailing slash (the relay appends /{version}/{phone_number_id}/messages)");
    }
    if (!c.upstream_ca_file.empty() && !std::ifstream(c.upstream_ca_file)) {
        errors.push_back("WAGATE_UPSTREAM_CA_FILE: " + c.upstream_ca_file + " cannot be read");
    }
    if (c.retry_max_ms < c.retry_base_ms) {
        errors.push_back("WAGATE_RETRY_MAX_MS: must be at least WAGATE_RETRY_BASE_MS");
    }
    if (c.relay_lease_ms < c.upstream_connect_timeout_ms + c.upstream_timeout_ms) {
        errors.push_back("WAGATE_RELAY_LEASE_MS: must exceed WAGATE_UPSTREAM_CONNECT_TIMEOUT_MS + "
                         "WAGATE_UPSTREAM_TIMEOUT_MS, or another instance could send a message still in flight");
    }
    if (!c.event_ca_file.empty() && !std::ifstream(c.event_ca_file)) {
        errors.push_back("WAGATE_EVENT_CA_FILE: " + c.event_ca_file + " cannot be read");
    }
    if (c.event_retry_max_ms < c.event_retry_base_ms) {
        errors.push_back("WAGATE_EVENT_RETRY_MAX_MS: must be at least WAGATE_EVENT_RETRY_BASE_MS");
    }
    if (c.event_lease_ms < c.event_connect_timeout_ms + c.event_timeout_ms) {
        errors.push_back("WAGATE_EVENT_LEASE_MS: must exceed WAGATE_EVENT_CONNECT_TIMEOUT_MS + "
                         "WAGATE_EVENT_TIMEOUT_MS, or another instance could deliver an event still in flight");
    }
    if (!c.sandbox_webhook_url.starts_with("http://") && !c.sandbox_webhook_url.starts_with("https://")) {
        errors.push_back("WAGATE_SANDBOX_WEBHOOK_URL: must be an http:// or https:// URL");
    }
    const std::string& v = c.upstream_version;
    if (v.size() < 4 || v[0] != 'v' || v.find('.') == std::string::npos) {
        errors.push_back("WAGATE_UPSTREAM_VERSION: must look like v23.0");
    }
    if (c.tls_cert.empty() != c.tls_key.empty()) {
        errors.push_back("WAGATE_TLS_CERT and WAGATE_TLS_KEY: set both or neither");
    }
    // Only the admin listener is optional (empty: served on the main one).
    for (const auto* listen : {&c.listen, &c.admin_listen}) {
        if ((listen == &c.listen || !listen->empty()) && !is_host_port(*listen)) {
            errors.push_back(std::string(listen == &c.listen ? "WAGATE_LISTEN" : "WAGATE_ADMIN_LISTEN") +
                             ": must be host:port (a port from 0 to 65535)");
        }
    }
}

}  // namespace

Environment process_environment() {
    Environment env;
    for (char** e = environ; e && *e; ++e) {
        const std::string entry(*e);
        const std::size_t eq = entry.find('=');
        if (eq != std::string::npos) {
            env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
        }
    }
    return env;
}

ConfigLoad load_config(const std::optional<std::string>& file, const Environment& env,
                       bool require_database) {
    ConfigLoad load;
    if (file) {
        std::ifstream in(*file);
        if (!in) {
            load.errors.push_back(*file + ": cannot be read");
        } else {
            std::stringstream text;
            text << in.rdbuf();
            auto json = nlohmann::json::parse(text.str(), nullptr, false, /*ignore_comments=*/true);
            if (json.is_discarded() || !json.is_object()) {
                load.errors.push_back(*file + ": not a JSON object (comments are allowed)");
            } else {
                for (const auto& [key, value] : json.items()) {
                    const Setting* setting = nullptr;
                    for (const auto& s : settings()) {
                        if (file_key(s.env) == key) {
                            setting = &s;
                        }
                    }
                    if (!setting) {
                        load.errors.push_back(*file + ": unknown setting \"" + key + "\"");
                        continue;
                    }
                    if (setting->secret) {
                        load.errors.push_back(*file + ": \"" + key + "\" is a secret; set " + setting->env +
                                              " in the environment instead");
                        continue;
                    }
                    auto text_value = file_value_text(value);
                    const std::string problem = text_value ? check(*setting, *text_value) : "has the wrong type";
                    if (!problem.empty()) {
                        load.errors.push_back(*file + ": \"" + key + "\" " + problem);
                        continue;
                    }
                    setting->assign(load.config, *text_value);
                }
            }
        }
    }
    for (const auto& s : settings()) {
        auto it = env.find(s.env);
        if (it == env.end()) {
            continue;
        }
        const std::string problem = check(s, it->second);
        if (!problem.empty()) {
            load.errors.push_back(std::string(s.env) + ": " + problem);
            continue;
        }
        s.assign(load.config, it->second);
    }
    for (const auto& [name, value] : env) {
        if (!name.starts_with("WAGATE_") || name.starts_with("WAGATE_TEST_") || name == "WAGATE_REQUIRE_PG") {
            continue;
        }
        bool known = false;
        for (const auto& s : settings()) {
            known = known || name == s.env;
        }
        if (!known) {
            load.warnings.push_back(name + ": not a wagate setting (ignored)");
        }
    }
    check_semantics(load, require_database);
    return load;
}

}  // namespace wagate::app
