// The bodies the sandbox signs and posts: Meta's `messages`-field shapes (reference/webhooks.md).

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "sandbox/webhook_bodies.hpp"

namespace wagate::sandbox {
namespace {

using nlohmann::json;

TEST(SandboxWebhookBodies, AStatusInMetasEnvelope) {
    StatusItem s;
    s.wamid = "wamid.HBgLabc";
    s.status = "sent";
    s.timestamp = 1'750'000'001;
    s.recipient_id = "15551234567";
    s.biz_opaque_callback_data = "order-17";
    s.conversation = Conversation{"c0ffee", "service", 1'750'086'401};
    s.pricing = Pricing{false, "free_customer_service", "service"};
    const json body = json::parse(status_webhook_body("106540352242922", s));

    EXPECT_EQ(body["object"], "whatsapp_business_account");
    ASSERT_EQ(body["entry"].size(), 1u);
    EXPECT_EQ(body["entry"][0]["id"], "sandbox-waba");
    const json& change = body["entry"][0]["changes"][0];
    EXPECT_EQ(change["field"], "messages");
    const json& value = change["value"];
    EXPECT_EQ(value["messaging_product"], "whatsapp");
    EXPECT_EQ(value["metadata"], (json{{"display_phone_number", "106540352242922"},
                                       {"phone_number_id", "106540352242922"}}));
    EXPECT_FALSE(value.contains("contacts"));
    const json expected = {
        {"id", "wamid.HBgLabc"},
        {"status", "sent"},
        {"timestamp", "1750000001"},
        {"recipient_id", "15551234567"},
        {"biz_opaque_callback_data", "order-17"},
        {"conversation", {{"id", "c0ffee"}, {"expiration_timestamp", "1750086401"}, {"origin", {{"type", "service"}}}}},
        {"pricing", {{"billable", false}, {"pricing_model", "PMP"}, {"type", "free_customer_service"},
                     {"category", "service"}}},
    };
    EXPECT_EQ(value["statuses"], json::array({expected}));
}

TEST(SandboxWebhookBodies, AFailedStatusCarriesItsErrors) {
    StatusItem s;
    s.wamid = "wamid.x";
    s.status = "failed";
    s.timestamp = 5;
    s.recipient_id = "15550131026";
    s.error = StatusError{131026, "Message undeliverable", "Message Undeliverable."};
    const json item = json::parse(status_webhook_body("1001", s))["entry"][0]["changes"][0]["value"]["statuses"][0];
    ASSERT_EQ(item["errors"].size(), 1u);
    const json& e = item["errors"][0];
    EXPECT_EQ(e["code"], 131026);
    EXPECT_EQ(e["title"], "Message undeliverable");
    EXPECT_EQ(e["message"], "Message undeliverable");
    EXPECT_EQ(e["error_data"]["details"], "Message Undeliverable.");
    EXPECT_TRUE(e["href"].is_string());
    EXPECT_FALSE(item.contains("pricing"));
    EXPECT_FALSE(item.contains("biz_opaque_callback_data"));
}

TEST(SandboxWebhookBodies, GroupAndBsuidRecipients) {
    StatusItem s;
    s.wamid = "wamid.x";
    s.status = "delivered";
    s.recipient_id = "";
    s.recipient_user_id = "US.1349";
    json item = json::parse(status_webhook_body("1001", s))["entry"][0]["changes"][0]["value"]["statuses"][0];
    EXPECT_EQ(item["recipient_id"], "");
    EXPECT_EQ(item["recipient_user_id"], "US.1349");
    s.recipient_user_id.reset();
    s.recipient_id = "Y2FwaV9ncm91cDox";
    s.group = true;
    item = json::parse(status_webhook_body("1001", s))["entry"][0]["changes"][0]["value"]["statuses"][0];
    EXPECT_EQ(item["recipient_type"], "group");
}

TEST(SandboxWebhookBodies, AnInboundMessageWithItsSender) {
    InboundMessage m;
    m.phone_number_id = "1001";
    m.from = "16505551234";
    m.type = "text";
    m.profile_name = "Ana";
    m.timestamp = 1'750'000'000;
    m.members = {{"text", R"({"body":"héllo 👋"})"}, {"context", R"({"from":"1001","id":"wamid.q"})"}};
    const std::string text = inbound_webhook_body(m, "wamid.in1");
    // Meta writes non-ASCII as \u escapes: the bytes the gateway verifies are ASCII.
    EXPECT_EQ(text.find("é"), std::string::npos);
    EXPECT_NE(text.find("\\u00e9"), std::string::npos);
    EXPECT_NE(text.find("\\ud83d\\udc4b"), std::string::npos);

    const json value = json::parse(text)["entry"][0]["changes"][0]["value"];
    EXPECT_EQ(value["metadata"]["phone_number_id"], "1001");
    EXPECT_EQ(value["contacts"], (json::array({{{"profile", {{"name", "Ana"}}}, {"wa_id", "16505551234"}}})));
    const json expected = {{"from", "16505551234"},
                           {"id", "wamid.in1"},
                           {"timestamp", "1750000000"},
                           {"type", "text"},
                           {"text", {{"body", "héllo 👋"}}},
                           {"context", {{"from", "1001"}, {"id", "wamid.q"}}}};
    EXPECT_EQ(value["messages"], json::array({expected}));
}

TEST(SandboxWebhookBodies, SystemMessagesHaveNoContacts) {
    InboundMessage m;
    m.phone_number_id = "1001";
    m.from = "16505551234";
    m.type = "system";
    m.members = {{"system", R"({"body":"changed","type":"user_changed_number","wa_id":"16505559999"})"}};
    const json value = json::parse(inbound_webhook_body(m, "wamid.s"))["entry"][0]["changes"][0]["value"];
    EXPECT_FALSE(value.contains("contacts"));
    EXPECT_EQ(value["messages"][0]["system"]["type"], "user_changed_number");
}

}  // namespace
}  // namespace wagate::sandbox
