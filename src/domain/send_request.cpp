#include <wagate/domain/send_request.hpp>

#include <algorithm>
#include <exception>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "send_validation/content.hpp"
#include "send_validation/field_reader.hpp"
#include "send_validation/json_text.hpp"
#include "send_validation/text_rules.hpp"

namespace wagate::domain {
namespace {

using send_validation::invalid_error;
using send_validation::Json;
using send_validation::ObjectReader;
using send_validation::required_error;
using send_validation::Status;

constexpr std::string_view kEnvelopeKeys[] = {
    "messaging_product",
    "recipient_type",
    "to",
    "recipient",
    "type",
    "context",
    "biz_opaque_callback_data",
    "recipient_identity_key_hash",
    "category",
};

constexpr std::string_view kMessageTypes[] = {
    "text",     "image",    "audio",       "video",    "document", "sticker",
    "location", "contacts", "interactive", "template", "reaction", "pin",
};

// Groups take text, media, templates and pins only (reference §11).
constexpr std::string_view kGroupTypes[] = {"text",     "image",   "audio",    "video",
                                            "document", "sticker", "template", "pin"};

template <std::size_t N>
bool contains(const std::string_view (&list)[N], std::string_view value) {
    return std::find(std::begin(list), std::end(list), value) != std::end(list);
}

bool is_phone_char(char c) {
    return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '(' || c == ')' || c == ' ';
}

// Opaque base64-like id returned by the Groups API.
bool is_group_id(std::string_view id) {
    const bool charset = std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '+' || c == '/' || c == '=' || c == '_' || c == '-';
    });
    return !id.empty() && id.size() <= 128 && charset && !send_validation::is_ascii_digits(id);
}

// ^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$
bool is_bsuid(std::string_view id) {
    if (id.size() < 4 || !send_validation::is_ascii_upper(id.substr(0, 2)) || id[2] != '.') {
        return false;
    }
    std::string_view rest = id.substr(3);
    if (rest.size() > 4 && rest.substr(0, 4) == "ENT.") {
        rest.remove_prefix(4);
    }
    return rest.size() <= 128 && send_validation::is_ascii_alnum(rest);
}

// The digits of a phone number written with + - ( ) and spaces. A leading + is optional: bare
// digits are taken as the full international number (SDKs commonly send them), and the relay
// sends "+<digits>" so Meta never prepends the business number's country code.
ApiResult<std::string> phone_digits(std::string_view to) {
    std::string digits;
    for (std::size_t i = 0; i < to.size(); ++i) {
        const char c = to[i];
        if (!is_phone_char(c) || (c == '+' && i != 0)) {
            const char* hint = is_group_id(to) ? R"( (group ids need recipient_type "group"))" : "";
            return invalid_error("to",
                                 std::string("must be a phone number with country code") + hint);
        }
        if (c >= '0' && c <= '9') {
            digits.push_back(c);
        }
    }
    if (digits.size() < 7 || digits.size() > 15) {
        return invalid_error("to", "a phone number has 7 to 15 digits");
    }
    if (digits.front() == '0') {
        return invalid_error("to", "must start with the country code, not 0");
    }
    return digits;
}

struct Recipient {
    RecipientKind kind = RecipientKind::kIndividual;
    std::string to_input;
    std::string wa_id;
};

ApiResult<Recipient> read_group_recipient(const ObjectReader& root) {
    if (root.has("recipient")) {
        return invalid_error("recipient", R"(not allowed with recipient_type "group")");
    }
    auto to = root.required_string("to");
    if (!to) {
        return to.error();
    }
    const bool phone_like = std::all_of(to->begin(), to->end(), is_phone_char);
    if (phone_like) {
        return invalid_error("to",
                             R"(recipient_type "group" needs a group id, not a phone number)");
    }
    if (!is_group_id(*to)) {
        return invalid_error("to", "not a valid group id");
    }
    return Recipient{RecipientKind::kGroup, *to, *to};
}

