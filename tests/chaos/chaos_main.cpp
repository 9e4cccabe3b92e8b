// wagate_chaos: the gateway under faults, on loopback, for a bounded time (issue 8, docs/chaos.md).
//
// Two `wagate serve` instances share one durable PostgreSQL cluster. A load generator sends a
// mix of in-window texts, templates to new users and mark-as-read requests, round robin over the
// two instances, each request with an Idempotency-Key and retried on the other instance until it
// is answered. Simulated users write in through the sandbox, whose status webhooks (with 429s,
// 5xx, latency, duplicates and reordering injected) reach the instances through a TCP load
// balancer. A recording business backend fails some deliveries. Meanwhile instances are killed
// with SIGKILL and restarted, the upstream is stalled (SIGSTOP), and PostgreSQL crashes and comes
// back once. After a drain, audit.cpp compares everything; the exit status is 1 on any loss,
// repeat outside a fault's in-flight window, order violation or exceeded budget.
//
//   wagate_chaos [--duration S] [--kills N] [--rate R] [--seed N] [--work DIR] [--keep]
//                [--gateway-env WAGATE_NAME=VALUE]... [--sandbox-env WAGATE_NAME=VALUE]...

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaos/audit.hpp"
#include "chaos/tcp_balancer.hpp"
#include "support/event_receiver.hpp"
#include "support/http_client.hpp"
#include "support/own_cluster.hpp"
#include "support/process.hpp"
#include "support/test_database.hpp"

namespace wagate::chaos {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::HttpClient;
using test::Process;

constexpr const char* kAppSecret = "chaos-app-secret";
constexpr const char* kBackendSecret = "chaos-backend-secret";
constexpr const char* kAdminToken = "chaos-admin-token-0123456789abcdef";
constexpr const char* kPhone = "7001";
constexpr const char* kBusiness = "chaos";
constexpr int kTierLimit = 250;
constexpr int kRelayConcurrency = 8;
constexpr int kInstances = 2;

UnixMs now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

UnixMs to_unix_ms(Clock::time_point t) {
    return now_ms() - std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

void say(const std::string& line) {
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    std::cout << "[chaos +" << std::fixed << std::setprecision(1) << std::flush;
    static const auto start = Clock::now();
    std::cout << std::chrono::duration<double>(Clock::now() - start).count() << "s] " << line << std::endl;
}

struct Options {
    int duration_s = 60;
    int kills = 2;
    double rate = 60;  // requests per second, all kinds
    unsigned seed = 1;
    std::string work;
    bool keep = false;
    std::map<std::string, std::string> gateway_env;  // --gateway-env NAME=VALUE: overrides
    std::map<std::string, std::string> sandbox_env;  // --sandbox-env NAME=VALUE: overrides
};

Options parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                throw std::invalid_argument(a + " needs a value");
            }
            return argv[++i];
        };
        if (a == "--duration") {
            o.duration_s = std::stoi(value());
        } else if (a == "--kills") {
            o.kills = std::stoi(value());
        } else if (a == "--rate") {
            o.rate = std::stod(value());
        } else if (a == "--seed") {
            o.seed = static_cast<unsigned>(std::stoul(value()));
        } else if (a == "--work") {
            o.work = value();
        } else if (a == "--keep") {
            o.keep = true;
        } else if (a == "--gateway-env" || a == "--sandbox-env") {
            const std::string setting = value();
            const auto eq = setting.find('=');
            if (eq == std::string::npos || !setting.starts_with("WAGATE_")) {
                throw std::invalid_argument(a + " WAGATE_NAME=VALUE");
            }
            (a == "--gateway-env" ? o.gateway_env : o.sandbox_env)[setting.substr(0, eq)] = setting.substr(eq + 1);
        } else {
            throw std::invalid_argument("unknown option " + a);
        }
    }
    if (o.duration_s < 20 || o.kills < 0 || o.rate <= 0 || o.rate > 2000) {
        throw std::invalid_argument("--duration ≥ 20, --kills ≥ 0, 0 < --rate ≤ 2000");
    }
    return o;
}

// --- PostgreSQL ----------------------------------------------------------------------------------

/// The count a statement returns, or -1 when the database cannot answer (the drain asks again).
std::int64_t count_of(const std::string& dsn, const std::string& statement) {
    try {
        const auto rows = test::query(dsn, statement);
        return rows.empty() ? -1 : std::stoll(rows.front().front());
    } catch (const std::exception& e) {
        std::cerr << "chaos: " << e.what() << "\n";
        return -1;
    }
}

