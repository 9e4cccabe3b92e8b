#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/test_database.hpp"
#include "support/test_gateway.hpp"

namespace wagate::test {
namespace {

using nlohmann::json;

const std::string kOrderUpdate = R"({"category":"UTILITY","status":"APPROVED","components":[
    {"type":"HEADER","format":"TEXT","text":"Order {{1}}"},
    {"type":"BODY","text":"Hi {{1}}, your order {{2}} ships today."},
    {"type":"FOOTER","text":"Reply STOP to opt out"},
    {"type":"BUTTONS","buttons":[{"type":"URL","text":"Track","url":"https://shop.example/track/{{1}}"},
                                 {"type":"QUICK_REPLY","text":"Thanks"}]}]})";

class TemplatesTest : public GatewayTest {
protected:
    HttpResult admin(const std::string& method, const std::string& path, const std::string& body = {}) {
        return gateway_->admin(method, path, body);
    }
};

TEST_F(TemplatesTest, UpsertListReplaceAndDelete) {
    auto r = admin("PUT", "/admin/v1/templates/waba1/order_update/en_US", kOrderUpdate);
    ASSERT_EQ(r.status, 200) << r.body;
    auto t = json::parse(r.body);
    EXPECT_EQ(t["name"], "order_update");
    EXPECT_EQ(t["language"], "en_US");
    EXPECT_EQ(t["category"], "UTILITY");
    EXPECT_EQ(t["status"], "APPROVED");
    EXPECT_EQ(t["definition"]["parameter_format"], "POSITIONAL");
    ASSERT_EQ(admin("PUT", "/admin/v1/templates/waba1/order_update/pt_BR", kOrderUpdate).status, 200);
    ASSERT_EQ(admin("PUT", "/admin/v1/templates/waba2/order_update/en_US", kOrderUpdate).status, 200);

    auto list = json::parse(admin("GET", "/admin/v1/templates/waba1").body)["data"];
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0]["language"], "en_US");
    EXPECT_EQ(list[1]["language"], "pt_BR");

    // Meta pauses the template: the same key is replaced, not duplicated.
    std::string paused = kOrderUpdate;
    paused.replace(paused.find("APPROVED"), 8, "PAUSED");
    ASSERT_EQ(admin("PUT", "/admin/v1/templates/waba1/order_update/en_US", paused).status, 200);
    EXPECT_EQ(sql("SELECT status FROM wagate.templates WHERE waba_id = 'waba1' AND language = 'en_US'"), "PAUSED");
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.templates"), "3");

    EXPECT_EQ(admin("DELETE", "/admin/v1/templates/waba1/order_update/pt_BR").status, 200);
    EXPECT_EQ(admin("DELETE", "/admin/v1/templates/waba1/order_update/pt_BR").status, 404);
    EXPECT_EQ(json::parse(admin("GET", "/admin/v1/templates/waba1").body)["data"].size(), 1u);
}

TEST_F(TemplatesTest, InvalidDefinitionsAre400NamingTheFieldAndStoreNothing) {
    struct Case {
        std::string path;
        std::string body;
        int code;
        std::string field;
    };
    const std::string ok_path = "/admin/v1/templates/waba1/order_update/en_US";
    const Case cases[] = {
        {ok_path, R"({"category":"PROMO","status":"APPROVED","components":[{"type":"BODY","text":"x"}]})", 100,
         "category:"},
        {ok_path, R"({"category":"UTILITY","status":"APPROVED","components":[{"type":"BODY","text":")" +
                      std::string(1025, 'x') + "\"}]}",
         131009, "components[0].text:"},
        {ok_path, R"({"category":"UTILITY","status":"APPROVED","components":[{"type":"BODY","text":"{{2}}"}]})",
         131009, "components[0].text:"},
        {ok_path, R"({"category":"UTILITY","status":"APPROVED","components":[{"type":"HEADER","format":"TEXT","text":"x"}]})",
         131008, "components:"},
        {"/admin/v1/templates/waba1/Order-Update/en_US",
         R"({"category":"UTILITY","status":"APPROVED","components":[{"type":"BODY","text":"x"}]})", 131009, "name:"},
        {"/admin/v1/templates/waba1/order_update/english",
         R"({"category":"UTILITY","status":"APPROVED","components":[{"type":"BODY","text":"x"}]})", 131009,
         "language:"},
        {ok_path, "{", 100, "body:"},
    };
    for (const auto& c : cases) {
        auto r = admin("PUT", c.path, c.body);
        EXPECT_EQ(r.status, 400) << c.body.substr(0, 120);
        auto e = json::parse(r.body)["error"];
        EXPECT_EQ(e["code"], c.code) << c.body.substr(0, 120) << " → " << r.body;
        const std::string details = e["error_data"]["details"];
        EXPECT_EQ(details.rfind(c.field, 0), 0u) << c.body.substr(0, 120) << " → " << details;
    }
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.templates"), "0");
    EXPECT_EQ(gateway_->client().request("GET", "/admin/v1/templates/waba1").status, 401);
}

}  // namespace
}  // namespace wagate::test
