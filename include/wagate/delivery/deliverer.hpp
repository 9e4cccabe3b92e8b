#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <wagate/domain/relay.hpp>
#include <wagate/http/client.hpp>
#include <wagate/store/event_store.hpp>

namespace wagate::delivery {

struct DeliverySettings {
    http::ClientSettings client;  // timeouts, CA file, whether http:// callback URLs are allowed
    /// Deliveries in flight to one callback URL at once, per instance.
    std::size_t per_url = 16;
    /// Claimed events held at once, per instance.
    std::size_t max_held = 1024;
    store::EventClaimSettings claim;
    /// Between attempts of one event, and between probes of a failing URL.
    domain::relay::RetrySettings retry{std::chrono::milliseconds(1'000), std::chrono::milliseconds(900'000)};
    /// An event not acknowledged this long after it was written (or replayed) is dead.
    std::chrono::seconds max_age{7 * 86'400};
    /// How often an idle deliverer looks for due events (events written here wake it at once).
    std::chrono::milliseconds poll_interval{100};
};

/// Counters since start (tests, logs).
struct DeliveryStats {
    std::uint64_t delivered = 0;
    std::uint64_t failed = 0;    // attempts not acknowledged (each retried later, or dead)
    std::uint64_t dead = 0;
    std::uint64_t released = 0;  // given back unsent (shutdown, lease too short)
    std::uint64_t held = 0;      // claimed and not finished now
};

/// Delivers the event outbox to business backends (contract §7, docs/events.md): claims due
/// events, POSTs each one to its number's callback URL as ASCII-only JSON signed with the
/// number's callback secret, and records the answer: acknowledged (2xx), or retried with
/// back-off until the give-up age. At most `per_url` deliveries per URL run at once, so a slow
/// backend holds up only its own events. Any number of instances may run one. Thread-safe.
class Deliverer {
public:
    Deliverer(boost::asio::any_io_executor executor, store::EventStore& store, DeliverySettings settings);
    ~Deliverer();
    Deliverer(const Deliverer&) = delete;
    Deliverer& operator=(const Deliverer&) = delete;

    void start();
    /// Events were just written here: look for due work now rather than at the next poll.
    void notify() noexcept;
    /// Stops claiming, and waits up to `grace` for deliveries in flight to be recorded.
    boost::asio::awaitable<void> drain(std::chrono::milliseconds grace);

    DeliveryStats stats() const noexcept;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace wagate::delivery
