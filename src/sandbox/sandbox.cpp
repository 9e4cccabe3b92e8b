#include <wagate/sandbox/sandbox.hpp>

#include <atomic>
#include <limits>
#include <mutex>
#include <random>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <wagate/domain/send_request.hpp>
#include <wagate/http/router.hpp>
#include <wagate/http/server.hpp>

#include "sandbox/graph_responses.hpp"
#include "sandbox/ids.hpp"
#include "sandbox/inbound_request.hpp"
#include "sandbox/ledger.hpp"
#include "sandbox/send_rules.hpp"
#include "sandbox/status_plan.hpp"
#include "sandbox/webhook_bodies.hpp"
#include "sandbox/webhook_poster.hpp"

namespace wagate::sandbox {
namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

std::int64_t unix_ms_now() {
    return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// The token of `Authorization: Bearer <token>` (scheme in any case), or empty.
std::string_view bearer_token(std::string_view header) {
    constexpr std::string_view kScheme = "bearer ";
    if (header.size() <= kScheme.size()) {
        return {};
    }
    for (std::size_t i = 0; i < kScheme.size(); ++i) {
        const char c = header[i];
        if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != kScheme[i]) {
            return {};
        }
    }
    std::string_view token = header.substr(kScheme.size());
    while (!token.empty() && token.front() == ' ') {
        token.remove_prefix(1);
    }
    while (!token.empty() && token.back() == ' ') {
        token.remove_suffix(1);
    }
    return token;
}

/// A query parameter made of digits, or `fallback` when absent; nullopt when malformed.
std::optional<std::uint64_t> digits_param(const http::Request& request, std::string_view name,
                                          std::uint64_t fallback) {
    const std::string text = request.query_param(name);
    if (text.empty()) {
        return fallback;
    }
    if (text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) {
        return std::nullopt;
    }
    return std::stoull(text);
}

std::uint64_t random_seed() {
    std::random_device device;
    // Kept below 9e18, the largest WAGATE_SANDBOX_SEED, so that the logged seed can be set again.
    const std::uint64_t seed = ((static_cast<std::uint64_t>(device()) << 32) | device()) % 9'000'000'000'000'000'000ULL;
    return seed == 0 ? 1 : seed;
}

}  // namespace

struct Sandbox::Impl {
    asio::any_io_executor executor;
    SandboxSettings settings;
    RequestLog on_request;
    http::Router router;
    std::unique_ptr<http::Server> server;
    WebhookPoster poster;
    Ledger ledger;
    std::uint64_t seed;

    std::mutex mutex;  // guards rng and first_sends
    Rng rng;
    FirstSends first_sends;

    std::atomic<std::uint64_t> accepted{0};
    std::atomic<std::uint64_t> marked_read{0};
    std::atomic<std::uint64_t> unauthorized{0};
    std::atomic<std::uint64_t> rejected_validation{0};
    std::atomic<std::uint64_t> rejected_trigger{0};
    std::atomic<std::uint64_t> throttled{0};
    std::atomic<std::uint64_t> server_errors{0};
    std::atomic<std::uint64_t> inbound_posted{0};
    std::atomic<std::uint64_t> inbound_failed{0};

    Impl(asio::any_io_executor ex, SandboxSettings s, RequestLog log)
        : executor(ex),
          settings(std::move(s)),
          on_request(std::move(log)),
          poster(ex, poster_settings(settings)),
          ledger(settings.max_recorded_messages),
          seed(settings.seed != 0 ? settings.seed : random_seed()),
          rng(seed) {}

    static PosterSettings poster_settings(const SandboxSettings& s) {
        PosterSettings p;
        p.url = s.webhook_url;
        p.secret = s.app_secret;
        p.max_pending = s.max_pending_webhooks;
        p.retry_initial = s.retry_initial;
        p.retry_max = s.retry_max;
        p.give_up_after = s.give_up_after;
        return p;
    }

