// Fuzz target: the config loader, app::load_config — the config file text (JSON with comments)
// and the WAGATE_* environment overrides, checked and merged into a Config or a list of errors.
//
// Input format (so one input carries both sources):
//     NAME=VALUE lines of the environment
//     %%
//     the config file's text
// Without a "%%" line the whole input is the file and the environment is empty; with one and
// nothing after it, there is no file (environment only). load_config reads its file by path
// (there is no text entry point), so the file part is written to a private temporary file for
// each input, in /dev/shm when there is one, and removed after it.
//
// Invariants:
//  - no crash, no sanitizer report, no exception out of load_config;
//  - every error names its source: a WAGATE_* setting, or the file; every warning a variable;
//  - secrets never come from the file (admin token, app secrets, verify token);
//  - a string setting given in the environment always wins;
//  - numeric settings stay finite and within the limits the rest of the gateway relies on,
//    whatever the input (a value that fails its check is never assigned);
//  - a load without errors passes the semantic rules (log level, upstream URL, TLS pair, ...);
//  - require_database only adds the WAGATE_DATABASE_URL error, and only when it is unset.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <wagate/app/config.hpp>

#include "fuzz_check.hpp"

namespace {

using wagate::app::Config;
using wagate::app::ConfigLoad;
using wagate::app::Environment;
using wagate::fuzz::excerpt;

const std::string& scratch_file() {
    static const std::string path = [] {
        const std::filesystem::path dir =
            std::filesystem::is_directory("/dev/shm") ? std::filesystem::path("/dev/shm")
                                                      : std::filesystem::temp_directory_path();
        return (dir / ("wagate-config-fuzz-" + std::to_string(::getpid()) + ".jsonc")).string();
    }();
    return path;
}

void write_scratch_file(std::string_view text) {
    std::FILE* f = std::fopen(scratch_file().c_str(), "wb");
    FUZZ_CHECK(f != nullptr, "cannot write " + scratch_file());
    if (!text.empty()) {
        FUZZ_CHECK(std::fwrite(text.data(), 1, text.size(), f) == text.size(), "short write");
    }
    std::fclose(f);
}

Environment parse_environment(std::string_view block) {
    Environment env;
    while (!block.empty()) {
        const std::size_t nl = block.find('\n');
        const std::string_view line = block.substr(0, nl);
        block = nl == std::string_view::npos ? std::string_view{} : block.substr(nl + 1);
        const std::size_t eq = line.find('=');
        if (eq != std::string_view::npos && eq > 0) {
            env[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
        }
    }
    return env;
}

bool within(double v, double lo, double hi) { return std::isfinite(v) && v >= lo && v <= hi; }

void check_ranges(const Config& c, const std::string& where) {
    FUZZ_CHECK(within(c.key_rate_limit, 0, 1'000'000), "key_rate_limit " + std::to_string(c.key_rate_limit) + where);
    for (const double rate : {c.sandbox_fail_rate, c.sandbox_duplicate_rate, c.sandbox_reorder_rate,
                              c.sandbox_throttle_rate, c.sandbox_server_error_rate}) {
        FUZZ_CHECK(within(rate, 0, 1), "sandbox rate " + std::to_string(rate) + where);
    }
    // Minimums the runtime divides by, loops on, or sizes buffers with.
    for (const int positive : {c.threads, c.db_pool, c.max_connections, c.max_contacts, c.commit_batch_max,
                               c.commit_writers, c.relay_concurrency, c.pair_interval_ms, c.pair_burst,
                               c.retry_base_ms, c.retry_max_ms, c.ttl_default_s, c.ttl_authentication_s,
                               c.ttl_utility_s, c.ttl_marketing_s, c.event_concurrency_per_url,
                               c.event_retry_base_ms, c.event_retry_max_ms, c.event_max_age_s}) {
        FUZZ_CHECK(positive >= 1, "a count or interval below 1: " + std::to_string(positive) + where);
    }
    for (const int non_negative : {c.auth_cache_ttl_ms, c.shutdown_grace_ms, c.pair_queue_cap,
                                   c.maintenance_interval_ms, c.sandbox_status_delay_ms, c.sandbox_latency_ms}) {
        FUZZ_CHECK(non_negative >= 0, "negative: " + std::to_string(non_negative) + where);
    }
    FUZZ_CHECK(c.sandbox_seed >= 0, "sandbox_seed" + where);
    FUZZ_CHECK(c.json_max_depth >= 8 && c.json_max_depth <= 256, "json_max_depth" + where);
    FUZZ_CHECK(c.max_body_bytes >= 1024 && c.max_body_bytes <= (64u << 20), "max_body_bytes" + where);
    FUZZ_CHECK(c.webhook_max_body_bytes >= 1024 && c.webhook_max_body_bytes <= (64u << 20),
               "webhook_max_body_bytes" + where);
    // The server casts it to 32 bits for Beast's header_limit.
    FUZZ_CHECK(c.max_header_bytes >= 1024 && c.max_header_bytes <= (1u << 20), "max_header_bytes" + where);
    for (const int timeout : {c.header_timeout_ms, c.body_timeout_ms, c.idle_timeout_ms, c.statement_timeout_ms,
                              c.upstream_connect_timeout_ms, c.upstream_timeout_ms, c.event_connect_timeout_ms,
                              c.event_timeout_ms, c.webhook_lease_ms, c.relay_lease_ms, c.event_lease_ms}) {
        FUZZ_CHECK(timeout >= 100, "timeout below 100 ms: " + std::to_string(timeout) + where);
    }
}

void check_clean_load(const Config& c, const std::string& where) {
    const auto levels = {"trace", "debug", "info", "warn", "error", "off"};
    FUZZ_CHECK(std::find(levels.begin(), levels.end(), c.log_level) != levels.end(), "log_level " + c.log_level + where);
    FUZZ_CHECK(c.log_format == "json" || c.log_format == "text", "log_format" + where);
    FUZZ_CHECK(c.unknown_templates == "reject" || c.unknown_templates == "pass", "unknown_templates" + where);
    FUZZ_CHECK(c.upstream_url.starts_with("https://") ||
                   (c.upstream_url.starts_with("http://") && c.upstream_allow_http),
               "upstream_url" + where);
    FUZZ_CHECK(c.tls_cert.empty() == c.tls_key.empty(), "tls pair" + where);
    FUZZ_CHECK(c.retry_max_ms >= c.retry_base_ms && c.event_retry_max_ms >= c.event_retry_base_ms,
               "retry bounds" + where);
    FUZZ_CHECK(c.listen.find(':') != std::string::npos, "listen" + where);
    for (const auto& kind : c.window_renewed_by) {
        FUZZ_CHECK(kind == "reaction" || kind == "system" || kind == "unsupported", "window_renewed_by" + where);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    std::string_view env_block;
    std::string_view file_text = input;
    bool has_file = true;
    if (const std::size_t sep = input.find("%%\n"); sep != std::string_view::npos &&
                                                    (sep == 0 || input[sep - 1] == '\n')) {
        env_block = input.substr(0, sep);
        file_text = input.substr(sep + 3);
        has_file = !file_text.empty();
    }
    const Environment env = parse_environment(env_block);
    std::optional<std::string> file;
    if (has_file) {
        write_scratch_file(file_text);
        file = scratch_file();
    }
    const std::string where = " | input: " + excerpt(input, 300);

    const ConfigLoad load = wagate::app::load_config(file, env, /*require_database=*/false);
    const Config& c = load.config;
    for (const auto& e : load.errors) {
        FUZZ_CHECK(e.starts_with("WAGATE_") || (file && e.starts_with(*file + ": ")),
                   "error names no setting: " + excerpt(e) + where);
    }
    for (const auto& w : load.warnings) {
        FUZZ_CHECK(w.starts_with("WAGATE_"), "warning names no variable: " + excerpt(w) + where);
    }
    auto env_value = [&env](const char* name) -> const std::string* {
        const auto it = env.find(name);
        return it == env.end() ? nullptr : &it->second;
    };
    FUZZ_CHECK(env_value("WAGATE_ADMIN_TOKEN") || c.admin_token.empty(), "admin token from the file" + where);
    FUZZ_CHECK(env_value("WAGATE_META_APP_SECRETS") || c.meta_app_secrets.empty(), "app secrets from the file" + where);
    FUZZ_CHECK(env_value("WAGATE_META_VERIFY_TOKEN") || c.meta_verify_token.empty(), "verify token from the file" + where);
    struct StringSetting {
        const char* env;
        const std::string Config::*member;
    };
    for (const auto& [name, member] : {StringSetting{"WAGATE_LISTEN", &Config::listen},
                                       StringSetting{"WAGATE_DATABASE_URL", &Config::database_url},
                                       StringSetting{"WAGATE_UPSTREAM_URL", &Config::upstream_url},
                                       StringSetting{"WAGATE_LOG_LEVEL", &Config::log_level},
                                       StringSetting{"WAGATE_TLS_CERT", &Config::tls_cert}}) {
        if (const std::string* v = env_value(name)) {
            FUZZ_CHECK(c.*member == *v, std::string(name) + " from the environment does not win" + where);
        }
    }
    check_ranges(c, where);
    if (load.errors.empty()) {
        check_clean_load(c, where);
    }

    const ConfigLoad strict = wagate::app::load_config(file, env, /*require_database=*/true);
    if (c.database_url.empty()) {
        FUZZ_CHECK(strict.errors.size() == load.errors.size() + 1, "require_database added no error" + where);
        bool found = false;
        for (const auto& e : strict.errors) {
            found = found || e.starts_with("WAGATE_DATABASE_URL: required");
        }
        FUZZ_CHECK(found, "require_database error missing" + where);
    } else {
        FUZZ_CHECK(strict.errors == load.errors, "require_database changed errors with a database URL" + where);
    }
    // Removed after each input (libFuzzer ends without running atexit handlers); an input that
    // fails a check leaves it behind, next to nothing else.
    if (file) {
        std::remove(file->c_str());
    }
    return 0;
}
