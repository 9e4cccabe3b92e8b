#include <wagate/app/cli.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>
#include <wagate/app/config.hpp>
#include <wagate/app/gateway.hpp>
#include <wagate/app/logging.hpp>
#include <wagate/pg/migrator.hpp>
#include <wagate/sandbox/sandbox.hpp>

#include "app/admin_cli.hpp"

namespace wagate::app {
namespace {

constexpr const char* kUsage =
    "usage: wagate <command> [--config FILE]\n"
    "\n"
    "commands:\n"
    "  serve     run the gateway (applies pending migrations first unless WAGATE_AUTO_MIGRATE=false)\n"
    "  migrate   apply pending database migrations and exit\n"
    "  admin     the admin API's operations from the command line (`wagate admin help`)\n"
    "  healthcheck  exit 0 when this configuration's gateway answers GET /readyz with 200\n"
    "  sandbox   run a local stand-in for Meta's Cloud API that posts signed webhooks to the\n"
    "            gateway (WAGATE_SANDBOX_*; needs WAGATE_META_APP_SECRETS; docs/sandbox.md)\n"
    "  version   print the version\n"
    "  help      print this text\n"
    "\n"
    "Settings come from the --config JSON file and WAGATE_* environment variables (which win);\n"
    "see config/wagate.example.jsonc.\n";

struct Flags {
    std::optional<std::string> config;
    std::vector<std::string> problems;
};

Flags parse_flags(int argc, char** argv, int first) {
    Flags flags;
    for (int i = first; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--config" && i + 1 < argc) {
            flags.config = argv[++i];
        } else if (arg.starts_with("--config=")) {
            flags.config = arg.substr(9);
        } else {
            flags.problems.push_back("unknown argument: " + arg);
        }
    }
    return flags;
}

std::optional<Config> load_or_report(const Flags& flags, bool require_database) {
    auto load = load_config(flags.config, process_environment(), require_database);
    for (const auto& w : load.warnings) {
        std::fprintf(stderr, "wagate: warning: %s\n", w.c_str());
    }
    std::vector<std::string> problems = flags.problems;
    problems.insert(problems.end(), load.errors.begin(), load.errors.end());
    if (!problems.empty()) {
        std::fprintf(stderr, "wagate: configuration has %zu problem(s):\n", problems.size());
        for (const auto& p : problems) {
            std::fprintf(stderr, "  - %s\n", p.c_str());
        }
        return std::nullopt;
    }
    return std::move(load.config);
}

int serve(const Flags& flags) {
    auto config = load_or_report(flags, true);
    if (!config) {
        return 2;
    }
    configure_logging(config->log_level, config->log_format);
    Gateway gateway(*config);
    if (auto started = gateway.start(); !started) {
        spdlog::critical("cannot start: {}", started.error().message);
        return 1;
    }
    gateway.run_until_signal();
    return 0;
}

int migrate(const Flags& flags) {
    auto config = load_or_report(flags, true);
    if (!config) {
        return 2;
    }
    auto report = pg::migrate(config->database_url, pg::embedded_migrations());
    if (!report) {
        std::fprintf(stderr, "wagate: migrate failed: %s\n", report.error().message.c_str());
        return 1;
    }
    for (const auto& name : report->applied) {
        std::printf("applied %s\n", name.c_str());
    }
    std::printf("%zu migration(s) applied, %zu already applied\n", report->applied.size(),
                report->already_applied);
    return 0;
}

/// The sandbox's settings from the configuration; the first app secret signs its webhooks.
sandbox::SandboxSettings sandbox_settings(const Config& c) {
    sandbox::SandboxSettings s;
    s.listen = c.sandbox_listen;
    s.webhook_url = c.sandbox_webhook_url;
    s.app_secret = c.meta_app_secrets.empty() ? std::string() : c.meta_app_secrets.front();
    s.webhooks = c.sandbox_webhooks;
    s.status_delay = std::chrono::milliseconds(c.sandbox_status_delay_ms);
    s.read = c.sandbox_read;
    s.fail_rate = c.sandbox_fail_rate;
    s.duplicate_rate = c.sandbox_duplicate_rate;
    s.reorder_rate = c.sandbox_reorder_rate;
    s.throttle_rate = c.sandbox_throttle_rate;
    s.server_error_rate = c.sandbox_server_error_rate;
    s.latency = std::chrono::milliseconds(c.sandbox_latency_ms);
    s.seed = static_cast<std::uint64_t>(c.sandbox_seed);
    return s;
}

int run_sandbox(const Flags& flags) {
    auto config = load_or_report(flags, false);
    if (!config) {
        return 2;
    }
    const sandbox::SandboxSettings settings = sandbox_settings(*config);
    if (auto problems = sandbox::check_settings(settings); !problems.empty()) {
        std::fprintf(stderr, "wagate: the sandbox cannot start (%zu problem(s)):\n", problems.size());
        for (const auto& p : problems) {
            std::fprintf(stderr, "  - %s\n", p.c_str());
        }
        return 2;
    }
    configure_logging(config->log_level, config->log_format);
    if (auto ran = sandbox::run_until_signal(settings, config->threads, log_request); !ran) {
        spdlog::critical("sandbox cannot start: {}", ran.error().message);
        return 1;
    }
    return 0;
}

}  // namespace

int run_cli(int argc, char** argv) {
    const std::string command = argc > 1 ? argv[1] : "help";
    if (command == "help" || command == "--help" || command == "-h") {
        std::fputs(kUsage, stdout);
        return argc > 1 ? 0 : 2;
    }
    if (command == "version" || command == "--version") {
        std::printf("wagate %s\n", WAGATE_VERSION);
        return 0;
    }
    const std::vector<std::string> rest(argv + 2, argv + argc);
    if (command == "admin") {
        return run_admin(rest);
    }
    if (command == "healthcheck") {
        return run_healthcheck(rest);
    }
    const Flags flags = parse_flags(argc, argv, 2);
    if (command == "serve") {
        return serve(flags);
    }
    if (command == "migrate") {
        return migrate(flags);
    }
    if (command == "sandbox") {
        return run_sandbox(flags);
    }
    std::fprintf(stderr, "wagate: unknown command '%s'\n\n%s", command.c_str(), kUsage);
    return 2;
}

}  // namespace wagate::app