    /// Everything a send gets, decided at once: authentication, Meta's validation, the trigger
    /// and fault rates, and for an accepted message its id, its record and its status webhooks.
    http::Response answer_send(const http::Request& request, const std::string& phone_number_id) {
        const std::string& rid = request.request_id;
        const std::string_view token = bearer_token(request.header("authorization"));
        if (token.empty()) {
            ++unauthorized;
            return graph_error(errors::invalid_token("Authorization: a Bearer access token is required"), rid);
        }
        if (token == "invalid") {
            ++unauthorized;
            return graph_error(errors::invalid_token("access token: \"invalid\" is the sandbox's invalid token"), rid);
        }
        auto validated = domain::validate_send_request(request.body, domain::ValidationSettings{});
        if (!validated) {
            ++rejected_validation;
            return graph_error(validated.error(), rid);
        }
        const domain::SendRequest& send = *validated;
        const FaultRates rates{settings.throttle_rate, settings.server_error_rate, settings.fail_rate};
        const PlanSettings plan_settings{settings.status_delay, settings.read, settings.duplicate_rate,
                                         settings.reorder_rate};
        SendDecision decision;
        std::string wamid;
        std::vector<PlannedStatus> plan;
        const std::int64_t now_ms = unix_ms_now();
        {
            std::lock_guard lock(mutex);
            decision = decide_send(send, phone_number_id, rates, first_sends, rng);
            if (decision.outcome == SendDecision::Outcome::kAccept && send.kind == domain::RequestKind::kMessage) {
                wamid = new_wamid(rng);
                if (settings.webhooks) {
                    plan = plan_statuses(accepted_message(send, wamid, decision.fate, now_ms), plan_settings, rng);
                }
            }
        }
        switch (decision.outcome) {
            case SendDecision::Outcome::kTrigger: ++rejected_trigger; return graph_error(decision.error, rid);
            case SendDecision::Outcome::kThrottled: ++throttled; return graph_error(decision.error, rid);
            case SendDecision::Outcome::kServerError: ++server_errors; return graph_error(decision.error, rid);
            case SendDecision::Outcome::kAccept: break;
        }
        if (send.kind == domain::RequestKind::kMarkRead) {
            ++marked_read;
            return json_response(200, "{\"success\":true}");
        }
        RecordedSend record;
        record.wamid = wamid;
        record.phone_number_id = phone_number_id;
        record.to = send.to_input;
        record.type = send.type;
        record.payload = request.body;
        record.received_at_ms = now_ms;
        for (const PlannedStatus& planned : plan) {
            record.statuses.push_back(planned.item.status);
        }
        ledger.add(std::move(record));
        ++accepted;
        poster.enqueue(phone_number_id, plan);
        return json_response(200, send_success_body(send, wamid));
    }

    static AcceptedMessage accepted_message(const domain::SendRequest& send, const std::string& wamid, Fate fate,
                                            std::int64_t now_ms) {
        AcceptedMessage m;
        m.wamid = wamid;
        m.fate = fate;
        m.accepted_at_ms = now_ms;
        m.is_template = send.type == "template";
        m.biz_opaque_callback_data = send.biz_opaque_callback_data;
        m.group = send.recipient_kind == domain::RecipientKind::kGroup;
        if (send.recipient_kind == domain::RecipientKind::kBsuid) {
            // Sent to a BSUID only: Meta does not reveal the phone number (reference §4.6).
            m.recipient_user_id = send.wa_id;
        } else {
            m.recipient_id = send.wa_id;
        }
        return m;
    }

    std::string stats_json() const {
        const PosterCounts posted = poster.counts();
        nlohmann::ordered_json body = {
            {"accepted", accepted.load()},
            {"marked_read", marked_read.load()},
            {"unauthorized", unauthorized.load()},
            {"rejected_validation", rejected_validation.load()},
            {"rejected_trigger", rejected_trigger.load()},
            {"throttled", throttled.load()},
            {"server_errors", server_errors.load()},
            {"webhooks_posted", posted.posted},
            {"webhooks_pending", posted.pending},
            {"webhooks_failed_attempts", posted.failed_attempts},
            {"webhooks_dropped", posted.dropped},
            {"webhooks_given_up", posted.given_up},
            {"inbound_posted", inbound_posted.load()},
            {"inbound_failed", inbound_failed.load()},
            {"seed", seed},
        };
        return body.dump();
    }

    // The route handlers. Braced temporaries and lambdas stay out of their bodies (GCC 12,
    // docs/adr/0002): what they build, non-coroutine helpers build.

    static asio::awaitable<http::Response> send_message(Impl* self, http::Request& request,
                                                        const http::PathParams& params) {
        // The latency applies to every answer, errors included, as a slow Graph API would.
        if (self->settings.latency.count() > 0) {
            auto executor = co_await asio::this_coro::executor;
            asio::steady_timer timer(executor, self->settings.latency);
            co_await timer.async_wait(kUseTuple);  // nothing cancels it
        }
        co_return self->answer_send(request, params.at("phone_number_id"));
    }

    static asio::awaitable<http::Response> post_inbound(Impl* self, http::Request& request, const http::PathParams&) {
        auto message = parse_inbound_request(request.body, unix_ms_now() / 1000);
        if (!message) {
            co_return graph_error(message.error(), request.request_id);
        }
        const std::string wamid = self->new_id();
        std::string body = inbound_webhook_body(*message, wamid);
        Result<int> posted = co_await self->poster.post_once(std::move(body));
        co_return self->inbound_answer(posted, wamid, request.request_id);
    }

    static asio::awaitable<http::Response> list_messages(Impl* self, http::Request& request,
                                                         const http::PathParams&) {
        co_return self->messages_answer(request);
    }

    static asio::awaitable<http::Response> stats(Impl* self, http::Request&, const http::PathParams&) {
        co_return json_response(200, self->stats_json());
    }

    std::string new_id() {
        std::lock_guard lock(mutex);
        return new_wamid(rng);
    }

