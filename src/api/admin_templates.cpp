#include <nlohmann/json.hpp>
#include <wagate/domain/templates.hpp>
#include <wagate/store/template_store.hpp>

#include "api/admin_routes.hpp"
#include "api/handlers.hpp"
#include "api/responses.hpp"

namespace wagate::api {
namespace asio = boost::asio;
namespace errors = domain::api_errors;
using http::PathParams;
using http::Request;
using http::Response;

namespace {

nlohmann::json to_json(const store::StoredTemplate& t) {
    return {{"waba_id", t.waba_id},
            {"name", t.name},
            {"language", t.language},
            {"category", t.category},
            {"status", t.status},
            {"definition", nlohmann::json::parse(t.definition_json, nullptr, false)},
            {"updated_at", t.updated_at}};
}

asio::awaitable<Response> put_template(HandlerContext& ctx, Request& request, const PathParams& params) {
    const std::string& rid = request.request_id;
    // The whole definition is checked by the pure parser; its normalised form is what is stored.
    auto definition = domain::parse_template_definition(params.at("name"), params.at("language"), request.body);
    if (!definition) {
        co_return error_response(definition.error(), rid);
    }
    store::StoredTemplate t{params.at("waba_id"),
                            definition->name,
                            definition->language,
                            std::string(domain::to_string(definition->category)),
                            std::string(domain::to_string(definition->status)),
                            definition->json,
                            {}};
    auto stored = co_await ctx.deps.templates.upsert(t);
    if (!stored) {
        co_return error_response(from_internal(stored.error(), rid), rid);
    }
    co_return json_response(200, to_json(*stored).dump());
}

asio::awaitable<Response> list_templates(HandlerContext& ctx, Request& request, const PathParams& params) {
    const std::string& rid = request.request_id;
    auto found = co_await ctx.deps.templates.list(params.at("waba_id"));
    if (!found) {
        co_return error_response(from_internal(found.error(), rid), rid);
    }
    nlohmann::json data = nlohmann::json::array();
    for (const auto& t : *found) {
        data.push_back(to_json(t));
    }
    co_return json_response(200, nlohmann::json{{"data", std::move(data)}}.dump());
}

asio::awaitable<Response> delete_template(HandlerContext& ctx, Request& request, const PathParams& params) {
    const std::string& rid = request.request_id;
    auto removed =
        co_await ctx.deps.templates.remove(params.at("waba_id"), params.at("name"), params.at("language"));
    if (!removed) {
        co_return error_response(from_internal(removed.error(), rid), rid);
    }
    if (!*removed) {
        co_return error_response(errors::not_found("name: no such template in that language"), rid);
    }
    co_return json_response(200, R"({"deleted":true})");
}

}  // namespace

void register_admin_template_routes(HandlerContext& ctx, http::Router& router) {
    const std::size_t limit = ctx.settings.max_admin_body_bytes;
    router.add("PUT", "/admin/v1/templates/{waba_id}/{name}/{language}", limit, admin_only(ctx, put_template));
    router.add("GET", "/admin/v1/templates/{waba_id}", 0, admin_only(ctx, list_templates));
    router.add("DELETE", "/admin/v1/templates/{waba_id}/{name}/{language}", kIgnoredBodyLimit, admin_only(ctx, delete_template));
}

}  // namespace wagate::api
