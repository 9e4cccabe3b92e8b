#include "api/key_rate_limit.hpp"

#include <algorithm>
#include <cmath>

namespace wagate::api {
namespace {
// Keys idle for a burst's worth of time have no state worth keeping; past this many entries
// those are dropped (the map holds only keys that authenticated, so it stays small anyway).
constexpr std::size_t kPruneAbove = 100'000;
}  // namespace

KeyRateLimiter::KeyRateLimiter(double per_second) : enabled_(per_second > 0) {
    if (!enabled_) {
        return;
    }
    gcra_.interval = std::chrono::duration_cast<domain::relay::Duration>(std::chrono::duration<double>(1.0 / per_second));
    gcra_.interval = std::max(gcra_.interval, domain::relay::Duration(1));
    gcra_.burst = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::floor(per_second)));
}

std::chrono::milliseconds KeyRateLimiter::admit(const std::string& key_id, domain::relay::TimePoint now) {
    if (!enabled_) {
        return std::chrono::milliseconds::zero();
    }
    std::lock_guard lock(mutex_);
    if (next_.size() > kPruneAbove) {
        std::erase_if(next_, [now](const auto& entry) { return entry.second <= now; });
    }
    auto it = next_.find(key_id);
    std::optional<domain::relay::TimePoint> tat = it == next_.end() ? std::nullopt : std::optional(it->second);
    // A TAT further ahead than a full burst can only come from the clock stepping back: start
    // the key afresh rather than refusing it until the clock catches up.
    if (tat && *tat - now > gcra_.interval * gcra_.burst) {
        tat.reset();
    }
    const auto allowed_at = gcra_.earliest(tat, now);
    if (allowed_at > now) {
        return std::chrono::ceil<std::chrono::milliseconds>(allowed_at - now);
    }
    next_[key_id] = gcra_.advance(tat, now);
    return std::chrono::milliseconds::zero();
}

}  // namespace wagate::api