    /// What POST /sandbox/v1/inbound answers once the gateway has (or could not be reached).
    http::Response inbound_answer(const Result<int>& posted, const std::string& wamid, const std::string& rid) {
        if (!posted) {
            ++inbound_failed;
            const domain::ApiError error{502, 131000, "Something went wrong",
                                         "the gateway at " + settings.webhook_url +
                                             " could not be reached: " + posted.error().message,
                                         false, 0};
            return graph_error(error, rid);
        }
        if (*posted >= 200 && *posted < 300) {
            ++inbound_posted;
        } else {
            ++inbound_failed;
            spdlog::warn("sandbox: the gateway answered an inbound webhook with {}", *posted);
        }
        nlohmann::ordered_json answer = {{"wamid", wamid}, {"gateway_status", *posted}};
        return json_response(200, answer.dump());
    }

    http::Response messages_answer(const http::Request& request) const {
        const auto after = digits_param(request, "after", 0);
        const auto limit = digits_param(request, "limit", std::numeric_limits<std::uint64_t>::max());
        if (!after || !limit) {
            const std::string field = !after ? "after" : "limit";
            return graph_error(domain::api_errors::invalid_value(field + ": must be a non-negative integer"),
                               request.request_id);
        }
        return json_response(200, ledger.render(*after, static_cast<std::size_t>(*limit)));
    }
};

std::vector<std::string> check_settings(const SandboxSettings& s) {
    std::vector<std::string> problems;
    if (s.app_secret.empty()) {
        problems.push_back(
            "WAGATE_META_APP_SECRETS is not set: the sandbox signs every webhook with the first app secret, "
            "which must be one the gateway accepts");
    }
    if (!s.webhook_url.starts_with("http://") && !s.webhook_url.starts_with("https://")) {
        problems.push_back("WAGATE_SANDBOX_WEBHOOK_URL must be an http:// or https:// URL: " + s.webhook_url);
    }
    const std::pair<const char*, double> rates[] = {
        {"WAGATE_SANDBOX_FAIL_RATE", s.fail_rate},         {"WAGATE_SANDBOX_DUPLICATE_RATE", s.duplicate_rate},
        {"WAGATE_SANDBOX_REORDER_RATE", s.reorder_rate},   {"WAGATE_SANDBOX_THROTTLE_RATE", s.throttle_rate},
        {"WAGATE_SANDBOX_SERVER_ERROR_RATE", s.server_error_rate},
    };
    for (const auto& [name, rate] : rates) {
        if (!(rate >= 0 && rate <= 1)) {
            problems.push_back(std::string(name) + " must be between 0 and 1");
        }
    }
    if (s.throttle_rate + s.server_error_rate > 1) {
        problems.push_back("WAGATE_SANDBOX_THROTTLE_RATE + WAGATE_SANDBOX_SERVER_ERROR_RATE must not exceed 1");
    }
    if (s.status_delay.count() < 0 || s.latency.count() < 0) {
        problems.push_back("WAGATE_SANDBOX_STATUS_DELAY_MS and WAGATE_SANDBOX_LATENCY_MS must not be negative");
    }
    return problems;
}

Sandbox::Sandbox(asio::any_io_executor executor, SandboxSettings settings, RequestLog on_request)
    : impl_(std::make_shared<Impl>(executor, std::move(settings), std::move(on_request))) {}

Sandbox::~Sandbox() { impl_->poster.stop(); }

Result<void> Sandbox::start() {
    Impl& s = *impl_;
    if (auto problems = check_settings(s.settings); !problems.empty()) {
        return Error{Errc::kInvalidArgument, problems.front()};
    }
    // Handlers hold a plain pointer: the Impl owns the router and the server, and outlives both.
    Impl* self = impl_.get();
    auto bind = [self](auto handler) {
        return [self, handler](http::Request& r, const http::PathParams& p) { return handler(self, r, p); };
    };
    const std::size_t limit = s.settings.max_body_bytes;
    s.router.add("POST", "/{version}/{phone_number_id}/messages", limit, bind(&Impl::send_message));
    s.router.add("POST", "/{phone_number_id}/messages", limit, bind(&Impl::send_message));
    s.router.add("POST", "/sandbox/v1/inbound", limit, bind(&Impl::post_inbound));
    s.router.add("GET", "/sandbox/v1/messages", 0, bind(&Impl::list_messages));
    s.router.add("GET", "/sandbox/v1/stats", 0, bind(&Impl::stats));

    http::ServerSettings server_settings;
    server_settings.listen = s.settings.listen;
    auto log = s.on_request ? s.on_request : [](const http::RequestRecord&) {};
    s.server = std::make_unique<http::Server>(s.executor, server_settings, s.router, render_server_error, log);
    if (auto started = s.server->start(); !started) {
        return started.error();
    }
    spdlog::info("sandbox listening on {} (port {}), webhooks to {}{}, seed {}", s.settings.listen, s.server->port(),
                 s.settings.webhook_url, s.settings.webhooks ? "" : " (status webhooks off)", s.seed);
    return {};
}

unsigned short Sandbox::port() const noexcept { return impl_->server ? impl_->server->port() : 0; }

void Sandbox::stop(std::chrono::milliseconds grace, std::function<void()> done) {
    impl_->poster.stop();
    if (!impl_->server) {
        done();
        return;
    }
    impl_->server->stop(grace, std::move(done));
}

}  // namespace wagate::sandbox
