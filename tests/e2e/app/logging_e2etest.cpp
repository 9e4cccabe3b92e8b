// Logs (contract §8): one line per request with its request id and route pattern, JSON or
// text; no phone number, token, secret or message body at info. Read from a real `wagate serve`.
#include <signal.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/test_database.hpp"
#include "support/test_gateway.hpp"

namespace wagate::test {
namespace {
using nlohmann::json;
using std::chrono::milliseconds;

const std::string kSecretBody = "a-very-private-message-body";
const std::string kText = R"({"messaging_product":"whatsapp","to":"+15551234567","type":"text","text":{"body":")" +
                          kSecretBody + R"("}})";

class LoggingTest : public ::testing::Test {
protected:
    void SetUp() override {
        WAGATE_REQUIRE_DATABASE();
        reset_database();
    }

    /// Runs a gateway with `format` logs through some traffic; returns its output and the
    /// request ids its answers carried.
    std::pair<std::string, std::vector<std::string>> run_traffic(const std::string& format) {
        const unsigned short port = free_port();
        Process p(WAGATE_BINARY, {"serve"},
                  {{"WAGATE_DATABASE_URL", test_database_url()},
                   {"WAGATE_LISTEN", "127.0.0.1:" + std::to_string(port)},
                   {"WAGATE_ADMIN_TOKEN", kAdminToken},
                   {"WAGATE_LOG_LEVEL", "info"},
                   {"WAGATE_LOG_FORMAT", format},
                   {"WAGATE_RELAY", "false"}});
        EXPECT_TRUE(wait_until_ready(port, milliseconds(15000))) << p.output();
        HttpClient client(port);
        std::vector<std::string> ids;
        auto note = [&ids](const HttpResult& r) {
            ids.push_back(r.headers.at("x-request-id"));
            return r.status;
        };
        EXPECT_EQ(note(client.request("PUT", "/admin/v1/businesses/b1", "{}", {{"Authorization", std::string("Bearer ") + kAdminToken}})), 200);
        EXPECT_EQ(note(client.request("PUT", "/admin/v1/phone-numbers/1001", R"({"business_id":"b1","access_token":"EAAG-token-value"})",
                                      {{"Authorization", std::string("Bearer ") + kAdminToken}})),
                  200);
        auto created = client.request("POST", "/admin/v1/api-keys", R"({"name":"k","phone_number_ids":["1001"]})",
                                      {{"Authorization", std::string("Bearer ") + kAdminToken}});
        note(created);
        key_ = json::parse(created.body)["key"];
        EXPECT_EQ(note(client.request("PUT", "/admin/v1/contacts/1001/15551234567",
                                      R"({"opted_in":true,"last_inbound_at":)" + std::to_string(std::time(nullptr)) + "}",
                                      {{"Authorization", std::string("Bearer ") + kAdminToken}})),
                  200);
        EXPECT_EQ(note(client.post_json("/v23.0/1001/messages", kText, key_)), 200);
        EXPECT_EQ(note(client.post_json("/v23.0/1001/messages", R"({"to":"+15551234567"})", key_)), 400);
        EXPECT_EQ(note(client.get("/v23.0/15551234567/nothing")), 404);
        p.signal(SIGTERM);
        EXPECT_EQ(p.wait(milliseconds(15000)), 0);
        return {p.output(), ids};
    }

    std::string key_;
};

void expect_nothing_private(const std::string& out, const std::string& key) {
    for (const std::string& secret : {std::string("15551234567"), kSecretBody, key, std::string(kAdminToken),
                                      std::string("EAAG-token-value")}) {
        EXPECT_EQ(out.find(secret), std::string::npos) << "'" << secret << "' is in the log:\n" << out;
    }
}

TEST_F(LoggingTest, JsonLinesCarryRequestIdsAndRoutePatternsOnly) {
    auto [out, ids] = run_traffic("json");
    std::istringstream lines(out);
    std::string line;
    std::map<std::string, json> requests;  // by request id
    int parsed = 0;
    while (std::getline(lines, line)) {
        const json entry = json::parse(line, nullptr, false);
        ASSERT_FALSE(entry.is_discarded()) << "not JSON: " << line;
        ASSERT_TRUE(entry.contains("ts") && entry.contains("level") && entry.contains("msg")) << line;
        ++parsed;
        if (entry["msg"] == "request") {
            requests[entry["request_id"]] = entry;
        }
    }
    EXPECT_GT(parsed, static_cast<int>(ids.size()));
    for (const auto& id : ids) {
        ASSERT_TRUE(requests.contains(id)) << "no log line for request " << id << " in:\n" << out;
        EXPECT_GE(requests[id]["latency_ms"].get<double>(), 0);
    }
    EXPECT_EQ(requests[ids[4]]["route"], "/{version}/{phone_number_id}/messages");
    EXPECT_EQ(requests[ids[4]]["status"], 200);
    EXPECT_EQ(requests[ids[3]]["route"], "/admin/v1/contacts/{phone_number_id}/{wa_id}");
    EXPECT_EQ(requests[ids[6]]["route"], "unmatched");
    expect_nothing_private(out, key_);
}

TEST_F(LoggingTest, TextLinesCarryRequestIdsToo) {
    auto [out, ids] = run_traffic("text");
    for (const auto& id : ids) {
        EXPECT_NE(out.find("request id=" + id), std::string::npos) << id << " missing from:\n" << out;
    }
    EXPECT_NE(out.find("/admin/v1/contacts/{phone_number_id}/{wa_id}"), std::string::npos);
    expect_nothing_private(out, key_);
}

}  // namespace
}  // namespace wagate::test
