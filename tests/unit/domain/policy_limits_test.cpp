#include <wagate/domain/policy.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using namespace wagate::domain::policy;

const TimePoint kT0 = std::chrono::sys_days{std::chrono::year{2025} / 3 / 10} + 12h;

TEST(Tiers, NamesRoundTripAndJunkIsRejected) {
    const std::pair<const char*, Tier> names[] = {
        {"TIER_50", Tier::k50},
        {"TIER_250", Tier::k250},
        {"TIER_1K", Tier::k1K},
        {"TIER_2K", Tier::k2K},
        {"TIER_10K", Tier::k10K},
        {"TIER_100K", Tier::k100K},
        {"TIER_UNLIMITED", Tier::kUnlimited},
    };
    for (const auto& [name, tier] : names) {
        EXPECT_EQ(parse_tier(name), tier) << name;
        EXPECT_EQ(to_string(tier), name);
        EXPECT_EQ(parse_meta_tier(name), tier) << name;
    }
    for (const char* junk : {"", "TIER_NOT_SET", "tier_250", "TIER_250 ", "TIER_500", "250K"}) {
        EXPECT_EQ(parse_tier(junk), std::nullopt) << junk;
        EXPECT_EQ(parse_meta_tier(junk), std::nullopt) << junk;
    }
}

TEST(Tiers, WebhookIntegersMapToTiers) {
    const std::pair<std::int64_t, Tier> limits[] = {
        {50, Tier::k50},   {250, Tier::k250},   {1000, Tier::k1K},
        {2000, Tier::k2K}, {10000, Tier::k10K}, {100000, Tier::k100K},
    };
    for (const auto& [n, tier] : limits) {
        EXPECT_EQ(tier_from_limit(n), tier) << n;
        EXPECT_EQ(parse_meta_tier(std::to_string(n)), tier) << n;
        EXPECT_EQ(limit(tier), n);
    }
    EXPECT_EQ(limit(Tier::kUnlimited), std::nullopt);
    const std::int64_t not_limits[] = {0, -250, 249, 251, 1000000};
    for (const auto n : not_limits) {
        EXPECT_EQ(tier_from_limit(n), std::nullopt) << n;
    }
    for (const char* junk : {"-250", "+250", " 250", "250.0", "2,000", "99999999999999999999"}) {
        EXPECT_EQ(parse_meta_tier(junk), std::nullopt) << junk;
    }
}

TEST(Tiers, LadderUpAndDown) {
    struct Case {
        Tier tier;
        std::optional<Tier> next, previous;
    };
    const Case cases[] = {
        {Tier::k50, Tier::k250, std::nullopt},         {Tier::k250, Tier::k2K, std::nullopt},
        {Tier::k1K, Tier::k10K, Tier::k250},           {Tier::k2K, Tier::k10K, Tier::k250},
        {Tier::k10K, Tier::k100K, Tier::k2K},          {Tier::k100K, Tier::kUnlimited, Tier::k10K},
        {Tier::kUnlimited, std::nullopt, Tier::k100K},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(next_tier(c.tier), c.next) << to_string(c.tier);
        EXPECT_EQ(previous_tier(c.tier), c.previous) << to_string(c.tier);
    }
}

BudgetInput budget(Tier tier, std::int64_t used, bool counted, bool business_initiated) {
    return BudgetInput{tier, used, kT0 - 23h, counted, business_initiated};
}

TEST(Budget, AdmitsAndConsumesTable) {
    struct Case {
        const char* name;
        BudgetInput in;
        bool consumes;
        std::optional<std::int64_t> remaining;
    };
    const Case cases[] = {
        {"empty", budget(Tier::k250, 0, false, true), true, 249},
        {"one below the limit", budget(Tier::k250, 249, false, true), true, 0},
        {"counted user at full budget", budget(Tier::k250, 250, true, true), false, 0},
        {"counted user with room", budget(Tier::k250, 10, true, true), false, 240},
        {"reply at full budget", budget(Tier::k250, 250, false, false), false, 0},
        {"reply with room", budget(Tier::k2K, 10, false, false), false, 1990},
        {"over the limit after a downgrade, reply", budget(Tier::k250, 400, false, false), false,
         0},
        {"unlimited", budget(Tier::kUnlimited, 5'000'000, false, true), true, std::nullopt},
        {"unlimited, counted", budget(Tier::kUnlimited, 7, true, true), false, std::nullopt},
        {"unlimited, reply", budget(Tier::kUnlimited, 7, false, false), false, std::nullopt},
    };
    for (const auto& c : cases) {
        const auto r = decide_budget(c.in, kT0);
        ASSERT_TRUE(r) << c.name;
        EXPECT_EQ(r->consumes, c.consumes) << c.name;
        EXPECT_EQ(r->remaining, c.remaining) << c.name;
    }
}

