#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <wagate/core/error.hpp>
#include <wagate/domain/events.hpp>

namespace wagate::pg {
class Pool;
}

namespace wagate::store {

// The event outbox (contract §7, docs/events.md). Events are written by the statements that
// cause them (webhook processing, the relay's failures); this is the delivery side: claims (safe
// with any number of instances), group-committed results, the catch-up cursor and replay.

struct EventClaimSettings {
    std::size_t limit = 256;    // events claimed at most
    std::size_t per_url = 16;   // events of one callback URL claimed at most
    std::chrono::milliseconds lease{60'000};
    /// Callback URLs this instance already holds events for, with the room left for each (at
    /// most `per_url`); a URL with no room is passed over.
    std::vector<std::pair<std::string, std::size_t>> busy_urls;
};

/// A claimed event, with what its delivery needs.
struct ClaimedEvent {
    std::int64_t id = 0;
    std::string phone_number_id;
    int attempt = 0;  // this claim's attempt (1 for the first)
    std::string payload_json;
    std::string url;
    std::string secret;  // secret: never logged
    int endpoint_failures = 0;  // the URL's failures in a row when claimed (0: healthy)
    std::chrono::system_clock::time_point age_from;  // creation, or the last replay
};

/// What became of one claimed event.
struct EventResult {
    enum class Kind { kDelivered, kFailed, kRelease };
    Kind kind = Kind::kDelivered;
    std::int64_t id = 0;
    int attempt = 0;
    std::string url;
    // kFailed:
    std::string error;  // what happened ("HTTP 500", "connect: connection refused"); no secrets
    std::chrono::system_clock::time_point retry_at;  // the event's next attempt
    bool dead = false;                               // past the give-up age: no next attempt
    int endpoint_failures = 0;                       // the URL's failures in a row, this one included
    std::chrono::system_clock::time_point endpoint_retry_at;  // the URL's next probe
};

/// An event as the admin API shows it.
struct EventRecord {
    std::int64_t id = 0;
    domain::events::Cursor cursor;
    std::string phone_number_id;
    std::string kind;  // message, status, account
    std::string created_at;   // RFC 3339
    std::string state;        // pending, delivered, dead
    int attempts = 0;
    std::optional<std::string> last_error;
    std::optional<std::string> finished_at;
    std::string payload_json;  // as stored; domain::events::delivery_body gives the bytes sent
};

struct EventPage {
    std::vector<EventRecord> events;
    bool more = false;  // the page is full: more may follow at once
};

enum class ReplayOutcome { kReplayed, kNotFound, kNotDead };

struct EventStoreSettings {
    std::size_t max_batch = 256;  // results recorded together at most
    std::size_t max_writers = 2;  // batches in flight at once
};

class EventStore {
public:
    EventStore(boost::asio::any_io_executor executor, pg::Pool& pool, EventStoreSettings settings = {});
    ~EventStore();
    EventStore(const EventStore&) = delete;
    EventStore& operator=(const EventStore&) = delete;

    boost::asio::awaitable<Result<std::vector<ClaimedEvent>>> claim(const EventClaimSettings& settings);
    /// Group-committed; idempotent per attempt, so a caller may retry it.
    boost::asio::awaitable<Result<void>> record(EventResult result);

    /// Number `phone_number_id`'s events after `after` (from the start without), `limit` at most.
    boost::asio::awaitable<Result<EventPage>> list(std::string phone_number_id,
                                                   std::optional<domain::events::Cursor> after, std::size_t limit);
    boost::asio::awaitable<Result<std::optional<EventRecord>>> get(std::int64_t id);
    boost::asio::awaitable<Result<ReplayOutcome>> replay(std::int64_t id);

    /// Pending events older than `max_age` that nobody holds become dead; returns how many.
    boost::asio::awaitable<Result<std::int64_t>> expire(std::chrono::seconds max_age);
    /// Deletes events delivered or dead more than `retention` ago; returns how many.
    boost::asio::awaitable<Result<std::int64_t>> prune(std::chrono::hours retention);

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace wagate::store
