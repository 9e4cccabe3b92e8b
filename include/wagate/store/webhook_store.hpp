#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <wagate/core/clock.hpp>
#include <wagate/core/error.hpp>
#include <wagate/domain/policy.hpp>

namespace wagate::pg {
class Pool;
}

namespace wagate::store {

// Meta's webhooks, durable first (contract §3, docs/webhooks.md): a verified body is committed
// raw before the 200 (WebhookInbox), then applied (WebhookProcessor) idempotently and per item.

struct WebhookSettings {
    std::size_t max_batch = 128;  // bodies committed, or applied, together at most
    /// How long a processing instance holds a delivery before any instance may take it over.
    std::chrono::milliseconds lease{30'000};
    /// How often pending deliveries nobody holds are looked for (also at start).
    std::chrono::milliseconds sweep_interval{1'000};
    std::chrono::milliseconds statement_timeout{10'000};
    domain::policy::WindowRenewalSettings window;
    /// Called after a batch commits (it may have written events for the business backends).
    std::function<void()> on_applied;
    /// Called once for each status item of a batch that committed, with its lower-case status
    /// (metrics count them).
    std::function<void(std::string_view status)> on_status_applied;
};

/// The raw side: group-committed inserts of verified bodies, and the quarantine. Thread-safe.
class WebhookInbox {
public:
    WebhookInbox(boost::asio::any_io_executor executor, pg::Pool& pool, WebhookSettings settings);
    ~WebhookInbox();
    WebhookInbox(const WebhookInbox&) = delete;
    WebhookInbox& operator=(const WebhookInbox&) = delete;

    struct Stored {
        std::int64_t id = 0;   // the delivery
        bool duplicate = false;  // the same bytes were stored before: nothing new to process
    };
    /// Completes once `body` is committed. `claim`: this instance will process it (it is held for
    /// the lease); otherwise any instance's sweep takes it. Errors: kDbUnavailable, kTimeout.
    boost::asio::awaitable<Result<Stored>> store(std::string body, bool claim);

    /// Keeps a POST that failed verification, for diagnosis.
    boost::asio::awaitable<Result<void>> quarantine(std::string reason, std::string signature,
                                                    std::string remote_address, std::string body);

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

/// Applies stored deliveries: statuses, inbound messages, tombstones, reactions, identity changes
/// and account-level updates, each idempotent and order-independent, in batches (one transaction
/// per batch; a failing batch is retried per delivery, then per item). Thread-safe.
class WebhookProcessor {
public:
    WebhookProcessor(boost::asio::any_io_executor executor, pg::Pool& pool, WebhookSettings settings,
                     const Clock& clock);
    ~WebhookProcessor();
    WebhookProcessor(const WebhookProcessor&) = delete;
    WebhookProcessor& operator=(const WebhookProcessor&) = delete;

    /// Hands a delivery stored (and claimed) by this instance to be applied soon.
    void submit(std::int64_t delivery_id, std::string body);

    /// Whether submit() would queue now. When not, a new delivery is better stored unclaimed, for
    /// the next sweep of any instance, than claimed and left waiting for its lease.
    bool has_room();

    /// Runs the sweep every sweep_interval until the executor stops.
    boost::asio::awaitable<void> run_sweeps();

    /// Applies everything queued here and returns once nothing is left in this instance's
    /// hands; with `sweep`, also takes every pending delivery nobody holds (tests, maintenance).
    /// Without it (shutdown), the cluster's backlog is left to the instances that stay.
    boost::asio::awaitable<Result<void>> drain(bool sweep = true);

    /// Deletes processed deliveries, parked statuses and quarantined bodies older than `retention`.
    boost::asio::awaitable<Result<std::int64_t>> prune(std::chrono::hours retention);

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace wagate::store
