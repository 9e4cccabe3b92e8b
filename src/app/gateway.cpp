#include <wagate/app/gateway.hpp>

#include <algorithm>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>
#include <wagate/api/api.hpp>
#include <wagate/app/logging.hpp>
#include <wagate/app/request_metrics.hpp>
#include <wagate/delivery/deliverer.hpp>
#include <wagate/http/server.hpp>
#include <wagate/metrics/registry.hpp>
#include <wagate/pg/migrator.hpp>
#include <wagate/pg/pool.hpp>
#include <wagate/relay/relay.hpp>
#include <wagate/store/backlog_store.hpp>
#include <wagate/store/contact_store.hpp>
#include <wagate/store/event_store.hpp>
#include <wagate/store/limit_store.hpp>
#include <wagate/store/message_store.hpp>
#include <wagate/store/relay_store.hpp>
#include <wagate/store/template_store.hpp>
#include <wagate/store/tenant_store.hpp>
#include <wagate/store/webhook_store.hpp>

namespace wagate::app {
namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

/// Applies migrations, waiting up to `patience` for a database that is still starting (a
/// compose stack starts wagate and PostgreSQL together).
Result<void> migrate_with_patience(const std::string& url, std::chrono::seconds patience) {
    const auto give_up = std::chrono::steady_clock::now() + patience;
    for (;;) {
        auto report = pg::migrate(url, pg::embedded_migrations());
        if (report) {
            for (const auto& name : report->applied) {
                spdlog::info("applied migration {}", name);
            }
            return {};
        }
        if (report.error().code != Errc::kDbUnavailable || std::chrono::steady_clock::now() >= give_up) {
            return report.error();
        }
        spdlog::warn("database not reachable yet, retrying: {}", report.error().message);
        std::this_thread::sleep_for(std::chrono::seconds(1));
    }
}

}  // namespace

struct Gateway::Impl {
    Config config;
    std::shared_ptr<const Clock> clock;
    metrics::Registry metrics;
    RequestMetrics request_metrics{metrics};
    asio::io_context ioc;
    asio::executor_work_guard<asio::io_context::executor_type> work;
    std::unique_ptr<pg::Pool> pool;
    std::unique_ptr<store::TenantStore> tenants;
    std::unique_ptr<store::ContactStore> contacts;
    std::unique_ptr<store::TemplateStore> templates;
    std::unique_ptr<store::MessageStore> messages;
    std::unique_ptr<store::LimitStore> limits;
    std::unique_ptr<store::AcceptWriter> writer;
    std::unique_ptr<store::WebhookInbox> webhook_inbox;
    std::unique_ptr<store::WebhookProcessor> webhook_processor;  // null when processing is off here
    std::unique_ptr<store::RelayStore> relay_store;
    std::unique_ptr<wagate::relay::Relay> relay;  // null when relaying is off here
    std::unique_ptr<store::EventStore> event_store;
    std::unique_ptr<store::BacklogStore> backlogs;
    std::unique_ptr<delivery::Deliverer> deliverer;  // null when delivery is off here
    std::unique_ptr<api::Api> api;
    http::Router public_routes;
    http::Router admin_routes;
    std::unique_ptr<http::Server> server;
    std::unique_ptr<http::Server> admin_server;
    std::vector<std::thread> threads;
    std::mutex stop_mutex;
    bool stopped = false;

    Impl(Config c, std::shared_ptr<const Clock> k)
        : config(std::move(c)), clock(std::move(k)), ioc(config.threads), work(ioc.get_executor()) {}

    http::ServerSettings server_settings(const std::string& listen) const {
        http::ServerSettings s;
        s.listen = listen;
        s.max_header_bytes = config.max_header_bytes;
        s.header_timeout = milliseconds(config.header_timeout_ms);
        s.body_timeout = milliseconds(config.body_timeout_ms);
        s.idle_timeout = milliseconds(config.idle_timeout_ms);
        s.max_connections = static_cast<std::size_t>(config.max_connections);
        s.tls_cert_file = config.tls_cert;
        s.tls_key_file = config.tls_key;
        return s;
    }

