#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <wagate/core/error.hpp>
#include <wagate/domain/policy.hpp>

namespace wagate::pg {
class Pool;
}

namespace wagate::store {

/// A business's messaging limit as the rules see it at one instant (policy §3).
struct BusinessLimits {
    domain::policy::Tier tier = domain::policy::Tier::k250;
    domain::policy::UpgradeRule upgrade_rule = domain::policy::UpgradeRule::kMeta2025;
    bool auto_upgrade = false;
    std::int64_t used = 0;  // unique users counted in the moving 24 hours
    std::optional<domain::policy::TimePoint> oldest_counted_at;
    std::int64_t unique_users_7d = 0;
    bool any_number_red = false;
    std::vector<domain::policy::FlaggedNumber> flagged;
};

/// One recorded change of a tier, quality rating or number status.
struct StateChange {
    std::string field;
    std::optional<std::string> from;
    std::string to;
    std::string source;
    std::string changed_at;  // RFC 3339, UTC
};

enum class Subject { kBusiness, kPhoneNumber };

/// Messaging limits, the tier history and the periodic tier review. Thread-safe.
class LimitStore {
public:
    explicit LimitStore(pg::Pool& pool) : pool_(pool) {}

    /// The limits at `now`, read without taking the business's lock (what the next accept
    /// batch would see, unless a batch commits in between). nullopt for an unknown business.
    boost::asio::awaitable<Result<std::optional<BusinessLimits>>> read(const std::string& business_id,
                                                                      domain::policy::TimePoint now);

    /// Every recorded change of the subject, oldest first.
    boost::asio::awaitable<Result<std::vector<StateChange>>> history(Subject subject, const std::string& id);

    /// Applies domain::policy::review_tier to every business that could change (auto-upgrade on,
    /// or double-in-7d with a flagged number), each under its row lock, recording the changes;
    /// then forgets limit counts that neither the counter nor the 7-day history needs. Safe to
    /// run from several instances at once. Returns how many businesses changed.
    boost::asio::awaitable<Result<int>> review_tiers(domain::policy::TimePoint now);

private:
    pg::Pool& pool_;
};

}  // namespace wagate::store
