#pragma once

#include <cstddef>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <wagate/domain/api_error.hpp>

namespace wagate::domain {

// Stored template definitions (Meta's template-definition format) and the check of a template send
// against one (reference §10, policy §5). Pure: no I/O, thread-safe, no shared state.

enum class TemplateCategory { kMarketing, kUtility, kAuthentication };

/// Meta's template statuses (reference §10.5). Only kApproved can be sent.
enum class TemplateStatus {
    kApproved,
    kPending,
    kRejected,
    kPaused,
    kDisabled,
    kFlagged,
    kInAppeal,
    kLimitExceeded,
    kLocked,
    kArchived,
    kDeleted,
    kPendingDeletion,
    kReinstated
};

enum class ParameterFormat { kPositional, kNamed };

enum class HeaderFormat { kText, kImage, kVideo, kDocument, kLocation, kProduct };

enum class ButtonType {
    kQuickReply,
    kUrl,
    kPhoneNumber,
    kCopyCode,
    kOtp,
    kFlow,
    kMpm,
    kCatalog,
    kVoiceCall,
    kApp,
    kRequestContactInfo,
    kOrderDetails
};

/// Meta's spelling: "MARKETING", "PENDING_DELETION", "POSITIONAL", "IMAGE", "QUICK_REPLY", ...
std::string_view to_string(TemplateCategory category) noexcept;
std::string_view to_string(TemplateStatus status) noexcept;
std::string_view to_string(ParameterFormat format) noexcept;
std::string_view to_string(HeaderFormat format) noexcept;
std::string_view to_string(ButtonType type) noexcept;

/// Inverse of to_string, case-insensitive ("approved" works); nullopt for anything else. For
/// status updates that arrive outside a full definition (Meta's template-status webhook).
std::optional<TemplateStatus> parse_template_status(std::string_view text);

/// A text with placeholders. `variables` lists each distinct placeholder once, in order of first
/// appearance: "1", "2", ... for positional texts, names for named ones.
struct TemplateText {
    std::string text;
    std::vector<std::string> variables;
    bool named = false;  // the variables are names (false when there are none)
};

/// Parses the placeholders of `text`: positional `{{1}}`…`{{n}}`, numbered 1..n in order of first
/// appearance without gaps, or named `{{first_name}}` (lower-case letters, digits, underscores,
/// not all digits, ≤ 20 characters like the send API's `parameter_name`), never both. A
/// placeholder may repeat; it is one variable. Errors are 131009 "<path>: <reason>".
ApiResult<TemplateText> parse_template_text(std::string text, std::string_view path);

/// Code points of `text.text` with every placeholder replaced by `values[variable]` (a variable
/// without a value keeps its placeholder). `text` must come from parse_template_text.
std::size_t hydrated_length(const TemplateText& text,
                            const std::map<std::string, std::string>& values);

struct TemplateHeader {
    HeaderFormat format = HeaderFormat::kText;
    TemplateText text;  // kText only: ≤ 60 characters, at most one variable
};

struct TemplateButton {
    ButtonType type = ButtonType::kQuickReply;
    std::string text;               // the label, ≤ 25 characters (some types have none)
    std::string url;                // kUrl: ≤ 2000 characters
    bool url_has_variable = false;  // kUrl: the url ends with its only placeholder
    std::string phone_number;       // kPhoneNumber: ≤ 20 characters
};

/// A definition that passed parse_template_definition.
struct TemplateDefinition {
    std::string name;
    std::string language;
    TemplateCategory category = TemplateCategory::kUtility;
    TemplateStatus status = TemplateStatus::kPending;
    /// As declared, or inferred from the placeholders (positional when there are none).
    ParameterFormat parameter_format = ParameterFormat::kPositional;
    std::optional<TemplateHeader> header;
    /// Empty `body.text` with one variable: an AUTHENTICATION body in Meta's creation format
    /// (`add_security_recommendation`, no `text`), whose wording Meta supplies.
    TemplateText body;
    std::optional<std::string> footer;
    std::vector<TemplateButton> buttons;
    std::size_t carousel_cards = 0;   // cards of a CAROUSEL component (card contents not modelled)
    bool limited_time_offer = false;  // has a LIMITED_TIME_OFFER component
    /// The normalised definition body (enum values upper-case, `parameter_format` explicit),
    /// compact JSON: what to store and list. parse_template_definition accepts it back unchanged.
    std::string json;

