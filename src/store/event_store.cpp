#include <wagate/store/event_store.hpp>

#include <map>

#include <spdlog/spdlog.h>
#include <wagate/pg/pool.hpp>
#include <wagate/pg/statement.hpp>

#include "store/event_statements.hpp"
#include "store/group_commit.hpp"
#include "store/sql_text.hpp"

namespace wagate::store {
namespace asio = boost::asio;

namespace {

EventRecord read_record(const pg::Rows& rows, int r) {
    using namespace event_sql;
    EventRecord e;
    e.id = rows.get_int64(r, kEventId);
    e.cursor = domain::events::Cursor{std::stoull(std::string(rows.get(r, kEventTxid))), e.id};
    e.created_at = rows.get(r, kEventCreatedAt);
    e.state = rows.get(r, kEventState);
    e.attempts = static_cast<int>(rows.get_int64(r, kEventAttempts));
    e.last_error = rows.get_optional(r, kEventLastError);
    e.payload_json = rows.get(r, kEventPayload);
    e.phone_number_id = rows.get(r, kEventPhoneNumberId);
    e.kind = rows.get(r, kEventKind);
    e.finished_at = rows.get_optional(r, kEventFinishedAt);
    return e;
}

}  // namespace

struct EventStore::Impl : std::enable_shared_from_this<EventStore::Impl> {
    using Commit = GroupCommit<EventResult, bool>;

    pg::Pool& pool;
    EventStoreSettings settings;
    std::shared_ptr<Commit> commit;

    Impl(pg::Pool& p, EventStoreSettings s) : pool(p), settings(s) {}

    void start(asio::any_io_executor executor) {
        commit = std::make_shared<Commit>(
            std::move(executor), settings.max_batch, settings.max_writers,
            flush_while_alive<EventResult, bool>(weak_from_this(), Error{Errc::kInternal, "event store destroyed"}));
    }

