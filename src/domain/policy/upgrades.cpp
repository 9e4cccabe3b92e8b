#include <wagate/domain/policy.hpp>

namespace wagate::domain::policy {

std::optional<UpgradeRule> parse_upgrade_rule(std::string_view name) noexcept {
    if (name == "meta-2025") { return UpgradeRule::kMeta2025; }
    if (name == "double-in-7d") { return UpgradeRule::kDoubleIn7d; }
    return std::nullopt;
}

std::string_view to_string(UpgradeRule rule) noexcept {
    return rule == UpgradeRule::kMeta2025 ? "meta-2025" : "double-in-7d";
}

UpgradeEligibility upgrade_eligibility(UpgradeRule rule, const UpgradeInput& in) {
    const auto next = next_tier(in.tier);
    const auto cap = limit(in.tier);
    if (!next || !cap) {
        return {false, std::nullopt, std::string(to_string(in.tier)) + " has no higher tier"};
    }
    if (in.quality_red) { return {false, std::nullopt, "quality RED blocks upgrades"}; }
    if (in.flagged) { return {false, std::nullopt, "a FLAGGED phone number blocks upgrades"}; }

    // Half of the limit rounded up, so "at least half" never rounds in the business's favour.
    const bool half = rule == UpgradeRule::kMeta2025;
    const std::int64_t needed = half ? (*cap + 1) / 2 : *cap * 2;
    const std::string counted = std::to_string(in.unique_users_7d) +
                                " unique users in the last 7 days; " + std::to_string(needed) +
                                " needed (" + (half ? "half of " : "twice ") +
                                std::to_string(*cap) + ")";
    if (in.unique_users_7d < needed) { return {false, std::nullopt, counted}; }
    return {true, next, counted + "; next tier " + std::string(to_string(*next))};
}

std::optional<FlaggedDowngrade> flagged_downgrade(UpgradeRule rule,
                                                  Tier tier,
                                                  std::optional<TimePoint> flagged_since,
                                                  TimePoint now) noexcept {
    // meta-2025 follows Meta's portfolio model, where flagging no longer lowers the limit.
    if (rule != UpgradeRule::kDoubleIn7d || !flagged_since) { return std::nullopt; }
    if (now - *flagged_since < kFlaggedDowngradeAfter) { return std::nullopt; }
    return FlaggedDowngrade{previous_tier(tier).value_or(tier)};
}

}  // namespace wagate::domain::policy
