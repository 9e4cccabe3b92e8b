#include <wagate/domain/policy.hpp>

#include <algorithm>

namespace wagate::domain::policy {

bool counted_in_window(TimePoint counted_at, TimePoint now) noexcept {
    return now < counted_at + kLimitWindow;
}

TimePoint next_slot_at(std::optional<TimePoint> oldest_counted_at, TimePoint now) noexcept {
    // Without an oldest row (inconsistent input) every counted user has left by now + 24 h.
    const TimePoint at = oldest_counted_at ? *oldest_counted_at + kLimitWindow : now + kLimitWindow;
    return std::max(at, now);
}

ApiResult<BudgetDecision> decide_budget(const BudgetInput& in, TimePoint now) {
    const bool wants_slot = in.business_initiated && !in.user_already_counted;
    const auto cap = limit(in.tier);
    if (!cap) { return BudgetDecision{wants_slot, std::nullopt}; }

    // `used` may exceed the limit after a downgrade; that simply reads as full.
    const std::int64_t free_slots = std::max<std::int64_t>(*cap - in.used, 0);
    if (!wants_slot) { return BudgetDecision{false, free_slots}; }
    if (free_slots > 0) { return BudgetDecision{true, free_slots - 1}; }

    const TimePoint next = next_slot_at(in.oldest_counted_at, now);
    // Rounded up so a client that waits exactly Retry-After finds the slot free.
    const auto wait = std::chrono::ceil<std::chrono::seconds>(next - now).count();
    const int retry_after = static_cast<int>(std::max<std::int64_t>(wait, 1));
    return errors::messaging_limit_reached(
        "to: messaging limit " + std::string(to_string(in.tier)) + " reached (" +
            std::to_string(in.used) + " of " + std::to_string(*cap) +
            " unique users in the last 24 hours); 0 remaining; next slot at " + format_utc(next),
        retry_after);
}

}  // namespace wagate::domain::policy