// --- the processes -----------------------------------------------------------------------------

class Instances {
public:
    Instances(std::string dsn, unsigned short upstream_port, std::map<std::string, std::string> overrides)
        : dsn_(std::move(dsn)), upstream_port_(upstream_port), overrides_(std::move(overrides)) {
        for (int i = 0; i < kInstances; ++i) {
            ports_.push_back(test::free_port());
            processes_.emplace_back();
        }
    }

    const std::vector<unsigned short>& ports() const { return ports_; }

    void start(int i) {
        std::lock_guard lock(mutex_);
        processes_[i] = std::make_unique<Process>(WAGATE_BINARY, std::vector<std::string>{"serve"}, env(ports_[i]));
        if (!test::wait_until_ready(ports_[i], 30s)) {
            throw std::runtime_error("instance " + std::to_string(i) + " did not become ready:\n" +
                                     processes_[i]->output());
        }
    }

    void kill(int i) {
        std::lock_guard lock(mutex_);
        processes_[i]->signal(SIGKILL);
        processes_[i]->wait(10s);
        killed_output_ += processes_[i]->output();
        processes_[i].reset();  // down until start(i): not a crash
    }

    /// An instance that died without being killed: its number and output.
    std::optional<std::string> crashed() {
        std::lock_guard lock(mutex_);
        for (std::size_t i = 0; i < processes_.size(); ++i) {
            if (processes_[i] && processes_[i]->wait(0ms)) {
                return "instance " + std::to_string(i) + " exited on its own:\n" + processes_[i]->output();
            }
        }
        return std::nullopt;
    }

    /// SIGTERM to all; the exit codes that were not 0.
    std::vector<std::string> stop() {
        std::vector<std::string> problems;
        std::lock_guard lock(mutex_);
        for (std::size_t i = 0; i < processes_.size(); ++i) {
            if (!processes_[i]) {
                continue;
            }
            processes_[i]->signal(SIGTERM);
            const auto code = processes_[i]->wait(30s);
            if (code != 0) {
                problems.push_back("instance " + std::to_string(i) + " exited with " +
                                   (code ? std::to_string(*code) : std::string("nothing (hung)")) + ":\n" +
                                   processes_[i]->output());
            }
        }
        return problems;
    }

    /// Everything the instances wrote (at WAGATE_LOG_LEVEL=warn), killed ones included.
    std::string logs() {
        std::lock_guard lock(mutex_);
        std::string all = killed_output_;
        for (auto& p : processes_) {
            if (p) {
                all += p->output();
            }
        }
        return all;
    }

private:
    std::map<std::string, std::string> env(unsigned short port) const {
        std::map<std::string, std::string> env = {{"WAGATE_DATABASE_URL", dsn_},
                {"WAGATE_LISTEN", "127.0.0.1:" + std::to_string(port)},
                {"WAGATE_ADMIN_TOKEN", kAdminToken},
                {"WAGATE_META_APP_SECRETS", kAppSecret},
                {"WAGATE_LOG_LEVEL", "warn"},
                {"WAGATE_THREADS", "2"},
                {"WAGATE_DB_POOL", "6"},
                {"WAGATE_UPSTREAM_URL", "http://127.0.0.1:" + std::to_string(upstream_port_)},
                {"WAGATE_UPSTREAM_ALLOW_HTTP", "true"},
                {"WAGATE_UPSTREAM_CONNECT_TIMEOUT_MS", "500"},
                {"WAGATE_UPSTREAM_TIMEOUT_MS", "2000"},
                {"WAGATE_RELAY_LEASE_MS", "5000"},
                {"WAGATE_RELAY_CONCURRENCY", std::to_string(kRelayConcurrency)},
                {"WAGATE_RETRY_BASE_MS", "200"},
                {"WAGATE_RETRY_MAX_MS", "2000"},
                {"WAGATE_EVENT_ALLOW_HTTP", "true"},
                {"WAGATE_EVENT_CONNECT_TIMEOUT_MS", "500"},
                {"WAGATE_EVENT_TIMEOUT_MS", "2000"},
                {"WAGATE_EVENT_LEASE_MS", "5000"},
                {"WAGATE_EVENT_RETRY_BASE_MS", "200"},
                {"WAGATE_EVENT_RETRY_MAX_MS", "2000"},
                {"WAGATE_WEBHOOK_LEASE_MS", "5000"}};
        for (const auto& [name, value] : overrides_) {
            env[name] = value;
        }
        return env;
    }