    /// Runs `task` (an awaitable Result) now and then every `interval` for the life of the
    /// gateway: the retention chores. A failure is logged, and the next round tries again.
    template <class Task>
    asio::awaitable<void> periodically(const char* what, milliseconds interval, Task task) {
        asio::steady_timer timer(ioc);
        for (;;) {
            auto done = co_await task();
            if (!done) {
                spdlog::warn("{} failed: {}", what, done.error().message);
            }
            timer.expires_after(interval);
            co_await timer.async_wait(asio::use_awaitable);
        }
    }

    template <class Task>
    void every(const char* what, milliseconds interval, Task task) {
        asio::co_spawn(ioc, periodically(what, interval, std::move(task)), asio::detached);
    }

    store::WebhookSettings webhook_settings() {
        store::WebhookSettings w;
        w.on_applied = [this] {
            if (deliverer) {
                deliverer->notify();
            }
        };
        // Meta's statuses, plus the On-Premises `deleted`; anything else is one series. Looked up
        // once here: the callback runs for every status applied.
        std::vector<std::pair<std::string, metrics::Counter*>> by_status;
        for (const char* label : {"sent", "delivered", "read", "played", "failed", "warning", "deleted", "other"}) {
            by_status.emplace_back(label, &metrics.counter("wagate_webhook_statuses_total",
                                                           "Message statuses from Meta applied, by status",
                                                           {{"status", label}}));
        }
        w.on_status_applied = [by_status = std::move(by_status)](std::string_view status) {
            auto it = std::find_if(by_status.begin(), by_status.end() - 1,
                                   [status](const auto& known) { return known.first == status; });
            it->second->add();  // the last entry, "other", when none matched
        };
        w.lease = milliseconds(config.webhook_lease_ms);
        w.statement_timeout = milliseconds(config.statement_timeout_ms);
        for (const auto& kind : config.window_renewed_by) {
            w.window.reactions = w.window.reactions || kind == "reaction";
            w.window.system_messages = w.window.system_messages || kind == "system";
            w.window.unsupported = w.window.unsupported || kind == "unsupported";
        }
        return w;
    }

    /// Runs `task` on the gateway's threads and blocks until it completes, or until `timeout`.
    template <class T>
    Result<T> block_on(asio::awaitable<Result<T>> task, std::optional<milliseconds> timeout = std::nullopt) {
        auto done = std::make_shared<std::promise<Result<T>>>();
        auto future = done->get_future();
        asio::co_spawn(ioc, std::move(task), [done](std::exception_ptr e, Result<T> result) {
            done->set_value(e ? Result<T>(Error{Errc::kInternal, "unexpected exception"}) : std::move(result));
        });
        if (timeout && future.wait_for(*timeout) != std::future_status::ready) {
            return Error{Errc::kTimeout, "did not complete in time"};
        }
        return future.get();
    }

    /// Applies what this instance holds (and, with `sweep`, what nobody holds); blocks.
    Result<void> drain_webhooks(bool sweep) {
        if (!webhook_processor) {
            return {};
        }
        return block_on(webhook_processor->drain(sweep),
                        milliseconds(config.shutdown_grace_ms) + std::chrono::seconds(30));
    }

    wagate::relay::RelaySettings relay_settings() {
        wagate::relay::RelaySettings r;
        r.upstream_url = config.upstream_url;
        r.upstream_version = config.upstream_version;
        r.client.connect_timeout = milliseconds(config.upstream_connect_timeout_ms);
        r.client.request_timeout = milliseconds(config.upstream_timeout_ms);
        r.client.ca_file = config.upstream_ca_file;
        r.client.allow_plain_http = config.upstream_allow_http;
        r.concurrency = static_cast<std::size_t>(config.relay_concurrency);
        r.max_scheduled = 16 * r.concurrency;
        r.claim.lease = milliseconds(config.relay_lease_ms);
        r.claim.pacing = config.relay_pacing;
        r.claim.pair = domain::relay::Gcra{milliseconds(config.pair_interval_ms), config.pair_burst};
        r.retry.base = milliseconds(config.retry_base_ms);
        r.retry.max = milliseconds(config.retry_max_ms);
        r.metrics = &metrics;
        return r;
    }

