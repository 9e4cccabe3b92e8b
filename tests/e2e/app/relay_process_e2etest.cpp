// The relay across real processes (contract §5): two `wagate serve` processes on one database
// send each message exactly once, and a process killed with SIGKILL while sending loses nothing;
// its in-flight sends are the only ones that may go twice (docs/relay.md, crash semantics).
#include <signal.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/eventually.hpp"
#include "support/fake_upstream.hpp"
#include "support/process.hpp"
#include "support/test_database.hpp"
#include "support/test_gateway.hpp"

namespace wagate::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr int kConcurrency = 4;

std::map<std::string, std::string> serve_env(unsigned short port, const FakeUpstream& upstream) {
    return {{"WAGATE_DATABASE_URL", test_database_url()},
            {"WAGATE_LISTEN", "127.0.0.1:" + std::to_string(port)},
            {"WAGATE_ADMIN_TOKEN", kAdminToken},
            {"WAGATE_LOG_LEVEL", "warn"},
            {"WAGATE_AUTH_CACHE_TTL_MS", "0"},
            {"WAGATE_MAINTENANCE_INTERVAL_MS", "0"},
            {"WAGATE_UPSTREAM_URL", upstream.url()},
            {"WAGATE_UPSTREAM_ALLOW_HTTP", "true"},
            {"WAGATE_RELAY_PACING", "false"},
            {"WAGATE_RELAY_CONCURRENCY", std::to_string(kConcurrency)},
            {"WAGATE_UPSTREAM_CONNECT_TIMEOUT_MS", "200"},
            {"WAGATE_UPSTREAM_TIMEOUT_MS", "1000"},
            {"WAGATE_RELAY_LEASE_MS", "4000"}};
}

std::string user(int n) { return "1888000" + std::to_string(1000 + n); }

class RelayProcessTest : public ::testing::Test {
protected:
    void SetUp() override {
        WAGATE_REQUIRE_DATABASE();
        reset_database();
    }

    void TearDown() override {
        for (auto& p : processes_) {
            p->signal(SIGTERM);
            p->wait(15s);
        }
    }

    unsigned short start_instance(const FakeUpstream& upstream) {
        const unsigned short port = free_port();
        processes_.push_back(std::make_unique<Process>(WAGATE_BINARY, std::vector<std::string>{"serve"},
                                                       serve_env(port, upstream)));
        EXPECT_TRUE(wait_until_ready(port, 15s)) << processes_.back()->output();
        return port;
    }

    /// Business, number 3001 and a key, and open windows for `users` users, through `port`.
    std::string set_up_tenant(unsigned short port, int users) {
        HttpClient admin(port);
        const std::vector<std::pair<std::string, std::string>> auth = {{"Authorization", std::string("Bearer ") + kAdminToken},
                                                                       {"Content-Type", "application/json"}};
        EXPECT_EQ(admin.request("PUT", "/admin/v1/businesses/relay", "{}", auth).status / 100, 2);
        EXPECT_EQ(admin.request("PUT", "/admin/v1/phone-numbers/3001", R"({"business_id":"relay","access_token":"t"})", auth)
                      .status / 100,
                  2);
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
        for (int i = 0; i < users; ++i) {
            EXPECT_EQ(admin.request("PUT", "/admin/v1/contacts/3001/" + user(i),
                                    json{{"last_inbound_at", now}}.dump(), auth)
                          .status / 100,
                      2);
        }
        auto created = admin.request("POST", "/admin/v1/api-keys", R"({"name":"relay","phone_number_ids":["3001"]})", auth);
        EXPECT_EQ(created.status, 201) << created.body;
        return json::parse(created.body)["key"];
    }

    static void send(HttpClient& client, const std::string& key, int n, int users) {
        const json body = {{"messaging_product", "whatsapp"},
                           {"to", "+" + user(n % users)},
                           {"type", "text"},
                           {"text", {{"body", "message " + std::to_string(n)}}}};
        auto r = client.post_json("/v23.0/3001/messages", body.dump(), key);
        ASSERT_EQ(r.status, 200) << r.body;
    }