    std::string dsn_;
    unsigned short upstream_port_;
    std::map<std::string, std::string> overrides_;
    std::vector<unsigned short> ports_;
    std::vector<std::unique_ptr<Process>> processes_;
    std::string killed_output_;
    std::mutex mutex_;
};

std::map<std::string, std::string> sandbox_env(unsigned short port, unsigned short webhook_port, const Options& options) {
    std::map<std::string, std::string> env = {{"WAGATE_META_APP_SECRETS", kAppSecret},
            {"WAGATE_SANDBOX_LISTEN", "127.0.0.1:" + std::to_string(port)},
            {"WAGATE_SANDBOX_WEBHOOK_URL", "http://127.0.0.1:" + std::to_string(webhook_port) + "/webhooks/meta"},
            {"WAGATE_SANDBOX_STATUS_DELAY_MS", "200"},
            {"WAGATE_SANDBOX_FAIL_RATE", "0.05"},
            {"WAGATE_SANDBOX_DUPLICATE_RATE", "0.1"},
            {"WAGATE_SANDBOX_REORDER_RATE", "0.1"},
            {"WAGATE_SANDBOX_THROTTLE_RATE", "0.03"},
            {"WAGATE_SANDBOX_SERVER_ERROR_RATE", "0.03"},
            {"WAGATE_SANDBOX_LATENCY_MS", "20"},
            {"WAGATE_SANDBOX_SEED", std::to_string(options.seed)},
            {"WAGATE_LOG_LEVEL", "warn"},
            {"WAGATE_THREADS", "1"}};
    for (const auto& [name, value] : options.sandbox_env) {
        env[name] = value;
    }
    return env;
}

// --- the load ----------------------------------------------------------------------------------

std::string user_with_window(std::size_t i) { return "1666" + std::to_string(1000000 + i); }
std::string new_user(std::uint64_t n) { return "1777" + std::to_string(1000000 + n); }

struct Admin {
    HttpClient client;
    explicit Admin(unsigned short port) : client(port) {}
    json call(const std::string& method, const std::string& target, const json& body) {
        auto r = client.request(method, target, body.dump(),
                                {{"Authorization", std::string("Bearer ") + kAdminToken}, {"Content-Type", "application/json"}});
        if (r.status / 100 != 2) {
            throw std::runtime_error(method + " " + target + ": " + std::to_string(r.status) + " " + r.body);
        }
        return json::parse(r.body);
    }
};

/// What the load generator saw, besides the requests themselves.
struct LoadTally {
    std::atomic<std::int64_t> attempts{0};
    std::atomic<std::int64_t> connection_failures{0};
    std::atomic<std::int64_t> retryable_503{0};
    std::atomic<std::int64_t> other_5xx{0};
    std::atomic<std::int64_t> malformed_503{0};  // without the Graph envelope or Retry-After
    std::atomic<std::int64_t> inbound_failed{0};
};

class Load {
public:
    Load(std::vector<unsigned short> ports, unsigned short sandbox_port, std::string key, std::vector<std::string> inbound,
         const Options& options)
        : ports_(std::move(ports)), sandbox_port_(sandbox_port), key_(std::move(key)), inbound_wamids_(std::move(inbound)),
          options_(options) {}

    void run(Clock::time_point until) {
        const auto start = Clock::now();
        std::vector<std::thread> workers;
        for (int w = 0; w < 8; ++w) {
            workers.emplace_back([this, w, start, until] { work(w, start, until); });
        }
        for (auto& t : workers) {
            t.join();
        }
    }

    std::vector<Request> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }
    std::vector<std::string> inbound_answered() const {
        std::lock_guard lock(mutex_);
        return inbound_answered_;
    }
    const LoadTally& tally() const { return tally_; }

