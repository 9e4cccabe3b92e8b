#include <wagate/domain/policy.hpp>

#include <algorithm>

namespace wagate::domain::policy {
namespace {

// GCRA: a message conforms if it is no earlier than tat - (burst - 1) * interval. That is a token
// bucket of `burst` tokens refilled one per `interval`, held in a single timestamp.
Duration tolerance(const PairPacingSettings& s) noexcept {
    return s.interval * (std::max(s.burst, 1) - 1);
}

}  // namespace

ApiResult<void> check_pair_backlog(std::int64_t queued, std::int64_t cap) {
    if (cap <= 0 || queued < cap) { return {}; }
    return errors::pair_rate_limit_hit("to: " + std::to_string(queued) +
                                       " messages to this user are still queued (limit " +
                                       std::to_string(cap) + ")");
}

TimePoint next_send_time(const PairBucket& bucket,
                         const PairPacingSettings& settings,
                         TimePoint now) noexcept {
    return std::max(now, bucket.tat - tolerance(settings));
}

std::optional<PairBucket> take(const PairBucket& bucket,
                               const PairPacingSettings& settings,
                               TimePoint now) noexcept {
    if (now < bucket.tat - tolerance(settings)) { return std::nullopt; }
    return PairBucket{std::max(bucket.tat, now) + settings.interval};
}

}  // namespace wagate::domain::policy
