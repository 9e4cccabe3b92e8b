#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/test_database.hpp"
#include "support/test_gateway.hpp"

namespace wagate::test {
namespace {

using nlohmann::json;

const std::string kText = R"({"messaging_product":"whatsapp","to":"+15551234567","type":"text","text":{"body":"hello"}})";

class SendMessageTest : public GatewayTest {
protected:

    static void expect_error(const HttpResult& r, int status, int code, const std::string& details_prefix) {
        EXPECT_EQ(r.status, status) << r.body;
        auto body = json::parse(r.body, nullptr, false);
        ASSERT_TRUE(body.contains("error")) << r.body;
        EXPECT_EQ(body["error"]["code"], code) << r.body;
        const std::string details = body["error"]["error_data"]["details"];
        EXPECT_EQ(details.rfind(details_prefix, 0), 0u) << details;
        EXPECT_EQ(body["error"]["fbtrace_id"], r.headers.at("x-request-id"));
        EXPECT_EQ(r.headers.at("content-type"), "application/json");
    }

    std::string count_messages() { return sql("SELECT count(*) FROM wagate.messages"); }

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
    EXPECT_EQ(r.headers["content-type"], "application/json");

    // Committed before the answer: the row, its status and its queue entry are there now.
    const std::string hex = id.substr(7);
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.messages WHERE id = '" + hex + "'"), "1");
    EXPECT_EQ(sql("SELECT status FROM wagate.message_statuses WHERE message_id = '" + hex + "'"), "accepted");
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.relay_queue WHERE message_id = '" + hex + "'"), "1");
    EXPECT_EQ(sql("SELECT payload->>'to' FROM wagate.messages WHERE id = '" + hex + "'"), "+15551234567");

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

TEST_F(SendMessageTest, EveryRouteFormAccepts) {
    auto client = gateway_->client();
    EXPECT_EQ(client.post_json("/v23.0/1001/messages", kText, key_).status, 200);
    EXPECT_EQ(client.post_json("/v19.0/1001/messages", kText, key_).status, 200);
    EXPECT_EQ(client.post_json("/1001/messages", kText, key_).status, 200);
    EXPECT_EQ(client.post_json("/v1/messages", kText, key_).status, 200);  // key has one number
    EXPECT_EQ(count_messages(), "4");
}

TEST_F(SendMessageTest, OnPremisesRouteNeedsAKeyWithExactlyOneNumber) {
    const std::string two = gateway_->create_key({"1001", "1002"});
    auto r = gateway_->client().post_json("/v1/messages", kText, two);
    expect_error(r, 400, 100, "phone_number_id:");
    EXPECT_EQ(count_messages(), "0");
}

TEST_F(SendMessageTest, MissingMalformedUnknownAndRevokedKeysAre401) {
    auto client = gateway_->client();
    expect_error(client.post_json("/v23.0/1001/messages", kText), 401, 190, "Authorization:");
    expect_error(client.post_json("/v23.0/1001/messages", kText, "not-a-key"), 401, 190, "Authorization:");
    std::string forged = key_;
    forged.back() = forged.back() == '0' ? '1' : '0';  // right id, wrong secret
    expect_error(client.post_json("/v23.0/1001/messages", kText, forged), 401, 190, "Authorization:");
    const std::string unknown = "wag_" + std::string(32, 'a') + "_" + std::string(48, 'b');
    expect_error(client.post_json("/v23.0/1001/messages", kText, unknown), 401, 190, "Authorization:");

    const std::string id = key_.substr(4, 32);
    auto revoked = client.request("DELETE", "/admin/v1/api-keys/" + id, {},
                                  {{"Authorization", std::string("Bearer ") + kAdminToken}});
    ASSERT_EQ(revoked.status, 200) << revoked.body;
    expect_error(client.post_json("/v23.0/1001/messages", kText, key_), 401, 190, "Authorization:");
    EXPECT_EQ(count_messages(), "0");
}

TEST_F(SendMessageTest, NumbersOutsideTheKeysScopeAre403AndUnknownNumbers404) {
    auto client = gateway_->client();
    expect_error(client.post_json("/v23.0/1002/messages", kText, key_), 403, 10, "phone_number_id:");
    expect_error(client.post_json("/v23.0/9999/messages", kText, key_), 404, 100, "phone_number_id:");
    EXPECT_EQ(count_messages(), "0");
}

TEST_F(SendMessageTest, MessagesAreReadableOnlyThroughTheirNumbersKeys) {
    auto client = gateway_->client();
    auto sent = client.post_json("/v23.0/1001/messages", kText, key_);
    ASSERT_EQ(sent.status, 200);
    const std::string id = json::parse(sent.body)["messages"][0]["id"];
    const std::string other = gateway_->create_key({"1002"});
    expect_error(client.get("/v1/messages/" + id, other), 404, 100, "id:");
    expect_error(client.get("/v1/messages/wagate." + std::string(32, '0'), key_), 404, 100, "id:");
    expect_error(client.get("/v1/messages/wamid.HBgLMTU1NTEyMzQ1NjcVAgARGBI", key_), 404, 100, "id:");
    expect_error(client.get("/v1/messages/" + id), 401, 190, "Authorization:");
}

TEST_F(SendMessageTest, MarkAsReadWithTypingIndicatorIsStoredForTheRelay) {
    const std::string body = R"({"messaging_product":"whatsapp","status":"read",
        "message_id":"wamid.HBgLMTU1NTEyMzQ1NjcVAgASGBQzQTRBMEE5RTk4RjM4QTE3RjFFRAA=",
        "typing_indicator":{"type":"text"}})";
    auto r = gateway_->client().post_json("/v23.0/1001/messages", body, key_);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::parse(r.body), json::parse(R"({"success":true})"));
    EXPECT_EQ(sql("SELECT kind || ' ' || type FROM wagate.messages"), "mark_read read");
    EXPECT_EQ(sql("SELECT payload->'typing_indicator'->>'type' FROM wagate.messages"), "text");
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.relay_queue"), "1");
}

TEST_F(SendMessageTest, BizOpaqueCallbackDataIsKept) {
    const std::string body = R"({"messaging_product":"whatsapp","to":"15551234567","type":"text",
        "text":{"body":"x"},"biz_opaque_callback_data":"order-42"})";
    auto client = gateway_->client();
    auto r = client.post_json("/v23.0/1001/messages", body, key_);
    ASSERT_EQ(r.status, 200) << r.body;
    const std::string id = json::parse(r.body)["messages"][0]["id"];
    EXPECT_EQ(json::parse(r.body)["contacts"][0]["input"], "15551234567");
    auto read = json::parse(client.get("/v1/messages/" + id, key_).body);
    EXPECT_EQ(read["biz_opaque_callback_data"], "order-42");
}

TEST_F(SendMessageTest, InvalidPayloadWritesNothing) {
    const std::string body = R"({"messaging_product":"whatsapp","to":"+15551234567","type":"text","text":{"body":""}})";
    expect_error(gateway_->client().post_json("/v23.0/1001/messages", body, key_), 400, 131009, "text.body:");
    EXPECT_EQ(count_messages(), "0");
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.relay_queue"), "0");
}

}  // namespace
}  // namespace wagate::test