    delivery::DeliverySettings delivery_settings() const {
        delivery::DeliverySettings d;
        d.client.connect_timeout = milliseconds(config.event_connect_timeout_ms);
        d.client.request_timeout = milliseconds(config.event_timeout_ms);
        d.client.ca_file = config.event_ca_file;
        d.client.allow_plain_http = config.event_allow_http;
        d.client.max_response_bytes = 1024 * 1024;  // a backend's answer is only looked at for its status
        d.per_url = static_cast<std::size_t>(config.event_concurrency_per_url);
        d.claim.lease = milliseconds(config.event_lease_ms);
        d.retry.base = milliseconds(config.event_retry_base_ms);
        d.retry.max = milliseconds(config.event_retry_max_ms);
        d.max_age = std::chrono::seconds(config.event_max_age_s);
        return d;
    }

    /// With the pair backlog cap on, the index that counts a user's queued messages. Until it
    /// exists the count is a scan of the queue: correct, only slower.
    asio::awaitable<void> ensure_pair_backlog_index() {
        auto built = co_await messages->ensure_pair_backlog_index();
        if (!built) {
            // Several instances starting together may race to create it; one of them wins.
            spdlog::warn("creating the relay queue's pair index failed: {}", built.error().message);
        }
    }

    /// The series /metrics reads from other components at each scrape (contract §8).
    void register_scraped_metrics() {
        metrics.gauge_from("wagate_build_info", "The running version", {{"version", WAGATE_VERSION}}, [] { return 1.0; });
        const double started = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
        metrics.gauge_from("wagate_process_start_time_seconds", "Unix time the process started", {},
                           [started] { return started; });
        metrics.gauge_from("wagate_db_pool_connections", "PostgreSQL connections of this instance's pool",
                           {{"state", "in_use"}}, [this] { return static_cast<double>(pool->stats().in_use); });
        metrics.gauge_from("wagate_db_pool_size", "Connections the pool may hold", {},
                           [this] { return static_cast<double>(pool->stats().size); });
        const auto listener = [this](const char* name, bool admin) {
            auto server_of = [this, admin]() -> const http::Server* { return admin ? admin_server.get() : server.get(); };
            metrics.gauge_from("wagate_http_connections_open", "Client connections open now", {{"listener", name}},
                               [server_of] { return server_of() ? static_cast<double>(server_of()->open_connections()) : 0.0; });
            metrics.counter_from("wagate_http_connections_accepted_total",
                                 "Client connections accepted (refused ones over the cap included)", {{"listener", name}},
                                 [server_of] { return server_of() ? static_cast<double>(server_of()->accepted_connections()) : 0.0; });
        };
        listener("public", false);
        if (!config.admin_listen.empty()) {
            listener("admin", true);
        }
        using RelayField = std::uint64_t relay::RelayStats::*;
        for (const auto& [outcome, field] : {std::pair<const char*, RelayField>{"accepted", &relay::RelayStats::accepted},
                                             {"retried", &relay::RelayStats::retried},
                                             {"failed", &relay::RelayStats::failed},
                                             {"expired", &relay::RelayStats::expired},
                                             {"released", &relay::RelayStats::released}}) {
            metrics.counter_from("wagate_relay_sends_total",
                                 "Messages the relay finished, by outcome: accepted by Meta, retried later, failed "
                                 "(refused or expired after an attempt), expired before one, released at shutdown",
                                 {{"outcome", outcome}},
                                 [this, f = field] { return relay ? static_cast<double>(relay->stats().*f) : 0.0; });
        }
        metrics.gauge_from("wagate_relay_in_flight", "Messages claimed by this instance's relay and not finished", {},
                           [this] { return relay ? static_cast<double>(relay->stats().scheduled) : 0.0; });
        using DeliveryField = std::uint64_t delivery::DeliveryStats::*;
        for (const auto& [result, field] : {std::pair<const char*, DeliveryField>{"delivered", &delivery::DeliveryStats::delivered},
                                            {"failed", &delivery::DeliveryStats::failed},
                                            {"dead", &delivery::DeliveryStats::dead},
                                            {"released", &delivery::DeliveryStats::released}}) {
            metrics.counter_from("wagate_event_deliveries_total",
                                 "Event delivery attempts finished by this instance, by result: delivered (2xx), failed "
                                 "(retried later), dead (given up), released at shutdown",
                                 {{"result", result}},
                                 [this, f = field] { return deliverer ? static_cast<double>(deliverer->stats().*f) : 0.0; });
        }
        metrics.gauge_from("wagate_event_deliveries_in_flight", "Events claimed by this instance and not finished", {},
                           [this] { return deliverer ? static_cast<double>(deliverer->stats().held) : 0.0; });
    }

