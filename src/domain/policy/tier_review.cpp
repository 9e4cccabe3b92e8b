#include <wagate/domain/policy.hpp>

namespace wagate::domain::policy {

TierReview review_tier(const TierReviewInput& in, TimePoint now) {
    TierReview review;
    std::optional<Tier> lowered;
    for (const FlaggedNumber& number : in.flagged) {
        if (auto down = flagged_downgrade(in.rule, in.upgrade.tier, number.flagged_since, now)) {
            review.reconnected.push_back(number.phone_number_id);
            lowered = down->tier;
        }
    }
    if (!review.reconnected.empty()) {
        if (lowered && *lowered != in.upgrade.tier) {
            review.new_tier = lowered;
            review.source = "flagged_downgrade";
        }
        return review;
    }
    if (in.auto_upgrade) {
        const UpgradeEligibility eligibility = upgrade_eligibility(in.rule, in.upgrade);
        if (eligibility.eligible && eligibility.next_tier) {
            review.new_tier = eligibility.next_tier;
            review.source = "auto_upgrade";
        }
    }
    return review;
}

}  // namespace wagate::domain::policy