private:
    void work(int w, Clock::time_point start, Clock::time_point until) {
        std::vector<HttpClient> instances;
        for (auto port : ports_) {
            instances.emplace_back(port);
        }
        HttpClient sandbox(sandbox_port_);
        std::mt19937_64 rng(options_.seed * 1000 + static_cast<unsigned>(w));
        for (;;) {
            const std::uint64_t n = next_.fetch_add(1);
            const auto due = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(n / options_.rate));
            if (due >= until) {
                return;
            }
            std::this_thread::sleep_until(due);
            const int dice = static_cast<int>(rng() % 100);
            if (dice < 10) {
                inbound(sandbox, n, rng);
                continue;
            }
            Request r;
            json body;
            if (dice < 70) {
                r.kind = RequestKind::kText;
                r.key = "x" + std::to_string(n);
                r.to = pick_window_user(rng);
                body = {{"messaging_product", "whatsapp"}, {"to", "+" + r.to}, {"type", "text"},
                        {"text", {{"body", "chaos " + r.key}}}};
            } else if (dice < 85) {
                r.kind = RequestKind::kTemplate;
                r.key = "t" + std::to_string(n);
                r.to = new_user(n);
                body = {{"messaging_product", "whatsapp"},
                        {"to", "+" + r.to},
                        {"type", "template"},
                        {"template",
                         {{"name", "chaos_code"},
                          {"language", {{"code", "en_US"}}},
                          {"components", json::array({{{"type", "body"}, {"parameters", json::array({{{"type", "text"}, {"text", r.key}}})}}})}}}};
            } else {
                r.kind = RequestKind::kMarkRead;
                r.key = "r" + std::to_string(n);
                body = {{"messaging_product", "whatsapp"}, {"status", "read"}, {"message_id", pick_inbound(rng)}};
            }
            send(instances, n, r, body.dump());
            std::lock_guard lock(mutex_);
            requests_.push_back(std::move(r));
        }
    }

    /// Sends until answered, alternating instances, with the same Idempotency-Key; gives up after 30 s.
    void send(std::vector<HttpClient>& instances, std::uint64_t n, Request& r, const std::string& body) {
        const auto give_up = Clock::now() + 30s;
        auto backoff = 50ms;
        for (std::size_t attempt = 0; Clock::now() < give_up; ++attempt) {
            ++tally_.attempts;
            HttpClient& client = instances[(n + attempt) % instances.size()];
            test::HttpResult result;
            try {
                result = client.post_json("/v23.0/" + std::string(kPhone) + "/messages", body, key_, {{"Idempotency-Key", r.key}});
            } catch (const std::exception&) {
                ++tally_.connection_failures;  // the instance is down (killed): try the other one
                std::this_thread::sleep_for(backoff);
                backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
                continue;
            }
            if (result.status / 100 == 5) {
                if (result.status == 503) {
                    ++tally_.retryable_503;
                    if (!well_formed_503(result)) {
                        ++tally_.malformed_503;
                    }
                } else {
                    ++tally_.other_5xx;
                }
                std::this_thread::sleep_for(backoff);
                backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
                continue;
            }
            r.final_status = result.status;
            const json answer = json::parse(result.body, nullptr, false);
            if (result.status == 200 && r.kind != RequestKind::kMarkRead) {
                // A 200 without an id leaves answered_id empty, which the audit reports.
                const json* messages = answer.is_object() && answer.contains("messages") ? &answer["messages"] : nullptr;
                const std::string id = messages && messages->is_array() && !messages->empty()
                                           ? (*messages)[0].value("id", std::string())
                                           : std::string();
                r.answered_id = id.starts_with("wagate.") ? id.substr(7) : id;
            } else if (result.status != 200 && answer.is_object() && answer.contains("error")) {
                r.error_code = answer["error"].value("code", 0);
            }
            return;
        }
    }

    static bool well_formed_503(const test::HttpResult& r) {
        const json body = json::parse(r.body, nullptr, false);
        return r.headers.contains("retry-after") && body.is_object() && body.contains("error") &&
               body["error"].contains("code") && body["error"].contains("fbtrace_id");
    }

    void inbound(HttpClient& sandbox, std::uint64_t n, std::mt19937_64& rng) {
        const json body = {{"phone_number_id", kPhone},
                           {"from", pick_window_user(rng)},
                           {"type", "text"},
                           {"text", {{"body", "inbound " + std::to_string(n)}}}};
        try {
            auto r = sandbox.post_json("/sandbox/v1/inbound", body.dump());
            const json answer = json::parse(r.body, nullptr, false);
            if (r.status == 200 && answer.value("gateway_status", 0) == 200) {
                std::lock_guard lock(mutex_);
                inbound_answered_.push_back(answer["wamid"]);
                inbound_wamids_.push_back(answer["wamid"]);
                return;
            }
        } catch (const std::exception&) {
        }
        ++tally_.inbound_failed;  // not stored and not acknowledged: nothing to audit
    }

    std::string pick_window_user(std::mt19937_64& rng) const { return user_with_window(rng() % kWindowUsers); }
    std::string pick_inbound(std::mt19937_64& rng) {
        std::lock_guard lock(mutex_);
        return inbound_wamids_[rng() % inbound_wamids_.size()];
    }

public:
    static constexpr std::size_t kWindowUsers = 400;

