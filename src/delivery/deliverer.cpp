#include <wagate/delivery/deliverer.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <random>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>
#include <wagate/crypto/digest.hpp>
#include <wagate/domain/events.hpp>
#include <wagate/store/work_loop.hpp>

namespace wagate::delivery {
namespace asio = boost::asio;
using std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

struct Deliverer::Impl : std::enable_shared_from_this<Deliverer::Impl> {
    asio::any_io_executor executor;
    asio::strand<asio::any_io_executor> loop_strand;
    store::EventStore& store;
    DeliverySettings settings;
    http::Client client;
    store::Wakeup wakeup;  // the claim loop's idle wait

    std::atomic<bool> stopping{false};
    std::atomic<std::uint64_t> delivered{0}, failed{0}, dead{0}, released{0}, held{0};

    std::mutex mutex;                            // guards per_url and rng
    std::map<std::string, std::size_t> per_url;  // events held per callback URL
    std::mt19937_64 rng{std::random_device{}()};

    Impl(asio::any_io_executor ex, store::EventStore& s, DeliverySettings ds)
        : executor(ex),
          loop_strand(asio::make_strand(ex)),
          store(s),
          settings(std::move(ds)),
          client(ex, client_settings(settings)),
          wakeup(loop_strand) {}

    static http::ClientSettings client_settings(const DeliverySettings& s) {
        http::ClientSettings c = s.client;
        // The claim never holds more than `per_url` events of a URL, so no delivery waits in
        // the client for a connection (which would count against its request timeout).
        c.max_connections_per_host = std::max<std::size_t>(c.max_connections_per_host, s.per_url);
        return c;
    }

    void notify() { wakeup.notify(); }

    asio::awaitable<void> idle(milliseconds timeout) { co_await wakeup.idle(timeout); }

    /// The URLs this instance holds events for, with the room each has left.
    std::vector<std::pair<std::string, std::size_t>> busy_urls() {
        std::lock_guard lock(mutex);
        std::vector<std::pair<std::string, std::size_t>> out;
        for (const auto& [url, n] : per_url) {
            out.emplace_back(url, n >= settings.per_url ? 0 : settings.per_url - n);
        }
        return out;
    }

    void hold(const std::string& url) {
        std::lock_guard lock(mutex);
        ++per_url[url];
    }

    void let_go(const std::string& url) {
        std::lock_guard lock(mutex);
        auto it = per_url.find(url);
        if (it != per_url.end() && --it->second == 0) {
            per_url.erase(it);
        }
    }

    double jitter() {
        std::lock_guard lock(mutex);
        return std::uniform_real_distribution<double>(0, 1)(rng);
    }

