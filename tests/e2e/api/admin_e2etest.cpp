#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/test_database.hpp"
#include "support/test_gateway.hpp"

namespace wagate::test {
namespace {

using nlohmann::json;

class AdminTest : public ::testing::Test {
protected:
    void SetUp() override {
        WAGATE_REQUIRE_DATABASE();
        reset_database();
        gateway_ = std::make_unique<TestGateway>();
    }
    HttpResult admin(const std::string& method, const std::string& path, const std::string& body = {},
                     const std::string& token = kAdminToken) {
        return gateway_->admin(method, path, body, token);
    }
    static std::string details(const HttpResult& r) { return json::parse(r.body)["error"]["error_data"]["details"]; }

    std::unique_ptr<TestGateway> gateway_;
};

TEST_F(AdminTest, RequiresTheAdminToken) {
    EXPECT_EQ(admin("PUT", "/admin/v1/businesses/b1", "{}", "wrong-token").status, 401);
    EXPECT_EQ(gateway_->client().request("GET", "/admin/v1/api-keys").status, 401);
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.businesses"), "0");
}

TEST_F(AdminTest, BusinessUpsertKeepsFieldsNotGiven) {
    ASSERT_EQ(admin("PUT", "/admin/v1/businesses/b1",
                    R"({"name":"One","messaging_limit_tier":"TIER_2K","upgrade_rule":"double-in-7d","auto_upgrade":true})")
                  .status,
              200);
    auto r = admin("PUT", "/admin/v1/businesses/b1", R"({"name":"Renamed"})");
    ASSERT_EQ(r.status, 200);
    auto b = json::parse(admin("GET", "/admin/v1/businesses/b1").body);
    EXPECT_EQ(b["name"], "Renamed");
    EXPECT_EQ(b["messaging_limit_tier"], "TIER_2K");
    EXPECT_EQ(b["upgrade_rule"], "double-in-7d");
    EXPECT_EQ(b["auto_upgrade"], true);
}

TEST_F(AdminTest, BadInputIs400NamingTheFieldAndChangesNothing) {
    ASSERT_EQ(admin("PUT", "/admin/v1/businesses/b1", R"({"name":"One"})").status, 200);
    struct Case {
        std::string body;
        std::string field;
    };
    const Case cases[] = {{R"({"messaging_limit_tier":"TIER_3"})", "messaging_limit_tier:"},
                          {R"({"upgrade_rule":"whenever"})", "upgrade_rule:"},
                          {R"({"auto_upgrade":"yes"})", "auto_upgrade:"},
                          {R"({"name":42})", "name:"},
                          {R"({"colour":"blue"})", "colour:"},
                          {R"({"name":"x",)", "body:"},
                          {R"([1])", "body:"}};
    for (const auto& c : cases) {
        auto r = admin("PUT", "/admin/v1/businesses/b1", c.body);
        EXPECT_EQ(r.status, 400) << c.body;
        EXPECT_EQ(details(r).rfind(c.field, 0), 0u) << c.body << " → " << details(r);
    }
    EXPECT_EQ(json::parse(admin("GET", "/admin/v1/businesses/b1").body)["name"], "One");
}

TEST_F(AdminTest, PhoneNumbersNeedAKnownBusinessAndNeverShowSecrets) {
    auto r = admin("PUT", "/admin/v1/phone-numbers/1001", R"({"business_id":"nope"})");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(details(r).rfind("business_id:", 0), 0u);
    r = admin("PUT", "/admin/v1/phone-numbers/1001", R"({"waba_id":"w"})");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(admin("PUT", "/admin/v1/phone-numbers/12ab", R"({"business_id":"b"})").status, 400);
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.phone_numbers"), "0");

    ASSERT_EQ(admin("PUT", "/admin/v1/businesses/b1").status, 200);
    r = admin("PUT", "/admin/v1/phone-numbers/1001",
              R"({"business_id":"b1","access_token":"SECRET-TOKEN","callback_secret":"SECRET-CB",
                  "callback_url":"https://backend.example/hook","throughput_mps":20,"quality_rating":"GREEN"})");
    ASSERT_EQ(r.status, 200) << r.body;
    auto get = admin("GET", "/admin/v1/phone-numbers/1001");
    EXPECT_EQ(get.body.find("SECRET"), std::string::npos);
    auto p = json::parse(get.body);
    EXPECT_EQ(p["access_token_set"], true);
    EXPECT_EQ(p["callback_secret_set"], true);
    EXPECT_EQ(p["throughput_mps"], 20.0);
    EXPECT_EQ(admin("PUT", "/admin/v1/phone-numbers/1001", R"({"callback_url":"ftp://x"})").status, 400);
    EXPECT_EQ(admin("PUT", "/admin/v1/phone-numbers/1001", R"({"throughput_mps":0})").status, 400);
    EXPECT_EQ(admin("GET", "/admin/v1/phone-numbers/2002").status, 404);
    // An update may name only what changes; the rest, the business included, stays.
    r = admin("PUT", "/admin/v1/phone-numbers/1001", R"({"status":"RESTRICTED"})");
    ASSERT_EQ(r.status, 200) << r.body;
    p = json::parse(r.body);
    EXPECT_EQ(p["status"], "RESTRICTED");
    EXPECT_EQ(p["business_id"], "b1");
    EXPECT_EQ(p["quality_rating"], "GREEN");
}

TEST_F(AdminTest, ApiKeysAreShownOnceListedAndRevoked) {
    ASSERT_EQ(admin("PUT", "/admin/v1/businesses/b1").status, 200);
    ASSERT_EQ(admin("PUT", "/admin/v1/phone-numbers/1001", R"({"business_id":"b1"})").status, 200);
    EXPECT_EQ(admin("POST", "/admin/v1/api-keys", R"({"name":"k","phone_number_ids":["4040"]})").status, 404);
    EXPECT_EQ(admin("POST", "/admin/v1/api-keys", R"({"name":"k","phone_number_ids":[]})").status, 400);
    EXPECT_EQ(admin("POST", "/admin/v1/api-keys", R"({"phone_number_ids":["1001"]})").status, 400);
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.api_keys"), "0");

    auto created = admin("POST", "/admin/v1/api-keys", R"({"name":"k","phone_number_ids":["1001"]})");
    ASSERT_EQ(created.status, 201) << created.body;
    auto k = json::parse(created.body);
    const std::string id = k["id"];
    const std::string key = k["key"];
    EXPECT_EQ(key.rfind("wag_" + id + "_", 0), 0u);
    // Only a hash is stored.
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.api_keys WHERE encode(key_hash, 'escape') LIKE '%" +
                  key.substr(key.size() - 10) + "%'"),
              "0");

