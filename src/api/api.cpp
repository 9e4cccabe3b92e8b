#include <wagate/api/api.hpp>

#include <atomic>

#include <wagate/pg/pool.hpp>
#include <wagate/pg/statement.hpp>

#include "api/handlers.hpp"
#include "api/responses.hpp"

namespace wagate::api {
namespace asio = boost::asio;
using http::PathParams;
using http::Request;
using http::Response;

namespace {
constexpr pg::Statement kPing{"readyz_ping", "SELECT 1", std::chrono::milliseconds(2000)};
}  // namespace

struct Api::Impl {
    HandlerContext ctx;
    std::atomic<bool> schema_ready{false};

    Impl(ApiSettings settings, ApiDependencies deps)
        : ctx{settings, deps, Authenticator(deps.tenants, settings.auth_cache_ttl, settings.key_rate_limit, deps.clock)} {}

    http::Handler bind(asio::awaitable<Response> (*handler)(HandlerContext&, Request&, const PathParams&)) {
        return [this, handler](Request& r, const PathParams& p) { return handler(ctx, r, p); };
    }

    asio::awaitable<Response> readyz(Request& request) {
        if (!schema_ready) {
            co_return error_response(domain::api_errors::db_unavailable("migrations are not applied"),
                                     request.request_id);
        }
        // Keep co_await out of conditions: GCC 12 miscompiles some of those (temporaries in the
        // awaited call), so every co_await in this code base is a statement of its own.
        const pg::Params no_params;
        auto answered = co_await ctx.deps.pool.execute(kPing, no_params);
        if (!answered) {
            co_return error_response(domain::api_errors::db_unavailable("the database is unreachable"),
                                     request.request_id);
        }
        co_return json_response(200, R"({"status":"ready"})");
    }
};

Api::Api(ApiSettings settings, ApiDependencies deps)
    : impl_(std::make_unique<Impl>(std::move(settings), deps)) {}

Api::~Api() = default;

void Api::set_schema_ready(bool ready) noexcept { impl_->schema_ready = ready; }

void Api::register_routes(http::Router& public_routes, http::Router& admin_routes) {
    Impl& impl = *impl_;
    const std::size_t send_limit = impl.ctx.settings.max_send_body_bytes;
    // Any Graph version segment, the unversioned form, and the On-Premises style path.
    public_routes.add("POST", "/{version}/{phone_number_id}/messages", send_limit, impl.bind(send_message));
    public_routes.add("POST", "/{phone_number_id}/messages", send_limit, impl.bind(send_message));
    public_routes.add("POST", "/v1/messages", send_limit, impl.bind(send_message));
    // `{message}`, not `{id}`: the segment is a gateway id or Meta's wamid, percent-escaped ('/',
    // '+', '='), which the identifier rule of `*_id` captures would refuse.
    public_routes.add("GET", "/v1/messages/{message}", 0, impl.bind(read_message));
    public_routes.add("GET", "/healthz", 0, [](Request&, const PathParams&) -> asio::awaitable<Response> {
        co_return json_response(200, R"({"status":"ok"})");
    });
    public_routes.add("GET", "/readyz", 0,
                      [self = &impl](Request& r, const PathParams&) { return self->readyz(r); });
    if (impl.ctx.deps.webhook_inbox != nullptr) {
        register_meta_webhook_routes(impl.ctx, public_routes);
    }
    register_admin_tenant_routes(impl.ctx, admin_routes);
    register_admin_contact_routes(impl.ctx, admin_routes);
    register_admin_template_routes(impl.ctx, admin_routes);
    register_admin_limit_routes(impl.ctx, admin_routes);
    register_admin_event_routes(impl.ctx, admin_routes);
    register_metrics_route(impl.ctx, admin_routes);
}

}  // namespace wagate::api
