#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace wagate::sandbox {

/// One accepted message, as GET /sandbox/v1/messages lists it.
struct RecordedSend {
    std::uint64_t seq = 0;  // 1, 2, … in order of acceptance; set by Ledger::add
    std::string wamid;
    std::string phone_number_id;
    std::string to;    // as sent
    std::string type;
    std::string payload;  // the request body as received (valid JSON: it passed validation)
    std::int64_t received_at_ms = 0;  // Unix milliseconds
    /// The status webhooks planned for it, in posting order, each once however many copies go out
    /// (empty with webhooks off). An audit checks that each of them reached the gateway's history.
    std::vector<std::string> statuses;
};

/// Every message the sandbox accepted since it started, for audits of exactly-once delivery:
/// the last `capacity` of them, in a ring, so memory stays bounded. Thread-safe.
class Ledger {
public:
    explicit Ledger(std::size_t capacity);

    /// Records `send` and returns its sequence number.
    std::uint64_t add(RecordedSend send);

    /// `{"total":N,"messages":[…]}`: the kept sends with seq > `after`, oldest first, at most
    /// `limit`. `total` counts every send ever recorded (more than the list once it wrapped).
    std::string render(std::uint64_t after, std::size_t limit) const;

    std::uint64_t total() const;

private:
    mutable std::mutex mutex_;
    std::size_t capacity_;
    std::vector<RecordedSend> ring_;  // ring_[(seq - 1) % capacity_]
    std::uint64_t total_ = 0;
};

/// RFC 3339 UTC with milliseconds, e.g. "2026-05-01T12:00:00.123Z".
std::string rfc3339_ms(std::int64_t unix_ms);

}  // namespace wagate::sandbox