    asio::awaitable<void> claim_loop() {
        auto self = shared_from_this();
        milliseconds backoff{100};
        while (!stopping.load()) {
            const std::uint64_t holding = held.load();
            if (holding >= settings.max_held) {
                co_await idle(settings.poll_interval);
                continue;
            }
            store::EventClaimSettings cs = settings.claim;
            cs.per_url = settings.per_url;
            cs.limit = std::min<std::size_t>(cs.limit, settings.max_held - holding);
            cs.busy_urls = busy_urls();
            const SteadyTime claim_started = std::chrono::steady_clock::now();
            auto claimed = co_await store.claim(cs);
            if (!claimed) {
                spdlog::warn("events: claiming failed, retrying in {} ms: {}", backoff.count(),
                             claimed.error().message);
                co_await idle(backoff);
                backoff = std::min(backoff * 2, milliseconds(5'000));
                continue;
            }
            backoff = milliseconds(100);
            for (auto& e : *claimed) {
                held.fetch_add(1);
                hold(e.url);
                asio::co_spawn(asio::make_strand(executor), deliver_one(std::move(e), claim_started), asio::detached);
            }
            if (claimed->size() >= cs.limit) {
                continue;  // more may be due right now
            }
            co_await idle(settings.poll_interval);
        }
    }

    asio::awaitable<void> deliver_one(store::ClaimedEvent e, SteadyTime claimed_at) {
        auto self = shared_from_this();
        store::EventResult result;
        result.kind = store::EventResult::Kind::kRelease;
        result.id = e.id;
        result.attempt = e.attempt;
        result.url = e.url;
        // A delivery that could outlive the claim's lease is given back: another instance could
        // take the event over while this one still sends it.
        const auto worst = settings.client.connect_timeout + settings.client.request_timeout;
        if (!stopping.load() && std::chrono::steady_clock::now() + worst < claimed_at + settings.claim.lease) {
            result = co_await attempt(e);
        }
        co_await record(std::move(result));
        let_go(e.url);
        held.fetch_sub(1);
        // Every finished delivery frees room (its URL's, and maybe its message's next event):
        // the claim loop looks again at once. Notifications coalesce, so under load claims run
        // back to back, each taking whatever room has freed meanwhile.
        notify();
    }

    /// One POST of `e`, and what it came to.
    asio::awaitable<store::EventResult> attempt(const store::ClaimedEvent& e) {
        store::EventResult result;
        result.id = e.id;
        result.attempt = e.attempt;
        result.url = e.url;
        auto body = domain::events::delivery_body(e.payload_json);
        if (!body) {
            // Cannot happen for a payload PostgreSQL stored as jsonb; kept visible if it does.
            co_return failure(e, "the stored payload is not JSON");
        }
        http::ClientRequest request;
        request.method = "POST";
        request.url = e.url;
        request.headers.push_back(http::Header{"Content-Type", "application/json"});
        request.headers.push_back(
            http::Header{"X-Hub-Signature-256", "sha256=" + crypto::to_hex(crypto::hmac_sha256(e.secret, *body))});
        request.body = std::move(*body);
        auto response = co_await client.send(std::move(request));
        if (response && domain::events::acknowledges(response->status)) {
            result.kind = store::EventResult::Kind::kDelivered;
            co_return result;
        }
        co_return failure(e, response ? "HTTP " + std::to_string(response->status) : response.error().message);
    }

    /// Not acknowledged: the event retries after its back-off (or is dead past the give-up age),
    /// and its URL waits before the next probe, so a backend that is down is not hammered.
    store::EventResult failure(const store::ClaimedEvent& e, std::string error) {
        const auto now = std::chrono::system_clock::now();
        store::EventResult result;
        result.kind = store::EventResult::Kind::kFailed;
        result.id = e.id;
        result.attempt = e.attempt;
        result.url = e.url;
        result.error = std::move(error);
        result.retry_at = now + domain::relay::retry_delay(e.attempt, false, jitter(), settings.retry);
        result.dead = result.retry_at >= e.age_from + settings.max_age;
        result.endpoint_failures = e.endpoint_failures + 1;
        result.endpoint_retry_at = now + domain::relay::retry_delay(result.endpoint_failures, false, jitter(),
                                                                    settings.retry);
        spdlog::info("events: {} to number {} not acknowledged (attempt {}): {}{}", e.id, e.phone_number_id,
                     e.attempt, result.error, result.dead ? "; dead" : "");
        return result;
    }

    /// Records `result`, retrying while the database is unreachable: an acknowledgement not
    /// recorded before the lease lapses means the event is delivered again.
    asio::awaitable<void> record(store::EventResult result) {
        const std::int64_t id = result.id;
        // Named, not temporaries in the co_await expression (docs/adr/0002).
        auto record_once = [this, &result] { return store.record(result); };
        auto log_retry = [id](const Error& e) { spdlog::warn("events: recording {} failed, retrying: {}", id, e.message); };
        auto recorded = co_await store::record_patiently(record_once, log_retry, settings.claim.lease);
        if (!recorded) {
            spdlog::error("events: the result of {} could not be recorded: {}", id, recorded.error().message);
            co_return;
        }
        switch (result.kind) {
            case store::EventResult::Kind::kDelivered: delivered.fetch_add(1); break;
            case store::EventResult::Kind::kFailed:
                failed.fetch_add(1);
                dead.fetch_add(result.dead ? 1 : 0);
                break;
            case store::EventResult::Kind::kRelease: released.fetch_add(1); break;
        }
    }

    asio::awaitable<void> drain(milliseconds grace) {
        stopping.store(true);
        notify();
        const SteadyTime deadline = std::chrono::steady_clock::now() + grace;
        asio::steady_timer timer(executor);
        while (held.load() > 0 && std::chrono::steady_clock::now() < deadline) {
            timer.expires_after(milliseconds(10));
            co_await store::wait_quietly(timer);
        }
        if (held.load() > 0) {
            spdlog::warn("events: stopping with {} deliveries unrecorded; their claims lapse after {} ms", held.load(),
                         settings.claim.lease.count());
        }
        client.close_idle();
    }
};

Deliverer::Deliverer(asio::any_io_executor executor, store::EventStore& store, DeliverySettings settings)
    : impl_(std::make_shared<Impl>(std::move(executor), store, std::move(settings))) {}

Deliverer::~Deliverer() = default;

void Deliverer::start() { asio::co_spawn(impl_->loop_strand, impl_->claim_loop(), asio::detached); }

void Deliverer::notify() noexcept { impl_->notify(); }

asio::awaitable<void> Deliverer::drain(milliseconds grace) {
    auto self = impl_;
    co_await self->drain(grace);
}

DeliveryStats Deliverer::stats() const noexcept {
    const Impl& s = *impl_;
    return DeliveryStats{s.delivered.load(), s.failed.load(), s.dead.load(), s.released.load(), s.held.load()};
}

}  // namespace wagate::delivery
