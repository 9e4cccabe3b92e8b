// Webhooks acknowledged by a process that then dies are applied by the next one, exactly once.

#include <signal.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/meta_webhooks.hpp"
#include "support/process.hpp"
#include "support/test_database.hpp"
#include "support/test_gateway.hpp"

namespace wagate::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr int kMessages = 20;
constexpr int kUsers = 10;
constexpr std::int64_t kT0 = 1'750'030'000;

std::map<std::string, std::string> serve_env(unsigned short port, bool processing) {
    return {{"WAGATE_DATABASE_URL", test_database_url()},
            {"WAGATE_LISTEN", "127.0.0.1:" + std::to_string(port)},
            {"WAGATE_ADMIN_TOKEN", kAdminToken},
            {"WAGATE_LOG_LEVEL", "warn"},
            {"WAGATE_META_APP_SECRETS", kAppSecret},
            {"WAGATE_WEBHOOK_PROCESSING", processing ? "true" : "false"},
            {"WAGATE_WEBHOOK_LEASE_MS", "300"},
            {"WAGATE_RELAY", "false"}};
}

std::string wamid(int m) { return "wamid.crash." + std::to_string(m); }
std::string user(int u) { return "1555000" + std::to_string(1000 + u); }

class WebhookCrashTest : public ::testing::Test {
protected:
    void SetUp() override {
        WAGATE_REQUIRE_DATABASE();
        reset_database();
    }

    /// Outbound messages that Meta already knows by their wamids, written as the relay leaves them.
    static void seed_messages() {
        sql("INSERT INTO wagate.businesses (id) VALUES ('biz1')");
        sql("INSERT INTO wagate.phone_numbers (id, business_id) VALUES ('1001', 'biz1')");
        sql("INSERT INTO wagate.messages (id, phone_number_id, kind, type, to_input, wa_id, payload, wamid) "
            "SELECT gen_random_uuid(), '1001', 'message', 'text', '15551234567', '15551234567', '{}', "
            "'wamid.crash.' || n FROM generate_series(0, " + std::to_string(kMessages - 1) + ") AS n");
    }

    /// Every body of the scenario: sent and delivered per message, and one text per user.
    static std::vector<std::string> bodies() {
        std::vector<std::string> out;
        for (int m = 0; m < kMessages; ++m) {
            out.push_back(statuses_body("1001", json::array({status_item(wamid(m), "sent", kT0)})));
            out.push_back(statuses_body("1001", json::array({status_item(wamid(m), "delivered", kT0 + 1)})));
        }
        for (int u = 0; u < kUsers; ++u) {
            out.push_back(inbound_body(
                "1001",
                json::array({{{"from", user(u)}, {"id", "wamid.in." + std::to_string(u)},
                              {"timestamp", std::to_string(kT0 + u)}, {"type", "text"}, {"text", {{"body", "hello"}}}}}),
                json::array({{{"profile", {{"name", "User"}}}, {"wa_id", user(u)}}})));
        }
        return out;
    }

    static void post_all(unsigned short port, const std::vector<std::string>& all) {
        HttpClient client(port);
        for (const auto& body : all) {
            ASSERT_EQ(post_webhook(client, body).status, 200);
        }
    }

    /// Polls until no delivery is pending (a bounded wait for another process's work).
    static bool wait_until_processed(milliseconds timeout) {
        const auto give_up = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < give_up) {
            if (sql("SELECT count(*) FROM wagate.webhook_deliveries WHERE processed_at IS NULL") == "0") {
                return true;
            }
            std::this_thread::sleep_for(milliseconds(20));
        }
        return false;
    }

    /// The whole applied state, as one comparable text.
    static std::string applied_state() {
        return sql("SELECT concat_ws('|',"
                   " (SELECT count(*) FROM wagate.message_statuses),"
                   " (SELECT string_agg(status, ',' ORDER BY wamid) FROM wagate.messages),"
                   " (SELECT count(*) FROM wagate.inbound_messages),"
                   " (SELECT string_agg(wa_id || '@' || extract(epoch FROM last_inbound_at)::bigint, ',' ORDER BY wa_id)"
                   "    FROM wagate.contacts))");
    }

    static void expect_everything_applied_once() {
        EXPECT_EQ(sql("SELECT count(*) FROM wagate.message_statuses"), std::to_string(2 * kMessages));
        EXPECT_EQ(sql("SELECT count(*) FROM wagate.messages WHERE status = 'delivered'"), std::to_string(kMessages));
        EXPECT_EQ(sql("SELECT count(*) FROM wagate.inbound_messages"), std::to_string(kUsers));
        EXPECT_EQ(sql("SELECT count(*) FROM wagate.contacts WHERE last_inbound_at IS NOT NULL"), std::to_string(kUsers));
        EXPECT_EQ(sql("SELECT count(*) FROM wagate.parked_statuses"), "0");
    }
};