// `to` (a phone number) wins over `recipient` (a BSUID) when both are present (reference §2).
ApiResult<Recipient> read_recipient(const ObjectReader& root) {
    auto recipient_type = root.optional_enum("recipient_type", {"individual", "group"});
    if (!recipient_type) {
        return recipient_type.error();
    }
    const bool group = *recipient_type && **recipient_type == "group";
    root.json()["recipient_type"] = group ? "group" : "individual";
    if (group) {
        return read_group_recipient(root);
    }
    auto to = root.optional_string("to");
    if (!to) {
        return to.error();
    }
    auto recipient = root.optional_string("recipient");
    if (!recipient) {
        return recipient.error();
    }
    if (*recipient && !is_bsuid(**recipient)) {
        return invalid_error("recipient", "not a business-scoped user id (e.g. US.1234567890)");
    }
    if (*to) {
        auto digits = phone_digits(**to);
        if (!digits) {
            return digits.error();
        }
        root.json()["to"] = "+" + *digits;
        return Recipient{RecipientKind::kIndividual, std::move(**to), std::move(*digits)};
    }
    if (*recipient) {
        return Recipient{RecipientKind::kBsuid, **recipient, **recipient};
    }
    return required_error("to");
}

Status check_messaging_product(const ObjectReader& root) {
    auto product = root.required_string("messaging_product", {.allow_empty = true});
    if (!product) {
        return product.error();
    }
    if (*product != "whatsapp") {
        return api_errors::invalid_parameter(R"(messaging_product: must be "whatsapp")");
    }
    return {};
}

Status check_category(const ObjectReader& root,
                      const std::string& type,
                      const ValidationSettings& settings) {
    if (!root.has("category")) {
        return {};
    }
    if (!settings.direct_send_enabled) {
        return api_errors::invalid_parameter("category: Direct Send isn't enabled for this number");
    }
    if (auto category = root.required_enum("category", {"utility", "authentication"}); !category) {
        return category.error();
    }
    if (type != "text" && type != "interactive") {
        return invalid_error("category", "Direct Send supports only text and interactive messages");
    }
    return {};
}

// context.message_id when the message quotes another one.
ApiResult<std::optional<std::string>> read_context(const ObjectReader& root,
                                                   const std::string& type) {
    auto context = root.optional_object("context");
    if (!context) {
        return context.error();
    }
    if (!*context) {
        return std::optional<std::string>{};
    }
    if (type == "reaction") {
        return invalid_error("context", "a reaction cannot be a contextual reply");
    }
    if (auto ok = (*context)->allow_only({"message_id"}); !ok) {
        return ok.error();
    }
    auto id = (*context)->required_string("message_id", {.max_chars = 128});
    if (!id) {
        return id.error();
    }
    return std::optional<std::string>{std::move(*id)};
}

// Validates the content object named by `type`; the result holds what the content tells about
// the request (interactive type, template, reacted-to message), the envelope is filled later.
ApiResult<SendRequest> validate_content(const ObjectReader& root,
                                        const std::string& type,
                                        bool direct_send,
                                        const ValidationSettings& settings) {
    namespace sv = send_validation;
    SendRequest facts;
    Status checked;
    if (type == "contacts") {  // the only content that is an array
        auto contacts = root.required_array("contacts");
        if (!contacts) {
            return contacts.error();
        }
        if (auto ok = sv::validate_contacts(*contacts, settings.max_contacts); !ok) {
            return ok.error();
        }
        return facts;
    }
    auto content = root.required_object(type);
    if (!content) {
        return content.error();
    }
    if (type == "interactive") {
        auto interactive_type = sv::validate_interactive(*content, direct_send);
        if (!interactive_type) {
            return interactive_type.error();
        }
        facts.interactive_type = std::move(*interactive_type);
    } else if (type == "template") {
        auto ref = sv::validate_template(*content);
        if (!ref) {
            return ref.error();
        }
        facts.template_name = std::move(ref->name);
        facts.template_language = std::move(ref->language);
    } else if (type == "reaction") {
        auto message_id = sv::validate_reaction(*content);
        if (!message_id) {
            return message_id.error();
        }
        facts.reaction_message_id = std::move(*message_id);
    } else if (type == "text") {
        checked = sv::validate_text(*content, direct_send);
    } else if (sv::is_media_type(type)) {
        checked = sv::validate_media(*content, type);
    } else if (type == "location") {
        checked = sv::validate_location(*content);
    } else {
        checked = sv::validate_pin(*content);
    }
    if (!checked) {
        return checked.error();
    }
    return facts;
}

