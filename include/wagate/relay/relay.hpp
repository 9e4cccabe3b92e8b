#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <wagate/domain/relay.hpp>
#include <wagate/http/client.hpp>
#include <wagate/store/relay_store.hpp>

namespace wagate::metrics {
class Registry;
}

namespace wagate::relay {

struct RelaySettings {
    std::string upstream_url = "https://graph.facebook.com";  // no trailing slash
    std::string upstream_version = "v23.0";
    http::ClientSettings client;
    /// Sends in flight at once (the HTTP client's connections to Meta).
    std::size_t concurrency = 64;
    /// Claimed messages held at once: in flight, or waiting for their paced time.
    std::size_t max_scheduled = 1024;
    store::ClaimSettings claim;
    domain::relay::RetrySettings retry;
    /// How often an idle relay looks for due messages that another instance accepted, or that
    /// became due (retries, paced messages). Messages accepted here wake it at once.
    std::chrono::milliseconds poll_interval{100};
    /// Where upstream latency and errors by code are counted; null: not counted.
    metrics::Registry* metrics = nullptr;
};

/// Counters since start (tests, and /metrics reads them at each scrape).
struct RelayStats {
    std::uint64_t accepted = 0;   // Meta took it
    std::uint64_t retried = 0;    // transient failures, sent again later
    std::uint64_t failed = 0;     // permanent failures and expiries after an attempt
    std::uint64_t expired = 0;    // failed with 900301 at claim time
    std::uint64_t released = 0;   // given back at shutdown
    std::uint64_t scheduled = 0;  // claimed and not finished now
};

/// The relay (contract §5, docs/relay.md): claims due messages from the queue, waits for each
/// one's paced time, sends it to `{upstream}/{version}/{phone_number_id}/messages` with the
/// number's token, classifies Meta's answer and records it (wamid, retry with back-off, or
/// failed). Any number of instances may run one on the same database. Thread-safe.
class Relay {
public:
    Relay(boost::asio::any_io_executor executor, store::RelayStore& store, RelaySettings settings);
    ~Relay();
    Relay(const Relay&) = delete;
    Relay& operator=(const Relay&) = delete;

    /// Starts the claim loop.
    void start();
    /// Messages were just accepted here: look for due work now rather than at the next poll.
    void notify() noexcept;
    /// Stops claiming, gives back claimed messages whose send has not started, and waits up to
    /// `grace` for sends in flight to be recorded.
    boost::asio::awaitable<void> drain(std::chrono::milliseconds grace);

    RelayStats stats() const noexcept;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace wagate::relay
