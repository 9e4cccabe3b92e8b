#include <signal.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/process.hpp"
#include "support/test_database.hpp"
#include "support/test_gateway.hpp"

namespace wagate::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

const std::string kText = R"({"messaging_product":"whatsapp","to":"+15551234567","type":"text","text":{"body":"hello"}})";

std::map<std::string, std::string> serve_env(unsigned short port) {
    return {{"WAGATE_DATABASE_URL", test_database_url()},
            {"WAGATE_LISTEN", "127.0.0.1:" + std::to_string(port)},
            {"WAGATE_ADMIN_TOKEN", kAdminToken},
            {"WAGATE_LOG_LEVEL", "warn"},
            {"WAGATE_AUTH_CACHE_TTL_MS", "0"},
            {"WAGATE_RELAY", "false"}};
}

class ProcessTest : public ::testing::Test {
protected:
    void SetUp() override {
        WAGATE_REQUIRE_DATABASE();
        reset_database();
    }
};

TEST_F(ProcessTest, ABadConfigurationIsReportedCompletelyAndExits2) {
    Process p(WAGATE_BINARY, {"serve", "--config", "/no/such/file.jsonc"},
              {{"WAGATE_THREADS", "0"}, {"WAGATE_LOG_FORMAT", "xml"}, {"WAGATE_DATABASE_URL", ""}});
    ASSERT_EQ(p.wait(milliseconds(5000)), 2);
    const std::string out = p.output();
    for (const char* expected : {"/no/such/file.jsonc", "WAGATE_THREADS", "WAGATE_LOG_FORMAT", "WAGATE_DATABASE_URL"}) {
        EXPECT_NE(out.find(expected), std::string::npos) << expected << " missing from:\n" << out;
    }
}

TEST_F(ProcessTest, SigtermStopsCleanlyWithExitZero) {
    const unsigned short port = free_port();
    Process p(WAGATE_BINARY, {"serve"}, serve_env(port));
    ASSERT_TRUE(wait_until_ready(port, milliseconds(15000))) << p.output();
    p.signal(SIGTERM);
    EXPECT_EQ(p.wait(milliseconds(15000)), 0) << p.output();
}

TEST_F(ProcessTest, NoAcknowledgedMessageIsLostWhenTheProcessIsKilled) {
    const unsigned short port = free_port();
    auto first = std::make_unique<Process>(WAGATE_BINARY, std::vector<std::string>{"serve"}, serve_env(port));
    ASSERT_TRUE(wait_until_ready(port, milliseconds(15000))) << first->output();
    std::string key;
    {
        HttpClient admin(port);
        const std::vector<std::pair<std::string, std::string>> h = {
            {"Authorization", std::string("Bearer ") + kAdminToken}, {"Content-Type", "application/json"}};
        ASSERT_EQ(admin.request("PUT", "/admin/v1/businesses/b1", "{}", h).status, 200);
        ASSERT_EQ(admin.request("PUT", "/admin/v1/phone-numbers/1001", R"({"business_id":"b1"})", h).status, 200);
        auto created = admin.request("POST", "/admin/v1/api-keys", R"({"name":"k","phone_number_ids":["1001"]})", h);
        ASSERT_EQ(created.status, 201);
        key = json::parse(created.body)["key"];
        // kText is free-form: the recipient's customer service window must be open (policy §1).
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
        ASSERT_EQ(admin.request("PUT", "/admin/v1/contacts/1001/15551234567",
                                R"({"last_inbound_at":)" + std::to_string(now) + "}", h)
                      .status,
                  200);
    }

    // Eight clients send as fast as they can; the process is killed while they do.
    std::mutex mutex;
    std::vector<std::string> acknowledged;
    std::atomic<bool> stop{false};
    std::vector<std::thread> senders;
    for (int i = 0; i < 8; ++i) {
        senders.emplace_back([&] {
            HttpClient client(port);
            while (!stop) {
                try {
                    auto r = client.post_json("/v23.0/1001/messages", kText, key);
                    if (r.status == 200) {
                        std::lock_guard lock(mutex);
                        acknowledged.push_back(json::parse(r.body)["messages"][0]["id"]);
                    }
                } catch (const std::exception&) {
                    return;  // connection refused or reset: the process is gone
                }
            }
        });
    }
    for (;;) {
        std::this_thread::sleep_for(milliseconds(20));
        std::lock_guard lock(mutex);
        if (acknowledged.size() >= 300) {
            break;
        }
    }
    first->signal(SIGKILL);
    ASSERT_TRUE(first->wait(milliseconds(5000)));
    stop = true;
    for (auto& t : senders) {
        t.join();
    }

    Process second(WAGATE_BINARY, {"serve"}, serve_env(port));
    ASSERT_TRUE(wait_until_ready(port, milliseconds(15000))) << second.output();
    HttpClient client(port);
    for (const auto& id : acknowledged) {
        auto r = client.get("/v1/messages/" + id, key);
        ASSERT_EQ(r.status, 200) << id << " was acknowledged but is missing after the crash";
    }
    // Every stored message is whole: a status and a queue row for each.
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.messages m WHERE NOT EXISTS "
                  "(SELECT 1 FROM wagate.relay_queue q WHERE q.message_id = m.id)"),
              "0");
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.messages m WHERE NOT EXISTS "
                  "(SELECT 1 FROM wagate.message_statuses s WHERE s.message_id = m.id)"),
              "0");
    EXPECT_GE(std::stoul(sql("SELECT count(*) FROM wagate.messages")), acknowledged.size());
}

TEST_F(ProcessTest, AnUnreachableDatabaseIs503RetryableAndNotReady) {
    app::Config config = TestGateway::base_config();
    config.database_url = "postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=1";
    config.auto_migrate = false;
    TestGateway gateway(config);
    auto client = gateway.client();
    const std::string key = "wag_" + std::string(32, 'a') + "_" + std::string(48, 'b');
    auto r = client.post_json("/v23.0/1001/messages", kText, key);
    EXPECT_EQ(r.status, 503);
    auto body = json::parse(r.body);
    EXPECT_EQ(body["error"]["code"], 900300);
    EXPECT_EQ(r.headers["retry-after"], "1");
    EXPECT_EQ(client.get("/readyz").status, 503);
    EXPECT_EQ(client.get("/healthz").status, 200);
}

}  // namespace
}  // namespace wagate::test
