#include <wagate/store/limit_store.hpp>

#include <charconv>

#include <spdlog/spdlog.h>
#include <wagate/pg/pool.hpp>
#include <wagate/pg/statement.hpp>

#include "store/sql_text.hpp"

namespace wagate::store {
namespace asio = boost::asio;
namespace policy = domain::policy;
using pg::Params;
using pg::Statement;

namespace {

// The counter arithmetic of accept_sql::kState, read-only: counts between limit_expired_through
// and the cutoff $2 have left the window but not yet the counter. The upgrade volume counts the
// unique users reached since $3 (7 days ago) or since the tier last changed, if later: the
// policy asks for a share of the *current* limit used, so users reached under the previous
// tier do not lift a business two tiers at once.
constexpr Statement kReadLimits{
    "limits_read",
    "SELECT b.messaging_limit_tier, b.upgrade_rule, b.auto_upgrade,"
    "  b.limit_used - (SELECT count(*) FROM limit_counts lc WHERE lc.business_id = b.id"
    "    AND lc.counted_at > b.limit_expired_through"
    "    AND lc.counted_at <= greatest(b.limit_expired_through, " WAGATE_SQL_FROM_MICROS("$2") ")),"
    "  " WAGATE_SQL_TO_MICROS("(SELECT min(lc.counted_at) FROM limit_counts lc WHERE lc.business_id = b.id"
                              " AND lc.counted_at > greatest(b.limit_expired_through, "
                              WAGATE_SQL_FROM_MICROS("$2") "))") ","
    "  (SELECT count(DISTINCT lc.wa_id) FROM limit_counts lc WHERE lc.business_id = b.id"
    "    AND lc.counted_at > " WAGATE_SQL_FROM_MICROS("$3") ""
    "    AND lc.counted_at >= COALESCE((SELECT max(sc.changed_at) FROM state_changes sc"
    "      WHERE sc.subject_kind = 'business' AND sc.subject_id = b.id"
    "        AND sc.field = 'messaging_limit_tier'), '-infinity')),"
    "  EXISTS (SELECT 1 FROM phone_numbers n WHERE n.business_id = b.id AND n.quality_rating = 'RED'),"
    "  COALESCE((SELECT string_agg(n.id || ':' || " WAGATE_SQL_TO_MICROS("n.status_changed_at") ", ',')"
    "            FROM phone_numbers n WHERE n.business_id = b.id AND n.status = 'FLAGGED'), '') "
    "FROM businesses b WHERE b.id = $1"};

constexpr Statement kHistory{
    "state_changes_list",
    "SELECT field, old_value, new_value, source, " WAGATE_SQL_RFC3339("changed_at") " "
    "FROM state_changes WHERE subject_kind = $1 AND subject_id = $2 ORDER BY id"};

constexpr Statement kReviewCandidates{
    "tier_review_candidates",
    "SELECT b.id FROM businesses b WHERE b.auto_upgrade OR (b.upgrade_rule = 'double-in-7d' AND EXISTS"
    "  (SELECT 1 FROM phone_numbers n WHERE n.business_id = b.id AND n.status = 'FLAGGED')) ORDER BY b.id"};

constexpr Statement kSetTier{
    "tier_review_set_tier",
    "WITH old AS (SELECT messaging_limit_tier FROM businesses WHERE id = $1), "
    "b AS (UPDATE businesses SET messaging_limit_tier = $2, updated_at = now() WHERE id = $1 RETURNING id) "
    "INSERT INTO state_changes (subject_kind, subject_id, field, old_value, new_value, source, changed_at) "
    "SELECT 'business', b.id, 'messaging_limit_tier', old.messaging_limit_tier, $2, $3, "
    WAGATE_SQL_FROM_MICROS("$4") " FROM b, old"};

constexpr Statement kReconnect{
    "tier_review_reconnect",
    "WITH n AS (UPDATE phone_numbers SET status = 'CONNECTED', status_changed_at = " WAGATE_SQL_FROM_MICROS("$2") ","
    "           updated_at = now() WHERE id = $1 AND status = 'FLAGGED' RETURNING id) "
    "INSERT INTO state_changes (subject_kind, subject_id, field, old_value, new_value, source, changed_at) "
    "SELECT 'phone_number', n.id, 'status', 'FLAGGED', 'CONNECTED', 'flagged_downgrade', "
    WAGATE_SQL_FROM_MICROS("$2") " FROM n"};

// A count may go once it has left the counter (at or before limit_expired_through) and the
// 7-day lookback; a count the counter has not expired yet must stay until an accept batch does.
constexpr Statement kPruneCounts{
    "limit_counts_prune",
    "DELETE FROM limit_counts lc USING businesses b WHERE lc.business_id = b.id"
    "  AND lc.counted_at <= b.limit_expired_through AND lc.counted_at <= " WAGATE_SQL_FROM_MICROS("$1")};

Params read_params(const std::string& business_id, policy::TimePoint now) {
    return Params{}
        .add(business_id)
        .add(to_micros(now - policy::kLimitWindow))
        .add(to_micros(now - policy::kUpgradeLookback));
}

/// "id:micros,id:micros" → flagged numbers.
std::vector<policy::FlaggedNumber> parse_flagged(std::string_view list) {
    std::vector<policy::FlaggedNumber> out;
    while (!list.empty()) {
        const auto comma = list.find(',');
        const std::string_view item = list.substr(0, comma);
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
        const auto colon = item.rfind(':');
        std::int64_t m = 0;
        if (colon == std::string_view::npos ||
            std::from_chars(item.data() + colon + 1, item.data() + item.size(), m).ec != std::errc{}) {
            continue;
        }
        out.push_back({std::string(item.substr(0, colon)), from_micros(m)});
    }
    return out;
}

Result<BusinessLimits> to_limits(const pg::Rows& rows) {
    BusinessLimits l;
    const auto tier = policy::parse_tier(rows.get(0, 0));
    const auto rule = policy::parse_upgrade_rule(rows.get(0, 1));
    if (!tier || !rule) {
        return Error{Errc::kInternal, "business row with an unknown tier or upgrade rule"};
    }
    l.tier = *tier;
    l.upgrade_rule = *rule;
    l.auto_upgrade = rows.get_bool(0, 2);
    l.used = rows.get_int64(0, 3);
    if (!rows.is_null(0, 4)) {
        l.oldest_counted_at = from_micros(rows.get_int64(0, 4));
    }
    l.unique_users_7d = rows.get_int64(0, 5);
    l.any_number_red = rows.get_bool(0, 6);
    l.flagged = parse_flagged(rows.get(0, 7));
    return l;
}

}  // namespace

asio::awaitable<Result<std::optional<BusinessLimits>>> LimitStore::read(const std::string& business_id,
                                                                       policy::TimePoint now) {
    auto rows = co_await pool_.execute(kReadLimits, read_params(business_id, now));
    if (!rows) {
        co_return rows.error();
    }
    if (rows->size() == 0) {
        co_return std::optional<BusinessLimits>{};
    }
    auto limits = to_limits(*rows);
    if (!limits) {
        co_return limits.error();
    }
    co_return std::optional<BusinessLimits>(std::move(*limits));
}

asio::awaitable<Result<std::vector<StateChange>>> LimitStore::history(Subject subject, const std::string& id) {
    auto rows = co_await pool_.execute(
        kHistory, Params{}.add(subject == Subject::kBusiness ? "business" : "phone_number").add(id));
    if (!rows) {
        co_return rows.error();
    }
    std::vector<StateChange> changes;
    for (int i = 0; i < rows->size(); ++i) {
        changes.push_back({std::string(rows->get(i, 0)), rows->get_optional(i, 1), std::string(rows->get(i, 2)),
                           std::string(rows->get(i, 3)), std::string(rows->get(i, 4))});
    }
    co_return changes;
}

namespace {

/// One business's review, in a transaction on `c`. Returns whether anything changed.
asio::awaitable<Result<bool>> review_one(pg::Connection& c, const std::string& id, policy::TimePoint now) {
    // Locked in a statement of its own, so the read below sees what earlier holders committed.
    auto locked = co_await c.execute(kLockBusinessRow, Params{}.add(id));
    if (!locked) {
        co_return locked.error();
    }
    auto rows = co_await c.execute(kReadLimits, read_params(id, now));
    if (!rows) {
        co_return rows.error();
    }
    if (rows->size() == 0) {
        co_return false;
    }
    auto limits = to_limits(*rows);
    if (!limits) {
        co_return limits.error();
    }
    policy::TierReviewInput in;
    in.rule = limits->upgrade_rule;
    in.auto_upgrade = limits->auto_upgrade;
    in.upgrade = {limits->tier, limits->any_number_red, !limits->flagged.empty(), limits->unique_users_7d};
    in.flagged = limits->flagged;
    const policy::TierReview review = policy::review_tier(in, now);
    for (const std::string& number : review.reconnected) {
        auto done = co_await c.execute(kReconnect, Params{}.add(number).add(to_micros(now)));
        if (!done) {
            co_return done.error();
        }
    }
    if (review.new_tier) {
        auto done = co_await c.execute(kSetTier, Params{}
                                                     .add(id)
                                                     .add(policy::to_string(*review.new_tier))
                                                     .add(review.source)
                                                     .add(to_micros(now)));
        if (!done) {
            co_return done.error();
        }
        spdlog::info("business {}: tier {} → {} ({})", id, policy::to_string(limits->tier),
                     policy::to_string(*review.new_tier), review.source);
    }
    co_return review.new_tier.has_value() || !review.reconnected.empty();
}

}  // namespace

asio::awaitable<Result<int>> LimitStore::review_tiers(policy::TimePoint now) {
    auto lease = co_await pool_.acquire();
    if (!lease) {
        co_return lease.error();
    }
    pg::Connection& c = **lease;
    auto candidates = co_await c.execute(kReviewCandidates, Params{});
    if (!candidates) {
        co_return candidates.error();
    }
    int changed = 0;
    for (int i = 0; i < candidates->size(); ++i) {
        const std::string id(candidates->get(i, 0));
        auto begun = co_await c.execute_simple("BEGIN", std::chrono::seconds(10));
        if (!begun) {
            co_return begun.error();
        }
        auto reviewed = co_await review_one(c, id, now);
        auto ended = co_await c.execute_simple(reviewed ? "COMMIT" : "ROLLBACK", std::chrono::seconds(10));
        if (!ended) {
            co_return ended.error();
        }
        if (!reviewed) {
            // One business's failure (e.g. a lock wait that timed out) does not hold up the rest.
            spdlog::warn("tier review of business {} failed: {}", id, reviewed.error().message);
            continue;
        }
        changed += *reviewed ? 1 : 0;
    }
    auto pruned = co_await c.execute(kPruneCounts, Params{}.add(to_micros(now - policy::kUpgradeLookback)));
    if (!pruned) {
        co_return pruned.error();
    }
    co_return changed;
}

}  // namespace wagate::store