    auto list = json::parse(admin("GET", "/admin/v1/api-keys").body);
    ASSERT_EQ(list["data"].size(), 1u);
    EXPECT_FALSE(list["data"][0].contains("key"));
    EXPECT_EQ(list["data"][0]["phone_number_ids"], json::array({"1001"}));

    EXPECT_EQ(admin("DELETE", "/admin/v1/api-keys/" + id).status, 200);
    EXPECT_EQ(admin("DELETE", "/admin/v1/api-keys/" + id).status, 404);
    EXPECT_FALSE(json::parse(admin("GET", "/admin/v1/api-keys").body)["data"][0]["revoked_at"].is_null());
}

TEST_F(AdminTest, RoutesWithoutABodyIgnoreTheEmptyObjectGenericClientsSend) {
    ASSERT_EQ(admin("PUT", "/admin/v1/businesses/b1").status, 200);
    ASSERT_EQ(admin("PUT", "/admin/v1/phone-numbers/1001", R"({"business_id":"b1"})").status, 200);
    ASSERT_EQ(admin("PUT", "/admin/v1/contacts/1001/15550001111", R"({"opted_in":true})").status, 200);
    EXPECT_EQ(admin("POST", "/admin/v1/contacts/1001/15550001111/identity-ack", "{}").status, 200);
    EXPECT_EQ(admin("POST", "/admin/v1/events/12345/replay", "{}").status, 404);
    EXPECT_EQ(admin("DELETE", "/admin/v1/templates/w/n/en_US", "{}").status, 404);
    auto created = json::parse(admin("POST", "/admin/v1/api-keys", R"({"name":"k","phone_number_ids":["1001"]})").body);
    EXPECT_EQ(admin("DELETE", "/admin/v1/api-keys/" + created["id"].get<std::string>(), "{}").status, 200);
    // Anything bigger than such a placeholder is still refused before it is read.
    EXPECT_EQ(admin("POST", "/admin/v1/contacts/1001/15550001111/identity-ack", std::string(100, ' ')).status, 413);
}

}  // namespace
}  // namespace wagate::test
