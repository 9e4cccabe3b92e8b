#pragma once

#include <cstddef>

#include <boost/asio/awaitable.hpp>
#include <wagate/api/api.hpp>
#include <wagate/http/message.hpp>
#include <wagate/http/router.hpp>

#include "api/auth.hpp"

namespace wagate::api {

/// The body limit of admin routes that take no body: small enough to cost nothing, large enough
/// for the `{}` a generic client sends with every POST or DELETE (the body is ignored).
inline constexpr std::size_t kIgnoredBodyLimit = 64;

/// What every handler may use. Owned by Api::Impl.
struct HandlerContext {
    ApiSettings settings;
    ApiDependencies deps;
    Authenticator authenticator;
};

boost::asio::awaitable<http::Response> send_message(HandlerContext& ctx, http::Request& request,
                                                    const http::PathParams& params);
boost::asio::awaitable<http::Response> read_message(HandlerContext& ctx, http::Request& request,
                                                    const http::PathParams& params);

/// Registers /admin/v1 tenancy routes (businesses, phone numbers, API keys).
void register_admin_tenant_routes(HandlerContext& ctx, http::Router& router);

/// Registers /admin/v1/templates routes (upsert in Meta's definition format, list, delete).
void register_admin_template_routes(HandlerContext& ctx, http::Router& router);

/// Registers the messaging-limit and history routes (policy §3, §4).
void register_admin_limit_routes(HandlerContext& ctx, http::Router& router);

/// Registers /admin/v1/events routes (catch-up cursor, one event, replay; contract §7).
void register_admin_event_routes(HandlerContext& ctx, http::Router& router);

/// Registers GET /metrics: Prometheus text, no authentication (contract §8). Keep it off the
/// public internet with WAGATE_ADMIN_LISTEN.
void register_metrics_route(HandlerContext& ctx, http::Router& router);

/// Registers GET/POST /webhooks/meta (contract §3).
void register_meta_webhook_routes(HandlerContext& ctx, http::Router& router);

/// Registers /admin/v1/contacts routes (consent, identity acknowledgement, window state).
void register_admin_contact_routes(HandlerContext& ctx, http::Router& router);

}  // namespace wagate::api