    void record_request(const http::RequestRecord& r) {
        request_metrics.record(r);
        log_request(r);
    }

    /// Tier reviews (auto-upgrades, flagged downgrades) every maintenance_interval_ms.
    asio::awaitable<void> review_tiers_periodically() {
        asio::steady_timer timer(ioc);
        for (;;) {
            timer.expires_after(milliseconds(config.maintenance_interval_ms));
            co_await timer.async_wait(asio::use_awaitable);
            auto reviewed = co_await limits->review_tiers(clock->now());
            if (!reviewed) {
                spdlog::warn("tier review failed: {}", reviewed.error().message);
            }
        }
    }
};

Gateway::Gateway(Config config, std::shared_ptr<const Clock> clock)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(clock))) {}

Gateway::~Gateway() { stop(); }

Result<void> Gateway::start() {
    Impl& s = *impl_;
    const Config& c = s.config;
    bool schema_ready = false;
    if (c.auto_migrate) {
        if (auto migrated = migrate_with_patience(c.database_url, std::chrono::seconds(30)); !migrated) {
            return migrated.error();
        }
        schema_ready = true;
    } else if (auto pending = pg::pending_migrations(c.database_url, pg::embedded_migrations()); pending) {
        schema_ready = *pending == 0;
        if (!schema_ready) {
            spdlog::warn("{} migrations pending and WAGATE_AUTO_MIGRATE is off: /readyz fails until "
                         "`wagate migrate` runs",
                         *pending);
        }
    }

    pg::PoolSettings pool_settings;
    pool_settings.connection.conninfo = c.database_url;
    pool_settings.connection.statement_timeout = milliseconds(c.statement_timeout_ms);
    pool_settings.size = static_cast<std::size_t>(c.db_pool);
    s.pool = std::make_unique<pg::Pool>(s.ioc.get_executor(), pool_settings);
    s.tenants = std::make_unique<store::TenantStore>(*s.pool);
    s.contacts = std::make_unique<store::ContactStore>(*s.pool);
    s.templates = std::make_unique<store::TemplateStore>(*s.pool);
    s.messages = std::make_unique<store::MessageStore>(*s.pool);
    s.limits = std::make_unique<store::LimitStore>(*s.pool);
    store::AcceptWriterSettings writer_settings;
    writer_settings.max_batch = static_cast<std::size_t>(c.commit_batch_max);
    writer_settings.max_writers = static_cast<std::size_t>(c.commit_writers);
    writer_settings.statement_timeout = milliseconds(c.statement_timeout_ms);
    writer_settings.admission.pass_unknown_templates = c.unknown_templates == "pass";
    writer_settings.admission.pair_queue_cap = c.pair_queue_cap;
    writer_settings.ttls.standard = std::chrono::seconds(c.ttl_default_s);
    writer_settings.ttls.authentication = std::chrono::seconds(c.ttl_authentication_s);
    writer_settings.ttls.utility = std::chrono::seconds(c.ttl_utility_s);
    writer_settings.ttls.marketing = std::chrono::seconds(c.ttl_marketing_s);
    writer_settings.on_stored = [&s] {
        if (s.relay) {
            s.relay->notify();
        }
    };
    s.writer = std::make_unique<store::AcceptWriter>(s.ioc.get_executor(), *s.pool, writer_settings, *s.clock);

    s.webhook_inbox = std::make_unique<store::WebhookInbox>(s.ioc.get_executor(), *s.pool, s.webhook_settings());
    if (c.webhook_processing) {
        s.webhook_processor = std::make_unique<store::WebhookProcessor>(s.ioc.get_executor(), *s.pool,
                                                                        s.webhook_settings(), *s.clock);
    }

    s.event_store = std::make_unique<store::EventStore>(s.ioc.get_executor(), *s.pool);
    s.backlogs = std::make_unique<store::BacklogStore>(*s.pool);
    if (c.event_delivery) {
        s.deliverer = std::make_unique<delivery::Deliverer>(s.ioc.get_executor(), *s.event_store,
                                                            s.delivery_settings());
    }
    if (c.relay) {
        s.relay_store = std::make_unique<store::RelayStore>(s.ioc.get_executor(), *s.pool, store::RelayStoreSettings{});
        s.relay = std::make_unique<wagate::relay::Relay>(s.ioc.get_executor(), *s.relay_store, s.relay_settings());
    }

    api::ApiSettings api_settings;
    api_settings.validation.max_contacts = static_cast<std::size_t>(c.max_contacts);
    api_settings.validation.max_json_depth = static_cast<std::size_t>(c.json_max_depth);
    api_settings.max_send_body_bytes = c.max_body_bytes;
    api_settings.auth_cache_ttl = milliseconds(c.auth_cache_ttl_ms);
    api_settings.key_rate_limit = c.key_rate_limit;
    api_settings.admin_token = c.admin_token;
    api_settings.meta_app_secrets = c.meta_app_secrets;
    api_settings.meta_verify_token = c.meta_verify_token;
    api_settings.max_webhook_body_bytes = c.webhook_max_body_bytes;
    s.api = std::make_unique<api::Api>(
        api_settings, api::ApiDependencies{*s.pool, *s.tenants, *s.contacts, *s.templates, *s.messages, *s.limits,
                                     *s.writer, *s.event_store, *s.backlogs, s.metrics, *s.clock, s.webhook_inbox.get(), s.webhook_processor.get()});
    s.api->set_schema_ready(schema_ready);
    const bool separate_admin = !c.admin_listen.empty();
    s.api->register_routes(s.public_routes, separate_admin ? s.admin_routes : s.public_routes);

    s.register_scraped_metrics();
    const auto on_request = [&s](const http::RequestRecord& r) { s.record_request(r); };
    s.server = std::make_unique<http::Server>(s.ioc.get_executor(), s.server_settings(c.listen), s.public_routes,
                                              api::render_server_error, on_request);
    if (auto started = s.server->start(); !started) {
        return started.error();
    }
    if (separate_admin) {
        s.admin_server = std::make_unique<http::Server>(s.ioc.get_executor(), s.server_settings(c.admin_listen),
                                                        s.admin_routes, api::render_server_error, on_request);
        if (auto started = s.admin_server->start(); !started) {
            return started.error();
        }
    }
    // Retention: idempotency keys; processed webhook bodies, parked statuses never attached and
    // quarantined bodies; pair-pacing rows whose time has passed; finished events. And events
    // past the give-up age are declared dead.
    const milliseconds hour = std::chrono::hours(1);
    const std::chrono::hours idempotency_retention(c.idempotency_retention_hours);
    s.every("idempotency expiry", hour,
            [&s, idempotency_retention] { return s.messages->expire_idempotency(idempotency_retention); });
    if (s.webhook_processor) {
        asio::co_spawn(s.ioc, s.webhook_processor->run_sweeps(), asio::detached);
        const std::chrono::hours webhook_retention(c.webhook_retention_hours);
        s.every("webhook retention", hour,
                [&s, webhook_retention] { return s.webhook_processor->prune(webhook_retention); });
    }
    const std::chrono::hours event_retention(c.event_retention_hours);
    s.every("event retention", hour, [&s, event_retention] { return s.event_store->prune(event_retention); });
    const std::chrono::seconds event_max_age(c.event_max_age_s);
    s.every("event give-up", std::min<milliseconds>(hour, event_max_age / 10),
            [&s, event_max_age] { return s.event_store->expire(event_max_age); });
    if (s.deliverer) {
        s.deliverer->start();
    }
    if (c.pair_queue_cap > 0) {
        asio::co_spawn(s.ioc, s.ensure_pair_backlog_index(), asio::detached);
    }
    if (s.relay) {
        s.relay->start();
        s.every("pair pacing pruning", hour, [&s] { return s.relay_store->prune_pair_pacing(); });
    }
    if (c.maintenance_interval_ms > 0) {
        asio::co_spawn(s.ioc, s.review_tiers_periodically(), asio::detached);
    }
    for (int i = 0; i < c.threads; ++i) {
        s.threads.emplace_back([&s] { s.ioc.run(); });
    }
    spdlog::info("wagate listening on {} (port {}){}", c.listen, s.server->port(),
                 separate_admin ? ", admin on " + c.admin_listen : "");
    return {};
}