TEST_F(WebhookCrashTest, DeliveriesAcknowledgedBeforeAKillAreAppliedOnRestartAndReplaysChangeNothing) {
    seed_messages();
    const auto all = bodies();
    {
        // An instance that only stores: every 200 it gives leaves a pending delivery behind.
        const unsigned short port = free_port();
        Process storing(WAGATE_BINARY, {"serve"}, serve_env(port, false));
        ASSERT_TRUE(wait_until_ready(port, milliseconds(15000))) << storing.output();
        post_all(port, all);
        EXPECT_EQ(sql("SELECT count(*) FROM wagate.webhook_deliveries WHERE processed_at IS NULL"),
                  std::to_string(all.size()));
        EXPECT_EQ(sql("SELECT count(*) FROM wagate.message_statuses"), "0") << "nothing applied yet";
        storing.signal(SIGKILL);
        storing.wait(milliseconds(5000));
    }
    const unsigned short port = free_port();
    Process restarted(WAGATE_BINARY, {"serve"}, serve_env(port, true));
    ASSERT_TRUE(wait_until_ready(port, milliseconds(15000))) << restarted.output();
    ASSERT_TRUE(wait_until_processed(milliseconds(20000))) << restarted.output();
    expect_everything_applied_once();
    const std::string state = applied_state();

    // Meta retries everything: byte-identical bodies, and the same items regrouped in new bodies.
    post_all(port, all);
    json regrouped = json::array();
    for (int m = 0; m < kMessages; ++m) {
        regrouped.push_back(status_item(wamid(m), "sent", kT0));
        regrouped.push_back(status_item(wamid(m), "delivered", kT0 + 1));
    }
    post_all(port, {statuses_body("1001", regrouped)});
    ASSERT_TRUE(wait_until_processed(milliseconds(20000)));
    EXPECT_EQ(applied_state(), state);
    expect_everything_applied_once();
}

TEST_F(WebhookCrashTest, AKillWhileApplyingLosesNothingAndAppliesNothingTwice) {
    seed_messages();
    const auto all = bodies();
    {
        const unsigned short port = free_port();
        Process first(WAGATE_BINARY, {"serve"}, serve_env(port, true));
        ASSERT_TRUE(wait_until_ready(port, milliseconds(15000))) << first.output();
        // Four connections at once, then SIGKILL right after the last acknowledgement, while
        // the processor is still applying.
        std::vector<std::thread> posters;
        for (int t = 0; t < 4; ++t) {
            posters.emplace_back([&, t] {
                HttpClient client(port);
                for (std::size_t b = t; b < all.size(); b += 4) {
                    EXPECT_EQ(post_webhook(client, all[b]).status, 200);
                }
            });
        }
        for (auto& p : posters) {
            p.join();
        }
        first.signal(SIGKILL);
        first.wait(milliseconds(5000));
    }
    const unsigned short port = free_port();
    Process second(WAGATE_BINARY, {"serve"}, serve_env(port, true));
    ASSERT_TRUE(wait_until_ready(port, milliseconds(15000))) << second.output();
    ASSERT_TRUE(wait_until_processed(milliseconds(20000))) << second.output();
    expect_everything_applied_once();
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.webhook_deliveries"), std::to_string(all.size()));
}

}  // namespace
}  // namespace wagate::test