TEST(Budget, FullRejectsWith429AndNextSlot) {
    BudgetInput in = budget(Tier::k250, 250, false, true);
    in.oldest_counted_at = kT0 - 24h + 90s;
    const auto r = decide_budget(in, kT0);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().http_status, 429);
    EXPECT_EQ(r.error().code, 900100);
    EXPECT_TRUE(r.error().gateway_type);
    EXPECT_EQ(r.error().title, "Messaging limit reached");
    EXPECT_EQ(r.error().retry_after_seconds, 90);
    EXPECT_EQ(r.error().details,
              "to: messaging limit TIER_250 reached (250 of 250 unique users in the last 24 "
              "hours); 0 remaining; next slot at 2025-03-10T12:01:30Z");

    in.used = 300;  // tier lowered under existing usage
    const auto over = decide_budget(in, kT0);
    ASSERT_FALSE(over);
    EXPECT_EQ(over.error().details,
              "to: messaging limit TIER_250 reached (300 of 250 unique users in the last 24 "
              "hours); 0 remaining; next slot at 2025-03-10T12:01:30Z");
}

TEST(Budget, RetryAfterRoundsUpAndIsAtLeastOneSecond) {
    struct Case {
        std::optional<TimePoint> oldest;
        int retry_after;
        TimePoint next;
    };
    const Case cases[] = {
        {kT0 - 24h + 1500ms, 2, kT0 + 1500ms},
        {kT0 - 24h + 1ms, 1, kT0 + 1ms},
        {kT0 - 24h, 1, kT0},  // stale input: the slot is already free
        {kT0 - 30h, 1, kT0},
        {kT0 - 1s, 86399, kT0 + 24h - 1s},
        {std::nullopt, 86400, kT0 + 24h},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(next_slot_at(c.oldest, kT0), c.next);
        BudgetInput in = budget(Tier::k2K, 2000, false, true);
        in.oldest_counted_at = c.oldest;
        const auto r = decide_budget(in, kT0);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().retry_after_seconds, c.retry_after) << format_utc(c.next);
        EXPECT_NE(r.error().details.find("next slot at " + format_utc(c.next)), std::string::npos)
            << r.error().details;
    }
}

// The store counts rows still in the moving window; this mirrors that query over a list.
BudgetInput from_rows(const std::vector<TimePoint>& counted_at, TimePoint now) {
    BudgetInput in{Tier::k250, 0, std::nullopt, false, true};
    for (const auto t : counted_at) {
        if (!counted_in_window(t, now)) {
            continue;
        }
        ++in.used;
        in.oldest_counted_at = std::min(in.oldest_counted_at.value_or(t), t);
    }
    return in;
}

TEST(Budget, RollingExpiryFreesTheOldestSlotAtExactly24Hours) {
    EXPECT_TRUE(counted_in_window(kT0, kT0 + 24h - 1ms));
    EXPECT_FALSE(counted_in_window(kT0, kT0 + 24h));

    std::vector<TimePoint> rows;
    for (int i = 0; i < 250; ++i) {
        rows.push_back(kT0 + std::chrono::minutes{i});
    }

    const auto just_before = decide_budget(from_rows(rows, kT0 + 24h - 1ms), kT0 + 24h - 1ms);
    ASSERT_FALSE(just_before);
    EXPECT_EQ(just_before.error().retry_after_seconds, 1);
    EXPECT_NE(just_before.error().details.find("next slot at 2025-03-11T12:00:00Z"),
              std::string::npos);

    const auto at = decide_budget(from_rows(rows, kT0 + 24h), kT0 + 24h);
    ASSERT_TRUE(at);
    EXPECT_TRUE(at->consumes);
    EXPECT_EQ(at->remaining, 0);

    rows.push_back(kT0 + 24h);  // the admitted user takes the freed slot
    const auto next = decide_budget(from_rows(rows, kT0 + 24h + 30s), kT0 + 24h + 30s);
    ASSERT_FALSE(next);
    EXPECT_EQ(next.error().retry_after_seconds, 30);
    EXPECT_NE(next.error().details.find("next slot at 2025-03-11T12:01:00Z"), std::string::npos);
}

