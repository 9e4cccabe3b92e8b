#include <wagate/relay/relay.hpp>

#include <atomic>
#include <mutex>
#include <random>
#include <set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>
#include <wagate/metrics/registry.hpp>
#include <wagate/store/work_loop.hpp>

namespace wagate::relay {
namespace asio = boost::asio;
namespace rules = domain::relay;
using std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;
using SendSlots = asio::experimental::concurrent_channel<void(boost::system::error_code)>;

using store::wait_quietly;

struct Relay::Impl : std::enable_shared_from_this<Relay::Impl> {
    asio::any_io_executor executor;
    asio::strand<asio::any_io_executor> loop_strand;
    store::RelayStore& store;
    RelaySettings settings;
    std::string messages_url_prefix;  // "{upstream}/{version}/"
    http::Client client;
    store::Wakeup wakeup;  // the claim loop's idle wait
    /// Permits for sends in flight (`concurrency`): a receive takes one, a send gives it back.
    /// The relay waits here rather than in the client, so that waiting for a turn never counts
    /// against a message as a failed attempt.
    SendSlots send_slots;

    std::atomic<bool> stopping{false};
    std::atomic<std::uint64_t> accepted{0}, retried{0}, failed{0}, expired{0}, released{0}, scheduled{0};

    std::mutex mutex;  // guards waiting and rng
    std::set<std::shared_ptr<asio::steady_timer>> waiting;  // sends waiting for their paced time
    std::mt19937_64 rng{std::random_device{}()};
    metrics::Histogram* upstream_latency = nullptr;  // when settings.metrics is set

    Impl(asio::any_io_executor ex, store::RelayStore& s, RelaySettings rs)
        : executor(ex),
          loop_strand(asio::make_strand(ex)),
          store(s),
          settings(std::move(rs)),
          messages_url_prefix(settings.upstream_url + "/" + settings.upstream_version + "/"),
          client(ex, client_settings(settings)),
          wakeup(loop_strand),
          send_slots(ex, settings.concurrency) {
        for (std::size_t i = 0; i < settings.concurrency; ++i) {
            send_slots.try_send(boost::system::error_code{});
        }
        if (settings.metrics != nullptr) {
            upstream_latency = &settings.metrics->histogram(
                "wagate_upstream_request_duration_seconds", "Time from sending a message to Meta to reading its answer");
        }
    }

    static http::ClientSettings client_settings(const RelaySettings& s) {
        http::ClientSettings c = s.client;
        // The relay admits `concurrency` sends at a time itself; the client never makes one wait.
        c.max_connections_per_host = s.concurrency;
        return c;
    }

    void notify() { wakeup.notify(); }

    asio::awaitable<void> idle(milliseconds timeout) { co_await wakeup.idle(timeout); }

