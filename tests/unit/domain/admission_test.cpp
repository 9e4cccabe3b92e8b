#include <wagate/domain/admission.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using namespace wagate::domain;
using namespace wagate::domain::admission;
using policy::Tier;
using policy::TimePoint;

const TimePoint kNow = std::chrono::sys_days{std::chrono::year{2025} / 6 / 1} + 9h;

const std::string kTemplatePayload =
    R"({"messaging_product":"whatsapp","to":"+15550000001","type":"template","template":{"name":"hello",)"
    R"("language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"Ann"}]}]}})";

std::shared_ptr<const TemplateDefinition> hello_definition(std::string status = "APPROVED") {
    auto parsed = parse_template_definition(
        "hello", "en_US",
        R"({"category":"MARKETING","status":")" + status + R"(","components":[{"type":"BODY","text":"Hi {{1}}"}]})");
    EXPECT_TRUE(parsed.has_value());
    return std::make_shared<const TemplateDefinition>(std::move(*parsed));
}

Request template_to(std::string wa_id) {
    Request r;
    r.type = "template";
    r.phone_number_id = "1001";
    r.wa_id = std::move(wa_id);
    r.payload_json = &kTemplatePayload;
    r.template_name = "hello";
    r.template_language = "en_US";
    return r;
}

Request text_to(std::string wa_id) {
    Request r;
    r.type = "text";
    r.phone_number_id = "1001";
    r.wa_id = std::move(wa_id);
    return r;
}

/// A recipient who opted in, with no open window, and the stored template.
RecipientState opted_in_no_window() {
    RecipientState s;
    s.business_id = "biz1";
    s.contact.opted_in = true;
    s.template_definition = hello_definition();
    return s;
}

/// Runs admit() over pairs of request and state; keeps them alive for the call.
struct Batch {
    std::vector<Request> requests;
    std::vector<RecipientState> states;
    std::map<std::string, Budget, std::less<>> budgets{{"biz1", Budget{Tier::k50, 0, std::nullopt}}};
    Settings settings;

    void add(Request r, RecipientState s) {
        requests.push_back(std::move(r));
        states.push_back(std::move(s));
    }
    std::vector<ApiResult<Admitted>> run(TimePoint now = kNow) {
        std::vector<Candidate> candidates;
        for (std::size_t i = 0; i < requests.size(); ++i) {
            candidates.push_back({&requests[i], &states[i]});
        }
        return admit(candidates, budgets, settings, now);
    }
};

int code_of(const ApiResult<Admitted>& r) { return r ? 0 : r.error().code; }

TEST(Admission, ABusinessInitiatedTemplateTakesOneSlot) {
    Batch b;
    b.add(template_to("1"), opted_in_no_window());
    auto v = b.run();
    ASSERT_TRUE(v[0]);
    EXPECT_TRUE(v[0]->business_initiated);
    EXPECT_TRUE(v[0]->consumes_slot);
    EXPECT_EQ(b.budgets["biz1"].used, 1);
    EXPECT_EQ(b.budgets["biz1"].oldest_counted_at, kNow);
}

TEST(Admission, TheLastSlotGoesToTheFirstInArrivalOrder) {
    Batch b;
    b.budgets["biz1"].used = 49;
    b.budgets["biz1"].oldest_counted_at = kNow - 1h;
    for (int i = 0; i < 5; ++i) {
        b.add(template_to(std::to_string(100 + i)), opted_in_no_window());
    }
    auto v = b.run();
    EXPECT_TRUE(v[0] && v[0]->consumes_slot);
    for (int i = 1; i < 5; ++i) {
        ASSERT_FALSE(v[i]) << i;
        EXPECT_EQ(v[i].error().code, 900100);
        EXPECT_EQ(v[i].error().http_status, 429);
        EXPECT_EQ(v[i].error().retry_after_seconds, 23 * 3600);  // the 1-hour-old slot frees in 23 h
    }
    EXPECT_EQ(b.budgets["biz1"].used, 50);
}

