#pragma once

#include <memory>
#include <string>
#include <vector>

#include <wagate/app/config.hpp>
#include <wagate/core/clock.hpp>
#include <wagate/core/error.hpp>
#include <wagate/delivery/deliverer.hpp>
#include <wagate/relay/relay.hpp>

namespace wagate::app {

/// The composition root: a running gateway with its threads, pool, writer, API and listeners.
/// `serve` runs one; the end-to-end tests run several in one process.
class Gateway {
public:
    explicit Gateway(Config config, std::shared_ptr<const Clock> clock = std::make_shared<SystemClock>());
    ~Gateway();
    Gateway(const Gateway&) = delete;
    Gateway& operator=(const Gateway&) = delete;

    /// Migrates (when auto_migrate), binds the listeners and starts the worker threads.
    /// Errors: kDbUnavailable, kConflict (migrations), kInvalidArgument/kInternal (listen).
    Result<void> start();

    /// Runs the periodic maintenance once, now, by the gateway's clock (tests drive it this way):
    /// tier reviews (auto-upgrades, flagged downgrades). Blocks; returns how many businesses
    /// changed. Errors: kDbUnavailable, kTimeout.
    Result<int> run_maintenance();

    /// Applies every stored webhook delivery this instance holds or nobody holds, and returns
    /// once none is left (tests wait on it; stop() calls it). No-op when processing is off here.
    /// Errors: kDbUnavailable, kTimeout.
    Result<void> drain_webhooks();

    /// The relay's counters (all zero when relaying is off here).
    relay::RelayStats relay_stats() const;
    /// The event deliverer's counters (all zero when delivery is off here).
    delivery::DeliveryStats delivery_stats() const;

    /// One route the listeners serve: method, pattern as registered (e.g.
    /// "/{version}/{phone_number_id}/messages") and whether it is on the admin listener.
    struct RouteInfo {
        std::string method;
        std::string pattern;
        bool admin_listener = false;
    };
    /// Every route registered at start() (the OpenAPI document is checked against this list).
    std::vector<RouteInfo> routes() const;

    unsigned short port() const noexcept;
    /// The admin listener's port, or port() when the admin API shares the main listener.
    unsigned short admin_port() const noexcept;

    /// Graceful stop: stop accepting, finish in-flight requests (up to shutdown_grace_ms),
    /// drain pending commits, stop the threads. Blocks; idempotent.
    void stop();

    /// Blocks until SIGTERM or SIGINT, then stop().
    void run_until_signal();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace wagate::app
