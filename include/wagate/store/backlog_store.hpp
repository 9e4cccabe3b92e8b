#pragma once

#include <chrono>
#include <cstdint>

#include <boost/asio/awaitable.hpp>
#include <wagate/core/error.hpp>

namespace wagate::pg {
class Pool;
}

namespace wagate::store {

/// The database-wide queues an operator watches (contract §8): the same numbers whichever
/// instance reads them. Ages are of the oldest item still waiting; zero when none waits.
struct Backlogs {
    std::int64_t relay_queued = 0;  // accepted messages not yet taken by Meta (due, paced or retrying)
    std::int64_t relay_due = 0;     // of which due now
    std::chrono::milliseconds relay_oldest_due_age{0};
    std::int64_t webhooks_pending = 0;  // stored webhook bodies not yet applied
    std::chrono::milliseconds webhooks_oldest_age{0};
    std::int64_t events_pending = 0;  // events not yet acknowledged by a business backend
    std::chrono::milliseconds events_oldest_age{0};
};

/// Reads the backlogs in one statement over the queues' partial indexes. Thread-safe.
class BacklogStore {
public:
    explicit BacklogStore(pg::Pool& pool) : pool_(pool) {}

    /// Errors: kDbUnavailable, kTimeout.
    boost::asio::awaitable<Result<Backlogs>> read();

private:
    pg::Pool& pool_;
};

}  // namespace wagate::store