TEST(Admission, AUserCountedEarlierInTheBatchOrInTheWindowDoesNotCountAgain) {
    Batch b;
    b.budgets["biz1"].used = 50;  // full
    b.budgets["biz1"].oldest_counted_at = kNow - 2h;
    RecipientState counted = opted_in_no_window();
    counted.user_counted = true;
    b.add(template_to("7"), counted);
    b.add(template_to("7"), counted);
    auto v = b.run();
    ASSERT_TRUE(v[0] && v[1]);
    EXPECT_FALSE(v[0]->consumes_slot);
    EXPECT_FALSE(v[1]->consumes_slot);

    Batch fresh;
    fresh.budgets["biz1"].used = 49;
    fresh.add(template_to("8"), opted_in_no_window());
    fresh.add(template_to("8"), opted_in_no_window());  // same user: counted by the first
    auto w = fresh.run();
    ASSERT_TRUE(w[0] && w[1]);
    EXPECT_TRUE(w[0]->consumes_slot);
    EXPECT_FALSE(w[1]->consumes_slot);
    EXPECT_EQ(fresh.budgets["biz1"].used, 50);
}

TEST(Admission, RepliesInsideTheWindowNeverTouchTheBudget) {
    Batch b;
    b.budgets.clear();  // no budget loaded: a consuming candidate would be an internal error
    RecipientState in_window = opted_in_no_window();
    in_window.last_inbound = kNow - 23h;
    b.add(template_to("1"), in_window);
    b.add(text_to("1"), in_window);
    auto v = b.run();
    ASSERT_TRUE(v[0] && v[1]);
    EXPECT_FALSE(v[0]->business_initiated);
    EXPECT_FALSE(v[0]->consumes_slot);
    EXPECT_FALSE(v[1]->consumes_slot);
}

TEST(Admission, ARejectedCandidateConsumesNothing) {
    Batch b;
    b.budgets["biz1"].used = 49;
    RecipientState not_opted_in = opted_in_no_window();
    not_opted_in.contact.opted_in = false;
    RecipientState paused = opted_in_no_window();
    paused.template_definition = hello_definition("PAUSED");
    b.add(template_to("1"), not_opted_in);
    b.add(template_to("2"), paused);
    b.add(template_to("3"), opted_in_no_window());
    auto v = b.run();
    EXPECT_EQ(code_of(v[0]), 900101);
    EXPECT_EQ(code_of(v[1]), 132015);
    ASSERT_TRUE(v[2]);
    EXPECT_TRUE(v[2]->consumes_slot);
    EXPECT_EQ(b.budgets["biz1"].used, 50);
}

TEST(Admission, RulesAreAppliedInTheirDocumentedOrder) {
    Batch b;
    RecipientState everything_wrong = opted_in_no_window();
    everything_wrong.contact.identity_ack_required = true;
    everything_wrong.contact.opted_in = false;
    everything_wrong.template_definition = nullptr;
    everything_wrong.number_status = policy::NumberStatus::kRestricted;
    b.add(template_to("1"), everything_wrong);  // identity first
    everything_wrong.contact.identity_ack_required = false;
    b.add(template_to("2"), everything_wrong);  // then opt-in (no window rule for templates)
    everything_wrong.contact.opted_in = true;
    b.add(template_to("3"), everything_wrong);  // then the number's status
    everything_wrong.number_status = policy::NumberStatus::kConnected;
    b.add(template_to("4"), everything_wrong);  // then the template
    b.add(text_to("5"), everything_wrong);      // a text without a window: 131047
    auto v = b.run();
    EXPECT_EQ(code_of(v[0]), 900102);
    EXPECT_EQ(code_of(v[1]), 900101);
    EXPECT_EQ(code_of(v[2]), 900103);
    EXPECT_EQ(code_of(v[3]), 132001);
    EXPECT_EQ(v[3].error().http_status, 404);
    EXPECT_EQ(code_of(v[4]), 131047);
}

TEST(Admission, UnknownTemplatesPassWhenConfiguredAndStillCount) {
    Batch b;
    b.settings.pass_unknown_templates = true;
    RecipientState none = opted_in_no_window();
    none.template_definition = nullptr;
    b.add(template_to("1"), none);
    auto v = b.run();
    ASSERT_TRUE(v[0]);
    EXPECT_TRUE(v[0]->consumes_slot);
}

TEST(Admission, TheTemplateIsCheckedAgainstItsDefinition) {
    const std::string no_params =
        R"({"messaging_product":"whatsapp","to":"+15550000001","type":"template","template":{"name":"hello",)"
        R"("language":{"code":"en_US"}}})";
    Batch b;
    Request r = template_to("1");
    r.payload_json = &no_params;
    b.add(r, opted_in_no_window());
    auto v = b.run();
    EXPECT_EQ(code_of(v[0]), 132000);
    EXPECT_EQ(b.budgets["biz1"].used, 0);
}

