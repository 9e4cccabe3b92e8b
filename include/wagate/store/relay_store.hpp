#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <wagate/core/error.hpp>
#include <wagate/domain/relay.hpp>

namespace wagate::pg {
class Pool;
}

namespace wagate::store {

using TimePoint = std::chrono::system_clock::time_point;

struct ClaimSettings {
    std::size_t limit = 128;                         // rows claimed at most
    std::chrono::milliseconds horizon{1'000};        // claim only what may be sent this soon
    std::chrono::milliseconds lease{120'000};        // how long a claim keeps other instances off
    bool pacing = true;                              // throughput and pair pacing
    domain::relay::Gcra pair{std::chrono::seconds(6), 45};
};

/// A queued message this instance now holds, and when it may be sent.
struct ClaimedMessage {
    std::string id;  // 32 hex digits
    std::string phone_number_id;
    std::string wa_id;  // '' for a mark-as-read
    bool mark_read = false;
    std::string payload_json;
    std::string access_token;  // secret: never logged
    int attempt = 0;           // this claim's attempt number (1 for the first send)
    TimePoint expires_at;
    TimePoint send_at;  // by the database's clock; at or after `now` of the claim
    std::string last_failure;  // details of the previous attempt's failure, if any
};

struct Claim {
    TimePoint now;  // the database's clock when the claim was made
    std::vector<ClaimedMessage> messages;
    std::size_t expired = 0;   // failed with 900301 by this claim
    std::size_t deferred = 0;  // over pace: left in the queue, due later
    std::size_t read() const noexcept { return messages.size() + expired + deferred; }
};

/// What became of one claimed message.
struct RelayResult {
    enum class Kind { kAccepted, kRetry, kFailed, kRelease };
    Kind kind = Kind::kAccepted;
    std::string id;
    int attempt = 0;
    std::string wamid;        // kAccepted messages ('' for a mark-as-read)
    TimePoint retry_at;       // kRetry
    std::string errors_json;  // kRetry (kept for the expiry error) and kFailed
};

/// An outbound message that a payload refers to by its gateway id.
struct Reference {
    std::optional<std::string> wamid;  // once Meta took it
    bool queued = false;               // not sent yet: a reference to it must wait
};

struct RelayStoreSettings {
    std::size_t max_batch = 256;  // results recorded together at most
    std::size_t max_writers = 2;  // batches in flight at once
};

/// The relay's view of the queue: claims (safe with any number of instances, docs/relay.md) and
/// results, group-committed (results that arrive while a batch is being written are written
/// together by the next one). Thread-safe.
class RelayStore {
public:
    RelayStore(boost::asio::any_io_executor executor, pg::Pool& pool, RelayStoreSettings settings);
    ~RelayStore();
    RelayStore(const RelayStore&) = delete;
    RelayStore& operator=(const RelayStore&) = delete;

    /// Claims due messages, fails the expired ones (900301), and with pacing schedules each
    /// claimed message at its number's and pair's next free time; messages that may not go
    /// within the horizon are left in the queue, due at their time. One transaction.
    /// Errors: kDbUnavailable, kTimeout, kRetryable (deadlock), kInternal.
    boost::asio::awaitable<Result<Claim>> claim(const ClaimSettings& settings);

    /// Records a result: accepted (wamid stored, parked statuses attached after the commit),
    /// retry (due again at retry_at), failed (a `failed` status with its errors), or release
    /// (given back, the attempt not counted). A result of a claim that has since lapsed and been
    /// taken over changes nothing but an accepted wamid. Errors: kDbUnavailable, kTimeout.
    boost::asio::awaitable<Result<void>> record(RelayResult result);

    /// Deletes pair-pacing rows whose time has passed; returns how many.
    boost::asio::awaitable<Result<std::int64_t>> prune_pair_pacing();

    /// The outbound messages among `ids` (32 hex digits) that exist, by id.
    boost::asio::awaitable<Result<std::map<std::string, Reference>>> references(std::vector<std::string> ids);

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace wagate::store
