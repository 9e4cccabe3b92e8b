#include <future>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/test_database.hpp"
#include "support/test_gateway.hpp"

namespace wagate::test {
namespace {

using nlohmann::json;

const std::string kText = R"({"messaging_product":"whatsapp","to":"+15551234567","type":"text","text":{"body":"hello"}})";
const std::string kSameTextReordered =
    R"({"text":{"body":"hello"},"type":"text","to":"+15551234567","messaging_product":"whatsapp"})";
const std::string kOtherText = R"({"messaging_product":"whatsapp","to":"+15551234567","type":"text","text":{"body":"bye"}})";

class IdempotencyTest : public GatewayTest {
protected:

    HttpResult send(HttpClient& client, const std::string& body, const std::string& idempotency_key,
                    const std::string& key = {}) {
        return client.post_json("/v23.0/1001/messages", body, key.empty() ? key_ : key,
                                {{"Idempotency-Key", idempotency_key}});
    }

};

TEST_F(IdempotencyTest, SequentialRepeatsReturnTheOriginalResponse) {
    auto client = gateway_->client();
    auto first = send(client, kText, "order-1");
    ASSERT_EQ(first.status, 200) << first.body;
    auto again = send(client, kText, "order-1");
    EXPECT_EQ(again.status, 200);
    EXPECT_EQ(again.body, first.body);
    // Key order does not make an honest retry look different.
    auto reordered = send(client, kSameTextReordered, "order-1");
    EXPECT_EQ(reordered.body, first.body);
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.messages"), "1");
}

TEST_F(IdempotencyTest, SameKeyDifferentBodyIs422) {
    auto client = gateway_->client();
    ASSERT_EQ(send(client, kText, "order-2").status, 200);
    auto r = send(client, kOtherText, "order-2");
    EXPECT_EQ(r.status, 422);
    auto body = json::parse(r.body);
    EXPECT_EQ(body["error"]["code"], 900200);
    EXPECT_EQ(body["error"]["type"], "WagateException");
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.messages"), "1");
}

TEST_F(IdempotencyTest, KeysBelongToTheirApiKey) {
    const std::string second_key = gateway_->create_key({"1001"});
    auto client = gateway_->client();
    auto a = send(client, kText, "shared-name");
    auto b = send(client, kText, "shared-name", second_key);
    ASSERT_EQ(a.status, 200);
    ASSERT_EQ(b.status, 200);
    EXPECT_NE(a.body, b.body);
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.messages"), "2");
}

TEST_F(IdempotencyTest, MalformedKeysAre400) {
    auto client = gateway_->client();
    for (const std::string& bad : {std::string(256, 'k'), std::string("has space"), std::string("tab\there")}) {
        auto r = send(client, kText, bad);
        EXPECT_EQ(r.status, 400) << bad;
    }
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.messages"), "0");
}

TEST_F(IdempotencyTest, ConcurrentRepeatsOnManyConnectionsYieldOneMessage) {
    constexpr int kClients = 24;
    constexpr int kRounds = 5;
    for (int round = 0; round < kRounds; ++round) {
        const std::string key = "race-" + std::to_string(round);
        std::vector<std::future<HttpResult>> answers;
        for (int i = 0; i < kClients; ++i) {
            answers.push_back(std::async(std::launch::async, [this, key] {
                auto client = gateway_->client();
                return send(client, kText, key);
            }));
        }
        std::set<std::string> bodies;
        for (auto& a : answers) {
            auto r = a.get();
            ASSERT_EQ(r.status, 200) << r.body;
            bodies.insert(r.body);
        }
        EXPECT_EQ(bodies.size(), 1u) << "every concurrent repeat answers the same message id";
    }
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.messages"), std::to_string(kRounds));
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.relay_queue"), std::to_string(kRounds));
}

TEST_F(IdempotencyTest, ConcurrentRepeatsAcrossTwoGatewaysYieldOneMessage) {
    TestGateway second;  // another instance on the same database
    std::vector<std::future<HttpResult>> answers;
    for (int i = 0; i < 20; ++i) {
        const unsigned short port = i % 2 == 0 ? gateway_->port() : second.port();
        answers.push_back(std::async(std::launch::async, [this, port] {
            HttpClient client(port);
            return send(client, kText, "two-instances");
        }));
    }
    std::set<std::string> bodies;
    for (auto& a : answers) {
        auto r = a.get();
        ASSERT_EQ(r.status, 200) << r.body;
        bodies.insert(r.body);
    }
    EXPECT_EQ(bodies.size(), 1u);
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.messages"), "1");
}

}  // namespace
}  // namespace wagate::test