TEST(Upgrades, RuleNames) {
    EXPECT_EQ(parse_upgrade_rule("meta-2025"), UpgradeRule::kMeta2025);
    EXPECT_EQ(parse_upgrade_rule("double-in-7d"), UpgradeRule::kDoubleIn7d);
    EXPECT_EQ(parse_upgrade_rule("META-2025"), std::nullopt);
    EXPECT_EQ(parse_upgrade_rule(""), std::nullopt);
    EXPECT_EQ(to_string(UpgradeRule::kMeta2025), "meta-2025");
    EXPECT_EQ(to_string(UpgradeRule::kDoubleIn7d), "double-in-7d");
}

TEST(Upgrades, ThresholdsAndBlockers) {
    constexpr auto kMeta = UpgradeRule::kMeta2025;
    constexpr auto kDouble = UpgradeRule::kDoubleIn7d;
    struct Case {
        UpgradeRule rule;
        UpgradeInput in;
        std::optional<Tier> next;  // nullopt = not eligible
        const char* reason;
    };
    const Case cases[] = {
        {kMeta,
         {Tier::k250, false, false, 124},
         std::nullopt,
         "124 unique users in the last 7 days; 125 needed (half of 250)"},
        {kMeta,
         {Tier::k250, false, false, 125},
         Tier::k2K,
         "125 unique users in the last 7 days; 125 needed (half of 250); next tier TIER_2K"},
        {kMeta,
         {Tier::k2K, false, false, 999},
         std::nullopt,
         "999 unique users in the last 7 days; 1000 needed (half of 2000)"},
        {kMeta,
         {Tier::k2K, false, false, 1000},
         Tier::k10K,
         "1000 unique users in the last 7 days; 1000 needed (half of 2000); next tier TIER_10K"},
        {kMeta,
         {Tier::k100K, false, false, 50000},
         Tier::kUnlimited,
         "50000 unique users in the last 7 days; 50000 needed (half of 100000); next tier "
         "TIER_UNLIMITED"},
        {kDouble,
         {Tier::k250, false, false, 499},
         std::nullopt,
         "499 unique users in the last 7 days; 500 needed (twice 250)"},
        {kDouble,
         {Tier::k250, false, false, 500},
         Tier::k2K,
         "500 unique users in the last 7 days; 500 needed (twice 250); next tier TIER_2K"},
        {kDouble,
         {Tier::k1K, false, false, 1999},
         std::nullopt,
         "1999 unique users in the last 7 days; 2000 needed (twice 1000)"},
        {kDouble,
         {Tier::k1K, false, false, 2000},
         Tier::k10K,
         "2000 unique users in the last 7 days; 2000 needed (twice 1000); next tier TIER_10K"},
        {kMeta, {Tier::k250, true, false, 10000}, std::nullopt, "quality RED blocks upgrades"},
        {kDouble, {Tier::k250, true, false, 10000}, std::nullopt, "quality RED blocks upgrades"},
        {kMeta,
         {Tier::k250, false, true, 10000},
         std::nullopt,
         "a FLAGGED phone number blocks upgrades"},
        {kDouble,
         {Tier::k250, false, true, 10000},
         std::nullopt,
         "a FLAGGED phone number blocks upgrades"},
        {kMeta, {Tier::k250, true, true, 10000}, std::nullopt, "quality RED blocks upgrades"},
        {kMeta,
         {Tier::kUnlimited, false, false, 1'000'000},
         std::nullopt,
         "TIER_UNLIMITED has no higher tier"},
        {kDouble,
         {Tier::kUnlimited, true, true, 0},
         std::nullopt,
         "TIER_UNLIMITED has no higher tier"},
    };
    for (const auto& c : cases) {
        const auto e = upgrade_eligibility(c.rule, c.in);
        EXPECT_EQ(e.eligible, c.next.has_value()) << c.reason;
        EXPECT_EQ(e.next_tier, c.next) << c.reason;
        EXPECT_EQ(e.reason, c.reason);
    }
}

