#include <algorithm>
#include <iterator>

#include "interactive_parts.hpp"
#include "template_parts.hpp"
#include "text_rules.hpp"

namespace wagate::domain::send_validation {
namespace {

constexpr std::string_view kSubTypes[] = {"quick_reply", "url",  "copy_code",  "catalog",
                                          "mpm",         "flow", "voice_call", "order_details"};

// Meta states no cap for quick-reply and call-button payloads; 1000 (Messenger's payload cap) is
// far above real use and keeps the row size bounded.
constexpr std::size_t kMaxPayloadChars = 1000;

Status check_payload(const ObjectReader& param) {
    if (auto ok = param.allow_only({"type", "payload"}); !ok) {
        return ok;
    }
    return status_of(param.required_string("payload", {.max_chars = kMaxPayloadChars}));
}

Status check_url_suffix(const ObjectReader& param) {
    if (auto ok = param.allow_only({"type", "text"}); !ok) {
        return ok;
    }
    // The template's URL plus this suffix must stay within 2000; the suffix alone cannot exceed it.
    return status_of(param.required_string("text", {.max_chars = 2000}));
}

Status check_coupon(const ObjectReader& param) {
    if (auto ok = param.allow_only({"type", "coupon_code"}); !ok) {
        return ok;
    }
    auto code = param.required_string("coupon_code", {.max_chars = 15});
    if (!code) {
        return code.error();
    }
    if (!is_ascii_alnum(*code)) {
        return invalid_error(param.path_of("coupon_code"), "letters and digits only");
    }
    return {};
}

Status check_action(const ObjectReader& param, std::string_view sub_type) {
    if (auto ok = param.allow_only({"type", "action"}); !ok) {
        return ok;
    }
    auto action = param.required_object("action");
    if (!action) {
        return action.error();
    }
    if (sub_type == "catalog") {
        if (auto ok = action->allow_only({"thumbnail_product_retailer_id"}); !ok) {
            return ok;
        }
        return status_of(action->optional_string("thumbnail_product_retailer_id"));
    }
    if (sub_type == "mpm") {
        if (auto ok = action->allow_only({"thumbnail_product_retailer_id", "sections"}); !ok) {
            return ok;
        }
        if (auto thumb = action->required_string("thumbnail_product_retailer_id"); !thumb) {
            return thumb.error();
        }
        auto sections = action->required_array("sections");
        return sections ? validate_product_sections(*sections) : Status{sections.error()};
    }
    if (sub_type == "flow") {
        if (auto ok = action->allow_only({"flow_token", "flow_action_data"}); !ok) {
            return ok;
        }
        if (auto token = action->optional_string("flow_token"); !token) {
            return token.error();
        }
        // The Flow's own input: its keys belong to the business.
        return status_of(action->optional_object("flow_action_data"));
    }
    // order_details (payments): only its envelope is checked; its schema is out of scope.
    if (auto ok = action->allow_only({"order_details"}); !ok) {
        return ok;
    }
    auto details = action->required_object("order_details");
    if (details && details->json().empty()) {
        return invalid_error(details->path(), "must be a non-empty object");
    }
    return status_of(details);
}

Status check_voice_call_parameters(const ObjectReader& button) {
    auto params = button.optional_array("parameters");
    if (!params || !*params) {
        return status_of(params);
    }
    UniqueValues seen("parameter type");
    for (std::size_t i = 0; i < (*params)->size(); ++i) {
        auto param = (*params)->object_at(i);
        if (!param) {
            return param.error();
        }
        auto type = read_param_type(*param, {"ttl_minutes", "payload"}, "a voice_call parameter");
        if (!type) {
            return type.error();
        }
        if (auto ok = seen.add(param->path_of("type"), *type); !ok) {
            return ok;
        }
        if (*type == "payload") {
            if (auto ok = check_payload(*param); !ok) {
                return ok;
            }
            continue;
        }
        if (auto ok = param->allow_only({"type", "ttl_minutes"}); !ok) {
            return ok;
        }
        auto ttl = param->required_integer("ttl_minutes");
        if (!ttl) {
            return ttl.error();
        }
        if (*ttl < 1 || *ttl > 43200) {
            return invalid_error(param->path_of("ttl_minutes"), "must be between 1 and 43200");
        }
    }
    return {};
}

// Every sub_type but voice_call carries exactly one parameter, of a type fixed by the sub_type.
Status check_single_parameter(const ObjectReader& button, std::string_view sub_type) {
    auto params = button.required_array("parameters");
    if (!params) {
        return params.error();
    }
    if (params->size() != 1) {
        return invalid_error(params->path(),
                             "a " + std::string(sub_type) + " button takes exactly one parameter");
    }
    auto param = params->object_at(0);
    if (!param) {
        return param.error();
    }
    const std::string where = "a " + std::string(sub_type) + " button parameter";
    if (sub_type == "quick_reply") {
        auto type = read_param_type(*param, {"payload"}, where);
        return type ? check_payload(*param) : Status{type.error()};
    }
    if (sub_type == "url") {
        auto type = read_param_type(*param, {"text"}, where);
        return type ? check_url_suffix(*param) : Status{type.error()};
    }
    if (sub_type == "copy_code") {
        auto type = read_param_type(*param, {"coupon_code"}, where);
        return type ? check_coupon(*param) : Status{type.error()};
    }
    auto type = read_param_type(*param, {"action"}, where);
    return type ? check_action(*param, sub_type) : Status{type.error()};
}

}  // namespace

Status validate_template_button(const ObjectReader& button, ButtonTally& tally) {
    if (auto ok = button.allow_only({"type", "sub_type", "index", "parameters"}); !ok) {
        return ok;
    }
    auto raw_sub_type = button.required_string("sub_type", {.allow_empty = true});
    if (!raw_sub_type) {
        return raw_sub_type.error();
    }
    // Meta's docs write both `copy_code` and `COPY_CODE`; relay the lower-case form.
    const std::string sub_type = ascii_lower(*raw_sub_type);
    if (std::find(std::begin(kSubTypes), std::end(kSubTypes), sub_type) == std::end(kSubTypes)) {
        return enum_error(button.path_of("sub_type"), *raw_sub_type);
    }
    button.json()["sub_type"] = sub_type;
    auto index = read_index(button, "index", 9);
    if (!index) {
        return index.error();
    }
    if (!*index && sub_type != "voice_call") {
        return required_error(button.path_of("index"));
    }
    if (*index && !tally.indices.insert(**index).second) {
        return invalid_error(button.path_of("index"),
                             "duplicate button index " + std::to_string(**index));
    }
    if (sub_type == "copy_code" && ++tally.copy_code_buttons > 1) {
        return invalid_error(button.path_of("sub_type"), "at most one copy_code button");
    }
    if (sub_type == "voice_call") {
        return check_voice_call_parameters(button);
    }
    return check_single_parameter(button, sub_type);
}

}  // namespace wagate::domain::send_validation
