#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <wagate/domain/api_error.hpp>

namespace wagate::domain {

/// Limits that are settings rather than Meta facts (reference §7, §15 and docs/decisions.md).
struct ValidationSettings {
    std::size_t max_contacts = 257;  // Meta's prose limit; OAS says 5
    std::size_t max_json_depth = 32; // nesting of objects/arrays, counted after decoding string-encoded fields
    bool direct_send_enabled = false; // whether `category` (Direct Send) is allowed on this number
};

enum class RequestKind {
    kMessage,   // a message to send
    kMarkRead,  // {"status":"read","message_id":...} with optional typing indicator
};

enum class RecipientKind { kIndividual, kBsuid, kGroup };

/// A send request that passed every structural rule of reference §1–§11 and §15.
/// Business rules (window, opt-in, tiers) are not checked here: they need state.
struct SendRequest {
    RequestKind kind = RequestKind::kMessage;

    /// Message type as Meta names it: "text", "image", ..., "template", "reaction". Empty for kMarkRead.
    std::string type;
    /// For type "interactive": interactive.type ("button", "list", ...). Empty otherwise.
    std::string interactive_type;

    RecipientKind recipient_kind = RecipientKind::kIndividual;
    /// `to` exactly as the caller sent it (echoed in contacts[].input); for BSUID-only sends, `recipient`.
    std::string to_input;
    /// The recipient's WhatsApp id: digits only for phone numbers (no '+'), the BSUID or the group id otherwise.
    std::string wa_id;

    /// Referenced message ids, as given (a gateway id or a wamid): context.message_id,
    /// reaction.message_id, or the mark-as-read message_id.
    std::optional<std::string> context_message_id;
    std::optional<std::string> reaction_message_id;
    std::string mark_read_message_id;
    bool typing_indicator = false;

    std::optional<std::string> biz_opaque_callback_data;

    /// For templates: name and language code (what the policy layer looks up).
    std::string template_name;
    std::string template_language;

    /// The request as it will be relayed to Meta, serialised compactly: string-encoded structured
    /// fields decoded, button indices normalised to integers, `to` in canonical "+<digits>" form
    /// for phone recipients, `messaging_product` and `recipient_type` present.
    std::string payload_json;
};

/// Pure. Parses `body_json` and validates it against every rule of ../shared/reference/messages.md.
/// Invalid JSON, invalid UTF-8 and nesting deeper than `max_json_depth` are code 100 (checked before
/// the full parse, so a hostile body costs one linear scan). Errors carry Meta's code and a `details` that starts with
/// the field path, e.g. `interactive.action.buttons[3]: at most 3 buttons`:
///   100 unknown key / wrong JSON type / bad enum value; 131008 required field missing;
///   131009 value out of range or malformed; 131051 unsupported type.
/// Thread-safe (no shared state).
ApiResult<SendRequest> validate_send_request(std::string_view body_json,
                                             const ValidationSettings& settings);

/// Counts Unicode code points of valid UTF-8 (the unit every length limit uses; docs/decisions.md).
std::size_t count_code_points(std::string_view utf8) noexcept;

}  // namespace wagate::domain
