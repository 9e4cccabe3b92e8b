#include <wagate/store/relay_store.hpp>

#include <map>
#include <set>
#include <unordered_map>

#include <spdlog/spdlog.h>
#include <wagate/pg/pool.hpp>
#include <wagate/pg/statement.hpp>

#include "store/group_commit.hpp"
#include "store/relay_statements.hpp"
#include "store/sql_text.hpp"

namespace wagate::store {
namespace asio = boost::asio;
namespace relay = domain::relay;

namespace {

std::string pair_key(const std::string& phone, const std::string& wa_id) { return phone + '\n' + wa_id; }

/// A due row as read by the claim, before pacing decides its fate.
struct Candidate {
    ClaimedMessage message;
    int attempts_before = 0;
    double throughput = 80;
};

/// What the claim will write back, built by schedule().
struct ClaimWrites {
    pg::ArrayLiteral claimed;
    pg::ArrayLiteral deferred_ids, deferred_at;
    pg::ArrayLiteral numbers, number_at;
    pg::ArrayLiteral pair_phone, pair_wa_id, pair_at;
};

}  // namespace

struct RelayStore::Impl : std::enable_shared_from_this<RelayStore::Impl> {
    using Commit = GroupCommit<RelayResult, bool>;

    pg::Pool& pool;
    RelayStoreSettings settings;
    std::shared_ptr<Commit> commit;

    Impl(pg::Pool& p, RelayStoreSettings s) : pool(p), settings(s) {}

    void start(asio::any_io_executor executor) {
        commit = std::make_shared<Commit>(
            std::move(executor), settings.max_batch, settings.max_writers,
            flush_while_alive<RelayResult, bool>(weak_from_this(), Error{Errc::kInternal, "relay store destroyed"}));
    }

    // --- claim -----------------------------------------------------------------------------

    asio::awaitable<Result<Claim>> claim(const ClaimSettings& s) {
        auto lease = co_await pool.acquire();
        if (!lease) {
            co_return lease.error();
        }
        pg::Connection& c = **lease;
        auto begun = co_await c.execute_simple("BEGIN", std::chrono::seconds(10));
        if (!begun) {
            co_return begun.error();
        }
        auto claimed = co_await claim_in_transaction(c, s);
        if (claimed) {
            auto committed = co_await c.execute_simple("COMMIT", std::chrono::seconds(10));
            if (!committed) {
                claimed = committed.error();
            }
        }
        if (!claimed && !c.broken()) {
            auto rolled_back = co_await c.execute_simple("ROLLBACK", std::chrono::seconds(10));
            if (!rolled_back) {
                spdlog::warn("relay claim rollback failed: {}", rolled_back.error().message);
            }
        }
        co_return claimed;
    }

