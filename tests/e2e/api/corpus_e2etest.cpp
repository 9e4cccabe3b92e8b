#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <wagate/domain/send_request.hpp>

#include "support/test_database.hpp"
#include "support/test_gateway.hpp"

namespace wagate::test {
namespace {

using nlohmann::json;

/// The corpus is about payload validation, not the business rules: every accepted case is sent to
/// a user whose customer service window is open, so free-form types are not refused with 131047.
/// The recipient's id is the one the gateway derives (digits of `to`, or the BSUID or group id),
/// taken from the validator itself so the test cannot drift from its normalisation.
void open_window_for(TestGateway& gateway, const std::string& body) {
    auto send = domain::validate_send_request(body, domain::ValidationSettings{});
    if (!send || send->kind != domain::RequestKind::kMessage) {
        return;  // invalid (the gateway refuses it before any rule) or mark-as-read (needs no window)
    }
    const std::string& wa_id = send->wa_id;
    const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    const bool phone = wa_id.size() >= 7 && wa_id.size() <= 15 &&
                       std::all_of(wa_id.begin(), wa_id.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (phone) {
        gateway.open_window("1001", wa_id, now);
        return;
    }
    // BSUIDs and group ids are not addressable through the admin contacts route (7–15 digits).
    std::string quoted;
    for (char c : wa_id) {
        quoted += c == '\'' ? std::string("''") : std::string(1, c);
    }
    sql("INSERT INTO wagate.contacts (phone_number_id, wa_id, last_inbound_at) VALUES ('1001', '" + quoted +
        "', to_timestamp(" + std::to_string(now) + ")) ON CONFLICT (phone_number_id, wa_id) DO UPDATE SET "
        "last_inbound_at = greatest(wagate.contacts.last_inbound_at, excluded.last_inbound_at)");
}

/// Every case of tests/corpus/send through the real HTTP API: the same status, code and field
/// path as the validator's unit test, and a committed row for exactly the accepted ones. Cases
/// that need non-default validator settings stay in the unit tier. The business rules are set so
/// they let every valid payload through: unknown templates pass (template definitions are not the
/// corpus's subject), no messaging limit, no opt-in, and an open window for each recipient.
TEST(CorpusOverHttp, EveryCaseGetsItsExpectedAnswer) {
    WAGATE_REQUIRE_DATABASE();
    reset_database();
    app::Config config = TestGateway::base_config();
    config.unknown_templates = "pass";
    TestGateway gateway(config);
    gateway.put_business("biz1", R"({"messaging_limit_tier":"TIER_UNLIMITED"})");
    gateway.put_phone_number("1001", "biz1");
    auto no_opt_in = gateway.admin("PUT", "/admin/v1/phone-numbers/1001", R"({"business_id":"biz1","require_opt_in":false})");
    ASSERT_EQ(no_opt_in.status, 200) << no_opt_in.body;
    const std::string key = gateway.create_key({"1001"});
    auto client = gateway.client();

    int cases = 0;
    int accepted = 0;
    const std::filesystem::path dir = std::filesystem::path(WAGATE_TEST_CORPUS_DIR) / "send";
    ASSERT_TRUE(std::filesystem::exists(dir)) << dir;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".json") {
            continue;
        }
        std::ifstream in(entry.path());
        const json file = json::parse(in);
        for (const auto& c : file.at("cases")) {
            if (c.contains("settings")) {
                continue;  // needs other validator settings than the gateway's: unit tier only
            }
            const std::string name = entry.path().stem().string() + "/" + c.at("name").get<std::string>();
            const std::string body = c.contains("raw") ? c["raw"].get<std::string>() : c.at("body").dump();
            const json& expect = c.at("expect");
            if (expect.at("status").get<int>() == 200) {
                open_window_for(gateway, body);
            }
            auto r = client.post_json("/v23.0/1001/messages", body, key);
            ++cases;
            ASSERT_EQ(r.status, expect.at("status").get<int>()) << name << ": " << r.body;
            if (r.status == 200) {
                ++accepted;
                continue;
            }
            const json answer = json::parse(r.body);
            EXPECT_EQ(answer["error"]["code"], expect.at("code")) << name << ": " << r.body;
            if (expect.contains("path")) {
                const std::string details = answer["error"]["error_data"]["details"];
                const std::string prefix = expect["path"].get<std::string>() + ":";
                EXPECT_EQ(details.rfind(prefix, 0), 0u) << name << ": " << details;
            }
        }
    }
    EXPECT_GT(cases, 100);
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.messages"), std::to_string(accepted));
}

}  // namespace
}  // namespace wagate::test