private:
    std::vector<unsigned short> ports_;
    unsigned short sandbox_port_;
    std::string key_;
    std::atomic<std::uint64_t> next_{0};
    mutable std::mutex mutex_;
    std::vector<Request> requests_;
    std::vector<std::string> inbound_answered_;
    std::vector<std::string> inbound_wamids_;
    LoadTally tally_;
    const Options& options_;
};

// --- the faults --------------------------------------------------------------------------------

struct OutageFindings {
    int readyz_checks = 0;
    int readyz_not_ready = 0;    // 503 while the database was down: as it must be
    std::int64_t recovery_ms = -1;  // database back → both instances ready again
};

class Faults {
public:
    Faults(Instances& instances, Process& sandbox, const test::OwnCluster& database, const Options& options)
        : instances_(instances), sandbox_(sandbox), database_(database), options_(options), rng_(options.seed) {}

    /// The schedule over the load's duration: kills spread evenly (alternating instances, at a
    /// random moment within their slot), one upstream stall at 30 %, one database outage at 55 %.
    void run(Clock::time_point start) {
        const double d = options_.duration_s;
        struct Step {
            double at;
            std::function<void()> act;
        };
        std::vector<Step> steps;
        steps.push_back({0.30 * d, [this] { stall_upstream(); }});
        steps.push_back({0.55 * d, [this] { database_outage(); }});
        for (int k = 0; k < options_.kills; ++k) {
            const double slot = 0.85 * d / options_.kills;
            double at = 0.08 * d + slot * k + std::uniform_real_distribution<double>(0.1, 0.6)(rng_) * slot;
            for (const double busy : {0.30 * d, 0.55 * d}) {
                if (at > busy - 2 && at < busy + 8) {
                    at = busy + 8;  // not on top of the stall or the outage: each fault on its own
                }
            }
            steps.push_back({at, [this, k] { kill(k % kInstances); }});
        }
        std::sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) { return a.at < b.at; });
        for (auto& s : steps) {
            std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s.at)));
            s.act();
        }
    }

    std::vector<FaultWindow> windows() const { return windows_; }
    const OutageFindings& outage() const { return outage_; }
    int kills() const { return kills_; }

private:
    void kill(int i) {
        const UnixMs at = now_ms();
        instances_.kill(i);
        windows_.push_back({"kill " + std::to_string(kills_ + 1) + " (SIGKILL, instance " + std::to_string(i) + ")", at, at, 1});
        ++kills_;
        const auto down = std::chrono::milliseconds(std::uniform_int_distribution<int>(200, 1500)(rng_));
        std::this_thread::sleep_for(down);
        instances_.start(i);
        say("killed instance " + std::to_string(i) + ", restarted after " + std::to_string(down.count()) + " ms");
    }

    void stall_upstream() {
        const UnixMs from = now_ms();
        sandbox_.signal(SIGSTOP);
        std::this_thread::sleep_for(5s);  // longer than WAGATE_UPSTREAM_TIMEOUT_MS
        sandbox_.signal(SIGCONT);
        // Every send that times out in the stall is retried into it: ⌈5 s / 2 s⌉ + 1 rounds.
        windows_.push_back({"upstream stall (SIGSTOP 5 s)", from, now_ms(), kInstances * (3 + 1)});
        say("upstream stalled for 5 s");
    }

    void database_outage() {
        const UnixMs from = now_ms();
        database_.halt();
        const auto down_until = Clock::now() + 4s;
        while (Clock::now() < down_until) {
            for (auto port : instances_.ports()) {
                ++outage_.readyz_checks;
                try {
                    HttpClient c(port);
                    if (c.get("/readyz").status == 503) {
                        ++outage_.readyz_not_ready;
                    }
                } catch (const std::exception&) {
                }
            }
            std::this_thread::sleep_for(250ms);
        }
        database_.resume();
        const auto back = Clock::now();
        bool ready = false;
        while (!ready && Clock::now() < back + 60s) {
            ready = true;
            for (auto port : instances_.ports()) {
                try {
                    HttpClient c(port);
                    ready = ready && c.get("/readyz").status == 200;
                } catch (const std::exception&) {
                    ready = false;
                }
            }
            if (!ready) {
                std::this_thread::sleep_for(20ms);
            }
        }
        outage_.recovery_ms = ready ? std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - back).count() : -1;
        windows_.push_back({"database outage (crash, 4 s)", from, now_ms(), kInstances});
        say("database halted for 4 s; instances ready again " + std::to_string(outage_.recovery_ms) + " ms after it returned");
    }

    Instances& instances_;
    Process& sandbox_;
    const test::OwnCluster& database_;
    const Options& options_;
    std::mt19937 rng_;
    std::vector<FaultWindow> windows_;
    OutageFindings outage_;
    int kills_ = 0;
};