    asio::awaitable<Result<Claim>> claim_in_transaction(pg::Connection& c, const ClaimSettings& s) {
        auto rows = co_await c.execute(relay_sql::kClaimDue,
                                       pg::Params{}.add(static_cast<std::int64_t>(s.limit)));
        if (!rows) {
            co_return rows.error();
        }
        Claim claim;
        claim.now = rows->size() > 0 ? from_micros(rows->get_int64(0, relay_sql::kNowMicros))
                                     : std::chrono::system_clock::now();
        std::vector<Candidate> due;
        pg::ArrayLiteral expired_ids, expired_attempts, expired_errors;
        for (int r = 0; r < rows->size(); ++r) {
            Candidate cand;
            ClaimedMessage& m = cand.message;
            m.id = rows->get(r, relay_sql::kId);
            m.phone_number_id = rows->get(r, relay_sql::kPhoneNumberId);
            m.wa_id = rows->get(r, relay_sql::kWaId);
            cand.attempts_before = static_cast<int>(rows->get_int64(r, relay_sql::kAttempts));
            m.expires_at = from_micros(rows->get_int64(r, relay_sql::kExpiresMicros));
            m.mark_read = rows->get(r, relay_sql::kKind) == "mark_read";
            m.payload_json = rows->get(r, relay_sql::kPayload);
            m.access_token = rows->get(r, relay_sql::kAccessToken);
            cand.throughput = std::stod(std::string(rows->get(r, relay_sql::kThroughput)));
            m.last_failure = rows->get_optional(r, relay_sql::kLastErrorDetails).value_or("");
            if (m.expires_at <= claim.now) {
                expired_ids.add(m.id);
                expired_attempts.add(std::to_string(cand.attempts_before));
                expired_errors.add(relay::expired_errors_json(m.last_failure));
                ++claim.expired;
                continue;
            }
            due.push_back(std::move(cand));
        }
        ClaimWrites writes;
        if (s.pacing && !due.empty()) {
            auto scheduled = co_await schedule(c, s, claim, due, writes);
            if (!scheduled) {
                co_return scheduled.error();
            }
        } else {
            for (auto& cand : due) {
                cand.message.send_at = claim.now;
                cand.message.attempt = cand.attempts_before + 1;
                writes.claimed.add(cand.message.id);
                claim.messages.push_back(std::move(cand.message));
            }
        }
        if (!claim.messages.empty() || claim.deferred > 0) {
            const auto locked_until = to_micros(claim.now + s.lease);
            pg::Params params;
            params.add(writes.claimed.str()).add(locked_until);
            params.add(writes.deferred_ids.str()).add(writes.deferred_at.str());
            params.add(writes.numbers.str()).add(writes.number_at.str());
            params.add(writes.pair_phone.str()).add(writes.pair_wa_id.str()).add(writes.pair_at.str());
            auto written = co_await c.execute(relay_sql::kWriteClaim, params);
            if (!written) {
                co_return written.error();
            }
        }
        if (claim.expired > 0) {
            pg::Params params = array_params(expired_ids, expired_attempts, expired_errors);
            params.add(to_micros(claim.now));
            auto failed = co_await c.execute(relay_sql::kRecordFailed, params);
            if (!failed) {
                co_return failed.error();
            }
        }
        co_return claim;
    }

