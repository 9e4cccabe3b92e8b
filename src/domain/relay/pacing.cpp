#include <wagate/domain/relay.hpp>

#include <algorithm>
#include <cmath>

namespace wagate::domain::relay {

Duration retry_delay(int attempt, bool pair_limited, double jitter, const RetrySettings& settings) {
    const int n = std::max(attempt, 1) - 1;
    // In whole milliseconds, saturating at the cap before anything can overflow: attempts keep
    // counting for as long as a message lives.
    const std::int64_t max_ms = std::max<std::int64_t>(settings.max.count(), 0);
    std::int64_t wait_ms = max_ms;
    if (pair_limited) {
        // Meta's advice after 131056: 4^n seconds, n = 0, 1, 2, ...
        if (n < 12) {
            wait_ms = std::min<std::int64_t>((std::int64_t{1} << (2 * n)) * 1000, max_ms);
        }
    } else {
        const std::int64_t base_ms = std::max<std::int64_t>(settings.base.count(), 0);
        if (n < 62 && base_ms <= (max_ms >> n)) {
            wait_ms = base_ms << n;
        }
    }
    const Duration wait = std::chrono::milliseconds(wait_ms);
    const double j = std::clamp(jitter, 0.0, 1.0);
    const auto half = wait / 2;
    return half + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(half) * j);
}

TimePoint Gcra::earliest(std::optional<TimePoint> tat, TimePoint not_before) const noexcept {
    if (!tat) {
        return not_before;
    }
    // An event conforms when it is no earlier than TAT - (burst - 1) * interval.
    const TimePoint allowed = *tat - interval * (burst - 1);
    return std::max(allowed, not_before);
}

TimePoint Gcra::advance(std::optional<TimePoint> tat, TimePoint at) const noexcept {
    const TimePoint from = tat ? std::max(*tat, at) : at;
    return from + interval;
}

Gcra throughput_gcra(double messages_per_second) noexcept {
    const double rate = messages_per_second > 0 ? messages_per_second : 1;
    Gcra g;
    g.interval = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(1.0 / rate));
    if (g.interval <= Duration::zero()) {
        g.interval = Duration(1);
    }
    // Bursts of 25 ms worth: as scheduled, the busiest second carries at most 1.025 x the rate,
    // which leaves room for the jitter of real sends under 1.05 x (measured by bench/relay.sh),
    // while a high-rate number can still send a few messages at the same instant.
    g.burst = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::floor(rate / 40)));
    return g;
}

}  // namespace wagate::domain::relay
