#include <chrono>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/test_database.hpp"
#include "support/test_gateway.hpp"

namespace wagate::test {
namespace {

using nlohmann::json;

class ContactsTest : public GatewayTest {
protected:
    HttpResult admin(const std::string& method, const std::string& path, const std::string& body = {}) {
        return gateway_->admin(method, path, body);
    }
    static std::int64_t now_seconds() {
        return std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
    const std::string contact_ = "/admin/v1/contacts/1001/15557654321";
};

TEST_F(ContactsTest, AnUnknownUserHasDefaultStateAndNoWindow) {
    auto r = admin("GET", contact_);
    ASSERT_EQ(r.status, 200) << r.body;
    auto c = json::parse(r.body);
    EXPECT_EQ(c["phone_number_id"], "1001");
    EXPECT_EQ(c["wa_id"], "15557654321");
    EXPECT_EQ(c["opted_in"], false);
    EXPECT_EQ(c["identity_ack_required"], false);
    EXPECT_EQ(c["window"]["open"], false);
    EXPECT_TRUE(c["window"]["last_inbound_at"].is_null());
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.contacts WHERE wa_id = '15557654321'"), "0");
}

TEST_F(ContactsTest, ConsentChangesAreRecordedWithTheirSource) {
    auto r = admin("PUT", contact_, R"({"opted_in":true,"source":"signup-form"})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::parse(r.body)["opted_in"], true);
    r = admin("PUT", contact_, R"({"opted_in":false,"source":"STOP keyword"})");
    auto c = json::parse(r.body);
    EXPECT_EQ(c["opted_in"], false);
    EXPECT_EQ(c["opted_out"], true);
    EXPECT_EQ(sql("SELECT string_agg(opted_in::text || ':' || source, ',' ORDER BY id) "
                  "FROM wagate.contact_consent_events"),
              "true:signup-form,false:STOP keyword");
    // A change that is not about consent writes no audit event.
    ASSERT_EQ(admin("PUT", contact_, R"({"last_inbound_at":)" + std::to_string(now_seconds()) + "}").status, 200);
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.contact_consent_events"), "2");
    EXPECT_EQ(json::parse(admin("GET", contact_).body)["opted_out"], true);
}

TEST_F(ContactsTest, TheWindowFollowsTheLatestInboundAndNeverShrinks) {
    const std::int64_t recent = now_seconds() - 23 * 3600;
    auto r = admin("PUT", contact_, R"({"last_inbound_at":")" + std::to_string(recent) + "\"}");
    ASSERT_EQ(r.status, 200) << r.body;
    auto c = json::parse(r.body);
    EXPECT_EQ(c["window"]["open"], true);
    // An older inbound arriving late does not shorten the window.
    r = admin("PUT", contact_, R"({"last_inbound_at":)" + std::to_string(recent - 7200) + "}");
    c = json::parse(r.body);
    EXPECT_EQ(c["window"]["open"], true);
    EXPECT_EQ(sql("SELECT extract(epoch FROM last_inbound_at)::bigint FROM wagate.contacts WHERE wa_id = '15557654321'"), std::to_string(recent));

    const std::string other = "/admin/v1/contacts/1001/15557654000";
    r = admin("PUT", other, R"({"last_inbound_at":)" + std::to_string(now_seconds() - 25 * 3600) + "}");
    c = json::parse(r.body);
    EXPECT_EQ(c["window"]["open"], false);
    EXPECT_FALSE(c["window"]["expires_at"].is_null());
}

TEST_F(ContactsTest, IdentityChangesAreAcknowledged) {
    EXPECT_EQ(admin("POST", contact_ + "/identity-ack").status, 404);  // no such contact yet
    ASSERT_EQ(admin("PUT", contact_, R"({"opted_in":true})").status, 200);
    // Meta's identity-change report arrives with the webhook ingest; until then, set it directly.
    sql("UPDATE wagate.contacts SET identity_ack_required = true WHERE wa_id = '15557654321'");
    EXPECT_EQ(json::parse(admin("GET", contact_).body)["identity_ack_required"], true);
    auto r = admin("POST", contact_ + "/identity-ack");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::parse(r.body)["identity_ack_required"], false);
}

TEST_F(ContactsTest, BadInputIs400AndChangesNothing) {
    struct Case {
        std::string path;
        std::string body;
        int status;
        std::string field;
    };
    const Case cases[] = {
        {contact_, R"({"opted_in":"yes"})", 400, "opted_in:"},
        {contact_, R"({"last_inbound_at":"yesterday"})", 400, "last_inbound_at:"},
        {contact_, R"({"last_inbound_at":12})", 400, "last_inbound_at:"},
        {contact_, R"({"source":42,"opted_in":true})", 400, "source:"},
        {contact_, R"({"window":{}})", 400, "window:"},
        {"/admin/v1/contacts/1001/12ab", R"({"opted_in":true})", 400, "wa_id:"},
        {"/admin/v1/contacts/9999/15557654321", R"({"opted_in":true})", 404, "phone_number_id:"},
    };
    for (const auto& c : cases) {
        auto r = admin("PUT", c.path, c.body);
        EXPECT_EQ(r.status, c.status) << c.body;
        const std::string details = json::parse(r.body)["error"]["error_data"]["details"];
        EXPECT_EQ(details.rfind(c.field, 0), 0u) << c.body << " → " << details;
    }
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.contacts WHERE wa_id = '15557654321'"), "0");
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.contact_consent_events"), "0");
    EXPECT_EQ(gateway_->client().request("GET", contact_).status, 401);
}

}  // namespace
}  // namespace wagate::test
