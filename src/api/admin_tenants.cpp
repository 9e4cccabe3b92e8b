#include <nlohmann/json.hpp>
#include <wagate/crypto/random.hpp>
#include <wagate/store/tenant_store.hpp>

#include "api/admin_routes.hpp"
#include "api/handlers.hpp"
#include "api/json_fields.hpp"
#include "api/responses.hpp"

namespace wagate::api {
namespace asio = boost::asio;
namespace errors = domain::api_errors;
using http::PathParams;
using http::Request;
using http::Response;

namespace {

nlohmann::json to_json(const store::Business& b) {
    return {{"id", b.id},
            {"name", b.name},
            {"messaging_limit_tier", b.messaging_limit_tier},
            {"upgrade_rule", b.upgrade_rule},
            {"auto_upgrade", b.auto_upgrade},
            {"created_at", b.created_at},
            {"updated_at", b.updated_at}};
}

nlohmann::json to_json(const store::PhoneNumber& p) {
    return {{"id", p.id},
            {"business_id", p.business_id},
            {"waba_id", p.waba_id},
            {"display_phone_number", p.display_phone_number},
            {"throughput_mps", p.throughput_mps},
            {"quality_rating", p.quality_rating},
            {"status", p.status},
            {"callback_url", p.callback_url},
            {"require_opt_in", p.require_opt_in},
            {"access_token_set", p.has_access_token},
            {"callback_secret_set", p.has_callback_secret},
            {"created_at", p.created_at},
            {"updated_at", p.updated_at}};
}

nlohmann::json to_json(const store::ApiKeyInfo& k) {
    return {{"id", k.id},
            {"name", k.name},
            {"phone_number_ids", k.phone_number_ids},
            {"created_at", k.created_at},
            {"revoked_at", k.revoked_at ? nlohmann::json(*k.revoked_at) : nlohmann::json(nullptr)}};
}

bool is_digits(std::string_view s, std::size_t max) {
    return !s.empty() && s.size() <= max &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_http_url(std::string_view url) {
    const bool scheme = url.starts_with("https://") || url.starts_with("http://");
    const std::size_t host_start = url.find("://") + 3;
    return scheme && url.size() > host_start && url[host_start] != '/' &&
           url.find_first_of(" \t\r\n") == std::string_view::npos;
}

asio::awaitable<Response> put_business(HandlerContext& ctx, Request& request, const PathParams& params) {
    const std::string& rid = request.request_id;
    auto fields = JsonFields::parse(request.body, {"name", "messaging_limit_tier", "upgrade_rule", "auto_upgrade"});
    if (!fields) {
        co_return error_response(fields.error(), rid);
    }
    store::BusinessChanges changes;
    changes.name = fields->string("name", 256);
    changes.messaging_limit_tier = fields->one_of("messaging_limit_tier", {"TIER_50", "TIER_250", "TIER_1K", "TIER_2K",
                                                                      "TIER_10K", "TIER_100K", "TIER_UNLIMITED"});
    changes.upgrade_rule = fields->one_of("upgrade_rule", {"meta-2025", "double-in-7d"});
    changes.auto_upgrade = fields->boolean("auto_upgrade");
    changes.changed_at = ctx.deps.clock.now();
    if (fields->error()) {
        co_return error_response(*fields->error(), rid);
    }
    const std::string& id = params.at("business_id");
    if (id.size() > 64) {
        co_return error_response(errors::invalid_value("business_id: at most 64 characters"), rid);
    }
    auto stored = co_await ctx.deps.tenants.upsert_business(id, changes);
    if (!stored) {
        co_return error_response(from_internal(stored.error(), rid), rid);
    }
    co_return json_response(200, to_json(*stored).dump());
}

asio::awaitable<Response> get_business(HandlerContext& ctx, Request& request, const PathParams& params) {
    const std::string& rid = request.request_id;
    auto found = co_await ctx.deps.tenants.get_business(params.at("business_id"));
    if (!found) {
        co_return error_response(from_internal(found.error(), rid), rid);
    }
    if (!*found) {
        co_return error_response(errors::not_found("business_id: unknown business"), rid);
    }
    co_return json_response(200, to_json(**found).dump());
}

asio::awaitable<Response> put_phone_number(HandlerContext& ctx, Request& request, const PathParams& params) {
    const std::string& rid = request.request_id;
    const std::string& id = params.at("phone_number_id");
    if (!is_digits(id, 32)) {
        co_return error_response(errors::invalid_value("phone_number_id: 1 to 32 digits"), rid);
    }
    auto fields = JsonFields::parse(
        request.body, {"business_id", "waba_id", "display_phone_number", "access_token", "throughput_mps",
                       "quality_rating", "status", "callback_url", "callback_secret", "require_opt_in"});
    if (!fields) {
        co_return error_response(fields.error(), rid);
    }
    store::PhoneNumberChanges c;
    c.changed_at = ctx.deps.clock.now();
    c.business_id = fields->string("business_id", 64);
    c.waba_id = fields->string("waba_id", 64);
    c.display_phone_number = fields->string("display_phone_number", 32);
    c.access_token = fields->string("access_token", 4096);
    c.throughput_mps = fields->positive_number("throughput_mps");
    c.quality_rating = fields->one_of("quality_rating", {"GREEN", "YELLOW", "RED", "UNKNOWN"});
    c.status = fields->one_of("status", {"CONNECTED", "FLAGGED", "RESTRICTED"});
    c.callback_url = fields->string("callback_url", 2000);
    c.callback_secret = fields->string("callback_secret", 4096);
    c.require_opt_in = fields->boolean("require_opt_in");
    if (fields->error()) {
        co_return error_response(*fields->error(), rid);
    }
    if (c.callback_url && !c.callback_url->empty() && !is_http_url(*c.callback_url)) {
        co_return error_response(errors::invalid_value("callback_url: must be an http:// or https:// URL"), rid);
    }
    auto stored = co_await ctx.deps.tenants.upsert_phone_number(id, c);
    if (!stored) {
        if (stored.error().code == Errc::kNotFound) {
            auto e = c.business_id ? errors::not_found("business_id: unknown business " + *c.business_id)
                                   : errors::missing_parameter("business_id: required for a new phone number");
            co_return error_response(e, rid);
        }
        co_return error_response(from_internal(stored.error(), rid), rid);
    }
    ctx.authenticator.forget_phone_number(id);
    co_return json_response(200, to_json(*stored).dump());
}

asio::awaitable<Response> get_phone_number(HandlerContext& ctx, Request& request, const PathParams& params) {
    const std::string& rid = request.request_id;
    auto found = co_await ctx.deps.tenants.get_phone_number(params.at("phone_number_id"));
    if (!found) {
        co_return error_response(from_internal(found.error(), rid), rid);
    }
    if (!*found) {
        co_return error_response(errors::not_found("phone_number_id: unknown phone number"), rid);
    }
    co_return json_response(200, to_json(**found).dump());
}

asio::awaitable<Response> create_api_key(HandlerContext& ctx, Request& request, const PathParams&) {
    const std::string& rid = request.request_id;
    auto fields = JsonFields::parse(request.body, {"name", "phone_number_ids"});
    if (!fields) {
        co_return error_response(fields.error(), rid);
    }
    auto name = fields->string("name", 256, /*required=*/true);
    auto phone_number_ids = fields->string_array("phone_number_ids", 1000, /*required=*/true);
    if (fields->error()) {
        co_return error_response(*fields->error(), rid);
    }
    for (std::size_t i = 0; i < phone_number_ids->size(); ++i) {
        if (!is_digits((*phone_number_ids)[i], 32)) {
            co_return error_response(
                errors::invalid_value("phone_number_ids[" + std::to_string(i) + "]: 1 to 32 digits"), rid);
        }
    }
    const MintedKey minted = mint_api_key(crypto::uuid_v7_hex(ctx.deps.clock.now()));
    auto stored = co_await ctx.deps.tenants.create_api_key(minted.id, *name, minted.hash, *phone_number_ids);
    if (!stored) {
        if (stored.error().code == Errc::kNotFound) {
            co_return error_response(errors::not_found("phone_number_ids: a phone number does not exist"), rid);
        }
        co_return error_response(from_internal(stored.error(), rid), rid);
    }
    auto body = to_json(*stored);
    body["key"] = minted.key;  // shown this once; only its hash is kept
    co_return json_response(201, body.dump());
}

asio::awaitable<Response> list_api_keys(HandlerContext& ctx, Request& request, const PathParams&) {
    const std::string& rid = request.request_id;
    auto keys = co_await ctx.deps.tenants.list_api_keys();
    if (!keys) {
        co_return error_response(from_internal(keys.error(), rid), rid);
    }
    nlohmann::json data = nlohmann::json::array();
    for (const auto& k : *keys) {
        data.push_back(to_json(k));
    }
    co_return json_response(200, nlohmann::json{{"data", std::move(data)}}.dump());
}

asio::awaitable<Response> revoke_api_key(HandlerContext& ctx, Request& request, const PathParams& params) {
    const std::string& rid = request.request_id;
    const std::string& id = params.at("id");
    const bool well_formed = id.size() == 32 && std::all_of(id.begin(), id.end(), [](char c) {
                                 return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                             });
    if (!well_formed) {
        co_return error_response(errors::not_found("id: unknown API key"), rid);
    }
    auto revoked = co_await ctx.deps.tenants.revoke_api_key(id);
    if (!revoked) {
        co_return error_response(from_internal(revoked.error(), rid), rid);
    }
    ctx.authenticator.forget_key(id);
    if (!*revoked) {
        co_return error_response(errors::not_found("id: unknown or already revoked API key"), rid);
    }
    co_return json_response(200, nlohmann::json{{"id", id}, {"revoked", true}}.dump());
}

}  // namespace

http::Handler admin_only(HandlerContext& ctx, AdminHandler handler) {
    // A coroutine lambda: the closure (owned by the router) outlives every call, and it holds a
    // pointer rather than a reference capture.
    return [context = &ctx, handler](Request& request, const PathParams& params) -> asio::awaitable<Response> {
        if (!admin_authorized(request, context->settings.admin_token)) {
            co_return error_response(errors::unauthenticated("Authorization: admin token required"),
                                     request.request_id);
        }
        co_return co_await handler(*context, request, params);
    };
}

void register_admin_tenant_routes(HandlerContext& ctx, http::Router& router) {
    const std::size_t limit = ctx.settings.max_admin_body_bytes;
    router.add("PUT", "/admin/v1/businesses/{business_id}", limit, admin_only(ctx, put_business));
    router.add("GET", "/admin/v1/businesses/{business_id}", 0, admin_only(ctx, get_business));
    router.add("PUT", "/admin/v1/phone-numbers/{phone_number_id}", limit, admin_only(ctx, put_phone_number));
    router.add("GET", "/admin/v1/phone-numbers/{phone_number_id}", 0, admin_only(ctx, get_phone_number));
    router.add("POST", "/admin/v1/api-keys", limit, admin_only(ctx, create_api_key));
    router.add("GET", "/admin/v1/api-keys", 0, admin_only(ctx, list_api_keys));
    router.add("DELETE", "/admin/v1/api-keys/{id}", kIgnoredBodyLimit, admin_only(ctx, revoke_api_key));
}

}  // namespace wagate::api
