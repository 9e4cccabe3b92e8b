#include "app/admin_cli.hpp"

#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>
#include <wagate/app/admin_commands.hpp>
#include <wagate/app/config.hpp>
#include <wagate/app/gateway.hpp>
#include <wagate/app/logging.hpp>
#include <wagate/crypto/random.hpp>
#include <wagate/http/client.hpp>

namespace wagate::app {
namespace asio = boost::asio;

namespace {

constexpr int kRefused = 1;
constexpr int kUsage = 2;
constexpr int kUnreachable = 3;

struct CommonFlags {
    std::optional<std::string> config;
    std::string url;
    std::string ca_file;
    std::vector<std::string> rest;
    std::string problem;
};

/// Takes out the flags that say where to connect; the rest is the command.
CommonFlags split_common_flags(const std::vector<std::string>& args) {
    CommonFlags f;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        std::string* target = a == "--config" || a.starts_with("--config=")   ? nullptr
                              : a == "--url" || a.starts_with("--url=")         ? &f.url
                              : a == "--ca-file" || a.starts_with("--ca-file=") ? &f.ca_file
                                                                                : nullptr;
        const bool common = target != nullptr || a == "--config" || a.starts_with("--config=");
        if (!common) {
            f.rest.push_back(a);
            continue;
        }
        std::string value;
        if (const auto eq = a.find('='); eq != std::string::npos) {
            value = a.substr(eq + 1);
        } else if (i + 1 < args.size()) {
            value = args[++i];
        } else {
            f.problem = a + ": needs a value";
            return f;
        }
        if (target != nullptr) {
            *target = std::move(value);
        } else {
            f.config = std::move(value);
        }
    }
    return f;
}

Result<std::string> read_file(const std::string& path) {
    if (path == "-") {
        return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return Error{Errc::kInvalidArgument, "cannot read " + path};
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// One request on a private io_context, blocking.
Result<http::ClientResponse> fetch(http::ClientSettings settings, http::ClientRequest request) {
    asio::io_context ioc;
    http::Client client(ioc.get_executor(), std::move(settings));
    std::optional<Result<http::ClientResponse>> answer;
    asio::co_spawn(ioc, client.send(std::move(request)),
                   [&answer](std::exception_ptr e, Result<http::ClientResponse> r) {
                       answer = e ? Result<http::ClientResponse>(Error{Errc::kInternal, "unexpected exception"})
                                  : std::move(r);
                   });
    ioc.run();
    return answer ? std::move(*answer) : Result<http::ClientResponse>(Error{Errc::kInternal, "no answer"});
}

bool print_problems(const ConfigLoad& load) {
    for (const auto& e : load.errors) {
        std::fprintf(stderr, "wagate: configuration: %s\n", e.c_str());
    }
    return load.errors.empty();
}

/// Prints the answer: readable or as JSON on stdout, an error envelope on stderr.
int report(const http::ClientResponse& answer, bool json_output) {
    const auto body = nlohmann::json::parse(answer.body, nullptr, false);
    if (answer.status >= 200 && answer.status < 300) {
        if (json_output || body.is_discarded()) {
            std::fwrite(answer.body.data(), 1, answer.body.size(), stdout);
            std::fputc('\n', stdout);
        } else {
            std::fputs(render_readable(body).c_str(), stdout);
        }
        return 0;
    }
    if (json_output) {
        std::fwrite(answer.body.data(), 1, answer.body.size(), stdout);
        std::fputc('\n', stdout);
    }
    std::string message = answer.body;
    if (!body.is_discarded() && body.contains("error") && body["error"].is_object()) {
        const auto& e = body["error"];
        message = e.value("message", std::string()) + ": " +
                  e.value("error_data", nlohmann::json::object()).value("details", std::string());
    }
    std::fprintf(stderr, "wagate admin: refused (HTTP %d) %s\n", answer.status, message.c_str());
    return answer.status >= 500 ? kUnreachable : kRefused;
}

}  // namespace

int run_admin(const std::vector<std::string>& args) {
    if (args.empty() || args.front() == "help" || args.front() == "--help") {
        std::fputs(admin_usage().c_str(), args.empty() ? stderr : stdout);
        return args.empty() ? kUsage : 0;
    }
    CommonFlags flags = split_common_flags(args);
    if (!flags.problem.empty()) {
        std::fprintf(stderr, "wagate admin: %s\n", flags.problem.c_str());
        return kUsage;
    }
    auto call = parse_admin_command(flags.rest, read_file);
    if (!call) {
        std::fprintf(stderr, "wagate admin: %s\n", call.error().message.c_str());
        return kUsage;
    }
    // Standard output is the answer: anything worth logging goes to standard error.
    configure_logging("error", "text", LogStream::kStderr);
    const Environment env = process_environment();
    if (flags.url.empty()) {
        if (auto it = env.find("WAGATE_ADMIN_URL"); it != env.end()) {
            flags.url = it->second;
        }
    }

    std::string base_url = flags.url;
    std::string token;
    std::unique_ptr<Gateway> local;
    http::ClientSettings client;
    client.request_timeout = std::chrono::seconds(30);
    if (!base_url.empty()) {
        // A running gateway: its admin token, from the environment only.
        auto it = env.find("WAGATE_ADMIN_TOKEN");
        if (it == env.end() || it->second.empty()) {
            std::fprintf(stderr, "wagate admin: --url needs WAGATE_ADMIN_TOKEN in the environment\n");
            return kUsage;
        }
        token = it->second;
        client.allow_plain_http = base_url.starts_with("http://");
        client.ca_file = flags.ca_file;
        while (base_url.ends_with('/')) {
            base_url.pop_back();
        }
    } else {
        // The database directly: the same handlers, served on a private loopback listener with a
        // one-time token for just this call, so the CLI and the API cannot disagree.
        auto load = load_config(flags.config, env, true);
        if (!print_problems(load)) {
            return kUsage;
        }
        Config c = std::move(load.config);
        c.listen = "127.0.0.1:0";
        c.admin_listen.clear();
        c.tls_cert.clear();
        c.tls_key.clear();
        c.threads = 1;
        c.db_pool = 2;
        c.relay = false;
        c.event_delivery = false;
        c.webhook_processing = false;
        c.maintenance_interval_ms = 0;
        c.key_rate_limit = 0;
        c.auto_migrate = false;  // changing the schema is `serve`'s or `migrate`'s decision, not an admin call's
        c.admin_token = crypto::random_hex(32);
        token = c.admin_token;
        local = std::make_unique<Gateway>(c);
        if (auto started = local->start(); !started) {
            std::fprintf(stderr, "wagate admin: cannot reach the database: %s\n", started.error().message.c_str());
            return kUnreachable;
        }
        base_url = "http://127.0.0.1:" + std::to_string(local->port());
        client.allow_plain_http = true;
    }

    http::ClientRequest request;
    request.method = call->method;
    request.url = base_url + call->target;
    request.headers.push_back({"Authorization", "Bearer " + token});
    if (!call->body.empty()) {
        request.headers.push_back({"Content-Type", "application/json"});
        request.body = call->body;
    }
    auto answer = fetch(client, std::move(request));
    if (local) {
        local->stop();
    }
    if (!answer) {
        std::fprintf(stderr, "wagate admin: %s: %s\n", base_url.c_str(), answer.error().message.c_str());
        return kUnreachable;
    }
    return report(*answer, call->json_output);
}

int run_healthcheck(const std::vector<std::string>& args) {
    CommonFlags flags = split_common_flags(args);
    if (!flags.problem.empty() || !flags.rest.empty()) {
        std::fprintf(stderr, "usage: wagate healthcheck [--config FILE] [--url URL] [--ca-file PEM]\n");
        return kUsage;
    }
    http::ClientSettings client;
    client.connect_timeout = std::chrono::seconds(2);
    client.request_timeout = std::chrono::seconds(5);
    client.ca_file = flags.ca_file;
    std::string url = flags.url;
    if (url.empty()) {
        auto load = load_config(flags.config, process_environment(), false);
        if (!print_problems(load)) {
            return kUsage;
        }
        const Config& c = load.config;
        // The listener's own address; a wildcard bind is reached on loopback.
        std::string host = c.listen.substr(0, c.listen.rfind(':'));
        const std::string port = c.listen.substr(c.listen.rfind(':') + 1);
        host = host == "0.0.0.0" || host.empty() ? "127.0.0.1" : host == "[::]" ? "[::1]" : host;
        const bool tls = !c.tls_cert.empty();
        url = std::string(tls ? "https://" : "http://") + host + ":" + port + "/readyz";
        if (tls && client.ca_file.empty()) {
            client.ca_file = c.tls_cert;  // a self-signed listener certificate is its own authority
        }
    }
    client.allow_plain_http = url.starts_with("http://");
    http::ClientRequest request;
    request.method = "GET";
    request.url = url;
    auto answer = fetch(client, std::move(request));
    if (!answer) {
        std::fprintf(stderr, "wagate healthcheck: %s: %s\n", url.c_str(), answer.error().message.c_str());
        return 1;
    }
    if (answer->status != 200) {
        std::fprintf(stderr, "wagate healthcheck: %s answered %d: %s\n", url.c_str(), answer->status,
                     answer->body.c_str());
        return 1;
    }
    return 0;
}

}  // namespace wagate::app
