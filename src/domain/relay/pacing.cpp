#include <wagate/domain/relay.hpp>

#include <algorithm>
#include <cmath>

namespace wagate::domain::relay {

Duration retry_delay(int attempt, bool pair_limited, double jitter, const RetrySettings& settings) {
    const int n = std::max(attempt, 1) - 1;
    const Duration max = settings.max;
    Duration wait;
    if (pair_limited) {
        // Meta's advice after 131056: 4^n seconds, n = 0, 1, 2, ...
        wait = n >= 12 ? max : std::min<Duration>(std::chrono::seconds(std::int64_t{1} << (2 * n)), max);
    } else {
        wait = n >= 40 ? max : std::min<Duration>(settings.base * (std::int64_t{1} << n), max);
    }
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
