#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wagate::sandbox {

// The bodies the sandbox posts to the gateway, in Meta's `messages`-field shape
// (reference/webhooks.md §3.1, §4, §6). Pure; the bytes returned are exactly what gets signed.
// Non-ASCII is written as \uXXXX escapes, as Meta writes it.

struct Pricing {
    bool billable = false;
    std::string type;      // "regular", "free_customer_service", ...
    std::string category;  // "marketing", "service", ...
};

struct Conversation {
    std::string id;
    std::string origin_type;                         // the category
    std::optional<std::int64_t> expiration_timestamp;  // only on `sent`
};

struct StatusError {
    int code = 0;
    std::string title;  // also the `message`, as Meta repeats it
    std::string details;
};

struct StatusItem {
    std::string wamid;
    std::string status;  // sent, delivered, read, failed
    std::int64_t timestamp = 0;  // Unix seconds; written as a string
    std::string recipient_id;    // the wa_id; "" for a BSUID-only send; the group id for groups
    std::optional<std::string> recipient_user_id;  // the BSUID, when the send addressed one
    bool group = false;                            // adds "recipient_type":"group"
    std::optional<std::string> biz_opaque_callback_data;
    std::optional<Conversation> conversation;
    std::optional<Pricing> pricing;
    std::optional<StatusError> error;  // only on `failed`
};

/// One status in the `messages` envelope for `phone_number_id` (which is also the display number).
std::string status_webhook_body(std::string_view phone_number_id, const StatusItem& item);

/// A user's message to the business, as accepted by POST /sandbox/v1/inbound.
struct InboundMessage {
    std::string phone_number_id;
    std::string from;  // digits
    std::string type;
    std::string profile_name;
    std::int64_t timestamp = 0;  // Unix seconds
    /// Compact JSON of the message members copied through: the one named by `type`, and any of
    /// `context`, `referral`, `errors` the caller gave, in that order.
    std::vector<std::pair<std::string, std::string>> members;
};

/// One inbound message with its sender's `contacts[]` entry (none for `system` messages, as Meta
/// sends none) in the `messages` envelope.
std::string inbound_webhook_body(const InboundMessage& message, std::string_view wamid);

}  // namespace wagate::sandbox
