#include <memory>

#include <spdlog/spdlog.h>
#include <wagate/crypto/digest.hpp>
#include <wagate/metrics/registry.hpp>
#include <wagate/store/webhook_store.hpp>

#include "api/handlers.hpp"
#include "api/responses.hpp"

namespace wagate::api {
namespace asio = boost::asio;

namespace {

/// The verification handshake (reference/webhooks.md §1.2): the challenge back, byte for byte,
/// as plain text when the mode is subscribe and the token matches; 403 otherwise.
asio::awaitable<http::Response> verify_subscription(HandlerContext& ctx, http::Request& request,
                                                    const http::PathParams&) {
    const std::string& expected = ctx.settings.meta_verify_token;
    const bool ok = !expected.empty() && request.query_param("hub.mode") == "subscribe" &&
                    crypto::constant_time_equal(request.query_param("hub.verify_token"), expected);
    if (!ok) {
        co_return error_response(domain::api_errors::forbidden("hub.verify_token: does not match"), request.request_id);
    }
    http::Response response;
    response.status = 200;
    response.content_type = "text/plain";
    response.body = request.query_param("hub.challenge");
    co_return response;
}

/// wagate_webhook_deliveries_total by result, looked up once at registration: the POST is a hot
/// path, and a lookup takes the registry's lock.
struct IngestCounters {
    metrics::Counter& stored;
    metrics::Counter& duplicate;
    metrics::Counter& unverified;
    metrics::Counter& failed;

    explicit IngestCounters(metrics::Registry& r)
        : stored(of(r, "stored")), duplicate(of(r, "duplicate")), unverified(of(r, "unverified")), failed(of(r, "failed")) {}

    static metrics::Counter& of(metrics::Registry& r, const char* result) {
        return r.counter("wagate_webhook_deliveries_total",
                         "Meta webhook POSTs by result: stored, duplicate (same bytes again), "
                         "unverified (bad signature, quarantined), failed (not stored: Meta retries)",
                         {{"result", result}});
    }
};

/// A webhook POST: verified over the raw bytes, committed raw, then answered; applied after.
asio::awaitable<http::Response> receive(HandlerContext& ctx, const IngestCounters& ingested, http::Request& request) {
    const std::string& rid = request.request_id;
    const std::string signature(request.header("x-hub-signature-256"));
    if (!crypto::verify_hub_signature(signature, request.body, ctx.settings.meta_app_secrets)) {
        const std::string reason = ctx.settings.meta_app_secrets.empty() ? "no app secret configured"
                                   : signature.empty()                   ? "missing X-Hub-Signature-256"
                                                                         : "signature does not verify";
        auto kept = co_await ctx.deps.webhook_inbox->quarantine(reason, signature, request.remote_address,
                                                                std::move(request.body));
        if (!kept) {
            spdlog::warn("quarantining an unverified webhook failed (request {}): {}", rid, kept.error().message);
        }
        ingested.unverified.add();
        co_return error_response(domain::api_errors::unauthenticated("X-Hub-Signature-256: " + reason), rid);
    }
    // Claimed (applied here, from memory) while this instance keeps up; otherwise stored
    // unclaimed, for the next sweep of whichever instance has room.
    const bool process_here = ctx.deps.webhook_processor != nullptr && ctx.deps.webhook_processor->has_room();
    std::string body = process_here ? request.body : std::move(request.body);
    auto stored = co_await ctx.deps.webhook_inbox->store(std::move(body), process_here);
    if (!stored) {
        // Not stored, so not acknowledged: Meta retries (reference §2.3).
        ingested.failed.add();
        co_return error_response(from_internal(stored.error(), rid), rid);
    }
    (stored->duplicate ? ingested.duplicate : ingested.stored).add();
    if (process_here && !stored->duplicate) {
        ctx.deps.webhook_processor->submit(stored->id, std::move(request.body));
    }
    co_return json_response(200, "{\"success\":true}");
}

}  // namespace

void register_meta_webhook_routes(HandlerContext& ctx, http::Router& router) {
    auto bind = [&ctx](auto handler) {
        return [&ctx, handler](http::Request& r, const http::PathParams& p) { return handler(ctx, r, p); };
    };
    router.add("GET", "/webhooks/meta", 0, bind(verify_subscription));
    auto counters = std::make_shared<IngestCounters>(ctx.deps.metrics);
    router.add("POST", "/webhooks/meta", ctx.settings.max_webhook_body_bytes,
               [&ctx, counters](http::Request& r, const http::PathParams&) { return receive(ctx, *counters, r); });
}

}  // namespace wagate::api