Result<int> Gateway::run_maintenance() {
    Impl& s = *impl_;
    if (!s.limits) {
        return Error{Errc::kInternal, "the gateway is not started"};
    }
    return s.block_on(s.limits->review_tiers(s.clock->now()));
}

Result<void> Gateway::drain_webhooks() { return impl_->drain_webhooks(true); }

relay::RelayStats Gateway::relay_stats() const {
    return impl_->relay ? impl_->relay->stats() : relay::RelayStats{};
}

delivery::DeliveryStats Gateway::delivery_stats() const {
    return impl_->deliverer ? impl_->deliverer->stats() : delivery::DeliveryStats{};
}

std::vector<Gateway::RouteInfo> Gateway::routes() const {
    std::vector<RouteInfo> all;
    const bool separate_admin = !impl_->config.admin_listen.empty();
    for (const auto& r : impl_->public_routes.routes()) {
        all.push_back({r.method, r.pattern, false});
    }
    if (separate_admin) {
        for (const auto& r : impl_->admin_routes.routes()) {
            all.push_back({r.method, r.pattern, true});
        }
    }
    return all;
}

unsigned short Gateway::port() const noexcept { return impl_->server ? impl_->server->port() : 0; }

unsigned short Gateway::admin_port() const noexcept {
    return impl_->admin_server ? impl_->admin_server->port() : port();
}

