#include <gtest/gtest.h>

#include "api/key_rate_limit.hpp"

namespace wagate {
namespace {
using namespace std::chrono_literals;
using api::KeyRateLimiter;

const domain::relay::TimePoint t0{std::chrono::seconds(1'700'000'000)};

TEST(KeyRateLimit, OffAdmitsEverything) {
    KeyRateLimiter off(0);
    EXPECT_FALSE(off.enabled());
    for (int i = 0; i < 1000; ++i) {
        ASSERT_EQ(off.admit("k", t0), 0ms);
    }
}

TEST(KeyRateLimit, ABurstOfOneSecondsWorthThenOnePerInterval) {
    KeyRateLimiter limiter(10);
    for (int i = 0; i < 10; ++i) {
        ASSERT_EQ(limiter.admit("k", t0), 0ms) << i;
    }
    // The 11th at the same instant waits one interval (100 ms); refusals are not counted.
    EXPECT_EQ(limiter.admit("k", t0), 100ms);
    EXPECT_EQ(limiter.admit("k", t0 + 40ms), 60ms);
    EXPECT_EQ(limiter.admit("k", t0 + 100ms), 0ms);
    EXPECT_EQ(limiter.admit("k", t0 + 100ms), 100ms);
    // After a quiet second the whole burst is back.
    for (int i = 0; i < 10; ++i) {
        ASSERT_EQ(limiter.admit("k", t0 + 1200ms), 0ms) << i;
    }
    EXPECT_GT(limiter.admit("k", t0 + 1200ms), 0ms);
}

TEST(KeyRateLimit, SustainedTrafficGetsExactlyTheRate) {
    KeyRateLimiter limiter(50);
    int admitted = 0;
    // 1,000 requests a second for 10 seconds, one every millisecond.
    for (int ms = 0; ms < 10'000; ++ms) {
        admitted += limiter.admit("k", t0 + std::chrono::milliseconds(ms)) == 0ms ? 1 : 0;
    }
    // 50 as the first burst, then one per 20 ms for the remaining 9.98 s.
    EXPECT_EQ(admitted, 50 + 499);
}

TEST(KeyRateLimit, KeysHaveTheirOwnBudgets) {
    KeyRateLimiter limiter(1);
    EXPECT_EQ(limiter.admit("a", t0), 0ms);
    EXPECT_EQ(limiter.admit("a", t0), 1000ms);
    EXPECT_EQ(limiter.admit("b", t0), 0ms);
}

TEST(KeyRateLimit, AClockSteppingBackDoesNotLockAKeyOut) {
    KeyRateLimiter limiter(2);
    EXPECT_EQ(limiter.admit("k", t0), 0ms);
    EXPECT_EQ(limiter.admit("k", t0), 0ms);
    EXPECT_EQ(limiter.admit("k", t0), 500ms);
    // An hour back: the state is from the future, so the key starts afresh with a whole burst.
    EXPECT_EQ(limiter.admit("k", t0 - std::chrono::hours(1)), 0ms);
    EXPECT_EQ(limiter.admit("k", t0 - std::chrono::hours(1)), 0ms);
    EXPECT_GT(limiter.admit("k", t0 - std::chrono::hours(1)), 0ms);
}

TEST(KeyRateLimit, FractionalRatesWaitLonger) {
    KeyRateLimiter limiter(0.5);
    EXPECT_EQ(limiter.admit("k", t0), 0ms);
    EXPECT_EQ(limiter.admit("k", t0 + 1s), 1000ms);
    EXPECT_EQ(limiter.admit("k", t0 + 2s), 0ms);
}

}  // namespace
}  // namespace wagate
