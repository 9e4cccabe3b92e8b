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
    return json_response(e.http_status, domain::graph_error_body(e, fbtrace_id));
}

http::Response render_server_error(int status, std::string_view details, const std::string& request_id) {
    return graph_error(domain::api_errors::server_detected(status, details), request_id);
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
