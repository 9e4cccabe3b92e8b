#include "sandbox/webhook_bodies.hpp"

#include <nlohmann/json.hpp>
#include <wagate/sandbox/sandbox.hpp>

namespace wagate::sandbox {
namespace {

// Insertion order, so that a body reads in Meta's order.
using Json = nlohmann::ordered_json;

std::string dump(const Json& body) {
    // ensure_ascii: Meta escapes non-ASCII, and the gateway must verify such bytes (webhooks.md).
    return body.dump(-1, ' ', /*ensure_ascii=*/true);
}

Json envelope(std::string_view phone_number_id, Json value) {
    Json full_value = Json::object();
    full_value["messaging_product"] = "whatsapp";
    full_value["metadata"] = Json{{"display_phone_number", phone_number_id}, {"phone_number_id", phone_number_id}};
    for (auto& [key, member] : value.items()) {
        full_value[key] = std::move(member);
    }
    Json change = Json::object();
    change["value"] = std::move(full_value);
    change["field"] = "messages";
    Json entry = Json::object();
    entry["id"] = kSandboxWabaId;
    entry["changes"] = Json::array({std::move(change)});
    Json body = Json::object();
    body["object"] = "whatsapp_business_account";
    body["entry"] = Json::array({std::move(entry)});
    return body;
}

}  // namespace

std::string status_webhook_body(std::string_view phone_number_id, const StatusItem& s) {
    Json item = Json::object();
    item["id"] = s.wamid;
    item["status"] = s.status;
    item["timestamp"] = std::to_string(s.timestamp);
    item["recipient_id"] = s.recipient_id;
    if (s.recipient_user_id) {
        item["recipient_user_id"] = *s.recipient_user_id;
    }
    if (s.group) {
        item["recipient_type"] = "group";
    }
    if (s.biz_opaque_callback_data) {
        item["biz_opaque_callback_data"] = *s.biz_opaque_callback_data;
    }
    if (s.conversation) {
        Json conversation = Json::object();
        conversation["id"] = s.conversation->id;
        if (s.conversation->expiration_timestamp) {
            conversation["expiration_timestamp"] = std::to_string(*s.conversation->expiration_timestamp);
        }
        conversation["origin"] = Json{{"type", s.conversation->origin_type}};
        item["conversation"] = std::move(conversation);
    }
    if (s.pricing) {
        item["pricing"] = Json{{"billable", s.pricing->billable},
                               {"pricing_model", "PMP"},
                               {"type", s.pricing->type},
                               {"category", s.pricing->category}};
    }
    if (s.error) {
        Json error = Json::object();
        error["code"] = s.error->code;
        error["title"] = s.error->title;
        error["message"] = s.error->title;
        error["error_data"] = Json{{"details", s.error->details}};
        error["href"] = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/";
        item["errors"] = Json::array({std::move(error)});
    }
    Json value = Json::object();
    value["statuses"] = Json::array({std::move(item)});
    return dump(envelope(phone_number_id, std::move(value)));
}

std::string inbound_webhook_body(const InboundMessage& m, std::string_view wamid) {
    Json message = Json::object();
    message["from"] = m.from;
    message["id"] = wamid;
    message["timestamp"] = std::to_string(m.timestamp);
    message["type"] = m.type;
    for (const auto& [key, json_text] : m.members) {
        message[key] = Json::parse(json_text);
    }
    Json value = Json::object();
    if (m.type != "system") {
        Json contact = Json::object();
        contact["profile"] = Json{{"name", m.profile_name}};
        contact["wa_id"] = m.from;
        value["contacts"] = Json::array({std::move(contact)});
    }
    value["messages"] = Json::array({std::move(message)});
    return dump(envelope(m.phone_number_id, std::move(value)));
}

}  // namespace wagate::sandbox
