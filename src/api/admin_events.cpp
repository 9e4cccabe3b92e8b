#include <charconv>

#include <nlohmann/json.hpp>
#include <wagate/domain/events.hpp>
#include <wagate/store/event_store.hpp>
#include <wagate/store/tenant_store.hpp>

#include "api/admin_routes.hpp"
#include "api/handlers.hpp"
#include "api/responses.hpp"

// The event outbox as the admin sees it (contract §6, §7; docs/events.md): a stable catch-up
// cursor per number, one event's delivery state, and replay of a dead event.

namespace wagate::api {
namespace asio = boost::asio;
namespace errors = domain::api_errors;
namespace events = domain::events;
using http::PathParams;
using http::Request;
using http::Response;

namespace {

constexpr std::size_t kDefaultPage = 100;
constexpr std::size_t kMaxPage = 1000;

std::optional<std::int64_t> positive_id(std::string_view text) {
    std::int64_t id = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc{} || end != text.data() + text.size() || id <= 0 || text.front() == '0') {
        return std::nullopt;
    }
    return id;
}

/// One event as JSON text. The payload is written as the exact bytes a delivery sends (ASCII,
/// members in their order), not re-serialised.
std::string render_event(const store::EventRecord& e) {
    nlohmann::json head = {{"id", std::to_string(e.id)},
                           {"cursor", events::to_string(e.cursor)},
                           {"phone_number_id", e.phone_number_id},
                           {"kind", e.kind},
                           {"created_at", e.created_at},
                           {"state", e.state},
                           {"attempts", e.attempts},
                           {"last_error", e.last_error ? nlohmann::json(*e.last_error) : nlohmann::json(nullptr)},
                           {"finished_at", e.finished_at ? nlohmann::json(*e.finished_at) : nlohmann::json(nullptr)}};
    std::string text = head.dump(-1, ' ', true);
    text.pop_back();  // the closing brace: the payload goes last
    text += ",\"payload\":";
    text += events::delivery_body(e.payload_json).value_or("null");
    text += '}';
    return text;
}

/// GET /admin/v1/events?phone_number_id=…&after=<cursor>&limit=…
asio::awaitable<Response> list_events(HandlerContext& ctx, Request& request, const PathParams&) {
    const std::string& rid = request.request_id;
    const std::string phone = request.query_param("phone_number_id");
    if (phone.empty()) {
        co_return error_response(errors::missing_parameter("phone_number_id: required"), rid);
    }
    std::optional<events::Cursor> after;
    if (const std::string text = request.query_param("after"); !text.empty()) {
        after = events::parse_cursor(text);
        if (!after) {
            co_return error_response(errors::invalid_parameter("after: not a cursor this API returned"), rid);
        }
    }
    std::size_t limit = kDefaultPage;
    if (const std::string text = request.query_param("limit"); !text.empty()) {
        const auto n = positive_id(text);
        if (!n || *n > static_cast<std::int64_t>(kMaxPage)) {
            co_return error_response(
                errors::invalid_parameter("limit: must be a whole number from 1 to " + std::to_string(kMaxPage)), rid);
        }
        limit = static_cast<std::size_t>(*n);
    }
    auto number = co_await ctx.deps.tenants.get_phone_number(phone);
    if (!number) {
        co_return error_response(from_internal(number.error(), rid), rid);
    }
    if (!number->has_value()) {
        co_return error_response(errors::not_found("phone_number_id: unknown phone number " + phone), rid);
    }
    auto page = co_await ctx.deps.events.list(phone, after, limit);
    if (!page) {
        co_return error_response(from_internal(page.error(), rid), rid);
    }
    // The cursor to continue from: after the last event of this page, or where the caller was
    // (null only when there is no event yet and no cursor was given).
    std::optional<events::Cursor> next = after;
    std::string body = "{\"events\":[";
    for (std::size_t i = 0; i < page->events.size(); ++i) {
        body += i == 0 ? "" : ",";
        body += render_event(page->events[i]);
        next = page->events[i].cursor;
    }
    body += "],\"next_cursor\":";
    body += next ? nlohmann::json(events::to_string(*next)).dump() : "null";
    body += ",\"has_more\":";
    body += page->more ? "true" : "false";
    body += '}';
    co_return json_response(200, std::move(body));
}

/// GET /admin/v1/events/{event_id}: one event and its delivery state.
asio::awaitable<Response> get_event(HandlerContext& ctx, Request& request, const PathParams& params) {
    const std::string& rid = request.request_id;
    const auto id = positive_id(params.at("event_id"));
    if (!id) {
        co_return error_response(errors::not_found("event_id: unknown event " + params.at("event_id")), rid);
    }
    auto event = co_await ctx.deps.events.get(*id);
    if (!event) {
        co_return error_response(from_internal(event.error(), rid), rid);
    }
    if (!event->has_value()) {
        co_return error_response(errors::not_found("event_id: unknown event " + params.at("event_id")), rid);
    }
    co_return json_response(200, render_event(**event));
}

/// POST /admin/v1/events/{event_id}/replay: a dead event is pending again, at once.
asio::awaitable<Response> replay_event(HandlerContext& ctx, Request& request, const PathParams& params) {
    const std::string& rid = request.request_id;
    const auto id = positive_id(params.at("event_id"));
    if (!id) {
        co_return error_response(errors::not_found("event_id: unknown event " + params.at("event_id")), rid);
    }
    auto replayed = co_await ctx.deps.events.replay(*id);
    if (!replayed) {
        co_return error_response(from_internal(replayed.error(), rid), rid);
    }
    switch (*replayed) {
        case store::ReplayOutcome::kNotFound:
            co_return error_response(errors::not_found("event_id: unknown event " + params.at("event_id")), rid);
        case store::ReplayOutcome::kNotDead: {
            domain::ApiError conflict = errors::invalid_parameter(
                "event_id: only a dead event can be replayed; a pending one is still being delivered, and a "
                "delivered one can be read again from the cursor");
            conflict.http_status = 409;
            co_return error_response(conflict, rid);
        }
        case store::ReplayOutcome::kReplayed:
            break;
    }
    auto event = co_await ctx.deps.events.get(*id);
    if (!event || !event->has_value()) {
        co_return json_response(200, "{\"success\":true}");
    }
    co_return json_response(200, render_event(**event));
}

}  // namespace

void register_admin_event_routes(HandlerContext& ctx, http::Router& router) {
    router.add("GET", "/admin/v1/events", 0, admin_only(ctx, list_events));
    router.add("GET", "/admin/v1/events/{event_id}", 0, admin_only(ctx, get_event));
    router.add("POST", "/admin/v1/events/{event_id}/replay", kIgnoredBodyLimit, admin_only(ctx, replay_event));
}

}  // namespace wagate::api
