#pragma once

#include <atomic>
#include <chrono>

#include <wagate/core/clock.hpp>

namespace wagate::test {

/// A clock that stands still until a test moves it, so 24-hour and 7-day rules are tested
/// without waiting. Starts at the current whole second. Thread-safe: the gateway's threads read
/// it while the test thread moves it.
class ManualClock final : public Clock {
public:
    using time_point = std::chrono::system_clock::time_point;

    ManualClock()
        : nanos_(std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count() *
                 1'000'000'000LL) {}

    time_point now() const noexcept override {
        return time_point(std::chrono::duration_cast<time_point::duration>(
            std::chrono::nanoseconds(nanos_.load(std::memory_order_relaxed))));
    }
    void set(time_point t) noexcept {
        nanos_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count(),
                     std::memory_order_relaxed);
    }
    void advance(std::chrono::nanoseconds by) noexcept { nanos_.fetch_add(by.count(), std::memory_order_relaxed); }

    /// Whole Unix seconds, the unit of the admin API's `last_inbound_at`.
    std::int64_t unix_seconds() const noexcept {
        return std::chrono::duration_cast<std::chrono::seconds>(now().time_since_epoch()).count();
    }

private:
    std::atomic<std::int64_t> nanos_;
};

}  // namespace wagate::test
