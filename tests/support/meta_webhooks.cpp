#include "support/meta_webhooks.hpp"

#include <wagate/crypto/digest.hpp>

namespace wagate::test {

std::string hub_signature(const std::string& body, const std::string& secret) {
    return "sha256=" + crypto::to_hex(crypto::hmac_sha256(secret, body));
}

HttpResult post_webhook(HttpClient& client, const std::string& body, const std::string& secret) {
    return client.request("POST", "/webhooks/meta", body,
                          {{"Content-Type", "application/json"}, {"X-Hub-Signature-256", hub_signature(body, secret)}});
}

nlohmann::json messages_envelope(const std::string& phone_number_id, nlohmann::json value) {
    value["messaging_product"] = "whatsapp";
    value["metadata"] = {{"display_phone_number", "15550001111"}, {"phone_number_id", phone_number_id}};
    return {{"object", "whatsapp_business_account"},
            {"entry", {{{"id", kWabaId}, {"changes", {{{"field", "messages"}, {"value", std::move(value)}}}}}}}};
}

nlohmann::json status_item(const std::string& wamid, const std::string& status, std::int64_t timestamp,
                           nlohmann::json extra) {
    nlohmann::json item = {
        {"id", wamid}, {"status", status}, {"timestamp", std::to_string(timestamp)}, {"recipient_id", "15551234567"}};
    for (auto& [key, value] : extra.items()) {
        item[key] = value;
    }
    return item;
}

std::string statuses_body(const std::string& phone_number_id, nlohmann::json statuses) {
    return messages_envelope(phone_number_id, {{"statuses", std::move(statuses)}}).dump();
}

std::string inbound_body(const std::string& phone_number_id, nlohmann::json messages, nlohmann::json contacts) {
    nlohmann::json value = {{"messages", std::move(messages)}};
    if (!contacts.empty()) {
        value["contacts"] = std::move(contacts);
    }
    return messages_envelope(phone_number_id, std::move(value)).dump();
}

std::string account_body(const std::string& waba_id, const std::string& field, std::int64_t entry_time,
                         nlohmann::json value) {
    return nlohmann::json{{"object", "whatsapp_business_account"},
                          {"entry",
                           {{{"id", waba_id},
                             {"time", entry_time},
                             {"changes", {{{"field", field}, {"value", std::move(value)}}}}}}}}
        .dump();
}

}  // namespace wagate::test