void Gateway::stop() {
    Impl& s = *impl_;
    std::lock_guard lock(s.stop_mutex);
    if (s.stopped) {
        return;
    }
    s.stopped = true;
    const milliseconds grace(s.config.shutdown_grace_ms);
    std::vector<std::future<void>> drained;
    for (auto* server : {s.server.get(), s.admin_server.get()}) {
        if (server) {
            auto done = std::make_shared<std::promise<void>>();
            drained.push_back(done->get_future());
            server->stop(grace, [done] { done->set_value(); });
        }
    }
    // The grace timer forces sessions closed after `grace`, so this wait is bounded.
    for (auto& f : drained) {
        f.wait_for(grace + std::chrono::seconds(2));
    }
    // Sends in flight finish and are recorded; claimed messages not yet sent are given back.
    if (s.relay && !s.threads.empty()) {
        auto relay_drained = s.block_on(
            [](relay::Relay& r, milliseconds g) -> asio::awaitable<Result<bool>> {
                co_await r.drain(g);
                co_return true;
            }(*s.relay, grace),
            grace + std::chrono::seconds(2));
        if (!relay_drained) {
            spdlog::warn("relay did not stop in time: {}", relay_drained.error().message);
        }
    }
    // Deliveries in flight are answered and recorded; an unrecorded one is delivered again by
    // whoever claims it after the lease.
    if (s.deliverer && !s.threads.empty()) {
        auto delivery_drained = s.block_on(
            [](delivery::Deliverer& d, milliseconds g) -> asio::awaitable<Result<bool>> {
                co_await d.drain(g);
                co_return true;
            }(*s.deliverer, grace),
            grace + std::chrono::seconds(2));
        if (!delivery_drained) {
            spdlog::warn("event delivery did not stop in time: {}", delivery_drained.error().message);
        }
    }
    // Webhooks acknowledged but not yet applied are safe in the database either way; applying
    // them now only saves the next instance the lease wait.
    if (s.webhook_processor && !s.threads.empty()) {
        if (auto drained_webhooks = s.drain_webhooks(false); !drained_webhooks) {
            spdlog::warn("stopping with webhooks still pending: {}", drained_webhooks.error().message);
        }
    }
    s.work.reset();
    s.ioc.stop();
    for (auto& t : s.threads) {
        t.join();
    }
    s.threads.clear();
    spdlog::info("wagate stopped");
}

void Gateway::run_until_signal() {
    Impl& s = *impl_;
    asio::signal_set signals(s.ioc, SIGINT, SIGTERM);
    std::promise<int> received;
    signals.async_wait([&received](const boost::system::error_code& ec, int signal) {
        received.set_value(ec ? 0 : signal);
    });
    const int signal = received.get_future().get();
    spdlog::info("signal {} received: stopping", signal);
    stop();
}

}  // namespace wagate::app
