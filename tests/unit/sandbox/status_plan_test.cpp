// Which status webhooks an accepted message gets, and when (docs/sandbox.md, "Status webhooks").

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sandbox/status_plan.hpp"

namespace wagate::sandbox {
namespace {

using std::chrono::milliseconds;

AcceptedMessage message(Fate fate) {
    AcceptedMessage m;
    m.wamid = "wamid.HBgLtest";
    m.recipient_id = "15551234567";
    m.fate = fate;
    m.accepted_at_ms = 1'750'000'000'900;  // .9 s past a second: the first status crosses into the next
    return m;
}

PlanSettings every(milliseconds delay) {
    PlanSettings s;
    s.status_delay = delay;
    return s;
}

std::vector<std::string> statuses(const std::vector<PlannedStatus>& plan) {
    std::vector<std::string> out;
    for (const auto& p : plan) {
        out.push_back(p.item.status);
    }
    return out;
}

TEST(SandboxStatusPlan, DeliveredMessagesGoSentDeliveredReadOneDelayApart) {
    Rng rng(1);
    const auto plan = plan_statuses(message(Fate::kDeliver), every(milliseconds(300)), rng);
    ASSERT_EQ(statuses(plan), (std::vector<std::string>{"sent", "delivered", "read"}));
    for (std::size_t i = 0; i < plan.size(); ++i) {
        EXPECT_EQ(plan[i].post_after, milliseconds(300 * (i + 1)));
        EXPECT_EQ(plan[i].copies, 1);
        EXPECT_EQ(plan[i].item.wamid, "wamid.HBgLtest");
        EXPECT_EQ(plan[i].item.recipient_id, "15551234567");
        EXPECT_FALSE(plan[i].item.error);
    }
    EXPECT_EQ(plan[0].item.timestamp, 1'750'000'001);  // 900 + 300 ms
    EXPECT_EQ(plan[1].item.timestamp, 1'750'000'001);
    EXPECT_EQ(plan[2].item.timestamp, 1'750'000'001);

    PlanSettings no_read = every(milliseconds(300));
    no_read.read = false;
    EXPECT_EQ(statuses(plan_statuses(message(Fate::kDeliver), no_read, rng)),
              (std::vector<std::string>{"sent", "delivered"}));
}

TEST(SandboxStatusPlan, PricingAndConversationRideOnSentAndDeliveredOnly) {
    Rng rng(1);
    auto m = message(Fate::kDeliver);
    auto plan = plan_statuses(m, every(milliseconds(2000)), rng);
    ASSERT_EQ(plan.size(), 3u);
    const StatusItem& sent = plan[0].item;
    ASSERT_TRUE(sent.pricing && sent.conversation);
    EXPECT_EQ(sent.pricing->type, "free_customer_service");
    EXPECT_EQ(sent.pricing->category, "service");
    EXPECT_FALSE(sent.pricing->billable);
    EXPECT_EQ(sent.conversation->expiration_timestamp, sent.timestamp + 86'400);
    EXPECT_EQ(sent.conversation->id.size(), 32u);
    ASSERT_TRUE(plan[1].item.pricing && plan[1].item.conversation);
    EXPECT_EQ(plan[1].item.conversation->id, sent.conversation->id);
    EXPECT_FALSE(plan[1].item.conversation->expiration_timestamp);
    EXPECT_FALSE(plan[2].item.pricing);
    EXPECT_FALSE(plan[2].item.conversation);

    m.is_template = true;
    plan = plan_statuses(m, every(milliseconds(0)), rng);
    EXPECT_TRUE(plan[0].item.pricing->billable);
    EXPECT_EQ(plan[0].item.pricing->type, "regular");
    EXPECT_EQ(plan[0].item.pricing->category, "marketing");
}

TEST(SandboxStatusPlan, FailuresCarryMetasErrors) {
    Rng rng(1);
    auto plan = plan_statuses(message(Fate::kFailAfterSent), every(milliseconds(100)), rng);
    ASSERT_EQ(statuses(plan), (std::vector<std::string>{"sent", "failed"}));
    ASSERT_TRUE(plan[1].item.error);
    EXPECT_EQ(plan[1].item.error->code, 131026);
    EXPECT_EQ(plan[1].item.error->title, "Message undeliverable");
    EXPECT_FALSE(plan[1].item.pricing);

    plan = plan_statuses(message(Fate::kFailOnly), every(milliseconds(100)), rng);
    ASSERT_EQ(statuses(plan), (std::vector<std::string>{"failed"}));
    EXPECT_EQ(plan[0].item.error->code, 131049);
    EXPECT_EQ(plan[0].post_after, milliseconds(100));

    EXPECT_EQ(statuses(plan_statuses(message(Fate::kSentOnly), every(milliseconds(100)), rng)),
              (std::vector<std::string>{"sent"}));
    EXPECT_TRUE(plan_statuses(message(Fate::kNone), every(milliseconds(100)), rng).empty());
}

TEST(SandboxStatusPlan, TimestampsFollowTheTrueOrder) {
    Rng rng(3);
    for (int delay : {0, 1, 400, 999, 1000, 1700}) {
        const auto plan = plan_statuses(message(Fate::kDeliver), every(milliseconds(delay)), rng);
        EXPECT_LE(plan[0].item.timestamp, plan[1].item.timestamp) << delay;
        EXPECT_LE(plan[1].item.timestamp, plan[2].item.timestamp) << delay;
        EXPECT_EQ(plan[2].item.timestamp, (1'750'000'000'900 + 3 * delay) / 1000) << delay;
    }
}

TEST(SandboxStatusPlan, EchoesTheCallbackDataAndBsuidRecipients) {
    Rng rng(1);
    auto m = message(Fate::kDeliver);
    m.biz_opaque_callback_data = "order-17";
    m.recipient_id = "";
    m.recipient_user_id = "US.1349";
    for (const auto& p : plan_statuses(m, every(milliseconds(10)), rng)) {
        EXPECT_EQ(p.item.biz_opaque_callback_data, "order-17");
        EXPECT_EQ(p.item.recipient_id, "");
        EXPECT_EQ(p.item.recipient_user_id, "US.1349");
    }
}

TEST(SandboxStatusPlan, ReorderedMessagesPostInAnotherOrderWithTheTrueTimestamps) {
    PlanSettings s = every(milliseconds(1000));
    s.reorder_rate = 1;
    for (std::uint64_t seed = 1; seed <= 50; ++seed) {
        Rng rng(seed);
        const auto plan = plan_statuses(message(Fate::kDeliver), s, rng);
        ASSERT_EQ(plan.size(), 3u);
        EXPECT_NE(statuses(plan), (std::vector<std::string>{"sent", "delivered", "read"})) << seed;
        for (std::size_t i = 0; i < plan.size(); ++i) {
            EXPECT_EQ(plan[i].post_after, milliseconds(1000 * (i + 1))) << seed;  // slots keep their order
            const std::int64_t rank = plan[i].item.status == "sent" ? 1 : plan[i].item.status == "delivered" ? 2 : 3;
            EXPECT_EQ(plan[i].item.timestamp, (1'750'000'000'900 + rank * 1000) / 1000) << seed;
        }
    }
    Rng rng(1);
    EXPECT_EQ(statuses(plan_statuses(message(Fate::kFailAfterSent), s, rng)),
              (std::vector<std::string>{"failed", "sent"}));
}

TEST(SandboxStatusPlan, DuplicatesArePerWebhook) {
    PlanSettings s = every(milliseconds(10));
    s.duplicate_rate = 1;
    Rng rng(1);
    for (const auto& p : plan_statuses(message(Fate::kDeliver), s, rng)) {
        EXPECT_EQ(p.copies, 2);
    }
    s.duplicate_rate = 0.5;
    int twice = 0;
    for (int i = 0; i < 1000; ++i) {
        for (const auto& p : plan_statuses(message(Fate::kDeliver), s, rng)) {
            twice += p.copies == 2 ? 1 : 0;
        }
    }
    EXPECT_NEAR(twice, 1500, 150);
}

TEST(SandboxStatusPlan, TheSameSeedGivesTheSamePlan) {
    PlanSettings s = every(milliseconds(10));
    s.duplicate_rate = 0.5;
    s.reorder_rate = 0.5;
    for (std::uint64_t seed : {1u, 2u, 99u}) {
        Rng a(seed);
        Rng b(seed);
        for (int i = 0; i < 20; ++i) {
            const auto pa = plan_statuses(message(Fate::kDeliver), s, a);
            const auto pb = plan_statuses(message(Fate::kDeliver), s, b);
            ASSERT_EQ(statuses(pa), statuses(pb));
            for (std::size_t k = 0; k < pa.size(); ++k) {
                EXPECT_EQ(pa[k].copies, pb[k].copies);
                EXPECT_EQ(pa[k].item.conversation.has_value(), pb[k].item.conversation.has_value());
            }
        }
    }
}

TEST(SandboxRetryDelay, DoublesFrom250msUpTo30s) {
    const milliseconds initial(250);
    const milliseconds max(30'000);
    const std::pair<int, int> table[] = {{1, 250},     {2, 500},     {3, 1000},    {4, 2000},  {7, 16'000},
                                         {8, 30'000}, {9, 30'000}, {1000, 30'000}};
    for (const auto& [failures, expected] : table) {
        EXPECT_EQ(retry_delay(failures, initial, max), milliseconds(expected)) << failures;
    }
}

}  // namespace
}  // namespace wagate::sandbox
