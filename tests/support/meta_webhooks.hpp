#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "support/http_client.hpp"

namespace wagate::test {

// Meta's side of the webhook, for tests: signed POSTs in the shapes of reference/webhooks.md.

inline constexpr const char* kAppSecret = "test-app-secret-0123456789";
inline constexpr const char* kOldAppSecret = "test-app-secret-previous";  // a second, rotated secret
inline constexpr const char* kVerifyToken = "test-verify-token";
inline constexpr const char* kWabaId = "880001";

/// "sha256=" + lowercase hex HMAC-SHA256(secret, body).
std::string hub_signature(const std::string& body, const std::string& secret = kAppSecret);

/// POST /webhooks/meta with the body signed by `secret`.
HttpResult post_webhook(HttpClient& client, const std::string& body, const std::string& secret = kAppSecret);

/// The Cloud API envelope around one `messages`-field value for `phone_number_id`.
nlohmann::json messages_envelope(const std::string& phone_number_id, nlohmann::json value);

/// One status item: {"id","status","timestamp","recipient_id"} (timestamp as a string, as Meta
/// writes it), plus `extra` members.
nlohmann::json status_item(const std::string& wamid, const std::string& status, std::int64_t timestamp,
                           nlohmann::json extra = nlohmann::json::object());

/// A body carrying `statuses` (an array of status items) for `phone_number_id`.
std::string statuses_body(const std::string& phone_number_id, nlohmann::json statuses);

/// A body carrying inbound `messages` (with `contacts`) for `phone_number_id`.
std::string inbound_body(const std::string& phone_number_id, nlohmann::json messages,
                         nlohmann::json contacts = nlohmann::json::array());

/// An account-level body: entry {id: waba, time, changes:[{field, value}]}.
std::string account_body(const std::string& waba_id, const std::string& field, std::int64_t entry_time,
                         nlohmann::json value);

}  // namespace wagate::test
