#include <atomic>
#include <chrono>
#include <memory>

#include <wagate/metrics/registry.hpp>
#include <wagate/store/backlog_store.hpp>

#include "api/handlers.hpp"

namespace wagate::api {
namespace asio = boost::asio;

namespace {

/// The database-wide backlog gauges, read at most once a second however often /metrics is
/// scraped: the route needs no authentication, so a flood of scrapes must not become a flood
/// of queries.
class BacklogGauges {
public:
    explicit BacklogGauges(metrics::Registry& r)
        : database_up_(r.gauge("wagate_database_up", "1 when the last backlog read reached PostgreSQL")),
          relay_queued_(r.gauge("wagate_relay_queue_messages", "Accepted messages Meta has not taken yet (database-wide)")),
          relay_due_(r.gauge("wagate_relay_queue_due_messages", "Queued messages due now (database-wide)")),
          relay_age_(r.gauge("wagate_relay_queue_oldest_due_seconds", "Age of the longest-due queued message (database-wide)")),
          webhooks_(r.gauge("wagate_webhook_backlog_deliveries", "Stored Meta webhook bodies not yet applied (database-wide)")),
          webhooks_age_(r.gauge("wagate_webhook_backlog_oldest_seconds", "Age of the oldest webhook body not yet applied (database-wide)")),
          events_(r.gauge("wagate_event_backlog_events", "Events not yet acknowledged by a business backend (database-wide)")),
          events_age_(r.gauge("wagate_event_backlog_oldest_seconds", "Age of the oldest unacknowledged event (database-wide)")) {}

    asio::awaitable<void> refresh(store::BacklogStore& store) {
        const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
        auto last = last_read_.load();
        if (last != 0 && now - last < std::chrono::steady_clock::duration(std::chrono::seconds(1)).count()) {
            co_return;
        }
        if (!last_read_.compare_exchange_strong(last, now)) {
            co_return;  // another scrape is reading them right now
        }
        auto read = co_await store.read();
        database_up_.set(read ? 1 : 0);
        if (!read) {
            co_return;
        }
        const auto seconds = [](std::chrono::milliseconds ms) { return static_cast<double>(ms.count()) / 1000.0; };
        relay_queued_.set(static_cast<double>(read->relay_queued));
        relay_due_.set(static_cast<double>(read->relay_due));
        relay_age_.set(seconds(read->relay_oldest_due_age));
        webhooks_.set(static_cast<double>(read->webhooks_pending));
        webhooks_age_.set(seconds(read->webhooks_oldest_age));
        events_.set(static_cast<double>(read->events_pending));
        events_age_.set(seconds(read->events_oldest_age));
    }

private:
    std::atomic<std::chrono::steady_clock::rep> last_read_{0};
    metrics::Gauge& database_up_;
    metrics::Gauge& relay_queued_;
    metrics::Gauge& relay_due_;
    metrics::Gauge& relay_age_;
    metrics::Gauge& webhooks_;
    metrics::Gauge& webhooks_age_;
    metrics::Gauge& events_;
    metrics::Gauge& events_age_;
};

asio::awaitable<http::Response> scrape(HandlerContext& ctx, std::shared_ptr<BacklogGauges> gauges) {
    co_await gauges->refresh(ctx.deps.backlogs);
    http::Response response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = ctx.deps.metrics.render();
    co_return response;
}

}  // namespace

void register_metrics_route(HandlerContext& ctx, http::Router& router) {
    auto gauges = std::make_shared<BacklogGauges>(ctx.deps.metrics);
    router.add("GET", "/metrics", 0,
               [&ctx, gauges](http::Request&, const http::PathParams&) { return scrape(ctx, gauges); });
}

}  // namespace wagate::api
