#include <algorithm>
#include <cctype>
#include <cstdint>
#include <exception>
#include <set>
#include <utility>
#include <wagate/domain/templates.hpp>

#include "domain/send_validation/field_reader.hpp"
#include "domain/send_validation/json_text.hpp"
#include "domain/send_validation/language_codes.hpp"

namespace wagate::domain {
namespace {

using send_validation::ArrayReader;
using send_validation::enum_error;
using send_validation::invalid_error;
using send_validation::Json;
using send_validation::ObjectReader;
using send_validation::required_error;
using send_validation::Status;

constexpr std::size_t kMaxDepth = 32;  // the send API's default nesting limit

std::string ascii_upper(std::string text) {
    for (char& c : text) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return text;
}

// Reads one of E's names (`last` is E's final value), case-insensitively, and writes Meta's
// upper-case spelling back so the stored JSON is canonical.
template <class E>
ApiResult<std::optional<E>> read_enum(const ObjectReader& object,
                                      std::string_view key,
                                      E last,
                                      bool required = true) {
    auto raw = object.optional_string(key, {.allow_empty = true});
    if (!raw) {
        return raw.error();
    }
    if (!*raw && required) {
        return required_error(object.path_of(key));
    }
    if (!*raw) {
        return std::optional<E>{};
    }
    const std::string upper = ascii_upper(**raw);
    for (int i = 0; i <= static_cast<int>(last); ++i) {
        if (to_string(static_cast<E>(i)) == upper) {
            object.json()[std::string(key)] = upper;
            return std::optional<E>{static_cast<E>(i)};
        }
    }
    return enum_error(object.path_of(key), **raw);
}

// `key` as a text with placeholders (nullopt when absent): at most `max_chars` characters and
// `max_variables` variables (`too_many` says why).
ApiResult<std::optional<TemplateText>> read_text(const ObjectReader& object,
                                                 std::string_view key,
                                                 std::size_t max_chars,
                                                 std::size_t max_variables,
                                                 std::string_view too_many) {
    auto text = object.optional_string(key, {.max_chars = max_chars});
    if (!text || !*text) {
        return text ? ApiResult<std::optional<TemplateText>>() : text.error();
    }
    auto parsed = parse_template_text(std::move(**text), object.path_of(key));
    if (!parsed) {
        return parsed.error();
    }
    if (parsed->variables.size() > max_variables) {
        return invalid_error(object.path_of(key), too_many);
    }
    return std::optional<TemplateText>(std::move(*parsed));
}

Status read_header(const ObjectReader& component, TemplateDefinition& def) {
    if (auto ok = component.allow_only({"type", "format", "text", "example"}); !ok) {
        return ok;
    }
    auto format = read_enum(component, "format", HeaderFormat::kProduct);
    auto text = format ? read_text(component, "text", 60, 1, "a header has at most 1 variable")
                       : format.error();
    if (!text) {
        return text.error();
    }
    const bool text_format = **format == HeaderFormat::kText;
    if (text_format != text->has_value()) {
        return text_format
                   ? required_error(component.path_of("text"))
                   : invalid_error(component.path_of("text"), "only a TEXT header has text");
    }
    if (**format == HeaderFormat::kLocation && def.category == TemplateCategory::kAuthentication) {
        return invalid_error(component.path_of("format"),
                             "LOCATION headers are for MARKETING and UTILITY templates");
    }
    def.header = TemplateHeader{**format, text->value_or(TemplateText{})};
    return {};
}

Status read_body(const ObjectReader& component, TemplateDefinition& def) {
    if (auto ok = component.allow_only({"type", "text", "example", "add_security_recommendation"});
        !ok) {
        return ok;
    }
    auto flag = component.optional_bool("add_security_recommendation");
    auto text = flag ? read_text(component, "text", 1024, SIZE_MAX, "") : flag.error();
    if (!text) {
        return text.error();
    }
    if (*text) {
        def.body = std::move(**text);
    } else if (def.category == TemplateCategory::kAuthentication) {
        // Meta's creation format for AUTHENTICATION: Meta words the body around one variable,
        // the code ("{{1}} is your verification code.").
        def.body = TemplateText{"", {"1"}, false};
    } else {
        return required_error(component.path_of("text"));
    }
    return {};
}

Status read_footer(const ObjectReader& component, TemplateDefinition& def) {
    if (auto ok = component.allow_only({"type", "text", "code_expiration_minutes"}); !ok) {
        return ok;
    }
    // AUTHENTICATION footers may be just an expiry notice that Meta words.
    auto minutes = component.optional_integer("code_expiration_minutes");
    if (minutes && *minutes && (**minutes < 1 || **minutes > 90)) {
        return invalid_error(component.path_of("code_expiration_minutes"),
                             "must be between 1 and 90");
    }
    auto text = minutes ? read_text(component, "text", 60, 0, "a footer cannot have variables")
                        : minutes.error();
    if (!text) {
        return text.error();
    }
    if (!*text && !*minutes) {
        return required_error(component.path_of("text"));
    }
    def.footer = *text ? (*text)->text : std::string();
    return {};
}

Status read_url(const ObjectReader& button, TemplateButton& out) {
    auto url = read_text(button, "url", 2000, 1, "at most 1 variable, at the end of the URL");
    if (!url || !*url) {
        return url ? Status(required_error(button.path_of("url"))) : url.error();
    }
    std::string& text = (*url)->text;
    if (!text.starts_with("https://") && !text.starts_with("http://")) {
        return invalid_error(button.path_of("url"), "must be an http:// or https:// URL");
    }
    // One variable, written once, as the very end of the URL: the send supplies the suffix.
    const std::size_t first = text.find("{{");
    if (first != std::string::npos && (text.rfind("{{") != first || !text.ends_with("}}"))) {
        return invalid_error(button.path_of("url"), "at most 1 variable, at the end of the URL");
    }
    out.url_has_variable = first != std::string::npos;
    out.url = std::move(text);
    return {};
}

Status read_button(const ObjectReader& button, const TemplateDefinition& def, TemplateButton& out) {
    auto type = read_enum(button, "type", ButtonType::kOrderDetails);
    if (!type) {
        return type.error();
    }
    out.type = **type;
    auto text = button.optional_string("text", {.max_chars = 25});
    if (!text) {
        return text.error();
    }
    // Meta fixes the label of the other types (copy code, OTP, catalog, ...) or makes it optional.
    static constexpr ButtonType kLabelled[] = {ButtonType::kQuickReply, ButtonType::kUrl,
                                               ButtonType::kPhoneNumber, ButtonType::kFlow,
                                               ButtonType::kVoiceCall};
    if (!*text &&
        std::find(std::begin(kLabelled), std::end(kLabelled), out.type) != std::end(kLabelled)) {
        return required_error(button.path_of("text"));
    }
    out.text = text->value_or("");
    if (out.type == ButtonType::kUrl) {
        return read_url(button, out);
    }
    if (out.type == ButtonType::kPhoneNumber) {
        auto phone = button.required_string("phone_number", {.max_chars = 20});
        if (!phone) {
            return phone.error();
        }
        out.phone_number = std::move(*phone);
    }
    if (out.type == ButtonType::kOtp && def.category != TemplateCategory::kAuthentication) {
        return invalid_error(button.path_of("type"),
                             "OTP buttons are for AUTHENTICATION templates");
    }
    return {};
}

Status read_buttons(const ObjectReader& component, TemplateDefinition& def) {
    if (auto ok = component.allow_only({"type", "buttons"}); !ok) {
        return ok;
    }
    auto buttons = component.required_array("buttons");
    if (!buttons) {
        return buttons.error();
    }
    if (buttons->size() == 0) {
        return invalid_error(buttons->path(), "at least 1 button");
    }
    if (buttons->size() > 10) {
        return invalid_error(buttons->path_at(10), "at most 10 buttons");
    }
    struct Limit {
        ButtonType type;
        int max;
        const char* reason;
    };
    static constexpr Limit kLimits[] = {
        {ButtonType::kUrl, 2, "at most 2 URL buttons"},
        {ButtonType::kPhoneNumber, 1, "at most 1 PHONE_NUMBER button"},
        {ButtonType::kCopyCode, 1, "at most 1 COPY_CODE button"},
        {ButtonType::kOtp, 1, "at most 1 OTP button"},
    };
    bool saw_quick_reply = false;
    for (std::size_t i = 0; i < buttons->size(); ++i) {
        auto button = buttons->object_at(i);
        if (!button) {
            return button.error();
        }
        TemplateButton parsed;
        if (auto ok = read_button(*button, def, parsed); !ok) {
            return ok;
        }
        const bool quick_reply = parsed.type == ButtonType::kQuickReply;
        if (quick_reply && saw_quick_reply && def.buttons.back().type != ButtonType::kQuickReply) {
            return invalid_error(button->path_of("type"), "quick replies must be grouped together");
        }
        saw_quick_reply = saw_quick_reply || quick_reply;
        def.buttons.push_back(std::move(parsed));
        for (const Limit& limit : kLimits) {
            const auto same = [&](const TemplateButton& b) { return b.type == limit.type; };
            if (def.buttons.back().type == limit.type &&
                std::count_if(def.buttons.begin(), def.buttons.end(), same) > limit.max) {
                return invalid_error(button->path_of("type"), limit.reason);
            }
        }
    }
    return {};
}

Status read_carousel(const ObjectReader& component, TemplateDefinition& def) {
    if (auto ok = component.allow_only({"type", "cards"}); !ok) {
        return ok;
    }
    auto cards = component.required_array("cards");
    if (!cards) {
        return cards.error();
    }
    if (cards->size() == 0 || cards->size() > 10) {
        return invalid_error(cards->path(), "1 to 10 cards");
    }
    def.carousel_cards = cards->size();
    return {};
}

Status read_limited_time_offer(const ObjectReader& component, TemplateDefinition& def) {
    if (auto ok = component.allow_only({"type", "limited_time_offer"}); !ok) {
        return ok;
    }
    def.limited_time_offer = true;
    return send_validation::status_of(component.optional_object("limited_time_offer"));
}

constexpr std::string_view kComponentTypes[] = {"HEADER",  "BODY",     "FOOTER",
                                                "BUTTONS", "CAROUSEL", "LIMITED_TIME_OFFER"};

Status read_components(const ArrayReader& components, TemplateDefinition& def) {
    if (components.size() == 0) {
        return invalid_error(components.path(), "a template has a BODY component");
    }
    std::set<std::string> seen;
    for (std::size_t i = 0; i < components.size(); ++i) {
        auto component = components.object_at(i);
        if (!component) {
            return component.error();
        }
        auto raw = component->required_string("type", {.allow_empty = true});
        if (!raw) {
            return raw.error();
        }
        const std::string type = ascii_upper(*raw);
        const auto known = std::find(std::begin(kComponentTypes), std::end(kComponentTypes), type);
        if (known == std::end(kComponentTypes)) {
            return enum_error(component->path_of("type"), *raw);
        }
        component->json()["type"] = type;
        if (!seen.insert(type).second) {
            return invalid_error(component->path_of("type"), "at most 1 " + type + " component");
        }
        using Reader = Status (*)(const ObjectReader&, TemplateDefinition&);
        constexpr Reader kReaders[] = {read_header,  read_body,     read_footer,
                                       read_buttons, read_carousel, read_limited_time_offer};
        if (auto ok = kReaders[known - std::begin(kComponentTypes)](*component, def); !ok) {
            return ok;
        }
    }
    if (!seen.contains("BODY")) {
        return required_error(components.path() + ": a BODY component");
    }
    return {};
}

// One template, one parameter style: header and body agree with each other and with
// `parameter_format` when it is given.
Status settle_parameter_format(const ObjectReader& root,
                               std::optional<ParameterFormat> declared,
                               TemplateDefinition& def) {
    const TemplateText* texts[] = {def.header ? &def.header->text : nullptr, &def.body};
    std::optional<ParameterFormat> found;
    for (const TemplateText* text : texts) {
        if (text == nullptr || text->variables.empty()) {
            continue;
        }
        const auto format = text->named ? ParameterFormat::kNamed : ParameterFormat::kPositional;
        const auto expected = declared ? declared : found;
        if (expected && *expected != format) {
            return invalid_error(root.path_of("components"),
                                 std::string(to_string(format)) + " placeholders in a " +
                                     std::string(to_string(*expected)) + " template");
        }
        found = format;
    }
    def.parameter_format = declared.value_or(found.value_or(ParameterFormat::kPositional));
    root.json()["parameter_format"] = to_string(def.parameter_format);
    return {};
}

bool is_template_name(std::string_view name) {
    return !name.empty() && name.size() <= 512 && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

// Name and language repeated in the body (as Meta's GET response has them) must agree.
Status check_repeated(const ObjectReader& root, std::string_view key, std::string_view expected) {
    auto value = root.optional_string(key, {.allow_empty = true});
    if (value && *value && **value != expected) {
        return invalid_error(root.path_of(key), "\"" + **value + "\" differs from \"" +
                                                    std::string(expected) + "\" in the URL");
    }
    return send_validation::status_of(value);
}

ApiResult<TemplateDefinition> parse_document(std::string_view name,
                                             std::string_view language,
                                             std::string_view body_json) {
    if (!is_template_name(name)) {
        return invalid_error("name", "1 to 512 lowercase letters, digits and underscores");
    }
    if (!send_validation::is_supported_template_language(language)) {
        return invalid_error("language",
                             "unsupported language code \"" + std::string(language) + "\"");
    }
    using send_validation::ScanProblem;
    switch (send_validation::scan_json_text(body_json, kMaxDepth)) {
        case ScanProblem::kInvalidUtf8:
            return api_errors::invalid_parameter("body: not valid UTF-8");
        case ScanProblem::kTooDeep:
            return api_errors::invalid_parameter("body: nested deeper than 32 levels");
        case ScanProblem::kNone:
            break;
    }
    auto document = send_validation::parse_json(body_json);
    if (!document || !document->is_object()) {
        return api_errors::invalid_parameter("body: must be a JSON object");
    }
    const ObjectReader root(*document, "", 1, kMaxDepth);
    // Besides what is checked, the read-only fields of Meta's GET response are kept as they are,
    // so an admin can paste a template from Meta.
    if (auto ok =
            root.allow_only({"category", "status", "components", "parameter_format", "name",
                             "language", "id", "quality_score", "rejected_reason", "sub_category",
                             "previous_category", "correct_category", "library_template_name",
                             "cta_url_link_tracking_opted_out", "message_send_ttl_seconds"});
        !ok) {
        return ok.error();
    }
    for (auto ok :
         {check_repeated(root, "name", name), check_repeated(root, "language", language)}) {
        if (!ok) {
            return ok.error();
        }
    }
    TemplateDefinition def;
    def.name = name;
    def.language = language;
    auto category = read_enum(root, "category", TemplateCategory::kAuthentication);
    auto status = category ? read_enum(root, "status", TemplateStatus::kReinstated)
                           : ApiResult<std::optional<TemplateStatus>>(category.error());
    auto declared = status ? read_enum(root, "parameter_format", ParameterFormat::kNamed, false)
                           : ApiResult<std::optional<ParameterFormat>>(status.error());
    if (!declared) {
        return declared.error();
    }
    def.category = **category;
    def.status = **status;
    auto components = root.required_array("components");
    if (!components) {
        return components.error();
    }
    if (auto ok = read_components(*components, def); !ok) {
        return ok.error();
    }
    if (auto ok = settle_parameter_format(root, *declared, def); !ok) {
        return ok.error();
    }
    def.json = document->dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
    return def;
}

}  // namespace

ApiResult<TemplateDefinition> parse_template_definition(std::string_view name,
                                                        std::string_view language,
                                                        std::string_view body_json) {
    // Every read is checked, so nothing should throw; a bug here must not become a 500.
    try {
        return parse_document(name, language, body_json);
    } catch (const std::exception&) {
        return api_errors::invalid_parameter("body: could not be validated");
    }
}

}  // namespace wagate::domain
