// The relay's pure rules: how Meta's answers are read, the retry back-off, GCRA pacing and the
// rewriting of references to gateway ids.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <wagate/domain/relay.hpp>

namespace wagate::domain::relay {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::string graph_error(int code, const std::string& message, const std::string& details = "d") {
    return json{{"error",
                 {{"message", message}, {"type", "OAuthException"}, {"code", code},
                  {"error_data", {{"messaging_product", "whatsapp"}, {"details", details}}},
                  {"fbtrace_id", "Az8or2yhqkZfEZ-_4Qn_Bam"}}}}
        .dump();
}

TEST(RelayOutcome, ASuccessBodyGivesTheWamid) {
    const auto o = classify_response(
        200, R"({"messaging_product":"whatsapp","contacts":[{"input":"+1555","wa_id":"1555"}],"messages":[{"id":"wamid.HBgL=="}]})",
        true);
    EXPECT_EQ(o.kind, OutcomeKind::kAccepted);
    EXPECT_EQ(o.wamid, "wamid.HBgL==");
}

TEST(RelayOutcome, AMarkAsReadSucceedsWithSuccessTrue) {
    EXPECT_EQ(classify_response(200, R"({"success":true})", false).kind, OutcomeKind::kAccepted);
    EXPECT_EQ(classify_response(200, R"({"success":false})", false).kind, OutcomeKind::kPermanent);
}

TEST(RelayOutcome, A2xxWithoutWhatItPromisesIsPermanentSoItIsNeverSentTwice) {
    for (const char* body : {"", "{}", "not json", R"({"messages":[]})", R"({"messages":[{"id":""}]})",
                             R"({"messages":[{"id":7}]})", R"({"messages":[{"id":"has space"}]})"}) {
        const auto o = classify_response(200, body, true);
        EXPECT_EQ(o.kind, OutcomeKind::kPermanent) << body;
        EXPECT_EQ(o.code, 131000) << body;
        EXPECT_NE(o.details.find("without a message id"), std::string::npos) << body;
    }
    EXPECT_EQ(classify_response(200, R"({"messages":[{"id":")" + std::string(129, 'w') + R"("}]})", true).kind,
              OutcomeKind::kPermanent);
}

TEST(RelayOutcome, TransientCodesAndStatusesAreRetried) {
    struct Case {
        int http;
        int code;
    };
    for (const Case c : {Case{400, 130429}, Case{400, 131056}, Case{500, 131000}, Case{400, 133016}, Case{400, 4},
                         Case{400, 80007}, Case{503, 2}, Case{500, 131016}, Case{500, 131057}, Case{400, 134101},
                         Case{400, 2494100}, Case{429, 100}, Case{502, 100}, Case{408, 100}}) {
        const auto o = classify_response(c.http, graph_error(c.code, "(#" + std::to_string(c.code) + ") t"), true);
        EXPECT_EQ(o.kind, OutcomeKind::kTransient) << c.http << " " << c.code;
        EXPECT_EQ(o.code, c.code);
    }
}

TEST(RelayOutcome, OtherErrorsArePermanentAndKeepMetasError) {
    for (int code : {0, 1, 3, 10, 33, 100, 190, 368, 131008, 131009, 131026, 131030, 131047, 131051, 132000, 132001,
                     132015, 133010}) {
        const auto o = classify_response(400, graph_error(code, "(#" + std::to_string(code) + ") Some title", "why"), true);
        EXPECT_EQ(o.kind, OutcomeKind::kPermanent) << code;
    }
    const auto o = classify_response(
        400, graph_error(131030, "(#131030) Recipient phone number not in allowed list", "Add it to the list"), true);
    const json errors = json::parse(o.errors_json);
    ASSERT_TRUE(errors.is_array());
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0]["code"], 131030);
    EXPECT_EQ(errors[0]["title"], "Recipient phone number not in allowed list");
    EXPECT_EQ(errors[0]["error_data"]["details"], "Add it to the list");
    EXPECT_FALSE(o.pair_limited);
}

