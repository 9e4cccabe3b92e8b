#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/test_database.hpp"
#include "support/test_gateway.hpp"

namespace wagate::test {
namespace {

using nlohmann::json;

const char* kText = R"({"messaging_product":"whatsapp","to":"+15551234567","type":"text","text":{"body":"hello"}})";

class SendMessageTest : public ::testing::Test {
protected:
    void SetUp() override {
        WAGATE_REQUIRE_DATABASE();
        reset_database();
        gateway_ = std::make_unique<TestGateway>();
        gateway_->put_business("biz1");
        gateway_->put_phone_number("1001", "biz1");
        gateway_->put_phone_number("1002", "biz1");
        key_ = gateway_->create_key({"1001"});
    }
    std::unique_ptr<TestGateway> gateway_;
    std::string key_;
};

TEST_F(SendMessageTest, AcceptedMessageIsCommittedAndReadable) {
    auto client = gateway_->client();
    auto r = client.post_json("/v23.0/1001/messages", kText, key_);
    ASSERT_EQ(r.status, 200) << r.body;
    auto body = json::parse(r.body);
    EXPECT_EQ(body["messaging_product"], "whatsapp");
    EXPECT_EQ(body["contacts"][0]["input"], "+15551234567");
    EXPECT_EQ(body["contacts"][0]["wa_id"], "15551234567");
    const std::string id = body["messages"][0]["id"];
    EXPECT_EQ(body["messages"][0]["message_status"], "accepted");
    EXPECT_FALSE(r.headers["x-request-id"].empty());

    // Committed before the answer: the row, its status and its queue entry are there now.
    const std::string hex = id.substr(7);
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.messages WHERE id = '" + hex + "'"), "1");
    EXPECT_EQ(sql("SELECT status FROM wagate.message_statuses WHERE message_id = '" + hex + "'"), "accepted");
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.relay_queue WHERE message_id = '" + hex + "'"), "1");

    auto read = client.get("/v1/messages/" + id, key_);
    ASSERT_EQ(read.status, 200) << read.body;
    auto m = json::parse(read.body);
    EXPECT_EQ(m["id"], id);
    EXPECT_EQ(m["direction"], "outbound");
    EXPECT_EQ(m["phone_number_id"], "1001");
    EXPECT_EQ(m["wa_id"], "15551234567");
    EXPECT_EQ(m["type"], "text");
    EXPECT_EQ(m["status"], "accepted");
    EXPECT_TRUE(m["wamid"].is_null());
    ASSERT_EQ(m["statuses"].size(), 1u);
    EXPECT_EQ(m["statuses"][0]["status"], "accepted");
}

}  // namespace
}  // namespace wagate::test