    static std::map<std::string, int> sends_per_body(const FakeUpstream& upstream) {
        std::map<std::string, int> out;
        for (const auto& r : upstream.requests()) {
            ++out[json::parse(r.body)["text"]["body"].get<std::string>()];
        }
        return out;
    }

    std::vector<std::unique_ptr<Process>> processes_;
};

TEST_F(RelayProcessTest, TwoProcessesSendEveryMessageExactlyOnce) {
    FakeUpstream upstream([](const UpstreamRequest& r, int n) {
        return FakeUpstream::accept("wamid." + std::to_string(std::hash<std::string>{}(r.body)) + "." + std::to_string(n));
    });
    const unsigned short first = start_instance(upstream);
    const unsigned short second = start_instance(upstream);
    const std::string key = set_up_tenant(first, 20);
    constexpr int kMessages = 400;
    HttpClient to_first(first), to_second(second);
    for (int n = 0; n < kMessages; ++n) {
        send(n % 2 ? to_second : to_first, key, n, 20);
    }
    ASSERT_TRUE(eventually([] { return sql("SELECT count(*) FROM wagate.relay_queue") == "0"; }, 30s));
    const auto sends = sends_per_body(upstream);
    EXPECT_EQ(sends.size(), static_cast<std::size_t>(kMessages));
    for (const auto& [body, times] : sends) {
        EXPECT_EQ(times, 1) << body;
    }
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.messages WHERE status = 'sending' AND wamid IS NOT NULL"), "400");
}

TEST_F(RelayProcessTest, AProcessKilledWhileSendingLosesNothingAndRepeatsAtMostItsInFlightSends) {
    // Slow answers, so that sends are in flight when the process dies.
    FakeUpstream upstream([](const UpstreamRequest& r, int n) {
        UpstreamReply reply =
            FakeUpstream::accept("wamid." + std::to_string(std::hash<std::string>{}(r.body)) + "." + std::to_string(n));
        reply.delay = 100ms;
        return reply;
    });
    const unsigned short port = start_instance(upstream);
    const std::string key = set_up_tenant(port, 10);
    constexpr int kMessages = 60;
    HttpClient client(port);
    for (int n = 0; n < kMessages; ++n) {
        send(client, key, n, 10);
    }
    ASSERT_TRUE(upstream.wait_for(12));
    processes_.back()->signal(SIGKILL);
    processes_.back()->wait(10s);
    const std::size_t before = upstream.count();
    EXPECT_LT(before, static_cast<std::size_t>(kMessages)) << "the kill came too late to test anything";

    start_instance(upstream);  // takes over once the dead process's claims lapse
    ASSERT_TRUE(eventually([] { return sql("SELECT count(*) FROM wagate.relay_queue") == "0"; }, 30s))
        << sql("SELECT string_agg(attempts || ' ' || coalesce(locked_until::text, '-') || ' ' || due_at::text || ' ' || "
               "coalesce(last_error::text, ''), E'\n') FROM wagate.relay_queue")
        << processes_.back()->output();
    const auto sends = sends_per_body(upstream);
    EXPECT_EQ(sends.size(), static_cast<std::size_t>(kMessages)) << "every message reached the upstream";
    int repeated = 0;
    for (const auto& [body, times] : sends) {
        EXPECT_LE(times, 2) << body;
        repeated += times - 1;
    }
    // Only sends whose answer had not been recorded when the process died may go again: at most
    // the sends in flight (the relay's concurrency) plus results queued for the same commit.
    EXPECT_LE(repeated, 2 * kConcurrency) << "repeated sends";
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.messages WHERE wamid IS NULL"), "0");
    std::printf("killed after %zu of %d sends; %d repeated on restart\n", before, kMessages, repeated);
}

}  // namespace
}  // namespace wagate::test
