// A database outage under a running `wagate serve` (issue 8): PostgreSQL crashes (immediate
// shutdown, connections cut) and comes back. Meanwhile every request that needs the database is
// answered at once with 503 in the Graph envelope, with Retry-After (a client retries, Meta
// retries its webhook); /readyz fails so a load balancer drains the instance, /healthz does not
// so nothing restarts it; and once the database is back the instance serves again by itself
// within seconds, with everything accepted before the outage intact. tests/chaos repeats this
// under load, with two instances.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "support/meta_webhooks.hpp"
#include "support/own_cluster.hpp"
#include "support/process.hpp"
#include "support/test_database.hpp"
#include "support/test_gateway.hpp"

namespace wagate::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

const std::string kText = R"({"messaging_product":"whatsapp","to":"+15551234567","type":"text","text":{"body":"hello"}})";

void expect_503_envelope(const HttpResult& r, const std::string& what) {
    EXPECT_EQ(r.status, 503) << what << ": " << r.body;
    EXPECT_EQ(r.headers.count("retry-after"), 1u) << what;
    const json body = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(body.is_object() && body.contains("error")) << what << ": " << r.body;
    EXPECT_EQ(body["error"]["code"], 900300) << what;
    EXPECT_TRUE(body["error"].contains("fbtrace_id")) << what;
}

TEST(DatabaseOutageTest, SendsAre503WhileTheDatabaseIsDownAndServiceResumesWithinSecondsAfter) {
    WAGATE_REQUIRE_DATABASE();  // the server binaries come with the test cluster
    OwnCluster cluster("/tmp/wagate-outage-test-" + std::to_string(::getpid()));
    const unsigned short port = free_port();
    Process gateway(WAGATE_BINARY, {"serve"},
                    {{"WAGATE_DATABASE_URL", cluster.dsn()},
                     {"WAGATE_LISTEN", "127.0.0.1:" + std::to_string(port)},
                     {"WAGATE_ADMIN_TOKEN", kAdminToken},
                     {"WAGATE_META_APP_SECRETS", kAppSecret},
                     {"WAGATE_LOG_LEVEL", "warn"},
                     {"WAGATE_RELAY", "false"}});
    ASSERT_TRUE(wait_until_ready(port, 30s)) << gateway.output();

    HttpClient admin(port);
    const std::vector<std::pair<std::string, std::string>> auth = {{"Authorization", std::string("Bearer ") + kAdminToken},
                                                                   {"Content-Type", "application/json"}};
    ASSERT_EQ(admin.request("PUT", "/admin/v1/businesses/b1", "{}", auth).status, 200);
    ASSERT_EQ(admin.request("PUT", "/admin/v1/phone-numbers/1001", R"({"business_id":"b1"})", auth).status, 200);
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
    ASSERT_EQ(admin.request("PUT", "/admin/v1/contacts/1001/15551234567",
                            R"({"last_inbound_at":)" + std::to_string(now.count()) + "}", auth)
                  .status,
              200);
    auto created = admin.request("POST", "/admin/v1/api-keys", R"({"name":"k","phone_number_ids":["1001"]})", auth);
    ASSERT_EQ(created.status, 201);
    const std::string key = json::parse(created.body)["key"];

    HttpClient client(port);
    std::vector<std::string> before;
    for (int i = 0; i < 20; ++i) {
        auto r = client.post_json("/v23.0/1001/messages", kText, key);
        ASSERT_EQ(r.status, 200) << r.body;
        before.push_back(json::parse(r.body)["messages"][0]["id"]);
    }

    cluster.halt();
    // Twice: at once, and after the pool has had time to fail its reconnects.
    for (int round = 0; round < 2; ++round) {
        for (int i = 0; i < 5; ++i) {
            const auto started = Clock::now();
            auto r = client.post_json("/v23.0/1001/messages", kText, key);
            expect_503_envelope(r, "send");
            EXPECT_LT(Clock::now() - started, 2s) << "a send must be refused at once, not hang";
        }
        expect_503_envelope(client.get("/v1/messages/" + before.front(), key), "read");
        expect_503_envelope(post_webhook(client, statuses_body("1001", json::array({status_item("wamid.X", "sent", now.count())}))),
                            "webhook");
        EXPECT_EQ(client.get("/readyz").status, 503);
        EXPECT_EQ(client.get("/healthz").status, 200);
        std::this_thread::sleep_for(1500ms);
    }
    ASSERT_FALSE(gateway.wait(0ms)) << "the gateway exited during the outage:\n" << gateway.output();

    cluster.resume();
    const auto back = Clock::now();
    std::string after;
    while (Clock::now() - back < 10s) {
        auto r = client.post_json("/v23.0/1001/messages", kText, key);
        if (r.status == 200) {
            after = json::parse(r.body)["messages"][0]["id"];
            break;
        }
        expect_503_envelope(r, "send while the database restarts");
        std::this_thread::sleep_for(20ms);
    }
    ASSERT_FALSE(after.empty()) << "no send accepted within 10 s of the database's return:\n" << gateway.output();
    std::cout << "[ outage  ] first send accepted "
              << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - back).count()
              << " ms after the database returned\n";
    EXPECT_EQ(client.get("/readyz").status, 200);
    before.push_back(after);
    for (const auto& id : before) {
        EXPECT_EQ(client.get("/v1/messages/" + id, key).status, 200) << id;
    }
}

}  // namespace
}  // namespace wagate::test