    /// True when the body is the only component; body text parameters may then be 32768
    /// characters instead of 1024 (reference §10.3).
    bool body_only() const noexcept;
};

/// Parses and validates an admin upsert `PUT /admin/v1/templates/{waba_id}/{name}/{language}`:
/// `body_json` is `{"category","status","components":[…]}` plus optional `parameter_format`
/// (`POSITIONAL`|`NAMED`); `name` and `language` come from the URL (if the body repeats them they
/// must agree), and the read-only fields of Meta's GET response (`id`, `quality_score`,
/// `sub_category`, `message_send_ttl_seconds`, ...) are kept but not checked. Rules
/// (reference §10.5): name `^[a-z0-9_]{1,512}$`; a supported language code; components HEADER
/// (≤ 1; TEXT ≤ 60 characters with ≤ 1 variable, IMAGE, VIDEO, DOCUMENT, LOCATION, PRODUCT),
/// BODY (exactly 1, ≤ 1024 characters), FOOTER (≤ 60, no variables), BUTTONS (≤ 10; labels ≤ 25;
/// URL ≤ 2000 with at most one variable, at the end; phone ≤ 20; ≤ 2 URL, ≤ 1 phone, ≤ 1 copy
/// code, ≤ 1 OTP and only in AUTHENTICATION; quick replies grouped together), CAROUSEL (1-10
/// cards), LIMITED_TIME_OFFER. Enum values are matched case-insensitively. Unknown keys are
/// rejected except inside `example` and button objects (Meta keeps adding button options).
/// Errors: 100 bad JSON, wrong JSON type, unknown key or enum value; 131008 missing field;
/// 131009 bad value; `details` starts with the path, e.g. `components[1].text: at most 1024
/// characters`.
ApiResult<TemplateDefinition> parse_template_definition(std::string_view name,
                                                        std::string_view language,
                                                        std::string_view body_json);

/// Checks a send's `template` object (as normalised by validate_send_request: lower-case
/// component types and sub_types, integer button indices) against its stored definition:
///   status: APPROVED passes, PAUSED 132015, DISABLED 132016, every other status 132001 (404)
///     because Meta sends only APPROVED templates and treats the rest as absent;
///   header: one parameter of the header's kind (text/image/video/document/location/product)
///     when the header is media or has a variable, else none: 132000 count, 132012 kind;
///   body: one parameter per variable (132000); named templates need a `parameter_name` on each,
///     matching the definition's names in any order, positional ones none (132012); a body text
///     parameter over 1024 characters when the template has other components is 131009 (a value
///     limit, like the send validator's); the body filled in over 1024 characters (32768 for a
///     body-only template, the per-parameter cap) is 132005;
///   buttons: `index` must name a button of the definition (131009) whose type the `sub_type`
///     matches (url: URL or OTP, quick_reply, copy_code, flow, catalog, mpm, voice_call,
///     order_details; PHONE_NUMBER, APP and REQUEST_CONTACT_INFO take none) else 132012; a URL
///     button takes a parameter only when its url has a variable (132000) and the URL filled in
///     stays ≤ 2000 characters (131009); an OTP code is ≤ 15 (131009); URL-with-variable, OTP,
///     COPY_CODE and MPM buttons must be given (132000); a voice_call without index goes to the
///     VOICE_CALL button;
///   carousel: card count equals the definition's (132000); limited_time_offer only if defined.
/// `details` starts with the send's field path: `template.components[1].parameters: expected 2
/// parameters, got 1`. Structure the validator guarantees is not re-checked, but malformed input
/// gives an error, never undefined behaviour.
ApiResult<void> check_template_object(const TemplateDefinition& definition,
                                      const nlohmann::json& template_object);

/// Same, from the `template` object's JSON text.
ApiResult<void> check_template_send(const TemplateDefinition& definition,
                                    std::string_view template_json);

/// Same, from a whole message (SendRequest::payload_json) whose `template` is checked.
ApiResult<void> check_template_payload(const TemplateDefinition& definition,
                                       std::string_view payload_json);

/// The template errors api_errors has no constructor for (reference §12.2).
namespace template_errors {
ApiError not_found(std::string details);  // 404, 132001 "Template does not exist"
ApiError paused(std::string details);     // 400, 132015 "Template is paused"
ApiError disabled(std::string details);   // 400, 132016 "Template is disabled"
}  // namespace template_errors

}  // namespace wagate::domain