TEST(Upgrades, FlaggedDowngradeAfterSevenDaysUnderDoubleIn7d) {
    constexpr auto kDouble = UpgradeRule::kDoubleIn7d;
    const TimePoint since = kT0;
    EXPECT_EQ(flagged_downgrade(kDouble, Tier::k10K, since, since + 7 * 24h - 1ms), std::nullopt);
    const auto down = flagged_downgrade(kDouble, Tier::k10K, since, since + 7 * 24h);
    ASSERT_TRUE(down);
    EXPECT_EQ(down->tier, Tier::k2K);
    EXPECT_EQ(flagged_downgrade(kDouble, Tier::kUnlimited, since, since + 8 * 24h)->tier,
              Tier::k100K);
    EXPECT_EQ(flagged_downgrade(kDouble, Tier::k250, since, since + 7 * 24h)->tier, Tier::k250);
    EXPECT_EQ(flagged_downgrade(kDouble, Tier::k10K, std::nullopt, since + 30 * 24h), std::nullopt);
    EXPECT_EQ(flagged_downgrade(UpgradeRule::kMeta2025, Tier::k10K, since, since + 30 * 24h),
              std::nullopt);
}

TEST(PairRate, BacklogCap) {
    struct Case {
        std::int64_t queued, cap;
        bool allowed;
    };
    const Case cases[] = {{0, 0, true},  {100000, 0, true}, {0, 1, true},   {1, 1, false},
                          {9, 10, true}, {10, 10, false},   {11, 10, false}};
    for (const auto& c : cases) {
        const auto r = check_pair_backlog(c.queued, c.cap);
        EXPECT_EQ(static_cast<bool>(r), c.allowed) << c.queued << "/" << c.cap;
    }
    const auto r = check_pair_backlog(10, 10);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, 131056);
    EXPECT_EQ(r.error().http_status, 400);
    EXPECT_EQ(r.error().title, "Pair rate limit hit");
    EXPECT_FALSE(r.error().gateway_type);
    EXPECT_EQ(r.error().details, "to: 10 messages to this user are still queued (limit 10)");
}

// Sends as many messages as the bucket allows at `now`.
int drain(PairBucket& bucket, const PairPacingSettings& s, TimePoint now) {
    int sent = 0;
    while (auto next = take(bucket, s, now)) {
        bucket = *next;
        ++sent;
    }
    return sent;
}

TEST(PairRate, BurstOf45ThenOneEvery6Seconds) {
    const PairPacingSettings s;
    PairBucket bucket;
    EXPECT_EQ(next_send_time(bucket, s, kT0), kT0);
    EXPECT_EQ(drain(bucket, s, kT0), 45);
    EXPECT_EQ(next_send_time(bucket, s, kT0), kT0 + 6s);
    EXPECT_EQ(take(bucket, s, kT0 + 6s - 1ms), std::nullopt);
    for (int i = 1; i <= 5; ++i) {
        const TimePoint at = kT0 + std::chrono::seconds{6 * i};
        EXPECT_EQ(next_send_time(bucket, s, kT0), at) << i;
        auto next = take(bucket, s, at);
        ASSERT_TRUE(next) << i;
        bucket = *next;
        EXPECT_EQ(take(bucket, s, at), std::nullopt) << i;
    }
}

TEST(PairRate, RefillsOneTokenPerInterval) {
    const PairPacingSettings s;
    PairBucket bucket;
    ASSERT_EQ(drain(bucket, s, kT0), 45);
    EXPECT_EQ(drain(bucket, s, kT0 + 60s), 10);
    PairBucket idle;
    ASSERT_EQ(drain(idle, s, kT0), 45);
    EXPECT_EQ(drain(idle, s, kT0 + 270s), 45);  // the full burst is back after 45 × 6 s
    EXPECT_EQ(next_send_time(idle, s, kT0 + 270s), kT0 + 276s);
}

TEST(PairRate, SettingsAreHonoured) {
    const PairPacingSettings strict{std::chrono::seconds{1}, 0};  // burst below 1 acts as 1
    PairBucket bucket;
    EXPECT_EQ(drain(bucket, strict, kT0), 1);
    EXPECT_EQ(next_send_time(bucket, strict, kT0), kT0 + 1s);
    const PairPacingSettings small{std::chrono::seconds{2}, 3};
    PairBucket b2;
    EXPECT_EQ(drain(b2, small, kT0), 3);
    EXPECT_EQ(next_send_time(b2, small, kT0), kT0 + 2s);
}

}  // namespace