TEST(Admission, ThePairBacklogCountsMessagesAdmittedEarlierInTheBatch) {
    Batch b;
    b.settings.pair_queue_cap = 3;
    RecipientState in_window = opted_in_no_window();
    in_window.last_inbound = kNow - 1h;
    in_window.queued_to_user = 1;
    for (int i = 0; i < 3; ++i) {
        b.add(text_to("1"), in_window);
    }
    b.add(text_to("2"), in_window);  // another user: its own backlog
    auto v = b.run();
    EXPECT_TRUE(v[0]);
    EXPECT_TRUE(v[1]);
    EXPECT_EQ(code_of(v[2]), 131056);
    EXPECT_TRUE(v[3]);
}

TEST(Admission, MarkAsReadPassesEveryRule) {
    Batch b;
    Request read;
    read.kind = RequestKind::kMarkRead;
    read.phone_number_id = "1001";
    RecipientState blocked;
    blocked.contact.identity_ack_required = true;
    blocked.number_status = policy::NumberStatus::kRestricted;
    b.add(read, blocked);
    auto v = b.run();
    ASSERT_TRUE(v[0]);
    EXPECT_FALSE(v[0]->consumes_slot);
}

TEST(Admission, AMissingBudgetIsAnInternalErrorNotAnAdmission) {
    Batch b;
    b.budgets.clear();
    b.add(template_to("1"), opted_in_no_window());
    auto v = b.run();
    EXPECT_EQ(code_of(v[0]), 1);
    EXPECT_EQ(v[0].error().http_status, 500);
}

// The periodic tier review (policy §3, §4).

policy::TierReviewInput review_input(policy::UpgradeRule rule, Tier tier, std::int64_t users_7d) {
    policy::TierReviewInput in;
    in.rule = rule;
    in.auto_upgrade = true;
    in.upgrade.tier = tier;
    in.upgrade.unique_users_7d = users_7d;
    return in;
}

TEST(TierReview, AutoUpgradeAtTheThresholdOnlyWhenAskedFor) {
    auto in = review_input(policy::UpgradeRule::kMeta2025, Tier::k250, 124);
    EXPECT_FALSE(policy::review_tier(in, kNow).new_tier);
    in.upgrade.unique_users_7d = 125;  // half of 250
    auto review = policy::review_tier(in, kNow);
    EXPECT_EQ(review.new_tier, Tier::k2K);
    EXPECT_EQ(review.source, "auto_upgrade");
    in.auto_upgrade = false;
    EXPECT_FALSE(policy::review_tier(in, kNow).new_tier);
}

TEST(TierReview, AFlaggedNumberReturnsAfterSevenDaysOneTierLower) {
    auto in = review_input(policy::UpgradeRule::kDoubleIn7d, Tier::k2K, 100'000);
    in.upgrade.flagged = true;
    in.flagged = {{"1001", kNow - (7 * 24h - 1s)}, {"1002", kNow - 8 * 24h}};
    auto review = policy::review_tier(in, kNow);
    EXPECT_EQ(review.new_tier, Tier::k250);  // once, however many numbers return
    EXPECT_EQ(review.source, "flagged_downgrade");
    EXPECT_EQ(review.reconnected, std::vector<std::string>{"1002"});

    in.flagged = {{"1001", kNow - 7 * 24h}};  // exactly 7 days
    EXPECT_EQ(policy::review_tier(in, kNow).reconnected, std::vector<std::string>{"1001"});

    in.rule = policy::UpgradeRule::kMeta2025;  // only double-in-7d downgrades, and flagged blocks upgrades
    review = policy::review_tier(in, kNow);
    EXPECT_TRUE(review.reconnected.empty());
    EXPECT_FALSE(review.new_tier);
}

TEST(TierReview, AtTheFloorTheNumberReturnsWithoutATierChange) {
    auto in = review_input(policy::UpgradeRule::kDoubleIn7d, Tier::k250, 0);
    in.upgrade.flagged = true;
    in.flagged = {{"1001", kNow - 10 * 24h}};
    auto review = policy::review_tier(in, kNow);
    EXPECT_FALSE(review.new_tier);
    EXPECT_EQ(review.reconnected, std::vector<std::string>{"1001"});
}

}  // namespace
