#include "sandbox/graph_responses.hpp"

#include <nlohmann/json.hpp>

namespace wagate::sandbox {

using Json = nlohmann::ordered_json;

http::Response json_response(int status, std::string body) {
    http::Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

http::Response graph_error(const domain::ApiError& e, const std::string& fbtrace_id) {
    Json error = Json::object();
    error["message"] = "(#" + std::to_string(e.code) + ") " + e.title;
    error["type"] = "OAuthException";
    error["code"] = e.code;
    error["error_data"] = Json{{"messaging_product", "whatsapp"}, {"details", e.details}};
    error["fbtrace_id"] = fbtrace_id;
    Json body = Json::object();
    body["error"] = std::move(error);
    // Details may quote a caller's bytes: never let invalid UTF-8 turn an answer into a throw.
    return json_response(e.http_status, body.dump(-1, ' ', false, Json::error_handler_t::replace));
}

http::Response render_server_error(int status, std::string_view details, const std::string& request_id) {
    domain::ApiError e;
    switch (status) {
        case 404: e = domain::api_errors::not_found(std::string(details)); break;
        case 413: e = domain::api_errors::payload_too_large("body: " + std::string(details)); break;
        case 500: e = domain::api_errors::internal(std::string(details)); break;
        default:
            e = domain::api_errors::invalid_parameter(std::string(details));
            e.http_status = status;
            break;
    }
    return graph_error(e, request_id);
}

std::string send_success_body(const domain::SendRequest& request, std::string_view wamid) {
    Json contact = Json::object();
    contact["input"] = request.to_input;
    if (request.recipient_kind == domain::RecipientKind::kBsuid) {
        contact["user_id"] = request.wa_id;
    } else {
        contact["wa_id"] = request.wa_id;
    }
    Json message = Json::object();
    message["id"] = wamid;
    if (request.recipient_kind == domain::RecipientKind::kGroup) {
        message["group_id"] = request.wa_id;
    }
    if (request.type == "template") {
        message["message_status"] = "accepted";
    }
    Json body = Json::object();
    body["messaging_product"] = "whatsapp";
    body["contacts"] = Json::array({std::move(contact)});
    body["messages"] = Json::array({std::move(message)});
    return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace wagate::sandbox