ApiResult<SendRequest> validate_message(const ObjectReader& root,
                                        const ValidationSettings& settings) {
    if (auto ok = check_messaging_product(root); !ok) {
        return ok.error();
    }
    // Legacy Meta assumed text without `type`; requiring it keeps a typo from sending text.
    auto type = root.required_string("type", {.allow_empty = true});
    if (!type) {
        return type.error();
    }
    if (!contains(kMessageTypes, *type)) {
        return api_errors::unsupported_type("type: unsupported message type \"" + *type + "\"");
    }
    std::vector<std::string_view> allowed(std::begin(kEnvelopeKeys), std::end(kEnvelopeKeys));
    allowed.push_back(*type);
    if (auto ok = root.allow_only(allowed); !ok) {
        return ok.error();
    }
    auto recipient = read_recipient(root);
    if (!recipient) {
        return recipient.error();
    }
    const bool group = recipient->kind == RecipientKind::kGroup;
    if (group && !contains(kGroupTypes, *type)) {
        return invalid_error("type", *type + " messages cannot be sent to groups");
    }
    if (!group && *type == "pin") {
        return invalid_error("type", "pin messages are only for groups");
    }
    if (auto ok = check_category(root, *type, settings); !ok) {
        return ok.error();
    }
    auto context_message_id = read_context(root, *type);
    if (!context_message_id) {
        return context_message_id.error();
    }
    auto opaque =
        root.optional_string("biz_opaque_callback_data", {.max_chars = 512, .allow_empty = true});
    if (!opaque) {
        return opaque.error();
    }
    if (auto hash = root.optional_string("recipient_identity_key_hash"); !hash) {
        return hash.error();
    }
    auto request = validate_content(root, *type, root.has("category"), settings);
    if (!request) {
        return request.error();
    }
    request->type = std::move(*type);
    request->recipient_kind = recipient->kind;
    request->to_input = std::move(recipient->to_input);
    request->wa_id = std::move(recipient->wa_id);
    request->context_message_id = std::move(*context_message_id);
    request->biz_opaque_callback_data = std::move(*opaque);
    return request;
}

// {"messaging_product","status":"read","message_id"[,"typing_indicator":{"type":"text"}]}
ApiResult<SendRequest> validate_mark_read(const ObjectReader& root) {
    SendRequest out;
    out.kind = RequestKind::kMarkRead;
    if (auto ok = check_messaging_product(root); !ok) {
        return ok.error();
    }
    if (auto ok =
            root.allow_only({"messaging_product", "status", "message_id", "typing_indicator"});
        !ok) {
        return ok.error();
    }
    if (auto status = root.required_enum("status", {"read"}); !status) {
        return status.error();
    }
    auto id = root.required_string("message_id", {.max_chars = 128});
    if (!id) {
        return id.error();
    }
    out.mark_read_message_id = std::move(*id);
    auto typing = root.optional_object("typing_indicator");
    if (!typing) {
        return typing.error();
    }
    if (*typing) {
        if (auto ok = (*typing)->allow_only({"type"}); !ok) {
            return ok.error();
        }
        if (auto type = (*typing)->required_enum("type", {"text"}); !type) {
            return type.error();
        }
        out.typing_indicator = true;
    }
    return out;
}

ApiResult<SendRequest> validate_document(std::string_view body_json,
                                         const ValidationSettings& settings) {
    using send_validation::ScanProblem;
    switch (send_validation::scan_json_text(body_json, settings.max_json_depth)) {
        case ScanProblem::kInvalidUtf8:
            return api_errors::invalid_parameter("body: not valid UTF-8");
        case ScanProblem::kTooDeep:
            return api_errors::invalid_parameter(
                "body: nested deeper than " + std::to_string(settings.max_json_depth) + " levels");
        case ScanProblem::kNone:
            break;
    }
    auto document = send_validation::parse_json(body_json);
    if (!document) {
        return api_errors::invalid_parameter("body: not valid JSON");
    }
    if (!document->is_object()) {
        return api_errors::invalid_parameter("body: must be a JSON object");
    }
    const ObjectReader root(*document, "", 1, settings.max_json_depth);
    auto request = root.has("status") ? validate_mark_read(root) : validate_message(root, settings);
    if (request) {
        request->payload_json =
            document->dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
    }
    return request;
}

}  // namespace

ApiResult<SendRequest> validate_send_request(std::string_view body_json,
                                             const ValidationSettings& settings) {
    // Every read above is checked, so nothing should throw; this keeps a validator bug from
    // turning a client's request into a 500 or a crash.
    try {
        return validate_document(body_json, settings);
    } catch (const std::exception&) {
        return api_errors::invalid_parameter("body: could not be validated");
    }
}

std::size_t count_code_points(std::string_view utf8) noexcept {
    return static_cast<std::size_t>(std::count_if(utf8.begin(), utf8.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
}

}  // namespace wagate::domain
