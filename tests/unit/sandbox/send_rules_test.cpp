// The sandbox's answers to validated sends (docs/sandbox.md, "Triggers" and "Faults").

#include <gtest/gtest.h>

#include <string>

#include "sandbox/send_rules.hpp"

namespace wagate::sandbox {
namespace {

domain::SendRequest validated(const std::string& body) {
    auto r = domain::validate_send_request(body, domain::ValidationSettings{});
    EXPECT_TRUE(r.has_value()) << body << ": " << (r ? "" : r.error().details);
    return r ? *r : domain::SendRequest{};
}

domain::SendRequest text_to(const std::string& to) {
    return validated(R"({"messaging_product":"whatsapp","to":")" + to + R"(","type":"text","text":{"body":"hi"}})");
}

using Outcome = SendDecision::Outcome;

TEST(SandboxTriggers, AreTheLastSixDigitsOfAPhoneWaId) {
    EXPECT_EQ(find_trigger("15550131030"), Trigger::kNotAllowed);
    EXPECT_EQ(find_trigger("15550131026"), Trigger::kUndeliverable);
    EXPECT_EQ(find_trigger("15550131049"), Trigger::kNotDelivered);
    EXPECT_EQ(find_trigger("15550130429"), Trigger::kThroughput);
    EXPECT_EQ(find_trigger("15550131000"), Trigger::kServerError);
    EXPECT_EQ(find_trigger("15550131056"), Trigger::kPairRate);
    EXPECT_EQ(find_trigger("131030"), Trigger::kNotAllowed);
    EXPECT_EQ(find_trigger("15551234567"), std::nullopt);
    EXPECT_EQ(find_trigger("31030"), std::nullopt);              // fewer than six digits
    EXPECT_EQ(find_trigger("US.131030"), std::nullopt);          // not digits
    EXPECT_EQ(find_trigger("15550131030 "), std::nullopt);
    EXPECT_EQ(find_trigger("1555013103000"), std::nullopt);      // the code is not at the end
    EXPECT_EQ(find_trigger(""), std::nullopt);
}

TEST(SandboxTriggers, NotAllowedIsRefusedEveryTime) {
    FirstSends first;
    Rng rng(1);
    for (int i = 0; i < 3; ++i) {
        const auto d = decide_send(text_to("+1 555 013-1030"), "1001", {}, first, rng);
        EXPECT_EQ(d.outcome, Outcome::kTrigger);
        EXPECT_EQ(d.error.http_status, 400);
        EXPECT_EQ(d.error.code, 131030);
        EXPECT_EQ(d.error.title, "Recipient phone number not in allowed list");
    }
}

TEST(SandboxTriggers, FirstSendOnlyTriggersFailOncePerPhoneNumberAndRecipient) {
    struct Case {
        const char* to;
        int status;
        int code;
        const char* title;
    };
    const Case cases[] = {
        {"15550130429", 400, 130429, "Rate limit hit"},
        {"15550131000", 500, 131000, "Something went wrong"},
        {"15550131056", 400, 131056, "(Business Account, Consumer Account) pair rate limit hit"},
    };
    for (const auto& c : cases) {
        FirstSends first;
        Rng rng(1);
        auto d = decide_send(text_to(c.to), "1001", {}, first, rng);
        EXPECT_EQ(d.outcome, Outcome::kTrigger) << c.to;
        EXPECT_EQ(d.error.http_status, c.status) << c.to;
        EXPECT_EQ(d.error.code, c.code) << c.to;
        EXPECT_EQ(d.error.title, c.title) << c.to;
        d = decide_send(text_to(c.to), "1001", {}, first, rng);
        EXPECT_EQ(d.outcome, Outcome::kAccept) << c.to;
        EXPECT_EQ(d.fate, Fate::kDeliver) << c.to;
        // Another business number is another pair.
        d = decide_send(text_to(c.to), "1002", {}, first, rng);
        EXPECT_EQ(d.outcome, Outcome::kTrigger) << c.to;
    }
    FirstSends first;
    Rng rng(1);
    EXPECT_EQ(decide_send(text_to("15550130429"), "1", {}, first, rng).error.details,
              "Cloud API message throughput has been reached.");
}

TEST(SandboxTriggers, DeliveryTriggersAreAcceptedWithTheirFate) {
    FirstSends first;
    Rng rng(1);
    auto d = decide_send(text_to("15550131026"), "1001", {}, first, rng);
    EXPECT_EQ(d.outcome, Outcome::kAccept);
    EXPECT_EQ(d.fate, Fate::kFailAfterSent);
    d = decide_send(text_to("15550131049"), "1001", {}, first, rng);
    EXPECT_EQ(d.outcome, Outcome::kAccept);
    EXPECT_EQ(d.fate, Fate::kFailOnly);
}

TEST(SandboxTriggers, ReactionsGetOnlySentAndMarkAsReadNothing) {
    FirstSends first;
    Rng rng(1);
    const auto reaction = validated(R"({"messaging_product":"whatsapp","to":"15551234567","type":"reaction",)"
                                    R"("reaction":{"message_id":"wamid.abc","emoji":"👍"}})");
    EXPECT_EQ(decide_send(reaction, "1001", {}, first, rng).fate, Fate::kSentOnly);
    const auto read = validated(R"({"messaging_product":"whatsapp","status":"read","message_id":"wamid.abc"})");
    const auto d = decide_send(read, "1001", {}, first, rng);
    EXPECT_EQ(d.outcome, Outcome::kAccept);
    EXPECT_EQ(d.fate, Fate::kNone);
}

TEST(SandboxFaults, RatesOfOneAlwaysAndZeroNeverApply) {
    FirstSends first;
    Rng rng(7);
    FaultRates throttle;
    throttle.throttle = 1;
    auto d = decide_send(text_to("15551234567"), "1001", throttle, first, rng);
    EXPECT_EQ(d.outcome, Outcome::kThrottled);
    EXPECT_EQ(d.error.http_status, 429);
    EXPECT_EQ(d.error.code, 130429);

    FaultRates server;
    server.server_error = 1;
    d = decide_send(text_to("15551234567"), "1001", server, first, rng);
    EXPECT_EQ(d.outcome, Outcome::kServerError);
    EXPECT_EQ(d.error.http_status, 500);
    EXPECT_EQ(d.error.code, 131000);

    FaultRates fail;
    fail.fail = 1;
    d = decide_send(text_to("15551234567"), "1001", fail, first, rng);
    EXPECT_EQ(d.outcome, Outcome::kAccept);
    EXPECT_EQ(d.fate, Fate::kFailAfterSent);

    const Rng before = rng;
    d = decide_send(text_to("15551234567"), "1001", FaultRates{}, first, rng);
    EXPECT_EQ(d.outcome, Outcome::kAccept);
    EXPECT_EQ(d.fate, Fate::kDeliver);
    EXPECT_EQ(rng, before) << "rates of 0 draw nothing";
}

TEST(SandboxFaults, TriggersComeBeforeRandomFaults) {
    FirstSends first;
    Rng rng(7);
    FaultRates all;
    all.throttle = 1;
    EXPECT_EQ(decide_send(text_to("15550131030"), "1001", all, first, rng).error.code, 131030);
}

TEST(SandboxFaults, ASharedRateIsRoughlyTheShareAndRepeatsForASeed) {
    auto count = [](std::uint64_t seed) {
        FirstSends first;
        Rng rng(seed);
        FaultRates rates;
        rates.throttle = 0.25;
        const auto send = text_to("15551234567");
        int throttled = 0;
        for (int i = 0; i < 4000; ++i) {
            throttled += decide_send(send, "1001", rates, first, rng).outcome == Outcome::kThrottled ? 1 : 0;
        }
        return throttled;
    };
    const int n = count(42);
    EXPECT_NEAR(n, 1000, 120);
    EXPECT_EQ(count(42), n);
}

TEST(SandboxTriggers, BsuidAndGroupRecipientsNeverTrigger) {
    FirstSends first;
    Rng rng(1);
    const auto bsuid = validated(R"({"messaging_product":"whatsapp","recipient":"US.131030",)"
                                 R"("type":"text","text":{"body":"hi"}})");
    EXPECT_EQ(decide_send(bsuid, "1001", {}, first, rng).outcome, Outcome::kAccept);
}

}  // namespace
}  // namespace wagate::sandbox
