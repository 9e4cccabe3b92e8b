#include <nlohmann/json.hpp>
#include <wagate/domain/policy.hpp>
#include <wagate/store/limit_store.hpp>
#include <wagate/store/tenant_store.hpp>

#include "api/admin_routes.hpp"
#include "api/handlers.hpp"
#include "api/responses.hpp"

namespace wagate::api {
namespace asio = boost::asio;
namespace errors = domain::api_errors;
namespace policy = domain::policy;
using http::PathParams;
using http::Request;
using http::Response;

namespace {

nlohmann::json optional_json(const std::optional<std::int64_t>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

/// GET /admin/v1/businesses/{business_id}/limits: the budget as the next accept batch sees it,
/// and whether the business may move up a tier under its rule (policy §3).
asio::awaitable<Response> get_limits(HandlerContext& ctx, Request& request, const PathParams& params) {
    const std::string& rid = request.request_id;
    const std::string& id = params.at("business_id");
    const policy::TimePoint now = ctx.deps.clock.now();
    auto read = co_await ctx.deps.limits.read(id, now);
    if (!read) {
        co_return error_response(from_internal(read.error(), rid), rid);
    }
    if (!*read) {
        co_return error_response(errors::not_found("business_id: unknown business " + id), rid);
    }
    const store::BusinessLimits& l = **read;
    const auto cap = policy::limit(l.tier);
    const std::optional<std::int64_t> remaining =
        cap ? std::optional<std::int64_t>(std::max<std::int64_t>(*cap - l.used, 0)) : std::nullopt;
    const policy::UpgradeEligibility upgrade = policy::upgrade_eligibility(
        l.upgrade_rule, policy::UpgradeInput{l.tier, l.any_number_red, !l.flagged.empty(), l.unique_users_7d});

    nlohmann::json body = {
        {"business_id", id},
        {"tier", policy::to_string(l.tier)},
        {"limit", optional_json(cap)},
        {"used", l.used},
        {"remaining", optional_json(remaining)},
        {"next_slot_at",
         l.oldest_counted_at ? nlohmann::json(policy::format_utc(policy::next_slot_at(l.oldest_counted_at, now)))
                             : nlohmann::json(nullptr)},
        {"upgrade",
         {{"rule", policy::to_string(l.upgrade_rule)},
          {"auto_upgrade", l.auto_upgrade},
          {"eligible", upgrade.eligible},
          {"next_tier", upgrade.next_tier ? nlohmann::json(policy::to_string(*upgrade.next_tier))
                                          : nlohmann::json(nullptr)},
          {"reason", upgrade.reason},
          {"unique_users_7d", l.unique_users_7d}}}};
    co_return json_response(200, body.dump());
}

Response render_history(const std::vector<store::StateChange>& changes) {
    nlohmann::json data = nlohmann::json::array();
    for (const auto& c : changes) {
        data.push_back({{"field", c.field},
                        {"from", c.from ? nlohmann::json(*c.from) : nlohmann::json(nullptr)},
                        {"to", c.to},
                        {"source", c.source},
                        {"changed_at", c.changed_at}});
    }
    return json_response(200, nlohmann::json{{"data", std::move(data)}}.dump());
}

/// Every recorded change of an existing subject, oldest first; 404 for an unknown one.
asio::awaitable<Response> history_of(HandlerContext& ctx, const std::string& rid, store::Subject subject,
                                     const std::string& id) {
    bool exists = false;
    if (subject == store::Subject::kBusiness) {
        auto business = co_await ctx.deps.tenants.get_business(id);
        if (!business) {
            co_return error_response(from_internal(business.error(), rid), rid);
        }
        exists = business->has_value();
    } else {
        auto phone = co_await ctx.deps.tenants.get_phone_number(id);
        if (!phone) {
            co_return error_response(from_internal(phone.error(), rid), rid);
        }
        exists = phone->has_value();
    }
    if (!exists) {
        co_return error_response(errors::not_found(subject == store::Subject::kBusiness
                                                       ? "business_id: unknown business " + id
                                                       : "phone_number_id: unknown phone number " + id),
                                 rid);
    }
    auto changes = co_await ctx.deps.limits.history(subject, id);
    if (!changes) {
        co_return error_response(from_internal(changes.error(), rid), rid);
    }
    co_return render_history(*changes);
}

/// GET /admin/v1/businesses/{business_id}/history: every tier change.
asio::awaitable<Response> get_business_history(HandlerContext& ctx, Request& request, const PathParams& params) {
    return history_of(ctx, request.request_id, store::Subject::kBusiness, params.at("business_id"));
}

/// GET /admin/v1/phone-numbers/{phone_number_id}/history: every quality rating and status change.
asio::awaitable<Response> get_phone_history(HandlerContext& ctx, Request& request, const PathParams& params) {
    return history_of(ctx, request.request_id, store::Subject::kPhoneNumber, params.at("phone_number_id"));
}

}  // namespace

void register_admin_limit_routes(HandlerContext& ctx, http::Router& router) {
    router.add("GET", "/admin/v1/businesses/{business_id}/limits", 0, admin_only(ctx, get_limits));
    router.add("GET", "/admin/v1/businesses/{business_id}/history", 0, admin_only(ctx, get_business_history));
    router.add("GET", "/admin/v1/phone-numbers/{phone_number_id}/history", 0, admin_only(ctx, get_phone_history));
}

}  // namespace wagate::api
