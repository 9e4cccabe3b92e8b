#include <algorithm>
#include <cctype>
#include <exception>
#include <utility>
#include <wagate/domain/send_request.hpp>
#include <wagate/domain/templates.hpp>

#include "domain/send_validation/field_reader.hpp"
#include "domain/send_validation/json_text.hpp"

namespace wagate::domain {
namespace {

using send_validation::index_path;
using send_validation::invalid_error;
using send_validation::join_path;
using send_validation::Json;
using send_validation::Status;

// Body text parameters and the filled-in body: 1024 when the template has other components,
// otherwise the body-only parameter cap (reference §10.3).
constexpr std::size_t kBodyLimit = 1024;
constexpr std::size_t kBodyOnlyLimit = 32768;
constexpr std::size_t kUrlLimit = 2000;
constexpr std::size_t kOtpLimit = 15;

struct SentComponent {
    const Json* json = nullptr;  // nullptr: the send has no such component
    std::string path;
};

const Json* member(const Json& object, std::string_view key) {
    if (!object.is_object()) {
        return nullptr;
    }
    const auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
}

std::string string_member(const Json& object, std::string_view key) {
    const Json* value = member(object, key);
    return value != nullptr && value->is_string() ? value->get<std::string>() : std::string{};
}

std::string ascii_lower(std::string_view text) {
    std::string lower(text);
    for (char& c : lower) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return lower;
}

const Json& parameters_of(const SentComponent& component) {
    static const Json kNone = Json::array();
    const Json* params = member(*component.json, "parameters");
    return params != nullptr && params->is_array() ? *params : kNone;
}

std::string count_of(std::size_t n, std::string_view word) {
    return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

ApiError count_error(std::string_view path,
                     std::size_t expected,
                     std::size_t got,
                     std::string_view why = {}) {
    std::string details = std::string(path) + ": expected " + count_of(expected, "parameter") +
                          ", got " + std::to_string(got);
    if (!why.empty()) {
        details += " (" + std::string(why) + ")";
    }
    return api_errors::template_param_count(std::move(details));
}

ApiError missing_component(std::string_view what) {
    return api_errors::template_param_count("template.components: expected " + std::string(what) +
                                            ", got none");
}

// What the recipient sees for a variable: the text, or a currency/date fallback.
std::string shown_value(const Json& param) {
    const std::string type = string_member(param, "type");
    if (type == "text") {
        return string_member(param, "text");
    }
    const Json* inner = member(param, type);
    return inner != nullptr ? string_member(*inner, "fallback_value") : std::string{};
}

Status check_status(const TemplateDefinition& def) {
    const std::string which = "template.name: \"" + def.name + "\" (" + def.language + ") is ";
    switch (def.status) {
        case TemplateStatus::kApproved:
            return {};
        case TemplateStatus::kPaused:
            return template_errors::paused(which + "paused for low quality");
        case TemplateStatus::kDisabled:
            return template_errors::disabled(which + "disabled after repeated pauses");
        default:
            // Meta sends APPROVED templates only and reports the others as not existing.
            return template_errors::not_found(which + std::string(to_string(def.status)) +
                                              "; only APPROVED templates can be sent");
    }
}

// Named templates identify values by `parameter_name`, positional ones by position. Counts match
// already. Fills `values` (variable → what is shown) for the hydrated length.
Status check_names(const TemplateDefinition& def,
                   const Json& params,
                   const std::vector<std::string>& variables,
                   const std::string& path,
                   std::map<std::string, std::string>& values) {
    const bool named = def.parameter_format == ParameterFormat::kNamed;
    for (std::size_t i = 0; i < params.size(); ++i) {
        const std::string name_path = join_path(index_path(path, i), "parameter_name");
        const Json* name = member(params[i], "parameter_name");
        if (!named) {
            if (name != nullptr) {
                return api_errors::template_param_format(
                    name_path + ": the template uses positional parameters");
            }
            values[variables[i]] = shown_value(params[i]);
            continue;
        }
        if (name == nullptr || !name->is_string()) {
            return api_errors::template_param_format(
                name_path + ": required, the template uses named parameters");
        }
        const std::string key = name->get<std::string>();
        if (std::find(variables.begin(), variables.end(), key) == variables.end()) {
            return api_errors::template_param_format(
                name_path + ": the template has no parameter \"" + key + "\" here");
        }
        if (!values.emplace(key, shown_value(params[i])).second) {
            return api_errors::template_param_format(name_path + ": duplicate \"" + key + "\"");
        }
    }
    return {};
}

Status check_header(const TemplateDefinition& def, const SentComponent& sent) {
    const auto& header = def.header;
    const bool media = header && header->format != HeaderFormat::kText;
    const std::size_t expected = !header ? 0 : media ? 1 : header->text.variables.size();
    if (sent.json == nullptr) {
        return expected == 0 ? Status{} : missing_component("a header component with 1 parameter");
    }
    const Json& params = parameters_of(sent);
    const std::string path = join_path(sent.path, "parameters");
    if (params.size() != expected) {
        return count_error(path, expected, params.size(),
                           !header         ? "the template has no header"
                           : expected == 0 ? "the template's header has no variable"
                                           : "");
    }
    if (expected == 0) {
        return {};
    }
    const std::string want = media ? ascii_lower(to_string(header->format)) : "text";
    const std::string got = string_member(params[0], "type");
    if (got != want) {
        return api_errors::template_param_format(join_path(index_path(path, 0), "type") +
                                                 ": the template's header is " +
                                                 std::string(to_string(header->format)) +
                                                 ", so the parameter is " + want + ", not " + got);
    }
    std::map<std::string, std::string> values;
    return media ? Status{} : check_names(def, params, header->text.variables, path, values);
}

Status check_body(const TemplateDefinition& def, const SentComponent& sent) {
    const std::size_t expected = def.body.variables.size();
    if (sent.json == nullptr) {
        return expected == 0
                   ? Status{}
                   : missing_component("a body component with " + count_of(expected, "parameter"));
    }
    const Json& params = parameters_of(sent);
    const std::string path = join_path(sent.path, "parameters");
    if (params.size() != expected) {
        return count_error(path, expected, params.size());
    }
    std::map<std::string, std::string> values;
    if (auto ok = check_names(def, params, def.body.variables, path, values); !ok) {
        return ok;
    }
    const bool body_only = def.body_only();
    for (std::size_t i = 0; i < params.size() && !body_only; ++i) {
        if (string_member(params[i], "type") == "text" &&
            count_code_points(string_member(params[i], "text")) > kBodyLimit) {
            return invalid_error(join_path(index_path(path, i), "text"),
                                 "at most 1024 characters when the template has components "
                                 "other than the body");
        }
    }
    if (def.body.text.empty()) {
        return {};  // Meta words the AUTHENTICATION body itself
    }
    const std::size_t limit = body_only ? kBodyOnlyLimit : kBodyLimit;
    const std::size_t length = hydrated_length(def.body, values);
    if (length > limit) {
        return api_errors::template_hydrated_too_long(
            path + ": the body filled in is " + std::to_string(length) + " characters, at most " +
            std::to_string(limit));
    }
    return {};
}

// The send's sub_type per ButtonType (in its order); empty for buttons that take nothing at send
// time. An OTP code goes in as a URL suffix (reference §10.2).
constexpr std::string_view kSubTypes[] = {"quick_reply", "url",  "",    "copy_code",
                                          "url",         "flow", "mpm", "catalog",
                                          "voice_call",  "",     "",    "order_details"};

std::string_view sub_type_of(ButtonType type) { return kSubTypes[static_cast<int>(type)]; }

// Buttons whose send-time value has no default: the URL suffix, the code, the product sections.
bool needs_component(const TemplateButton& button) {
    return (button.type == ButtonType::kUrl && button.url_has_variable) ||
           button.type == ButtonType::kOtp || button.type == ButtonType::kCopyCode ||
           button.type == ButtonType::kMpm;
}

// Explicit: ApiError is an aggregate that an integer could also initialise.
ApiResult<std::size_t> index_result(std::size_t index) {
    return ApiResult<std::size_t>(boost::system::in_place_value, index);
}

ApiResult<std::size_t> button_index(const TemplateDefinition& def,
                                    const SentComponent& sent,
                                    const std::string& sub_type) {
    const std::string path = join_path(sent.path, "index");
    const Json* raw = member(*sent.json, "index");
    if (raw == nullptr) {
        // Meta's voice_call example has no index: it can only mean the template's call button.
        if (sub_type != "voice_call") {
            return send_validation::required_error(path);
        }
        const auto call = std::find_if(def.buttons.begin(), def.buttons.end(), [](const auto& b) {
            return b.type == ButtonType::kVoiceCall;
        });
        if (call == def.buttons.end()) {
            return api_errors::template_param_format(join_path(sent.path, "sub_type") +
                                                     ": the template has no VOICE_CALL button");
        }
        return index_result(static_cast<std::size_t>(call - def.buttons.begin()));
    }
    const std::size_t count = def.buttons.size();
    std::size_t index = count;  // out of range until read
    if (raw->is_number_unsigned()) {
        index = static_cast<std::size_t>(std::min<std::uint64_t>(raw->get<std::uint64_t>(), count));
    } else if (!raw->is_number_integer()) {
        return send_validation::type_error(path, "an integer");
    }
    if (index >= count) {
        return invalid_error(path, "the template has no button " + raw->dump() + " (it has " +
                                       count_of(count, "button") + ")");
    }
    return index_result(index);
}

Status check_button(const TemplateDefinition& def,
                    const SentComponent& sent,
                    std::vector<bool>& given) {
    const std::string sub_type = ascii_lower(string_member(*sent.json, "sub_type"));
    auto index = button_index(def, sent, sub_type);
    if (!index) {
        return index.error();
    }
    const TemplateButton& button = def.buttons[*index];
    const std::string_view expected_sub_type = sub_type_of(button.type);
    if (sub_type != expected_sub_type) {
        return api_errors::template_param_format(
            join_path(sent.path, "sub_type") + ": button " + std::to_string(*index) + " is " +
            std::string(to_string(button.type)) +
            (expected_sub_type.empty() ? ", which takes no parameters"
                                       : ", so the sub_type is " + std::string(expected_sub_type)));
    }
    given[*index] = true;
    const Json& params = parameters_of(sent);
    const std::string path = join_path(sent.path, "parameters");
    if (button.type == ButtonType::kUrl || button.type == ButtonType::kOtp) {
        const bool takes_one = button.type == ButtonType::kOtp || button.url_has_variable;
        const std::size_t expected = takes_one ? 1 : 0;
        if (params.size() != expected) {
            return count_error(path, expected, params.size(),
                               expected == 0 ? "the button's URL has no variable" : "");
        }
        const std::string text_path = join_path(index_path(path, 0), "text");
        const std::size_t suffix =
            takes_one ? count_code_points(string_member(params[0], "text")) : 0;
        if (button.type == ButtonType::kOtp && suffix > kOtpLimit) {
            return invalid_error(text_path, "a one-time password is at most 15 characters");
        }
        // The suffix replaces the URL's trailing placeholder (ASCII, so bytes are code points).
        const std::size_t placeholder =
            button.url_has_variable ? button.url.size() - button.url.rfind("{{") : 0;
        const std::size_t length = count_code_points(button.url) - placeholder + suffix;
        if (button.type == ButtonType::kUrl && length > kUrlLimit) {
            return invalid_error(text_path, "the URL filled in is " + std::to_string(length) +
                                                " characters, at most 2000");
        }
    }
    return {};
}

Status check_buttons(const TemplateDefinition& def, const std::vector<SentComponent>& sent) {
    std::vector<bool> given(def.buttons.size(), false);
    for (const auto& component : sent) {
        if (auto ok = check_button(def, component, given); !ok) {
            return ok;
        }
    }
    for (std::size_t i = 0; i < def.buttons.size(); ++i) {
        if (!given[i] && needs_component(def.buttons[i])) {
            return missing_component("a button component with sub_type " +
                                     std::string(sub_type_of(def.buttons[i].type)) + " and index " +
                                     std::to_string(i) + " (" +
                                     std::string(to_string(def.buttons[i].type)) + " button)");
        }
    }
    return {};
}

// Card contents are not modelled; the card count must match the definition's.
Status check_carousel(const TemplateDefinition& def, const SentComponent& sent) {
    const std::string cards = count_of(def.carousel_cards, "card");
    if (sent.json == nullptr) {
        return def.carousel_cards == 0 ? Status{}
                                       : missing_component("a carousel component with " + cards);
    }
    const Json* sent_cards = member(*sent.json, "cards");
    const std::size_t got = sent_cards != nullptr ? sent_cards->size() : 0;
    if (got == def.carousel_cards) {
        return {};
    }
    return api_errors::template_param_count(join_path(sent.path, "cards") + ": expected " + cards +
                                            ", got " + std::to_string(got));
}

Status check_components(const TemplateDefinition& def, const Json& tpl) {
    if (!tpl.is_object()) {
        return send_validation::type_error("template", "an object");
    }
    const Json* components = member(tpl, "components");
    if (components != nullptr && !components->is_array()) {
        return send_validation::type_error("template.components", "an array");
    }
    SentComponent header, body, carousel, offer;
    std::vector<SentComponent> buttons;
    for (std::size_t i = 0; components != nullptr && i < components->size(); ++i) {
        const Json& component = (*components)[i];
        SentComponent sent{&component, index_path("template.components", i)};
        if (!component.is_object()) {
            return send_validation::type_error(sent.path, "an object");
        }
        const std::string type = ascii_lower(string_member(component, "type"));
        SentComponent* slot = type == "header"               ? &header
                              : type == "body"               ? &body
                              : type == "carousel"           ? &carousel
                              : type == "limited_time_offer" ? &offer
                                                             : nullptr;
        if (type == "button") {
            buttons.push_back(std::move(sent));
        } else if (slot == nullptr) {
            return send_validation::enum_error(join_path(sent.path, "type"), type);
        } else if (slot->json != nullptr) {
            return invalid_error(join_path(sent.path, "type"), "duplicate " + type + " component");
        } else {
            *slot = std::move(sent);
        }
    }
    if (offer.json != nullptr && !def.limited_time_offer) {
        return count_error(join_path(offer.path, "parameters"), 0, parameters_of(offer).size(),
                           "the template has no limited-time offer");
    }
    for (auto ok : {check_header(def, header), check_body(def, body), check_buttons(def, buttons),
                    check_carousel(def, carousel)}) {
        if (!ok) {
            return ok;
        }
    }
    return {};
}

}  // namespace

ApiResult<void> check_template_object(const TemplateDefinition& definition,
                                      const nlohmann::json& template_object) {
    if (auto ok = check_status(definition); !ok) {
        return ok;
    }
    // Every read above is checked, so nothing should throw; a bug must not become a 500.
    try {
        return check_components(definition, template_object);
    } catch (const std::exception&) {
        return api_errors::invalid_parameter("template: could not be checked");
    }
}

ApiResult<void> check_template_send(const TemplateDefinition& definition,
                                    std::string_view template_json) {
    auto tpl = send_validation::parse_json(template_json);
    if (!tpl) {
        return api_errors::invalid_parameter("template: not valid JSON");
    }
    return check_template_object(definition, *tpl);
}

ApiResult<void> check_template_payload(const TemplateDefinition& definition,
                                       std::string_view payload_json) {
    auto payload = send_validation::parse_json(payload_json);
    if (!payload) {
        return api_errors::invalid_parameter("body: not valid JSON");
    }
    const Json* tpl = member(*payload, "template");
    if (tpl == nullptr) {
        return send_validation::required_error("template");
    }
    return check_template_object(definition, *tpl);
}

}  // namespace wagate::domain