    /// Pacing (policy §7): each candidate, in queue order, goes at the earliest time both its
    /// pair's and its number's GCRA allow. What cannot go within the horizon stays queued, due
    /// at that time, and takes no slot: later candidates of the same number may use it.
    asio::awaitable<Result<void>> schedule(pg::Connection& c, const ClaimSettings& s, Claim& claim,
                                           std::vector<Candidate>& due, ClaimWrites& writes) {
        std::set<std::string> number_ids;
        pg::ArrayLiteral pair_phones, pair_users;
        for (const auto& cand : due) {
            number_ids.insert(cand.message.phone_number_id);
            if (!cand.message.mark_read && !cand.message.wa_id.empty()) {
                pair_phones.add(cand.message.phone_number_id);
                pair_users.add(cand.message.wa_id);
            }
        }
        const std::vector<std::string> number_list(number_ids.begin(), number_ids.end());
        auto locked = co_await c.execute(relay_sql::kLockPacing, pg::Params{}.add(pg::text_array(number_list)));
        if (!locked) {
            co_return locked.error();
        }
        std::unordered_map<std::string, std::optional<TimePoint>> number_tat;
        for (int r = 0; r < locked->size(); ++r) {
            std::optional<TimePoint> tat;
            if (!locked->is_null(r, 1)) {
                tat = from_micros(locked->get_int64(r, 1));
            }
            number_tat.emplace(std::string(locked->get(r, 0)), tat);
        }
        auto pairs = co_await c.execute(relay_sql::kPairPacing, array_params(pair_phones, pair_users));
        if (!pairs) {
            co_return pairs.error();
        }
        std::unordered_map<std::string, std::optional<TimePoint>> pair_tat;
        for (int r = 0; r < pairs->size(); ++r) {
            pair_tat.emplace(pair_key(std::string(pairs->get(r, 0)), std::string(pairs->get(r, 1))),
                             from_micros(pairs->get_int64(r, 2)));
        }

        // The times advance for deferred candidates too, so a backlog is spread over the times
        // its messages will really go and each is read again once, when due, instead of on every
        // claim. Only claimed candidates move the stored state. A candidate held back by its
        // pair takes no number slot, so one busy user does not slow the others down.
        const TimePoint horizon = claim.now + s.horizon;
        std::map<std::string, TimePoint> number_store, pair_store;
        for (auto& cand : due) {
            ClaimedMessage& m = cand.message;
            const bool paired = !m.mark_read && !m.wa_id.empty();
            const std::string key = paired ? pair_key(m.phone_number_id, m.wa_id) : std::string();
            std::optional<TimePoint> unused_pair;
            std::optional<TimePoint>& pair = paired ? pair_tat[key] : unused_pair;
            const TimePoint pair_ok = paired ? s.pair.earliest(pair, claim.now) : claim.now;
            if (pair_ok > horizon) {
                pair = s.pair.advance(pair, pair_ok);
                writes.deferred_ids.add(m.id);
                writes.deferred_at.add(std::to_string(to_micros(pair_ok)));
                ++claim.deferred;
                continue;
            }
            const relay::Gcra number = relay::throughput_gcra(cand.throughput);
            std::optional<TimePoint>& tat = number_tat[m.phone_number_id];
            const TimePoint at = number.earliest(tat, pair_ok);
            tat = number.advance(tat, at);
            if (paired) {
                pair = s.pair.advance(pair, at);
            }
            if (at > horizon) {
                writes.deferred_ids.add(m.id);
                writes.deferred_at.add(std::to_string(to_micros(at)));
                ++claim.deferred;
                continue;
            }
            number_store[m.phone_number_id] = *tat;
            if (paired) {
                pair_store[key] = *pair;
            }
            m.send_at = at;
            m.attempt = cand.attempts_before + 1;
            writes.claimed.add(m.id);
            claim.messages.push_back(std::move(m));
        }
        for (const auto& [id, at] : number_store) {
            writes.numbers.add(id);
            writes.number_at.add(std::to_string(to_micros(at)));
        }
        for (const auto& [key, at] : pair_store) {
            const auto split = key.find('\n');
            writes.pair_phone.add(std::string_view(key).substr(0, split));
            writes.pair_wa_id.add(std::string_view(key).substr(split + 1));
            writes.pair_at.add(std::to_string(to_micros(at)));
        }
        co_return Result<void>{};
    }

    // --- results ---------------------------------------------------------------------------

