// The chaos harness's audit (tests/chaos/audit.cpp): a clean run passes, and each kind of loss,
// repeat, disorder or overrun it exists to catch makes it fail.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chaos/audit.hpp"

namespace wagate::chaos {
namespace {

using nlohmann::json;

constexpr UnixMs kT0 = 1'750'000'000'000;

/// Two texts and a template, each stored, relayed once, with all statuses and events in order;
/// one mark-as-read; one inbound message; a kill at +10 s.
Observations clean_run() {
    Observations o;
    o.requests = {{"x1", RequestKind::kText, "16661", 200, "a1", std::nullopt},
                  {"x2", RequestKind::kText, "16662", 200, "a2", std::nullopt},
                  {"t3", RequestKind::kTemplate, "17773", 200, "a3", std::nullopt},
                  {"t4", RequestKind::kTemplate, "17774", 400, "", 131048},
                  {"r5", RequestKind::kMarkRead, "", 200, "", std::nullopt}};
    const std::vector<std::string> all = {"accepted", "sending", "sent", "delivered", "read"};
    o.messages = {{"a1", "message", "text", "16661", "wamid.1", "read", "x1", all, std::nullopt},
                  {"a2", "message", "text", "16662", "wamid.2", "read", "x2", all, std::nullopt},
                  {"a3", "message", "template", "17773", "wamid.3", "read", "t3", all, std::nullopt},
                  {"a5", "mark_read", "", "", "", "sent", "r5", {"accepted"}, std::nullopt}};
    const std::vector<std::string> planned = {"sent", "delivered", "read"};
    o.upstream = {{"wamid.1", "text", "16661", "x1", kT0 + 1000, planned},
                  {"wamid.2", "text", "16662", "x2", kT0 + 2000, planned},
                  {"wamid.3", "template", "17773", "t3", kT0 + 3000, planned}};
    o.upstream_marked_read = 1;
    o.inbound_answered = {"wamid.in1"};
    o.inbound_stored = {"wamid.in1"};
    std::int64_t id = 0;
    for (const char* m : {"a1", "a2", "a3"}) {
        for (const auto& s : planned) {
            const std::string identity = std::string("status:wagate.") + m + ":" + s;
            o.events.push_back({++id, m, "delivered", identity});
            o.deliveries.push_back({identity, kT0 + 5000 + id * 10, true});
        }
    }
    o.events.push_back({++id, "16661", "delivered", "message:wamid.in1"});
    o.deliveries.push_back({"message:wamid.in1", kT0 + 9000, true});
    o.faults = {{"SIGKILL of instance 0", kT0 + 10'000, kT0 + 10'000, 1}};
    o.tier_limit = 1;
    o.limit_counted = 1;
    return o;
}

Tolerance tolerance() { return Tolerance{2000, 1000, 2, 2}; }

bool has_violation(const Report& r, const std::string& rule) {
    for (const auto& v : r.violations) {
        if (v.starts_with(rule)) {
            return true;
        }
    }
    return false;
}

TEST(ChaosAudit, ACleanRunPassesWithExactCounts) {
    const Report r = audit(clean_run(), tolerance());
    EXPECT_TRUE(r.violations.empty()) << testing::PrintToString(r.violations);
    EXPECT_EQ(r.count("answered 200"), 4);
    EXPECT_EQ(r.count("refused (4xx)"), 1);
    EXPECT_EQ(r.count("messages at the upstream once"), 3);
    EXPECT_EQ(r.count("statuses the upstream sent"), 9);
    EXPECT_EQ(r.count("statuses in the history"), 9);
    EXPECT_EQ(r.count("events acknowledged once"), 10);
    EXPECT_EQ(r.count("event pairs checked for order"), 6);
}

TEST(ChaosAudit, AnAnswered200ThatIsNotStoredIsALoss) {
    Observations o = clean_run();
    o.messages.erase(o.messages.begin() + 1);  // x2's row
    o.upstream.erase(o.upstream.begin() + 1);
    EXPECT_TRUE(has_violation(audit(o, tolerance()), "answered 200 but not in the database"));
}

TEST(ChaosAudit, AStoredMessageThatNeverReachedTheUpstreamIsALossUnlessItFailed) {
    Observations o = clean_run();
    o.upstream.erase(o.upstream.begin());
    EXPECT_TRUE(has_violation(audit(o, tolerance()), "stored but never reached the upstream"));
    o.messages[0].status = "failed";
    o.messages[0].error_code = 131026;
    const Report r = audit(o, tolerance());
    EXPECT_FALSE(has_violation(r, "stored but never reached the upstream"));
    EXPECT_EQ(r.count("messages failed permanently"), 1);
}

TEST(ChaosAudit, ARepeatIsExcusedOnlyNearAFaultAndOnlyUpToWhatWasInFlight) {
    Observations o = clean_run();
    // x1 first reached the upstream 1 s before the kill: in flight, excused.
    o.upstream[0].received_at = kT0 + 9000;
    o.upstream.push_back({"wamid.1b", "text", "16661", "x1", kT0 + 16'000, {"sent"}});
    Report r = audit(o, tolerance());
    EXPECT_TRUE(r.violations.empty()) << testing::PrintToString(r.violations);
    EXPECT_EQ(r.count("upstream repeats within a fault's in-flight window"), 1);
    // x2 repeated with no fault near it: a duplicate send.
    o.upstream.push_back({"wamid.2b", "text", "16662", "x2", kT0 + 3000, {"sent"}});
    r = audit(o, tolerance());
    EXPECT_TRUE(has_violation(r, "sent to the upstream more than once outside a fault's in-flight window"));
    // More repeats at one kill than the relay could have had in flight (2 here).
    o = clean_run();
    o.upstream[0].received_at = kT0 + 9500;
    for (int i = 0; i < 3; ++i) {
        o.upstream.push_back({"wamid.1" + std::to_string(i), "text", "16661", "x1", kT0 + 16'000, {}});
    }
    EXPECT_TRUE(has_violation(audit(o, tolerance()), "sent to the upstream more than once"));
}

TEST(ChaosAudit, APhantomSendAndAWrongWamidAreCaught) {
    Observations o = clean_run();
    o.upstream.push_back({"wamid.9", "text", "16669", "x9", kT0, {}});
    EXPECT_TRUE(has_violation(audit(o, tolerance()), "the upstream got a message that is not in the database"));
    o = clean_run();
    o.messages[0].wamid = "wamid.2";
    EXPECT_TRUE(has_violation(audit(o, tolerance()), "recorded wamid is not one the upstream gave"));
}

TEST(ChaosAudit, AStatusTheUpstreamSentButTheHistoryLacksIsALoss) {
    Observations o = clean_run();
    o.messages[2].statuses = {"accepted", "sending", "sent", "read"};
    EXPECT_TRUE(has_violation(audit(o, tolerance()), "a status the upstream sent is missing from the history"));
}

TEST(ChaosAudit, MarkAsReadIsCountedBothWays) {
    Observations o = clean_run();
    o.upstream_marked_read = 0;
    EXPECT_TRUE(has_violation(audit(o, tolerance()), "mark-as-read requests that never reached the upstream"));
    o.upstream_marked_read = 1 + 2;  // the kill could have had 2 in flight
    EXPECT_TRUE(audit(o, tolerance()).violations.empty());
    o.upstream_marked_read = 1 + 3;
    EXPECT_TRUE(has_violation(audit(o, tolerance()), "mark-as-read repeats beyond"));
}

TEST(ChaosAudit, InboundAnswered200MustBeStored) {
    Observations o = clean_run();
    o.inbound_stored.clear();
    EXPECT_TRUE(has_violation(audit(o, tolerance()), "inbound message answered 200 but not stored"));
}

TEST(ChaosAudit, EventsMustAllBeDeliveredOnceAndInOrder) {
    Observations o = clean_run();
    o.events[0].state = "dead";
    EXPECT_TRUE(has_violation(audit(o, tolerance()), "event not delivered at the end"));

    o = clean_run();
    o.deliveries.erase(o.deliveries.begin() + 4);
    EXPECT_TRUE(has_violation(audit(o, tolerance()), "event written but never acknowledged"));

    o = clean_run();
    o.deliveries[4].acknowledged = false;  // a failed attempt does not count as delivered
    EXPECT_TRUE(has_violation(audit(o, tolerance()), "event written but never acknowledged"));

    o = clean_run();
    std::swap(o.deliveries[0].received_at, o.deliveries[1].received_at);  // delivered before sent
    EXPECT_TRUE(has_violation(audit(o, tolerance()), "events of one ordering key acknowledged out of order"));

    o = clean_run();
    o.deliveries.push_back({"status:wagate.zz:sent", kT0, true});
    EXPECT_TRUE(has_violation(audit(o, tolerance()), "the backend got an event that was never written"));

    o = clean_run();
    o.deliveries.push_back(o.deliveries[0]);  // acknowledged twice at +5 s, far from the kill at +10 s
    EXPECT_TRUE(has_violation(audit(o, tolerance()), "event delivered more than once outside"));
    o.faults.push_back({"SIGKILL of instance 1", kT0 + 5100, kT0 + 5100, 1});
    EXPECT_TRUE(audit(o, tolerance()).violations.empty());
}

TEST(ChaosAudit, TheTierIsCheckedInTheDatabaseTheAnswersAndTheUpstream) {
    Observations o = clean_run();
    o.limit_counted = 2;
    EXPECT_TRUE(has_violation(audit(o, tolerance()), "tier exceeded in the database"));
    o = clean_run();
    o.requests[3].final_status = 200;  // a second template user answered 200 with a limit of 1
    EXPECT_TRUE(has_violation(audit(o, tolerance()), "tier exceeded in the answers"));
    o = clean_run();
    o.tier_limit = 0;
    o.limit_counted = 0;
    EXPECT_TRUE(has_violation(audit(o, tolerance()), "tier exceeded at the upstream"));
}

TEST(ChaosAudit, OneRequestStoredTwiceIsCaught) {
    Observations o = clean_run();
    o.messages.push_back(o.messages[0]);
    o.messages.back().id = "b1";
    EXPECT_TRUE(has_violation(audit(o, tolerance()), "one request stored more than once"));
}

TEST(ChaosAudit, EventIdentityAndPayloadTokenReadTheWireShapes) {
    const json status = json::parse(
        R"({"entry":[{"changes":[{"value":{"statuses":[{"id":"wagate.ab","status":"read"}]}}]}]})");
    EXPECT_EQ(event_identity(status), "status:wagate.ab:read");
    const json inbound = json::parse(R"({"entry":[{"changes":[{"value":{"messages":[{"id":"wamid.X"}]}}]}]})");
    EXPECT_EQ(event_identity(inbound), "message:wamid.X");
    EXPECT_TRUE(event_identity(json::parse(R"({"entry":[]})")).starts_with("account:"));
    EXPECT_EQ(payload_token(json::parse(R"({"type":"text","text":{"body":"chaos x12"}})")), "x12");
    EXPECT_EQ(payload_token(json::parse(R"({"type":"text","text":{"body":"hello"}})")), "");
    EXPECT_EQ(payload_token(json::parse(
                  R"({"template":{"components":[{"type":"body","parameters":[{"type":"text","text":"t7"}]}]}})")),
              "t7");
}

}  // namespace
}  // namespace wagate::chaos
