// The sandbox's answers and records: Meta's success and error bodies, wamids, the audit list.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>

#include "sandbox/graph_responses.hpp"
#include "sandbox/ids.hpp"
#include "sandbox/ledger.hpp"
#include "sandbox/send_rules.hpp"

namespace wagate::sandbox {
namespace {

using nlohmann::json;

domain::SendRequest validated(const std::string& body) {
    auto r = domain::validate_send_request(body, domain::ValidationSettings{});
    EXPECT_TRUE(r.has_value()) << body;
    return r ? *r : domain::SendRequest{};
}

TEST(SandboxResponses, TheGraphErrorEnvelope) {
    const auto r = graph_error(errors::pair_rate(), "trace-1");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(json::parse(r.body),
              (json{{"error",
                     {{"message", "(#131056) (Business Account, Consumer Account) pair rate limit hit"},
                      {"type", "OAuthException"},
                      {"code", 131056},
                      {"error_data", {{"messaging_product", "whatsapp"}, {"details", errors::pair_rate().details}}},
                      {"fbtrace_id", "trace-1"}}}}));
    EXPECT_EQ(graph_error(errors::invalid_token("x"), "t").status, 401);
    EXPECT_EQ(json::parse(graph_error(errors::invalid_token("x"), "t").body)["error"]["code"], 190);
}

TEST(SandboxResponses, SuccessBodies) {
    auto body = json::parse(send_success_body(
        validated(R"({"messaging_product":"whatsapp","to":"+1 (555) 123-4567","type":"text","text":{"body":"hi"}})"),
        "wamid.A"));
    EXPECT_EQ(body, (json{{"messaging_product", "whatsapp"},
                          {"contacts", {{{"input", "+1 (555) 123-4567"}, {"wa_id", "15551234567"}}}},
                          {"messages", {{{"id", "wamid.A"}}}}}));

    body = json::parse(send_success_body(
        validated(R"({"messaging_product":"whatsapp","to":"15551234567","type":"template",)"
                  R"("template":{"name":"hello_world","language":{"code":"en_US"}}})"),
        "wamid.T"));
    EXPECT_EQ(body["messages"], (json::array({{{"id", "wamid.T"}, {"message_status", "accepted"}}})));

    body = json::parse(send_success_body(
        validated(R"({"messaging_product":"whatsapp","recipient":"US.13491208655302741918","type":"text",)"
                  R"("text":{"body":"hi"}})"),
        "wamid.B"));
    EXPECT_EQ(body["contacts"], (json::array({{{"input", "US.13491208655302741918"},
                                               {"user_id", "US.13491208655302741918"}}})));
}

TEST(SandboxIds, WamidsLookLikeMetasAndDoNotRepeat) {
    Rng rng(5);
    std::set<std::string> seen;
    const std::regex shape("wamid\\.HBgL[A-Za-z0-9_-]{36}");
    for (int i = 0; i < 10'000; ++i) {
        const std::string id = new_wamid(rng);
        EXPECT_TRUE(std::regex_match(id, shape)) << id;
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 10'000u);
    Rng a(9);
    Rng b(9);
    EXPECT_EQ(new_wamid(a), new_wamid(b));
    EXPECT_TRUE(std::regex_match(new_conversation_id(a), std::regex("[0-9a-f]{32}")));
}

RecordedSend send(int n) {
    RecordedSend s;
    s.wamid = "wamid." + std::to_string(n);
    s.phone_number_id = "1001";
    s.to = "+1 555";
    s.type = "text";
    s.payload = "\n {\"n\": " + std::to_string(n) + "}\n";
    s.received_at_ms = 1'750'000'000'123;
    s.statuses = {"sent", "delivered"};
    return s;
}

TEST(SandboxLedger, ListsWhatWasAcceptedOldestFirst) {
    Ledger ledger(10);
    EXPECT_EQ(json::parse(ledger.render(0, 100)), (json{{"total", 0}, {"messages", json::array()}}));
    for (int i = 1; i <= 3; ++i) {
        EXPECT_EQ(ledger.add(send(i)), static_cast<std::uint64_t>(i));
    }
    const json all = json::parse(ledger.render(0, 100));
    EXPECT_EQ(all["total"], 3);
    ASSERT_EQ(all["messages"].size(), 3u);
    EXPECT_EQ(all["messages"][0],
              (json{{"seq", 1}, {"wamid", "wamid.1"}, {"phone_number_id", "1001"}, {"to", "+1 555"}, {"type", "text"},
                    {"received_at", "2025-06-15T15:06:40.123Z"}, {"statuses", {"sent", "delivered"}},
                    {"payload", {{"n", 1}}}}));
    const json page = json::parse(ledger.render(1, 1));
    ASSERT_EQ(page["messages"].size(), 1u);
    EXPECT_EQ(page["messages"][0]["seq"], 2);
}

TEST(SandboxLedger, KeepsTheLastCapacitySends) {
    Ledger ledger(3);
    for (int i = 1; i <= 7; ++i) {
        ledger.add(send(i));
    }
    const json all = json::parse(ledger.render(0, 100));
    EXPECT_EQ(all["total"], 7);
    ASSERT_EQ(all["messages"].size(), 3u);
    EXPECT_EQ(all["messages"][0]["wamid"], "wamid.5");
    EXPECT_EQ(all["messages"][2]["wamid"], "wamid.7");
}

}  // namespace
}  // namespace wagate::sandbox
