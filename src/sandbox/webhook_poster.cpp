#include "sandbox/webhook_poster.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>
#include <wagate/crypto/digest.hpp>
#include <wagate/http/client.hpp>

namespace wagate::sandbox {
namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

/// One webhook ready to go: the exact bytes and their signature.
struct Outgoing {
    std::string body;
    std::string signature;
    milliseconds post_after{0};
    int copies = 1;
};

bool is_2xx(int status) { return status >= 200 && status < 300; }

}  // namespace

struct PosterState {
    asio::any_io_executor executor;
    PosterSettings settings;
    http::Client client;
    std::atomic<bool> stopping{false};
    std::atomic<std::uint64_t> posted{0};
    std::atomic<std::uint64_t> pending{0};
    std::atomic<std::uint64_t> failed_attempts{0};
    std::atomic<std::uint64_t> dropped{0};
    std::atomic<std::uint64_t> given_up{0};
    std::atomic<std::int64_t> last_warning_ms{0};

    PosterState(asio::any_io_executor ex, PosterSettings s)
        : executor(ex), settings(std::move(s)), client(ex, client_settings()) {}

    static http::ClientSettings client_settings() {
        http::ClientSettings c;
        c.allow_plain_http = true;  // the gateway usually listens on plain HTTP on loopback
        return c;
    }

    std::string sign(const std::string& body) const {
        return "sha256=" + crypto::to_hex(crypto::hmac_sha256(settings.secret, body));
    }

    http::ClientRequest request_for(const std::string& body, const std::string& signature) const {
        http::ClientRequest r;
        r.method = "POST";
        r.url = settings.url;
        r.headers.push_back({"Content-Type", "application/json"});
        r.headers.push_back({"X-Hub-Signature-256", signature});
        r.headers.push_back({"User-Agent", "facebookexternalua"});
        r.body = body;
        return r;
    }

    /// A gateway that is down makes every pending webhook fail; one line every 5 s says so.
    bool may_warn() {
        const auto since_epoch = steady_clock::now().time_since_epoch();
        const std::int64_t now = std::chrono::duration_cast<milliseconds>(since_epoch).count();
        std::int64_t last = last_warning_ms.load();
        return now - last >= 5'000 && last_warning_ms.compare_exchange_strong(last, now);
    }

    void report_failure(const Result<http::ClientResponse>& response) {
        ++failed_attempts;
        if (!may_warn()) {
            return;
        }
        if (!response) {
            spdlog::warn("sandbox: posting a webhook to {} failed ({}); retrying with backoff", settings.url,
                         response.error().message);
        } else if (response->status == 401 || response->status == 403) {
            spdlog::warn("sandbox: the gateway refused a webhook with {}: is WAGATE_META_APP_SECRETS the same "
                         "for both?",
                         response->status);
        } else {
            spdlog::warn("sandbox: the gateway answered a webhook with {}; retrying with backoff", response->status);
        }
    }
};

namespace {

/// Posts one body until the gateway answers 2xx, or until give_up_after has passed.
asio::awaitable<void> post_until_acknowledged(std::shared_ptr<PosterState> s, const Outgoing& out,
                                              asio::steady_timer& timer) {
    const auto started = steady_clock::now();
    for (int failures = 0;;) {
        http::ClientRequest request = s->request_for(out.body, out.signature);
        Result<http::ClientResponse> response = co_await s->client.send(std::move(request));
        if (response && is_2xx(response->status)) {
            ++s->posted;
            co_return;
        }
        ++failures;
        s->report_failure(response);
        const auto elapsed = steady_clock::now() - started;
        if (elapsed >= s->settings.give_up_after) {
            ++s->given_up;
            spdlog::error("sandbox: gave up on a webhook to {} after {} attempts in {} ms", s->settings.url, failures,
                          std::chrono::duration_cast<milliseconds>(elapsed).count());
            co_return;
        }
        timer.expires_after(retry_delay(failures, s->settings.retry_initial, s->settings.retry_max));
        co_await timer.async_wait(kUseTuple);  // nothing cancels it; stop() is seen below
        if (s->stopping) {
            co_return;
        }
    }
}

/// One message's webhooks, in their planned order: a webhook still being retried holds back the
/// ones after it, so statuses that are not meant to be reordered never are.
asio::awaitable<void> deliver(std::shared_ptr<PosterState> s, std::vector<Outgoing> plan,
                              steady_clock::time_point base) {
    asio::steady_timer timer(s->executor);
    for (const Outgoing& out : plan) {
        timer.expires_at(base + out.post_after);
        co_await timer.async_wait(kUseTuple);
        for (int copy = 0; copy < out.copies; ++copy) {
            if (!s->stopping) {
                co_await post_until_acknowledged(s, out, timer);
            }
            --s->pending;
        }
    }
}

}  // namespace

WebhookPoster::WebhookPoster(asio::any_io_executor executor, PosterSettings settings)
    : state_(std::make_shared<PosterState>(executor, std::move(settings))) {}

WebhookPoster::~WebhookPoster() { stop(); }

bool WebhookPoster::enqueue(const std::string& phone_number_id, const std::vector<PlannedStatus>& plan) {
    if (plan.empty()) {
        return true;
    }
    std::uint64_t webhooks = 0;
    for (const auto& p : plan) {
        webhooks += static_cast<std::uint64_t>(p.copies);
    }
    PosterState& s = *state_;
    // Reserve the room first, so that concurrent sends cannot overfill the queue together.
    std::uint64_t pending = s.pending.load();
    do {
        if (pending + webhooks > s.settings.max_pending) {
            s.dropped += webhooks;
            if (s.may_warn()) {
                spdlog::warn("sandbox: {} webhooks pending (the most kept); dropping new ones ({} dropped so far)",
                             pending, s.dropped.load());
            }
            return false;
        }
    } while (!s.pending.compare_exchange_weak(pending, pending + webhooks));

    std::vector<Outgoing> outgoing;
    outgoing.reserve(plan.size());
    for (const auto& p : plan) {
        Outgoing out;
        out.body = status_webhook_body(phone_number_id, p.item);
        out.signature = s.sign(out.body);
        out.post_after = p.post_after;
        out.copies = p.copies;
        outgoing.push_back(std::move(out));
    }
    asio::co_spawn(s.executor, deliver(state_, std::move(outgoing), steady_clock::now()), asio::detached);
    return true;
}

asio::awaitable<Result<int>> WebhookPoster::post_once(std::string body) {
    auto s = state_;
    const std::string signature = s->sign(body);
    http::ClientRequest request = s->request_for(body, signature);
    Result<http::ClientResponse> response = co_await s->client.send(std::move(request));
    if (!response) {
        co_return response.error();
    }
    co_return response->status;
}

PosterCounts WebhookPoster::counts() const noexcept {
    const PosterState& s = *state_;
    return {s.posted.load(), s.pending.load(), s.failed_attempts.load(), s.dropped.load(), s.given_up.load()};
}

void WebhookPoster::stop() noexcept { state_->stopping = true; }

}  // namespace wagate::sandbox
