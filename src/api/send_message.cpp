#include <nlohmann/json.hpp>
#include <wagate/crypto/digest.hpp>
#include <wagate/crypto/random.hpp>
#include <wagate/store/message_store.hpp>

#include "api/handlers.hpp"
#include "api/responses.hpp"

namespace wagate::api {
namespace asio = boost::asio;
namespace errors = domain::api_errors;

namespace {

bool is_json_content_type(std::string_view value) {
    const std::size_t semicolon = value.find(';');
    std::string_view media = value.substr(0, semicolon);
    while (!media.empty() && media.back() == ' ') {
        media.remove_suffix(1);
    }
    constexpr std::string_view kJson = "application/json";
    return media.size() == kJson.size() &&
           std::equal(media.begin(), media.end(), kJson.begin(),
                      [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

/// Idempotency keys are opaque to us but end up in logs and SQL parameters: printable ASCII only.
bool is_valid_idempotency_key(std::string_view key) {
    return !key.empty() && key.size() <= 255 &&
           std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
}

std::string success_body(const domain::SendRequest& send, const std::string& id_hex) {
    if (send.kind == domain::RequestKind::kMarkRead) {
        return R"({"success":true})";
    }
    nlohmann::json contact = {{"input", send.to_input}};
    if (send.recipient_kind == domain::RecipientKind::kBsuid) {
        contact["user_id"] = send.wa_id;
    } else {
        contact["wa_id"] = send.wa_id;
    }
    nlohmann::json body = {
        {"messaging_product", "whatsapp"},
        {"contacts", nlohmann::json::array({contact})},
        {"messages",
         nlohmann::json::array({{{"id", external_message_id(id_hex)}, {"message_status", "accepted"}}})}};
    return body.dump();
}

/// Resolves which phone number the request is for, and checks the key may use it:
/// 404 unknown number, 403 outside the key's scope.
asio::awaitable<domain::ApiResult<std::string>> authorized_phone_number(HandlerContext& ctx,
                                                                        const http::Request& request,
                                                                        const AuthenticatedKey& key,
                                                                        const http::PathParams& params) {
    std::string phone_number_id;
    if (auto it = params.find("phone_number_id"); it != params.end()) {
        phone_number_id = it->second;
    } else if (key.phone_number_ids.size() == 1) {
        phone_number_id = key.phone_number_ids.front();
    } else {
        co_return errors::invalid_parameter(
            "phone_number_id: /v1/messages needs a key scoped to exactly one phone number; this key has " +
            std::to_string(key.phone_number_ids.size()) + ", use /{phone_number_id}/messages");
    }
    auto exists = co_await ctx.authenticator.phone_number_exists(phone_number_id);
    if (!exists) {
        co_return from_internal(exists.error(), request.request_id);
    }
    if (!*exists) {
        co_return errors::not_found("phone_number_id: unknown phone number " + phone_number_id);
    }
    if (!key.may_use(phone_number_id)) {
        co_return errors::forbidden("phone_number_id: this API key is not scoped to phone number " +
                                    phone_number_id);
    }
    co_return phone_number_id;
}

}  // namespace

asio::awaitable<http::Response> send_message(HandlerContext& ctx, http::Request& request,
                                             const http::PathParams& params) {
    const std::string& rid = request.request_id;
    auto key = co_await ctx.authenticator.authenticate(request);
    if (!key) {
        co_return error_response(key.error(), rid);
    }
    auto phone_number_id = co_await authorized_phone_number(ctx, request, *key, params);
    if (!phone_number_id) {
        co_return error_response(phone_number_id.error(), rid);
    }
    if (!is_json_content_type(request.header("content-type"))) {
        auto e = errors::invalid_parameter("Content-Type: must be application/json");
        e.http_status = 415;
        co_return error_response(e, rid);
    }
    std::optional<std::string> idempotency_key;
    if (auto h = std::find_if(request.headers.begin(), request.headers.end(),
                                     [](const http::Header& x) { return x.name == "idempotency-key"; });
        h != request.headers.end()) {
        if (!is_valid_idempotency_key(h->value)) {
            co_return error_response(
                errors::invalid_parameter("Idempotency-Key: 1 to 255 printable ASCII characters"), rid);
        }
        idempotency_key = h->value;
    }

    auto send = domain::validate_send_request(request.body, ctx.settings.validation);
    if (!send) {
        co_return error_response(send.error(), rid);
    }

    // The key binds to the normalised request, so key order and JSON-encoded fields do not make
    // an honest retry look like a different request. Repeats are recognised by the writer, in
    // the same statement that would store the message.
    std::string request_hash;
    if (idempotency_key) {
        request_hash = crypto::to_hex(crypto::sha256(*phone_number_id + "\n" + send->payload_json));
    }

    const std::string id = crypto::uuid_v7_hex(ctx.deps.clock.now());
    store::AcceptItem item;
    item.id = id;
    item.phone_number_id = *phone_number_id;
    item.kind = send->kind;
    item.type = send->kind == domain::RequestKind::kMarkRead ? "read" : send->type;
    item.template_name = std::move(send->template_name);
    item.template_language = std::move(send->template_language);
    item.to_input = send->to_input;
    item.wa_id = send->wa_id;
    item.payload_json = std::move(send->payload_json);
    item.biz_opaque_callback_data = send->biz_opaque_callback_data;
    item.api_key_id = key->id;
    item.idempotency_key = idempotency_key;
    item.request_hash_hex = request_hash;
    item.response_body = success_body(*send, id);

    // The writer applies the business rules (window, opt-in, identity, number status, pair
    // backlog, template, messaging limit) to the state it reads in the same batch that stores
    // the message: docs/adr/0003-policy-in-the-accept-batch.md.
    auto accepted = co_await ctx.deps.writer.accept(std::move(item));
    if (!accepted) {
        co_return error_response(from_internal(accepted.error(), rid), rid);
    }
    switch (accepted->outcome) {
    case store::AcceptOutcome::kRejected:
        co_return error_response(*accepted->rejection, rid);
    case store::AcceptOutcome::kIdempotencyMismatch:
        co_return error_response(
            errors::idempotency_mismatch("Idempotency-Key: already used with a different request"), rid);
    case store::AcceptOutcome::kStored:
    case store::AcceptOutcome::kReplay:
        break;
    }
    co_return json_response(200, std::move(accepted->response_body));
}

}  // namespace wagate::api
