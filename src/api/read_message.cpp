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

nlohmann::json optional_text(const std::optional<std::string>& text) {
    return text ? nlohmann::json(*text) : nlohmann::json(nullptr);
}

/// An inbound message: Meta's wamid is its id; `status` is "received", or "deleted" once the user
/// deleted it (its content is then gone); `content` is the message item as Meta sent it.
std::string render(const store::InboundRecord& m) {
    nlohmann::json content = parse_or_null(m.content_json);
    nlohmann::json errors = nlohmann::json::array();
    if (content.is_object() && content.contains("errors")) {
        errors = content["errors"];
    }
    nlohmann::json body = {
        {"id", m.wamid},
        {"direction", "inbound"},
        {"phone_number_id", m.phone_number_id},
        {"wa_id", m.wa_id},
        {"user_id", optional_text(m.user_id)},
        {"type", m.type},
        {"status", m.deleted_at ? "deleted" : "received"},
        {"wamid", m.wamid},
        {"created_at", optional_text(m.occurred_at)},
        {"deleted_at", optional_text(m.deleted_at)},
        {"statuses", nlohmann::json::array()},
        {"errors", std::move(errors)},
        {"pricing", nullptr},
        {"conversation", nullptr},
        {"biz_opaque_callback_data", nullptr},
        {"content", std::move(content)},
        {"contact", parse_or_null(m.contact_json)}};
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

/// GET of an id that is not a gateway id: an inbound message, known by Meta's wamid.
asio::awaitable<http::Response> read_inbound(HandlerContext& ctx, const AuthenticatedKey& key,
                                             const std::string& wamid, const std::string& rid) {
    auto not_found = domain::api_errors::not_found("id: no message " + wamid + " for this API key");
    auto found = co_await ctx.deps.messages.get_inbound(wamid);
    if (!found) {
        co_return error_response(from_internal(found.error(), rid), rid);
    }
    if (!*found || !key.may_use((*found)->phone_number_id)) {
        co_return error_response(not_found, rid);
    }
    co_return json_response(200, render(**found));
}

}  // namespace

asio::awaitable<http::Response> read_message(HandlerContext& ctx, http::Request& request,
                                             const http::PathParams& params) {
    const std::string& rid = request.request_id;
    auto key = co_await ctx.authenticator.authenticate(request);
    if (!key) {
        co_return error_response(key.error(), rid);
    }
    const std::string& external = params.at("message");
    const std::string id = internal_message_id(external);
    auto not_found = domain::api_errors::not_found("id: no message " + external + " for this API key");
    if (id.empty()) {
        // wamids hold '/', '+' and '=': a client escapes them in the path.
        auto inbound = co_await read_inbound(ctx, *key, http::percent_decode(external, false), rid);
        co_return inbound;
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
