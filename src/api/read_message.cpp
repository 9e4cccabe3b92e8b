#include <nlohmann/json.hpp>
#include <wagate/store/message_store.hpp>

#include "api/handlers.hpp"
#include "api/responses.hpp"

namespace wagate::api {
namespace asio = boost::asio;

namespace {

nlohmann::json parse_or_null(const std::optional<std::string>& text) {
    if (!text) {
        return nullptr;
    }
    return nlohmann::json::parse(*text, nullptr, false);
}

std::string render(const store::StoredMessage& m) {
    nlohmann::json statuses = nlohmann::json::array();
    for (const auto& s : m.statuses) {
        nlohmann::json item = {{"status", s.status}, {"timestamp", s.timestamp}};
        if (s.errors_json) {
            item["errors"] = parse_or_null(s.errors_json);
        }
        statuses.push_back(std::move(item));
    }
    nlohmann::json body = {
        {"id", external_message_id(m.id)},
        {"direction", "outbound"},
        {"phone_number_id", m.phone_number_id},
        {"wa_id", m.wa_id},
        {"type", m.type},
        {"status", m.status},
        {"wamid", m.wamid ? nlohmann::json(*m.wamid) : nlohmann::json(nullptr)},
        {"created_at", m.created_at},
        {"statuses", std::move(statuses)},
        {"errors", m.errors_json ? parse_or_null(m.errors_json) : nlohmann::json::array()},
        {"pricing", parse_or_null(m.pricing_json)},
        {"conversation", parse_or_null(m.conversation_json)},
        {"biz_opaque_callback_data",
         m.biz_opaque_callback_data ? nlohmann::json(*m.biz_opaque_callback_data) : nlohmann::json(nullptr)}};
    return body.dump();
}

}  // namespace

asio::awaitable<http::Response> read_message(HandlerContext& ctx, http::Request& request,
                                             const http::PathParams& params) {
    const std::string& rid = request.request_id;
    auto key = co_await ctx.authenticator.authenticate(request);
    if (!key) {
        co_return error_response(key.error(), rid);
    }
    const std::string& external = params.at("id");
    const std::string id = internal_message_id(external);
    // Inbound messages (known by wamid) arrive with the webhook ingest; until then every id that
    // is not a gateway id is unknown.
    auto not_found = domain::api_errors::not_found("id: no message " + external + " for this API key");
    if (id.empty()) {
        co_return error_response(not_found, rid);
    }
    auto found = co_await ctx.deps.messages.get_outbound(id);
    if (!found) {
        co_return error_response(from_internal(found.error(), rid), rid);
    }
    // Another number's message is reported as absent, not forbidden: ids must not be probeable.
    if (!*found || !key->may_use((*found)->phone_number_id)) {
        co_return error_response(not_found, rid);
    }
    co_return json_response(200, render(**found));
}

}  // namespace wagate::api