    asio::awaitable<void> flush(Commit::Batch& batch) {
        pg::ArrayLiteral ok_ids, ok_attempts, ok_wamids;
        pg::ArrayLiteral retry_ids, retry_attempts, retry_at, retry_errors;
        pg::ArrayLiteral failed_ids, failed_attempts, failed_errors;
        pg::ArrayLiteral release_ids, release_attempts;
        bool any_ok = false, any_retry = false, any_failed = false, any_release = false;
        for (const auto& entry : batch) {
            const RelayResult& r = entry.item;
            const std::string attempt = std::to_string(r.attempt);
            switch (r.kind) {
                case RelayResult::Kind::kAccepted:
                    ok_ids.add(r.id), ok_attempts.add(attempt), ok_wamids.add(r.wamid);
                    any_ok = true;
                    break;
                case RelayResult::Kind::kRetry:
                    retry_ids.add(r.id), retry_attempts.add(attempt);
                    retry_at.add(std::to_string(to_micros(r.retry_at))), retry_errors.add(r.errors_json);
                    any_retry = true;
                    break;
                case RelayResult::Kind::kFailed:
                    failed_ids.add(r.id), failed_attempts.add(attempt), failed_errors.add(r.errors_json);
                    any_failed = true;
                    break;
                case RelayResult::Kind::kRelease:
                    release_ids.add(r.id), release_attempts.add(attempt);
                    any_release = true;
                    break;
            }
        }
        Result<void> outcome;
        auto lease = co_await pool.acquire();
        if (!lease) {
            outcome = lease.error();
        }
        const auto now_micros = to_micros(std::chrono::system_clock::now());
        std::vector<std::string> recorded_wamids;
        if (outcome && any_ok) {
            pg::Params params = array_params(ok_ids, ok_attempts, ok_wamids);
            params.add(now_micros);
            auto rows = co_await (*lease)->execute(relay_sql::kRecordAccepted, params);
            if (!rows) {
                outcome = rows.error();
            } else {
                for (int r = 0; r < rows->size(); ++r) {
                    recorded_wamids.emplace_back(rows->get(r, 0));
                }
            }
        }
        if (outcome && any_retry) {
            auto rows = co_await (*lease)->execute(relay_sql::kRecordRetry,
                                                   array_params(retry_ids, retry_attempts, retry_at, retry_errors));
            if (!rows) {
                outcome = rows.error();
            }
        }
        if (outcome && any_failed) {
            pg::Params params = array_params(failed_ids, failed_attempts, failed_errors);
            params.add(now_micros);
            auto rows = co_await (*lease)->execute(relay_sql::kRecordFailed, params);
            if (!rows) {
                outcome = rows.error();
            }
        }
        if (outcome && any_release) {
            auto rows = co_await (*lease)->execute(relay_sql::kRelease, array_params(release_ids, release_attempts));
            if (!rows) {
                outcome = rows.error();
            }
        }
        if (!recorded_wamids.empty()) {
            // After the wamids are committed (each statement above commits on its own), so a
            // webhook batch that parked a status for one of them concurrently cannot be missed.
            auto attached = co_await (*lease)->execute(webhook_sql::kAttachParked,
                                                       pg::Params{}.add(pg::text_array(recorded_wamids)));
            if (!attached) {
                // Every webhook sweep reconciles parked statuses, so this is a delay, not a loss.
                spdlog::warn("relay: attaching parked statuses failed: {}", attached.error().message);
            }
        }
        // The statements are idempotent per attempt, so a partly recorded batch is safely
        // recorded again in full by the caller's retry.
        for (auto& entry : batch) {
            Commit::complete(entry, outcome ? Result<bool>(true) : Result<bool>(outcome.error()));
        }
    }
};

RelayStore::RelayStore(asio::any_io_executor executor, pg::Pool& pool, RelayStoreSettings settings)
    : impl_(std::make_shared<Impl>(pool, settings)) {
    impl_->start(std::move(executor));
}

RelayStore::~RelayStore() = default;

asio::awaitable<Result<Claim>> RelayStore::claim(const ClaimSettings& settings) {
    auto self = impl_;
    auto claimed = co_await self->claim(settings);
    if (!claimed && claimed.error().code == Errc::kRetryable) {
        claimed = co_await self->claim(settings);  // a deadlock with another instance's claim
    }
    co_return claimed;
}

asio::awaitable<Result<void>> RelayStore::record(RelayResult result) {
    auto recorded = co_await impl_->commit->submit(std::move(result));
    if (!recorded) {
        co_return recorded.error();
    }
    co_return Result<void>{};
}

asio::awaitable<Result<std::int64_t>> RelayStore::prune_pair_pacing() {
    auto rows = co_await impl_->pool.execute(relay_sql::kPrunePairPacing, pg::Params{});
    if (!rows) {
        co_return rows.error();
    }
    co_return rows->affected();
}

asio::awaitable<Result<std::map<std::string, Reference>>> RelayStore::references(std::vector<std::string> ids) {
    auto rows = co_await impl_->pool.execute(relay_sql::kReferences, pg::Params{}.add(pg::text_array(ids)));
    if (!rows) {
        co_return rows.error();
    }
    std::map<std::string, Reference> out;
    for (int r = 0; r < rows->size(); ++r) {
        out.emplace(std::string(rows->get(r, 0)), Reference{rows->get_optional(r, 1), rows->get_bool(r, 2)});
    }
    co_return out;
}

}  // namespace wagate::store
