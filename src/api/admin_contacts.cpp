#include <nlohmann/json.hpp>
#include <wagate/domain/policy.hpp>
#include <wagate/store/contact_store.hpp>
#include <wagate/store/tenant_store.hpp>

#include "api/admin_routes.hpp"
#include "api/handlers.hpp"
#include "api/json_fields.hpp"
#include "api/responses.hpp"

namespace wagate::api {
namespace asio = boost::asio;
namespace errors = domain::api_errors;
namespace policy = domain::policy;
using http::PathParams;
using http::Request;
using http::Response;

namespace {

// Unix seconds a window may start at: from 2010 (before WhatsApp Business) to 2100.
constexpr std::int64_t kEarliest = 1'262'304'000;
constexpr std::int64_t kLatest = 4'102'444'800;

std::string render(const store::Contact& c, policy::TimePoint now) {
    nlohmann::json window = {{"open", policy::window_open(c.last_inbound_at, now)},
                             {"last_inbound_at", nullptr},
                             {"expires_at", nullptr}};
    if (c.last_inbound_at) {
        window["last_inbound_at"] = policy::format_utc(*c.last_inbound_at);
        window["expires_at"] = policy::format_utc(policy::window_closes_at(*c.last_inbound_at));
    }
    return nlohmann::json{{"phone_number_id", c.phone_number_id},
                          {"wa_id", c.wa_id},
                          {"opted_in", c.opted_in},
                          {"opted_out", c.opted_out},
                          {"identity_ack_required", c.identity_ack_required},
                          {"window", std::move(window)}}
        .dump();
}

/// A WhatsApp id is the user's number in digits (the same 7–15 digits the send API accepts).
bool is_wa_id(std::string_view s) {
    return s.size() >= 7 && s.size() <= 15 &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// 400 for a malformed wa_id, 404 for an unknown phone number, nothing when both are fine.
asio::awaitable<std::optional<domain::ApiError>> check_contact_path(HandlerContext& ctx, const PathParams& params,
                                                                    const std::string& rid) {
    if (!is_wa_id(params.at("wa_id"))) {
        co_return errors::invalid_value("wa_id: 7 to 15 digits");
    }
    auto phone = co_await ctx.deps.tenants.get_phone_number(params.at("phone_number_id"));
    if (!phone) {
        co_return from_internal(phone.error(), rid);
    }
    if (!*phone) {
        co_return errors::not_found("phone_number_id: unknown phone number");
    }
    co_return std::nullopt;
}

asio::awaitable<Response> put_contact(HandlerContext& ctx, Request& request, const PathParams& params) {
    const std::string& rid = request.request_id;
    auto fields = JsonFields::parse(request.body, {"opted_in", "source", "last_inbound_at"});
    if (!fields) {
        co_return error_response(fields.error(), rid);
    }
    store::ContactChanges changes;
    changes.opted_in = fields->boolean("opted_in");
    changes.consent_source = fields->string("source", 256).value_or("admin-api");
    if (auto seconds = fields->integer("last_inbound_at", kEarliest, kLatest)) {
        changes.last_inbound_at = policy::TimePoint(std::chrono::seconds(*seconds));
    }
    if (fields->error()) {
        co_return error_response(*fields->error(), rid);
    }
    auto bad_path = co_await check_contact_path(ctx, params, rid);
    if (bad_path) {
        co_return error_response(*bad_path, rid);
    }
    auto contact = co_await ctx.deps.contacts.change(params.at("phone_number_id"), params.at("wa_id"), changes);
    if (!contact) {
        co_return error_response(from_internal(contact.error(), rid), rid);
    }
    co_return json_response(200, render(*contact, ctx.deps.clock.now()));
}

asio::awaitable<Response> get_contact(HandlerContext& ctx, Request& request, const PathParams& params) {
    const std::string& rid = request.request_id;
    auto bad_path = co_await check_contact_path(ctx, params, rid);
    if (bad_path) {
        co_return error_response(*bad_path, rid);
    }
    auto contact = co_await ctx.deps.contacts.get(params.at("phone_number_id"), params.at("wa_id"));
    if (!contact) {
        co_return error_response(from_internal(contact.error(), rid), rid);
    }
    // A user the business never heard from is a contact with default state, not an error.
    const store::Contact shown =
        contact->value_or(store::Contact{params.at("phone_number_id"), params.at("wa_id"), {}, false, false, false});
    co_return json_response(200, render(shown, ctx.deps.clock.now()));
}

asio::awaitable<Response> acknowledge_identity(HandlerContext& ctx, Request& request, const PathParams& params) {
    const std::string& rid = request.request_id;
    auto bad_path = co_await check_contact_path(ctx, params, rid);
    if (bad_path) {
        co_return error_response(*bad_path, rid);
    }
    auto contact = co_await ctx.deps.contacts.acknowledge_identity(params.at("phone_number_id"), params.at("wa_id"));
    if (!contact) {
        co_return error_response(from_internal(contact.error(), rid), rid);
    }
    if (!*contact) {
        co_return error_response(errors::not_found("wa_id: no such contact"), rid);
    }
    co_return json_response(200, render(**contact, ctx.deps.clock.now()));
}

}  // namespace

void register_admin_contact_routes(HandlerContext& ctx, http::Router& router) {
    const std::size_t limit = ctx.settings.max_admin_body_bytes;
    const std::string base = "/admin/v1/contacts/{phone_number_id}/{wa_id}";
    router.add("PUT", base, limit, admin_only(ctx, put_contact));
    router.add("GET", base, 0, admin_only(ctx, get_contact));
    router.add("POST", base + "/identity-ack", kIgnoredBodyLimit, admin_only(ctx, acknowledge_identity));
}

}  // namespace wagate::api