// --- collecting the observations --------------------------------------------------------------

std::vector<UpstreamSend> upstream_sends(unsigned short sandbox_port) {
    std::vector<UpstreamSend> out;
    HttpClient sandbox(sandbox_port);
    std::uint64_t after = 0;
    for (;;) {
        const auto r = sandbox.get("/sandbox/v1/messages?after=" + std::to_string(after) + "&limit=5000");
        const json page = json::parse(r.body);
        if (page["messages"].empty()) {
            return out;
        }
        for (const json& m : page["messages"]) {
            UpstreamSend u;
            u.wamid = m["wamid"];
            u.type = m["type"];
            u.to = m["to"].get<std::string>();
            if (u.to.starts_with("+")) {
                u.to.erase(0, 1);
            }
            u.key = payload_token(m["payload"]);
            const std::string at = m["received_at"];  // RFC 3339 UTC with milliseconds
            std::tm tm{};
            strptime(at.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
            u.received_at = static_cast<UnixMs>(timegm(&tm)) * 1000 + std::stoi(at.substr(20, 3));
            for (const auto& s : m["statuses"]) {
                u.statuses.push_back(s);
            }
            after = m["seq"];
            out.push_back(std::move(u));
        }
    }
}

std::vector<std::string> split(const std::string& s, char c) {
    std::vector<std::string> out;
    std::stringstream in(s);
    for (std::string part; std::getline(in, part, c);) {
        out.push_back(part);
    }
    return out;
}

void collect_database(const std::string& dsn, Observations& o) {
    const auto messages = test::query(dsn, R"(
        SELECT replace(m.id::text, '-', ''), m.kind, m.type, m.wa_id, coalesce(m.wamid, ''), m.status,
               coalesce(k.key, ''),
               coalesce((SELECT string_agg(s.status, ',') FROM wagate.message_statuses s WHERE s.message_id = m.id), ''),
               coalesce(m.errors->0->>'code', '')
        FROM wagate.messages m LEFT JOIN wagate.idempotency_keys k ON k.message_id = m.id)");
    const auto inbound = test::query(dsn, "SELECT wamid FROM wagate.inbound_messages");
    const auto events = test::query(dsn, "SELECT id, coalesce(ordering_key, ''), state, payload::text FROM wagate.events");
    for (const auto& row : messages) {
        StoredMessage m{row[0], row[1], row[2], row[3], row[4], row[5], row[6], split(row[7], ','), std::nullopt};
        if (!row[8].empty()) {
            m.error_code = std::stoi(row[8]);
        }
        o.messages.push_back(std::move(m));
    }
    for (const auto& row : inbound) {
        o.inbound_stored.push_back(row[0]);
    }
    for (const auto& row : events) {
        o.events.push_back({std::stoll(row[0]), row[1], row[2], event_identity(json::parse(row[3]))});
    }
    o.tier_limit = kTierLimit;
    o.limit_counted = count_of(dsn, "SELECT count(DISTINCT wa_id) FROM wagate.limit_counts WHERE business_id = 'chaos'");
}

/// Waits until nothing is left to do: relay queue, webhook inbox, upstream webhooks and events.
bool drain(const std::string& dsn, unsigned short sandbox_port, std::chrono::seconds limit) {
    const auto deadline = Clock::now() + limit;
    int quiet = 0;
    while (Clock::now() < deadline) {
        const auto relay = count_of(dsn, "SELECT count(*) FROM wagate.relay_queue");
        const auto inbox = count_of(dsn, "SELECT count(*) FROM wagate.webhook_deliveries WHERE processed_at IS NULL");
        const auto events = count_of(dsn, "SELECT count(*) FROM wagate.events WHERE state = 'pending'");
        std::int64_t webhooks = -1;
        try {
            HttpClient sandbox(sandbox_port);
            webhooks = json::parse(sandbox.get("/sandbox/v1/stats").body).value("webhooks_pending", -1);
        } catch (const std::exception&) {
        }
        quiet = (relay == 0 && inbox == 0 && events == 0 && webhooks == 0) ? quiet + 1 : 0;
        if (quiet >= 3) {  // three checks in a row: nothing was in between two of them
            return true;
        }
        std::this_thread::sleep_for(500ms);
    }
    return false;
}

int run(const Options& options) {
    namespace fs = std::filesystem;
    const std::string work = options.work.empty()
                                 ? (fs::temp_directory_path() / ("wagate-chaos-" + std::to_string(::getpid()))).string()
                                 : options.work;
    fs::create_directories(work);
    say("work directory " + work + ", seed " + std::to_string(options.seed) + ", " + std::to_string(options.duration_s) +
        " s of load at " + std::to_string(static_cast<int>(options.rate)) + " requests/s, " + std::to_string(options.kills) +
        " kills");
    const test::OwnCluster database(work + "/pg", options.keep);
    const std::string& dsn = database.dsn();

    // The backend: fails a first delivery now and then, and is sometimes slow (deliveries in flight).
    test::EventReceiver backend(kBackendSecret, [](const test::ReceivedEvent& e, int same_body_index) {
        test::EventReply reply;
        if (!e.signature_valid_raw) {
            reply.status = 401;
            return reply;
        }
        const std::size_t h = std::hash<std::string>{}(e.body);
        if (same_body_index == 0 && h % 100 < 5) {
            reply.status = 500;
        } else if (h % 100 < 12) {
            reply.delay = 300ms;
        }
        return reply;
    });

    const unsigned short sandbox_port = test::free_port();
    Instances instances(dsn, sandbox_port, options.gateway_env);
    TcpBalancer balancer(instances.ports());
    instances.start(0);  // migrates
    instances.start(1);
    Process sandbox(WAGATE_BINARY, {"sandbox"}, sandbox_env(sandbox_port, balancer.port(), options));
    for (int i = 0; i < 200; ++i) {
        try {
            if (HttpClient(sandbox_port).get("/sandbox/v1/stats").status == 200) {
                break;
            }
        } catch (const std::exception&) {
        }
        std::this_thread::sleep_for(50ms);
    }

    Admin admin(instances.ports()[0]);
    admin.call("PUT", std::string("/admin/v1/businesses/") + kBusiness, {{"messaging_limit_tier", "TIER_250"}});
    admin.call("PUT", std::string("/admin/v1/phone-numbers/") + kPhone,
               {{"business_id", kBusiness},
                {"waba_id", "chaos-waba"},
                {"access_token", "chaos-token"},
                {"throughput_mps", 1000},
                {"require_opt_in", false},
                {"callback_url", backend.url()},
                {"callback_secret", kBackendSecret}});
    admin.call("PUT", "/admin/v1/templates/chaos-waba/chaos_code/en_US",
               {{"category", "UTILITY"}, {"status", "APPROVED"}, {"components", json::array({{{"type", "BODY"}, {"text", "Your code is {{1}}"}}})}});
    const std::string key = admin.call("POST", "/admin/v1/api-keys", {{"name", "chaos"}, {"phone_number_ids", {kPhone}}})["key"];

    // Every user with a window writes first (through the sandbox and the balancer): the window
    // opens, and the inbound wamids are what mark-as-read requests name.
    std::vector<std::string> inbound;
    {
        HttpClient sb(sandbox_port);
        for (std::size_t i = 0; i < Load::kWindowUsers; ++i) {
            auto r = sb.post_json("/sandbox/v1/inbound", json{{"phone_number_id", kPhone},
                                                             {"from", user_with_window(i)},
                                                             {"type", "text"},
                                                             {"text", {{"body", "hello"}}}}
                                                            .dump());
            const json answer = json::parse(r.body);
            if (answer.value("gateway_status", 0) != 200) {
                throw std::runtime_error("set-up inbound message refused: " + r.body);
            }
            inbound.push_back(answer["wamid"]);
        }
    }
    say("set up: 2 instances, sandbox, balancer, backend; " + std::to_string(inbound.size()) + " users wrote in");

    Load load(instances.ports(), sandbox_port, key, inbound, options);
    Faults faults(instances, sandbox, database, options);
    const auto start = Clock::now();
    const auto until = start + std::chrono::seconds(options.duration_s);
    std::optional<std::string> fault_error;  // a fault that could not be carried out (e.g. no restart)
    std::thread fault_thread([&] {
        try {
            faults.run(start);
        } catch (const std::exception& e) {
            fault_error = e.what();
        }
    });
    std::atomic<bool> load_done{false};
    std::optional<std::string> crash;
    std::thread watch([&] {
        while (!load_done) {
            if (!crash) {
                crash = instances.crashed();
            }
            std::this_thread::sleep_for(100ms);
        }
    });
    load.run(until);
    fault_thread.join();
    load_done = true;
    watch.join();
    say("load done: " + std::to_string(load.requests().size()) + " requests; draining");

    const bool drained = drain(dsn, sandbox_port, std::chrono::seconds(240));
    Observations o;
    o.requests = load.requests();
    o.inbound_answered = load.inbound_answered();
    o.inbound_answered.insert(o.inbound_answered.end(), inbound.begin(), inbound.end());
    o.upstream = upstream_sends(sandbox_port);
    o.upstream_marked_read = json::parse(HttpClient(sandbox_port).get("/sandbox/v1/stats").body).value("marked_read", 0ULL);
    collect_database(dsn, o);
    for (const auto& e : backend.received()) {
        o.deliveries.push_back({event_identity(json::parse(e.body, nullptr, false)), to_unix_ms(e.at), e.answered / 100 == 2});
    }
    o.faults = faults.windows();

    Report report = audit(o, Tolerance{2000, 1000, kRelayConcurrency, 16});
    if (!drained) {
        report.violations.push_back("the run did not drain within 240 s");
    }
    if (crash) {
        report.violations.push_back(*crash);
    }
    if (fault_error) {
        report.violations.push_back("a fault step failed: " + *fault_error);
    }
    for (const auto& problem : instances.stop()) {
        report.violations.push_back(problem);
    }
    const std::string instance_logs = instances.logs();
    sandbox.signal(SIGTERM);
    sandbox.wait(10s);
    const auto& t = load.tally();
    const auto& outage = faults.outage();
    if (t.malformed_503 > 0) {
        report.violations.push_back(std::to_string(t.malformed_503.load()) + " 503 answers without the Graph envelope or Retry-After");
    }
    if (t.other_5xx > 0) {
        report.violations.push_back(std::to_string(t.other_5xx.load()) + " 5xx answers other than 503");
    }
    if (outage.readyz_not_ready != outage.readyz_checks) {
        report.violations.push_back("/readyz answered other than 503 while the database was down (" +
                                    std::to_string(outage.readyz_checks - outage.readyz_not_ready) + " of " +
                                    std::to_string(outage.readyz_checks) + ")");
    }
    if (outage.recovery_ms < 0 || outage.recovery_ms > 10'000) {
        report.violations.push_back("instances not ready within 10 s of the database's return");
    }
    if (faults.kills() < options.kills) {
        report.violations.push_back("fewer kills than asked");
    }

    std::cout << "\nfaults:\n";
    for (const auto& f : o.faults) {
        std::cout << "  " << f.cause << " at +" << (f.from - to_unix_ms(start)) / 1000.0 << " s\n";
    }
    std::cout << "load: " << t.attempts << " attempts, " << t.connection_failures << " refused connections, "
              << t.retryable_503 << " 503 (retried), " << t.inbound_failed << " inbound messages not taken\n"
              << "database outage: /readyz 503 in " << outage.readyz_not_ready << " of " << outage.readyz_checks
              << " checks; ready again " << outage.recovery_ms << " ms after the database returned\n\naudit:\n";
    json summary = json::object();
    for (const auto& [name, value] : report.counts) {
        std::cout << "  " << name << ": " << value << "\n";
        summary[name] = value;
    }
    summary["kills"] = faults.kills();
    summary["503 answers"] = t.retryable_503.load();
    summary["recovery_ms"] = outage.recovery_ms;
    summary["violations"] = report.violations;
    std::ofstream(work + "/report.json") << summary.dump(2) << "\n";
    if (report.violations.empty()) {
        std::cout << "\nPASS: nothing lost, nothing repeated outside a fault's in-flight window, order and tier kept\n";
        return 0;
    }
    std::cout << "\nFAIL:\n";
    for (const auto& v : report.violations) {
        std::cout << "  " << v << "\n";
    }
    // The instances' last warnings and errors, for a first look at what went wrong.
    const auto lines = split(instance_logs, '\n');
    std::cout << "\nlast lines of the instances' logs:\n";
    for (std::size_t i = lines.size() > 60 ? lines.size() - 60 : 0; i < lines.size(); ++i) {
        std::cout << "  " << lines[i] << "\n";
    }
    return 1;
}

}  // namespace
}  // namespace wagate::chaos

int main(int argc, char** argv) {
    try {
        return wagate::chaos::run(wagate::chaos::parse_options(argc, argv));
    } catch (const std::invalid_argument& e) {
        std::cerr << "wagate_chaos: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "wagate_chaos: " << e.what() << "\n";
        return 1;
    }
}