TEST(RelayOutcome, ABodyThatIsNoGraphEnvelopeIsJudgedByItsStatus) {
    EXPECT_EQ(classify_response(503, "<html>busy</html>", true).kind, OutcomeKind::kTransient);
    const auto o = classify_response(404, "<html>no</html>", true);
    EXPECT_EQ(o.kind, OutcomeKind::kPermanent);
    EXPECT_EQ(o.code, 1);
    EXPECT_NE(o.details.find("HTTP 404"), std::string::npos);
}

TEST(RelayOutcome, PairRateErrorsAskForMetasBackOff) {
    EXPECT_TRUE(classify_response(400, graph_error(131056, "(#131056) pair"), true).pair_limited);
}

TEST(RelayOutcome, NetworkFailuresAreTransientAndSayWhy) {
    const auto o = classify_network_failure("connect to 10.0.0.1:443: refused");
    EXPECT_EQ(o.kind, OutcomeKind::kTransient);
    EXPECT_NE(json::parse(o.errors_json)[0]["error_data"]["details"].get<std::string>().find("refused"),
              std::string::npos);
}

TEST(RelayOutcome, ExpiryCarriesTheGatewayCodeAndTheLastFailure) {
    const json e = json::parse(expired_errors_json("code 130429 Rate limit hit"));
    EXPECT_EQ(e[0]["code"], 900301);
    EXPECT_NE(e[0]["error_data"]["details"].get<std::string>().find("130429"), std::string::npos);
}

