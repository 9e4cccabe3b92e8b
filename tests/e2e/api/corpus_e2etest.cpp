#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/test_database.hpp"
#include "support/test_gateway.hpp"

namespace wagate::test {
namespace {

using nlohmann::json;

/// Every case of tests/corpus/send through the real HTTP API: the same status, code and field
/// path as the validator's unit test, and a committed row for exactly the accepted ones. Cases
/// that need non-default validator settings stay in the unit tier.
TEST(CorpusOverHttp, EveryCaseGetsItsExpectedAnswer) {
    WAGATE_REQUIRE_DATABASE();
    reset_database();
    TestGateway gateway;
    gateway.put_business("biz1");
    gateway.put_phone_number("1001", "biz1");
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