    asio::awaitable<void> flush(Commit::Batch& batch) {
        pg::ArrayLiteral ok_ids, ok_attempts, ok_urls;
        pg::ArrayLiteral failed_ids, failed_attempts, failed_at, failed_errors, failed_dead;
        pg::ArrayLiteral release_ids, release_attempts;
        // Per URL, the latest word wins: the most failures and the latest probe time.
        std::map<std::string, const EventResult*> failing_urls;
        bool any_ok = false, any_failed = false, any_release = false;
        for (const auto& entry : batch) {
            const EventResult& r = entry.item;
            const std::string id = std::to_string(r.id);
            const std::string attempt = std::to_string(r.attempt);
            switch (r.kind) {
                case EventResult::Kind::kDelivered:
                    ok_ids.add(id), ok_attempts.add(attempt), ok_urls.add(r.url);
                    any_ok = true;
                    break;
                case EventResult::Kind::kFailed: {
                    failed_ids.add(id), failed_attempts.add(attempt);
                    failed_at.add(std::to_string(to_micros(r.retry_at)));
                    failed_errors.add(r.error);
                    failed_dead.add(std::string_view(r.dead ? "t" : "f"));
                    any_failed = true;
                    auto [it, fresh] = failing_urls.emplace(r.url, &r);
                    if (!fresh && r.endpoint_failures > it->second->endpoint_failures) {
                        it->second = &r;
                    }
                    break;
                }
                case EventResult::Kind::kRelease:
                    release_ids.add(id), release_attempts.add(attempt);
                    any_release = true;
                    break;
            }
        }
        Result<void> outcome;
        auto lease = co_await pool.acquire();
        if (!lease) {
            outcome = lease.error();
        }
        if (outcome && any_ok) {
            auto rows = co_await (*lease)->execute(event_sql::kRecordDelivered,
                                                   array_params(ok_ids, ok_attempts, ok_urls));
            if (!rows) {
                outcome = rows.error();
            }
        }
        if (outcome && any_failed) {
            pg::ArrayLiteral urls, url_at, url_failures, url_errors;
            for (const auto& [url, r] : failing_urls) {
                urls.add(url);
                url_at.add(std::to_string(to_micros(r->endpoint_retry_at)));
                url_failures.add(std::to_string(r->endpoint_failures));
                url_errors.add(r->error);
            }
            auto rows = co_await (*lease)->execute(
                event_sql::kRecordFailed, array_params(failed_ids, failed_attempts, failed_at, failed_errors,
                                                       failed_dead, urls, url_at, url_failures, url_errors));
            if (!rows) {
                outcome = rows.error();
            }
        }
        if (outcome && any_release) {
            auto rows = co_await (*lease)->execute(event_sql::kRelease, array_params(release_ids, release_attempts));
            if (!rows) {
                outcome = rows.error();
            }
        }
        for (auto& entry : batch) {
            Commit::complete(entry, outcome ? Result<bool>(true) : Result<bool>(outcome.error()));
        }
    }
};

EventStore::EventStore(asio::any_io_executor executor, pg::Pool& pool, EventStoreSettings settings)
    : impl_(std::make_shared<Impl>(pool, settings)) {
    impl_->start(std::move(executor));
}

EventStore::~EventStore() = default;

asio::awaitable<Result<std::vector<ClaimedEvent>>> EventStore::claim(const EventClaimSettings& settings) {
    pg::ArrayLiteral urls, rooms;
    for (const auto& [url, room] : settings.busy_urls) {
        urls.add(url);
        rooms.add(std::to_string(room));
    }
    pg::Params params;
    params.add(static_cast<std::int64_t>(settings.per_url))
        .add(static_cast<std::int64_t>(settings.limit))
        .add(static_cast<std::int64_t>(settings.lease.count()))
        .add(urls.str())
        .add(rooms.str());
    auto rows = co_await impl_->pool.execute(event_sql::kClaim, params);
    if (!rows) {
        co_return rows.error();
    }
    std::vector<ClaimedEvent> out;
    out.reserve(static_cast<std::size_t>(rows->size()));
    for (int r = 0; r < rows->size(); ++r) {
        using namespace event_sql;
        ClaimedEvent e;
        e.id = rows->get_int64(r, kId);
        e.phone_number_id = rows->get(r, kPhoneNumberId);
        e.attempt = static_cast<int>(rows->get_int64(r, kAttempts));
        e.payload_json = rows->get(r, kPayload);
        e.url = rows->get(r, kUrl);
        e.secret = rows->get(r, kSecret);
        e.endpoint_failures = static_cast<int>(rows->get_int64(r, kEndpointFailures));
        e.age_from = from_micros(rows->get_int64(r, kAgeFromMicros));
        out.push_back(std::move(e));
    }
    co_return out;
}

asio::awaitable<Result<void>> EventStore::record(EventResult result) {
    auto recorded = co_await impl_->commit->submit(std::move(result));
    if (!recorded) {
        co_return recorded.error();
    }
    co_return Result<void>{};
}

asio::awaitable<Result<EventPage>> EventStore::list(std::string phone_number_id,
                                                    std::optional<domain::events::Cursor> after, std::size_t limit) {
    const domain::events::Cursor from = after.value_or(domain::events::Cursor{});
    pg::Params params;
    params.add(phone_number_id)
        .add(std::to_string(from.txid))
        .add(from.id)
        .add(static_cast<std::int64_t>(limit));
    auto rows = co_await impl_->pool.execute(event_sql::kList, params);
    if (!rows) {
        co_return rows.error();
    }
    EventPage page;
    for (int r = 0; r < rows->size(); ++r) {
        page.events.push_back(read_record(*rows, r));
    }
    page.more = page.events.size() >= limit;
    co_return page;
}

asio::awaitable<Result<std::optional<EventRecord>>> EventStore::get(std::int64_t id) {
    auto rows = co_await impl_->pool.execute(event_sql::kGet, pg::Params{}.add(id));
    if (!rows) {
        co_return rows.error();
    }
    if (rows->size() == 0) {
        co_return std::optional<EventRecord>{};
    }
    co_return std::optional<EventRecord>(read_record(*rows, 0));
}

asio::awaitable<Result<ReplayOutcome>> EventStore::replay(std::int64_t id) {
    auto rows = co_await impl_->pool.execute(event_sql::kReplay, pg::Params{}.add(id));
    if (!rows) {
        co_return rows.error();
    }
    if (rows->size() == 0) {
        co_return ReplayOutcome::kNotFound;
    }
    co_return rows->get(0, 0) == "dead" ? ReplayOutcome::kReplayed : ReplayOutcome::kNotDead;
}

asio::awaitable<Result<std::int64_t>> EventStore::expire(std::chrono::seconds max_age) {
    auto rows = co_await impl_->pool.execute(event_sql::kExpire,
                                             pg::Params{}.add(static_cast<std::int64_t>(max_age.count())));
    if (!rows) {
        co_return rows.error();
    }
    co_return rows->affected();
}

asio::awaitable<Result<std::int64_t>> EventStore::prune(std::chrono::hours retention) {
    auto rows = co_await impl_->pool.execute(event_sql::kPrune,
                                             pg::Params{}.add(static_cast<std::int64_t>(retention.count())));
    if (!rows) {
        co_return rows.error();
    }
    co_return rows->affected();
}

}  // namespace wagate::store