TEST(RelayRetry, DoublesFromTheBaseUpToTheCapWithEqualJitter) {
    const RetrySettings s{1000ms, 60'000ms};
    EXPECT_EQ(retry_delay(1, false, 0.0, s), 500ms);
    EXPECT_EQ(retry_delay(1, false, 1.0, s), 1000ms);
    EXPECT_EQ(retry_delay(2, false, 0.0, s), 1000ms);
    EXPECT_EQ(retry_delay(3, false, 0.5, s), 3000ms);
    EXPECT_EQ(retry_delay(7, false, 0.0, s), 30'000ms);
    EXPECT_EQ(retry_delay(1000, false, 1.0, s), 60'000ms);
    for (int attempt = 1; attempt < 40; ++attempt) {
        EXPECT_LE(retry_delay(attempt, false, 0.3, s), retry_delay(attempt + 1, false, 0.3, s));
    }
}

TEST(RelayRetry, PairRateErrorsWaitFourToTheN) {
    const RetrySettings s{1000ms, 3'600'000ms};
    EXPECT_EQ(retry_delay(1, true, 1.0, s), 1s);
    EXPECT_EQ(retry_delay(2, true, 1.0, s), 4s);
    EXPECT_EQ(retry_delay(3, true, 1.0, s), 16s);
    EXPECT_EQ(retry_delay(4, true, 0.0, s), 32s);
    EXPECT_EQ(retry_delay(100, true, 1.0, s), 3600s);
}

TEST(RelayPacing, AThroughputGcraSpacesEventsByTheIntervalAfterItsBurst) {
    const Gcra g = throughput_gcra(80);
    EXPECT_EQ(g.interval, std::chrono::duration_cast<Duration>(12.5ms));
    EXPECT_EQ(g.burst, 2);
    const TimePoint t0{};
    std::optional<TimePoint> tat;
    std::vector<TimePoint> at;
    for (int i = 0; i < 82; ++i) {
        const TimePoint e = g.earliest(tat, t0);
        tat = g.advance(tat, e);
        at.push_back(e);
    }
    for (int i = 0; i < 2; ++i) {
        EXPECT_EQ(at[i], t0) << i;  // the burst
    }
    for (int i = 2; i < 82; ++i) {
        EXPECT_EQ(at[i] - at[i - 1], g.interval) << i;
    }
    // 82 events take 1 s: in no second more than 80 + the burst of 2 (1.025 x the rate).
    EXPECT_EQ(at[81] - t0, std::chrono::duration_cast<Duration>(1000ms));
}

TEST(RelayPacing, LowAndOddRatesStillGetOneEventAtATime) {
    EXPECT_EQ(throughput_gcra(20).burst, 1);
    EXPECT_EQ(throughput_gcra(0.5).interval, std::chrono::duration_cast<Duration>(2s));
    EXPECT_EQ(throughput_gcra(1000).burst, 25);
}

TEST(RelayPacing, IdleTimeEarnsNoMoreThanOneBurst) {
    const Gcra pair{6s, 45};
    const TimePoint t0{};
    std::optional<TimePoint> tat;
    for (int i = 0; i < 45; ++i) {
        const TimePoint e = pair.earliest(tat, t0);
        EXPECT_EQ(e, t0) << i;
        tat = pair.advance(tat, e);
    }
    // The 46th waits one interval; a burst of 45 costs the time it would have taken (270 s).
    EXPECT_EQ(pair.earliest(tat, t0), t0 + 6s);
    EXPECT_EQ(*tat, t0 + 270s);
    // After a long idle spell the state is fresh again, not credited with more.
    const TimePoint later = t0 + 10h;
    std::optional<TimePoint> fresh_tat = tat;
    int at_once = 0;
    while (pair.earliest(fresh_tat, later) == later) {
        fresh_tat = pair.advance(fresh_tat, later);
        ++at_once;
    }
    EXPECT_EQ(at_once, 45);
}

TEST(RelayPacing, NotBeforeIsRespected) {
    const Gcra g = throughput_gcra(10);
    const TimePoint t0{};
    EXPECT_EQ(g.earliest(std::nullopt, t0 + 3s), t0 + 3s);
    EXPECT_EQ(g.earliest(t0 + 5s, t0 + 1s), t0 + 5s);
}

TEST(RelayReferences, GatewayIdsAreFoundWhereMetaExpectsAWamid) {
    const std::string id = "0190aa5b6c7d7e8f9a0b1c2d3e4f5a6b";
    EXPECT_EQ(referenced_gateway_ids(R"({"type":"text","context":{"message_id":"wagate.)" + id + R"("}})"),
              std::vector<std::string>{id});
    EXPECT_EQ(referenced_gateway_ids(R"({"type":"reaction","reaction":{"message_id":"wagate.)" + id + R"(","emoji":"x"}})"),
              std::vector<std::string>{id});
    EXPECT_EQ(referenced_gateway_ids(R"({"status":"read","message_id":"wagate.)" + id + R"("})"),
              std::vector<std::string>{id});
    // Not a reference: inside text, a wamid, malformed ids.
    EXPECT_TRUE(referenced_gateway_ids(R"({"text":{"body":"wagate.)" + id + R"("}})").empty());
    EXPECT_TRUE(referenced_gateway_ids(R"({"context":{"message_id":"wamid.HBgL"}})").empty());
    EXPECT_TRUE(referenced_gateway_ids(R"({"context":{"message_id":"wagate.XYZ"}})").empty());
    EXPECT_TRUE(referenced_gateway_ids(R"({"context":{"message_id":"wagate.)" + id + R"(0"}})").empty());
}

TEST(RelayReferences, ReplacementTouchesOnlyTheReferences) {
    const std::string id = "0190aa5b6c7d7e8f9a0b1c2d3e4f5a6b";
    const std::string payload = R"({"messaging_product":"whatsapp","to":"+1555","type":"text","text":{"body":"wagate.)" +
                                id + R"( é"},"context":{"message_id":"wagate.)" + id + R"("}})";
    const json out = json::parse(replace_references(payload, {{id, "wamid.ABC"}}));
    EXPECT_EQ(out["context"]["message_id"], "wamid.ABC");
    EXPECT_EQ(out["text"]["body"], "wagate." + id + " é");
    EXPECT_EQ(json::parse(replace_references(payload, {})), json::parse(payload));
}

}  // namespace
}  // namespace wagate::domain::relay