    asio::awaitable<void> claim_loop() {
        auto self = shared_from_this();
        milliseconds backoff{100};
        while (!stopping.load()) {
            const std::uint64_t held = scheduled.load();
            if (held >= settings.max_scheduled) {
                co_await idle(settings.poll_interval);
                continue;
            }
            store::ClaimSettings cs = settings.claim;
            cs.limit = std::min<std::size_t>(cs.limit, settings.max_scheduled - held);
            // The lease is counted from before the claim (never later than the database's own
            // start of it); the paced times from after it (never early).
            const SteadyTime claim_started = std::chrono::steady_clock::now();
            auto claim = co_await store.claim(cs);
            if (!claim) {
                spdlog::warn("relay: claiming failed, retrying in {} ms: {}", backoff.count(), claim.error().message);
                co_await idle(backoff);
                backoff = std::min(backoff * 2, milliseconds(5'000));
                continue;
            }
            backoff = milliseconds(100);
            const SteadyTime claimed_at = std::chrono::steady_clock::now();
            expired.fetch_add(claim->expired);
            for (auto& m : claim->messages) {
                const auto delay = std::chrono::duration_cast<std::chrono::steady_clock::duration>(m.send_at - claim->now);
                scheduled.fetch_add(1);
                asio::co_spawn(asio::make_strand(executor), send_one(std::move(m), claim_started, claimed_at + delay),
                               asio::detached);
            }
            if (claim->read() >= cs.limit) {
                continue;  // more may be due right now
            }
            co_await idle(settings.poll_interval);
        }
    }

    /// Whether a send starting now could still be answered within the claim's lease. A claim
    /// that would lapse mid-send could be taken over by another instance while this one still
    /// sends: the message is given back instead.
    bool lease_covers_a_send(SteadyTime claimed_at) const {
        const auto worst_send = settings.client.connect_timeout + settings.client.request_timeout;
        return std::chrono::steady_clock::now() + worst_send < claimed_at + settings.claim.lease;
    }

    asio::awaitable<void> send_one(store::ClaimedMessage m, SteadyTime claimed_at, SteadyTime at) {
        auto self = shared_from_this();
        auto timer = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor, at);
        {
            std::lock_guard lock(mutex);
            waiting.insert(timer);
        }
        if (!stopping.load()) {
            co_await wait_quietly(*timer);
        }
        {
            std::lock_guard lock(mutex);
            waiting.erase(timer);
        }
        store::RelayResult result;
        result.kind = store::RelayResult::Kind::kRelease;
        result.id = m.id;
        result.attempt = m.attempt;
        if (!stopping.load()) {
            auto [ec] = co_await send_slots.async_receive(asio::as_tuple(asio::use_awaitable));
            if (!ec) {
                if (!stopping.load() && lease_covers_a_send(claimed_at)) {
                    result = co_await attempt(m);
                }
                send_slots.try_send(boost::system::error_code{});
            }
        }
        co_await record(std::move(result), m);
        const bool was_full = scheduled.fetch_sub(1) >= settings.max_scheduled;
        if (was_full) {
            notify();
        }
    }

    /// One send of `m`, and what it came to.
    asio::awaitable<store::RelayResult> attempt(const store::ClaimedMessage& m) {
        std::string payload = m.payload_json;
        auto references = rules::referenced_gateway_ids(payload);
        if (!references.empty()) {
            auto found = co_await store.references(references);
            if (!found) {
                co_return retry_or_expire(m, rules::classify_network_failure("database: " + found.error().message));
            }
            std::map<std::string, std::string> wamids;
            for (const auto& [id, ref] : *found) {
                if (ref.queued) {
                    co_return retry_or_expire(m, waiting_for_reference(id));
                }
                if (ref.wamid) {
                    wamids.emplace(id, *ref.wamid);
                }
            }
            payload = rules::replace_references(payload, wamids);
        }
        http::ClientRequest request;
        request.method = "POST";
        request.url = messages_url_prefix + m.phone_number_id + "/messages";
        request.headers.push_back(http::Header{"Authorization", "Bearer " + m.access_token});
        request.headers.push_back(http::Header{"Content-Type", "application/json"});
        request.body = std::move(payload);
        const auto started = std::chrono::steady_clock::now();
        auto response = co_await client.send(std::move(request));
        const rules::Outcome outcome = response
                                           ? rules::classify_response(response->status, response->body, !m.mark_read)
                                           : rules::classify_network_failure(response.error().message);
        count_upstream(std::chrono::steady_clock::now() - started, response.has_value(), outcome);
        store::RelayResult result;
        result.id = m.id;
        result.attempt = m.attempt;
        switch (outcome.kind) {
            case rules::OutcomeKind::kAccepted:
                result.kind = store::RelayResult::Kind::kAccepted;
                result.wamid = outcome.wamid;
                spdlog::debug("relay: {} accepted by Meta (attempt {})", m.id, m.attempt);
                co_return result;
            case rules::OutcomeKind::kPermanent:
                result.kind = store::RelayResult::Kind::kFailed;
                result.errors_json = outcome.errors_json;
                spdlog::info("relay: {} refused by Meta with code {}", m.id, outcome.code);
                co_return result;
            case rules::OutcomeKind::kTransient:
                break;
        }
        co_return retry_or_expire(m, outcome);
    }

    /// Upstream latency for every answered send, and each refusal or failure by Meta's code
    /// ("network" when there was no answer, "http" when the answer had no Graph code).
    void count_upstream(std::chrono::steady_clock::duration took, bool answered, const rules::Outcome& outcome) {
        if (settings.metrics == nullptr) {
            return;
        }
        if (answered) {
            upstream_latency->observe(std::chrono::duration<double>(took).count());
        }
        if (outcome.kind == rules::OutcomeKind::kAccepted) {
            return;
        }
        const std::string code = !answered ? "network" : outcome.code == 0 ? "http" : std::to_string(outcome.code);
        settings.metrics
            ->counter("wagate_upstream_errors_total", "Sends Meta refused or that failed, by Meta's error code",
                      {{"code", code}})
            .add();
    }

    static rules::Outcome waiting_for_reference(const std::string& id) {
        rules::Outcome o = rules::classify_network_failure("");
        o.details = "refers to message wagate." + id + ", which is not sent yet";
        o.errors_json = rules::errors_json(131000, "Something went wrong", o.details);
        return o;
    }

    /// A transient failure: the next attempt after the back-off, or failed with 900301 now if
    /// that would be past the message's time to live.
    store::RelayResult retry_or_expire(const store::ClaimedMessage& m, const rules::Outcome& outcome) {
        double jitter = 0;
        {
            std::lock_guard lock(mutex);
            jitter = std::uniform_real_distribution<double>(0, 1)(rng);
        }
        store::RelayResult result;
        result.id = m.id;
        result.attempt = m.attempt;
        result.retry_at = std::chrono::system_clock::now() +
                          rules::retry_delay(m.attempt, outcome.pair_limited, jitter, settings.retry);
        if (result.retry_at >= m.expires_at) {
            result.kind = store::RelayResult::Kind::kFailed;
            result.errors_json = rules::expired_errors_json(outcome.details);
            spdlog::info("relay: {} expired after {} attempts", m.id, m.attempt);
            return result;
        }
        result.kind = store::RelayResult::Kind::kRetry;
        result.errors_json = outcome.errors_json;
        spdlog::debug("relay: {} attempt {} failed (code {}), retrying", m.id, m.attempt, outcome.code);
        return result;
    }

    /// Records `result`, retrying while the database is unreachable: a result not recorded
    /// before the claim's lease lapses means the message is sent again by whoever claims it next.
    asio::awaitable<void> record(store::RelayResult result, const store::ClaimedMessage& m) {
        const auto kind = result.kind;
        // Named, not temporaries in the co_await expression (docs/adr/0002).
        auto record_once = [this, &result] { return store.record(result); };
        auto log_retry = [&m](const Error& e) { spdlog::warn("relay: recording {} failed, retrying: {}", m.id, e.message); };
        auto recorded = co_await store::record_patiently(record_once, log_retry, settings.claim.lease);
        if (!recorded) {
            spdlog::error("relay: the result of {} could not be recorded: {}", m.id, recorded.error().message);
            co_return;
        }
        switch (kind) {
            case store::RelayResult::Kind::kAccepted: accepted.fetch_add(1); break;
            case store::RelayResult::Kind::kRetry: retried.fetch_add(1); break;
            case store::RelayResult::Kind::kFailed: failed.fetch_add(1); break;
            case store::RelayResult::Kind::kRelease: released.fetch_add(1); break;
        }
    }

    asio::awaitable<void> drain(milliseconds grace) {
        stopping.store(true);
        notify();
        {
            std::lock_guard lock(mutex);
            for (const auto& timer : waiting) {
                asio::post(timer->get_executor(), [timer] { timer->cancel(); });
            }
        }
        const SteadyTime deadline = std::chrono::steady_clock::now() + grace;
        asio::steady_timer timer(executor);
        while (scheduled.load() > 0 && std::chrono::steady_clock::now() < deadline) {
            timer.expires_after(milliseconds(10));
            co_await wait_quietly(timer);
        }
        if (scheduled.load() > 0) {
            spdlog::warn("relay: stopping with {} sends unrecorded; their claims lapse after {} ms",
                         scheduled.load(), settings.claim.lease.count());
        }
        client.close_idle();
    }
};

Relay::Relay(asio::any_io_executor executor, store::RelayStore& store, RelaySettings settings)
    : impl_(std::make_shared<Impl>(std::move(executor), store, std::move(settings))) {}

Relay::~Relay() = default;

void Relay::start() {
    asio::co_spawn(impl_->loop_strand, impl_->claim_loop(), asio::detached);
}

void Relay::notify() noexcept { impl_->notify(); }

asio::awaitable<void> Relay::drain(milliseconds grace) {
    auto self = impl_;
    co_await self->drain(grace);
}

RelayStats Relay::stats() const noexcept {
    const Impl& s = *impl_;
    return RelayStats{s.accepted.load(), s.retried.load(), s.failed.load(),
                      s.expired.load(), s.released.load(), s.scheduled.load()};
}

}  // namespace wagate::relay
